"""Student side: answers about student objects that the standard library finds by looking inside
them (``inspect``, ``dataclasses``), where a proxy on the trusted side has nothing to look at.

The trusted side asks (``Session.dunder``) and gets plain values, handles or text positions. Each
answer is computed by the student's own process, like any other result of the student's code; the
trusted side validates its shape and never runs anything it names. Source *text* never comes from
here: the trusted side reads its own copy of the student's file (``redirect.py``) and takes only
line numbers and qualified names from these answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_NAME = 200  # characters of a class's name sent: one more than the trusted side keeps
PREDICATES = ("isfunction", "ismethod", "isclass", "isgeneratorfunction", "iscoroutinefunction",
              "isasyncgenfunction", "isgenerator", "isbuiltin", "isroutine", "isabstract")


def source_info(obj: object) -> list[Any]:
    """Where ``obj`` is defined: ``["class", qualname, file]`` or ``["code", line, file]``,
    following ``__wrapped__`` as ``inspect.getsource`` does."""
    import inspect

    obj = inspect.unwrap(obj) if callable(obj) else obj  # type: ignore[arg-type]
    if inspect.isclass(obj):
        module = inspect.getmodule(obj)
        return ["class", obj.__qualname__, getattr(module, "__file__", None) or ""]
    if inspect.ismethod(obj):
        obj = obj.__func__
    if inspect.isfunction(obj):
        code = obj.__code__
        return ["code", code.co_firstlineno, code.co_filename]
    raise TypeError(f"module, class, method or function expected, got {type(obj).__name__}")


def signature_info(obj: Callable[..., Any]) -> list[Any]:
    """``inspect.signature(obj)`` as data: ``[parameters, return annotation]``, each parameter
    ``[name, kind, has_default, default, has_annotation, annotation]``."""
    import inspect

    sig = inspect.signature(obj)
    empty = inspect.Parameter.empty
    params = [
        [p.name, int(p.kind), p.default is not empty, None if p.default is empty else p.default,
         p.annotation is not empty, None if p.annotation is empty else p.annotation]
        for p in sig.parameters.values()
    ]
    returns = sig.return_annotation
    return [params, returns is not inspect.Signature.empty,
            None if returns is inspect.Signature.empty else returns]


def predicate(name: str, obj: object) -> bool:
    import inspect

    if name not in PREDICATES:
        raise ValueError(f"unknown predicate {name!r}")
    return bool(getattr(inspect, name)(obj))


def dataclass_call(name: str, obj: object, changes: dict[str, Any] | None = None) -> Any:
    import dataclasses

    if name == "replace":
        return dataclasses.replace(obj, **(changes or {}))  # type: ignore[type-var]
    function = {"fields": dataclasses.fields, "asdict": dataclasses.asdict,
                "astuple": dataclasses.astuple, "is_dataclass": dataclasses.is_dataclass}.get(name)
    if function is None:
        raise ValueError(f"unknown dataclasses function {name!r}")
    return function(obj)  # type: ignore[operator]


def class_info(x: object, kind: str, encode: Callable[[object], dict[str, Any]]) -> dict[str, Any]:
    """What the trusted side names a student class by, added to the tag of a handle: for a class
    its ``[__name__, __qualname__, __module__]`` (``"q"``) and whether its instances are
    iterators (``"i"``); for an instance of a class not of ``builtins``, its class's tag (``"c"``).
    The trusted side validates the names (``exchange.class_names``) and runs nothing they name."""
    try:
        if kind == "class":
            assert isinstance(x, type)
            names = [getattr(x, n, None) for n in ("__name__", "__qualname__", "__module__")]
            return {"q": [n[:MAX_NAME + 1] if isinstance(n, str) else "" for n in names],
                    "i": hasattr(x, "__next__")}
        cls = type(x)
        if kind == "module" or cls.__module__ == "builtins" or issubclass(cls, BaseException):
            return {}
        tag = encode(cls)
    except Exception:  # a class whose metaclass fails to answer: sent without its names
        return {}
    return {"c": tag} if "h" in tag else {}


OPERATIONS: dict[str, Callable[..., Any]] = {
    "source": source_info,
    "signature": signature_info,
    "predicate": predicate,
    "dataclass": dataclass_call,
}

__all__ = ["OPERATIONS", "PREDICATES", "class_info"]
