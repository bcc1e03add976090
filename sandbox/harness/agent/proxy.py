"""Stand-ins for student objects on the trusted side.

``import solution`` in a test gets a :class:`StudentModule`; reading an attribute asks the
student process, which answers with a plain value, a helper-class instance, or a handle that
becomes a :class:`RemoteObject`: a student class is a class here (:class:`RemoteClass`, named
as the student's), whose instances are the proxies of its objects (``type(x) is solution.A``);
a :class:`RemoteIterator` is a generator or other iterator, a :class:`RemoteMethod` a bound method.

What a proxy never does is let the student decide a comparison with a value of the test:
``proxy == 5`` is False whatever the student's ``__eq__`` says (the operands are compared by
identity, as for unrelated objects), and ``x in proxy`` iterates the proxy here and compares
here. Nor does it hand a test's value to student code whose answer the test then judges by:
arithmetic between a proxy and a value of the test (``result - expected``, ``expected - result``,
``pytest.approx(expected) == result``) raises :class:`StudentOperandError` (a TypeError: the test
fails) instead of asking the student's ``__sub__``/``__rsub__``, which could answer 0 to every
``abs(result - expected) < eps``. Between two proxies of the same student process ``==``, ``<``,
``hash()``, arithmetic and friends are forwarded: that is the student class's own semantics,
which a test of ``__eq__`` or ``__add__`` wants. Unary operators (``abs(p)``, ``-p``) and
conversions (``float(p)``) are forwarded too: no value of the test reaches the student, and what
comes back is a plain value (or another proxy, with the same rules).
"""

from __future__ import annotations

import copyreg
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, NoReturn

from . import hints
from .exchange import no_pickle
from .session import Session

FORWARDED_DUNDER_ATTRS = ("__name__", "__qualname__")
# Data the student's function or class holds under a dunder name, asked of the student process
# (a test that checks type hints or defaults): every other dunder stays local.
FORWARDED_DATA_DUNDERS = ("__annotations__", "__defaults__", "__kwdefaults__")
SUBCLASS = ("the test defines a subclass of the student's class {name}: the student's classes "
            "run in the student's sandbox, and a class of the test cannot derive from one; test "
            "the student's class through its own instances")


def student_name(session: Session, name: str) -> Any:
    """A name of the student's module, for an annotation that uses it (``"Node"``): what is
    neither a builtin nor typing's."""
    try:
        return session.getattr(None, name)
    except AttributeError:
        raise NameError(f"name {name!r} is not defined") from None


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class State(NamedTuple):  # what a proxy knows of its student object
    session: Session
    hid: int
    kind: str
    type_name: str
    name: str


def state(obj: object) -> State:  # not isinstance(obj, type): that reads __class__
    if issubclass(type(obj), type):
        return type.__getattribute__(obj, "_grader_class")  # type: ignore[no-any-return]
    return object.__getattribute__(obj, "_grader_state")  # type: ignore[no-any-return]


class StudentOperandError(TypeError):
    """A student object met a value of the test in arithmetic: never computed by the student."""


def _binary(op: str, *, reflected: bool = False) -> Callable[[RemoteObject, object], Any]:
    def method(self: RemoteObject, other: object) -> Any:
        __tracebackhide__ = True
        if not isinstance(other, RemoteObject):
            if not reflected:  # the test's operand (a helper class) may know the student's type
                swapped = getattr(type(other), f"__r{op}__", None)
                result = swapped(other, self) if swapped is not None else NotImplemented
                if result is not NotImplemented:
                    return result
            raise StudentOperandError(
                f"a student {state(self).type_name} cannot be combined "
                f"with the test's {type(other).__name__} by '{op}': the student's code would "
                "compute the test's verdict. Compare plain values (its attributes, float(x)...)"
            )
        if state(other).session is not state(self).session:
            return NotImplemented
        session = state(self).session
        return session.dunder(op, other, self) if reflected else session.dunder(op, self, other)

    method.__name__ = f"__{'r' if reflected else ''}{op}__"
    return method


def _compare(op: str) -> Callable[[RemoteObject, object], Any]:
    def method(self: RemoteObject, other: object) -> Any:
        __tracebackhide__ = True
        if not isinstance(other, RemoteObject) or state(other).session is not state(self).session:
            return NotImplemented  # a test's value against a student object: identity only
        return state(self).session.dunder(op, self, other)

    method.__name__ = f"__{op}__"
    return method


def _unary(op: str, kind: type | None = None) -> Callable[[RemoteObject], Any]:
    def method(self: RemoteObject) -> Any:
        __tracebackhide__ = True
        value = state(self).session.dunder(op, self)
        if kind is not None and type(value) is not kind:
            raise TypeError(f"__{op}__ returned {type(value).__name__}, not {kind.__name__}")
        return value

    method.__name__ = f"__{op}__"
    return method


class RemoteObject:
    """A student object (function, class, instance, module) living in the student process: the
    operations of every proxy, of :class:`RemoteInstance` and of :class:`RemoteClass` alike."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        __tracebackhide__ = True
        if _is_dunder(name) and name not in FORWARDED_DUNDER_ATTRS + FORWARDED_DATA_DUNDERS:
            raise AttributeError(name)  # pytest and copy probe these; they stay local
        session = state(self).session
        value = session.getattr(state(self).hid, name)
        if name == "__annotations__":  # the student's text: never a string to eval here
            return hints.safe_annotations(value, lambda n: student_name(session, n))
        return value

    def __setattr__(self, name: str, value: object) -> None:
        __tracebackhide__ = True
        if _is_dunder(name):
            raise AttributeError(f"cannot set {name} on a student object")
        state(self).session.setattr(state(self).hid, name, value)

    def __delattr__(self, name: str) -> None:
        __tracebackhide__ = True
        state(self).session.delattr(state(self).hid, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return state(self).session.call(state(self).hid, None, args, kwargs)

    def __repr__(self) -> str:
        try:
            return state(self).session.text("repr", self)
        except BaseException:  # repr must not fail; the session remembers a broken channel
            found = state(self)
            label = found.name if found.kind in ("callable", "class", "module") else ""
            return f"<student {found.type_name} {label}>".replace(" >", ">")

    def __str__(self) -> str:
        __tracebackhide__ = True
        return state(self).session.text("str", self)

    def __bool__(self) -> bool:
        __tracebackhide__ = True
        value = state(self).session.dunder("bool", self)
        if type(value) is not bool:
            raise TypeError("__bool__ should return bool")
        return value

    def __len__(self) -> int:
        __tracebackhide__ = True
        value = state(self).session.dunder("len", self)
        if type(value) is not int or value < 0:
            raise TypeError("__len__ should return an int >= 0")
        return value

    def __iter__(self) -> Iterator[Any]:
        __tracebackhide__ = True
        it = state(self).session.dunder("iter", self)
        return it if isinstance(it, RemoteIterator) else iter(it)

    def __contains__(self, item: object) -> bool:
        __tracebackhide__ = True  # compared here: the student cannot answer "yes" to anything
        return any(x is item or x == item for x in self)

    def __hash__(self) -> int:
        __tracebackhide__ = True
        value = state(self).session.dunder("hash", self)
        if type(value) is not int:
            raise TypeError("__hash__ should return an int")
        return value

    def __getitem__(self, key: object) -> Any:
        __tracebackhide__ = True
        return state(self).session.dunder("getitem", self, key)

    def __setitem__(self, key: object, value: object) -> None:
        __tracebackhide__ = True
        state(self).session.dunder("setitem", self, key, value)

    def __delitem__(self, key: object) -> None:
        __tracebackhide__ = True
        state(self).session.dunder("delitem", self, key)

    def __enter__(self) -> Any:
        __tracebackhide__ = True
        return state(self).session.dunder("enter", self)

    def __exit__(self, kind: type[BaseException] | None = None, value: BaseException | None = None,
                 tb: object = None) -> bool:
        """The student's ``__exit__`` sees the test's exception (class and arguments); it may
        swallow an ordinary error raised in the block, never a failed assertion of the test,
        pytest's own outcomes or the harness's signals (anything not an ``Exception``)."""
        __tracebackhide__ = True
        if kind is None:
            state(self).session.dunder("exit", self)
            return False
        sent = state(self).session.exit_with(self, kind, value)
        return sent is True and issubclass(kind, Exception) \
            and not issubclass(kind, AssertionError)

    def __subclasscheck__(self, subclass: object) -> bool:
        __tracebackhide__ = True
        if not isinstance(subclass, RemoteObject) or (
                state(subclass).session is not state(self).session):
            return False  # a class of the test's is never a subclass of the student's
        return state(self).session.dunder("issubclass", subclass, self) is True

    @property  # type: ignore[misc]
    def __doc__(self) -> str | None:  # type: ignore[override]
        value = state(self).session.getattr(state(self).hid, "__doc__")
        return value if isinstance(value, str) else None

    def __instancecheck__(self, instance: object) -> bool:
        __tracebackhide__ = True
        try:
            value = state(self).session.dunder("isinstance", self, instance)
        except TypeError:  # the instance cannot travel: it is not one of the student's
            return False
        return value is True

    def __dir__(self) -> list[str]:
        names = state(self).session.dunder("dir", self)
        return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    __eq__ = _compare("eq")  # type: ignore[assignment]
    __ne__ = _compare("ne")  # type: ignore[assignment]
    __lt__ = _compare("lt")
    __le__ = _compare("le")
    __gt__ = _compare("gt")
    __ge__ = _compare("ge")
    __add__, __radd__ = _binary("add"), _binary("add", reflected=True)
    __sub__, __rsub__ = _binary("sub"), _binary("sub", reflected=True)
    __mul__, __rmul__ = _binary("mul"), _binary("mul", reflected=True)
    __matmul__, __rmatmul__ = _binary("matmul"), _binary("matmul", reflected=True)
    __truediv__, __rtruediv__ = _binary("truediv"), _binary("truediv", reflected=True)
    __floordiv__, __rfloordiv__ = _binary("floordiv"), _binary("floordiv", reflected=True)
    __mod__, __rmod__ = _binary("mod"), _binary("mod", reflected=True)
    __pow__, __rpow__ = _binary("pow"), _binary("pow", reflected=True)
    __and__, __rand__ = _binary("and"), _binary("and", reflected=True)
    __or__, __ror__ = _binary("or"), _binary("or", reflected=True)
    __xor__, __rxor__ = _binary("xor"), _binary("xor", reflected=True)
    __lshift__, __rlshift__ = _binary("lshift"), _binary("lshift", reflected=True)
    __rshift__, __rrshift__ = _binary("rshift"), _binary("rshift", reflected=True)
    __neg__, __pos__ = _unary("neg"), _unary("pos")
    __abs__, __invert__ = _unary("abs"), _unary("invert")
    __index__, __int__ = _unary("index", int), _unary("int", int)
    __float__ = _unary("float", float)


class RemoteInstance(RemoteObject):  # a student object other than a class (of its RemoteClass)
    __doc__ = RemoteObject.__dict__["__doc__"]  # a docstring of ours would hide the student's

    __slots__ = ("_grader_state", "__weakref__")

    # copy.copy / copy.deepcopy of a student object: copied in the student process, as the
    # student's class copies itself there (a class is its own copy: copy keeps types as they are).
    def __copy__(self) -> Any:
        __tracebackhide__ = True
        return state(self).session.dunder("copy", self)

    def __deepcopy__(self, memo: object) -> Any:
        __tracebackhide__ = True
        return state(self).session.dunder("deepcopy", self)


class RemoteClass(RemoteObject, type):
    # Student classes, made once per handle by exchange.py (never by a test's ``class``):
    # attributes, calls, isinstance ask the student; ==, hash() and | stay here.
    __doc__ = RemoteObject.__dict__["__doc__"]

    def __new__(mcs, *args: Any, **kwargs: Any) -> RemoteClass:
        # ``class LoudDog(solution.Dog)`` in a test: the student's class lives in its process,
        # a class of the test's cannot derive from it. No submission changes that: refused.
        bases = args[1] if len(args) > 1 and isinstance(args[1], tuple) else ()
        for base in bases:
            if isinstance(base, RemoteObject):
                state(base).session.refuse(SUBCLASS.format(name=base.__name__))
        raise TypeError("a test cannot subclass a student class; use the student's own class")

    __eq__, __ne__ = type.__eq__, type.__ne__  # type: ignore[assignment]
    __hash__, __or__, __ror__ = type.__hash__, type.__or__, type.__ror__


copyreg.pickle(RemoteClass, no_pickle)


class RemoteIterator(RemoteInstance):  # a student iterator or generator: next() asks once
    __doc__ = RemoteObject.__dict__["__doc__"]

    __slots__ = ()

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # type: ignore[override]
        # isinstance(x, types.GeneratorType) and inspect.isgenerator(x) look here.
        if state(self).type_name == "generator" and type(self) is RemoteIterator:
            return types.GeneratorType
        return type(self)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        __tracebackhide__ = True
        return state(self).session.dunder("next", self)


class RemoteMethod:
    """A bound method of a student object (or a function of the module): calls by name."""

    __slots__ = ("_grader_session", "_grader_target", "_grader_name")

    def __init__(self, session: Session, target: int | None, name: str) -> None:
        self._grader_session = session
        self._grader_target = target
        self._grader_name = name

    @property
    def __name__(self) -> str:
        return self._grader_name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return self._grader_session.call(self._grader_target, self._grader_name, args, kwargs)

    def __repr__(self) -> str:
        return f"<student method {self._grader_name}>"


class StudentModule(types.ModuleType):
    """``sys.modules[module_name]`` in the trusted process: every attribute read is remote."""

    def __init__(self, name: str, session: Session) -> None:
        super().__init__(name)
        self.__dict__["_grader_session"] = session

    def __getattr__(self, name: str) -> Any:
        __tracebackhide__ = True
        session: Session = self.__dict__["_grader_session"]
        if name == "__all__":
            return session.public_names()
        if _is_dunder(name):
            raise AttributeError(name)
        return session.getattr(None, name)

    def __setattr__(self, name: str, value: object) -> None:
        __tracebackhide__ = True
        if _is_dunder(name) or name.startswith("_grader_"):
            super().__setattr__(name, value)
        else:  # monkeypatch.setattr(solution, "helper", fake) reaches the student module
            self.__dict__["_grader_session"].setattr(None, name, value)

    def __delattr__(self, name: str) -> None:
        __tracebackhide__ = True
        if _is_dunder(name):
            super().__delattr__(name)
        else:
            self.__dict__["_grader_session"].delattr(None, name)

    def __dir__(self) -> list[str]:
        return self.__dict__["_grader_session"].public_names()


class CollectionTimeUse(TypeError):
    """Student code was used while the test module was being collected (no student process)."""


class Unresolved:
    """What ``from solution import add`` binds while tests are only being collected."""

    __slots__ = ("_grader_path",)

    def __init__(self, path: str) -> None:
        object.__setattr__(self, "_grader_path", path)

    def _fail(self, *args: object, **kwargs: object) -> Any:
        raise CollectionTimeUse(
            f"the test module uses {self._grader_path} while it is being collected; "
            "call student code only inside test functions and fixtures"
        )

    def __getattr__(self, name: str) -> Any:
        if _is_dunder(name):
            if name in FORWARDED_DUNDER_ATTRS:
                return self._grader_path.rsplit(".", 1)[-1]
            raise AttributeError(name)
        made = Unresolved(f"{self._grader_path}.{name}")
        if LazyModule.on_lookup is not None:
            LazyModule.on_lookup(made, sys._getframe(1).f_code.co_filename)
        return made

    def __repr__(self) -> str:
        return f"<{self._grader_path}>"

    __call__ = __iter__ = __len__ = __bool__ = __getitem__ = __index__ = _fail
    __add__ = __sub__ = __mul__ = __lt__ = __gt__ = __le__ = __ge__ = _fail

    def __mro_entries__(self, bases: tuple[object, ...]) -> NoReturn:
        raise CollectionTimeUse(SUBCLASS.format(name=self._grader_path))


class LazyModule(types.ModuleType):
    """``sys.modules[module_name]`` while collecting: names resolve to :class:`Unresolved`.

    ``on_lookup``, when set, is told of each name looked up and the file of the code that
    looked it up: the trusted side learns whether the tests only bind names at import
    (``from solution import add``) or also decide something from the module there."""

    on_lookup: Callable[[Unresolved, str], None] | None = None

    def __getattr__(self, name: str) -> Any:
        if _is_dunder(name):
            raise AttributeError(name)
        made = Unresolved(f"{self.__name__}.{name}")
        if LazyModule.on_lookup is not None:
            LazyModule.on_lookup(made, sys._getframe(1).f_code.co_filename)
        return made


__all__ = [
    "CollectionTimeUse", "LazyModule", "RemoteClass", "RemoteInstance", "RemoteIterator",
    "RemoteMethod", "RemoteObject", "State", "StudentModule", "StudentOperandError", "Unresolved",
    "state", "student_name",
]
