"""Object graphs as JSON, rebuilt only as plain values and teacher helper-class instances.

Nothing here unpickles, ``eval``s or calls a constructor named by the peer, except those of the
teacher's own helper classes (``cls.__new__``, then attributes set one by one) and a fixed list
of standard-library value types built from validated scalars.

A graph is ``{"v": value, "o": [entry, ...]}``. A value is a JSON scalar (None, bool, int below
2**63 in size, finite float, str) or a one-key tag::

    {"r": n}          entry n of "o" (containers and objects: shared references and cycles)
    {"i": "-1f"}      an int of any size, in hex (exempt from int/str digit limits)
    {"f": "nan"}      nan, inf or -inf
    {"h": n, ...}     a student object: handle n of the student process
    {"m": [n, name]}  a bound method of student object n (n None: the student module)
    {"cb": n}         a function of the test, called back over the channel
    {"x": [[m, q]]}   a student exception class, by the names of its MRO
    {"hc": "m:q"}     a helper class;  {"b": name}: one of ``SAFE_BUILTINS``

Which of the last six a side accepts is its own policy (``Session._decode_tag`` on the
trusted side, ``Agent.decode_tag`` on the student side).

An entry is ``{"t": kind, "v": ...}``: list, tuple, ntuple (a namedtuple: ``"n"`` its class
name, ``"f"`` its fields, ``"m"`` its module; the class is made again on the receiving side),
alias and union (a type hint: ``list[int]``, ``int | None``; ``v`` the origin then the
arguments, None for NoneType, ``"e"`` the positions of ``...``), set, frozenset, deque
(``"n"``: maxlen), dict (``v`` is a list of [key, value] pairs; ``"k"``:
``counter``, ``ordered`` or ``default`` for a Counter, OrderedDict or defaultdict, ``"f"``
the defaultdict's factory as a value), bytes, bytearray (base64), complex, fraction,
decimal, range, slice, date, time, datetime, timedelta, path (``"k"``: ``pure`` for a
``PurePosixPath``, else a ``PosixPath``), and the helper kinds ``obj`` (``"c"``:
``module:qualname``, ``v``: attributes), ``tobj`` (a helper tuple subclass, ``v``: items) and
``enum`` (``v``: member name). Entries are flat (their items are values, containers inside are
refs), so neither side recurses over nesting depth and the JSON itself stays shallow.
``decoder.Decoder`` rebuilds graphs on the receiving side.

An entry may carry ``"s": n``: "this is object n of the graph you sent me". The decoder then
updates that original object in place (slice-assign a list, clear and refill a dict or set,
replace an instance's attributes) instead of building a new one. That is how in-place mutations
by student code reach the test's own objects.
"""

from __future__ import annotations

import base64
import builtins
import collections
import enum
import importlib
import math
import sys
import types
from collections.abc import Callable, Iterable
from typing import Any

from .wire import ProtocolError

Tag = dict[str, Any]
MAX_HEX_DIGITS = 1_000_000  # a 4-million-bit int; bigger ones are refused
MAX_NAME = 300
_INT_LIMIT = 1 << 63

# Builtins a message may name instead of sending a handle: harmless types and pure functions.
SAFE_BUILTINS = frozenset({
    "int", "float", "str", "bool", "bytes", "list", "tuple", "dict", "set", "frozenset",
    "complex", "len", "abs", "min", "max", "sum", "sorted", "any", "all", "round", "divmod",
    "ord", "chr", "repr", "hash", "SystemExit",
} | {
    name for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, Exception)
})
# Entry kinds; the decoder fills mutable ones in this order (helper objects first).
MUTABLE_KINDS = ("obj", "list", "deque", "bytearray", "dict", "set")
IMMUTABLE_KINDS = ("tuple", "ntuple", "alias", "union", "frozenset", "tobj", "enum", "bytes",
                   "complex", "fraction", "decimal", "range", "slice", "date", "time", "datetime",
                   "timedelta", "path")
# The graph of [None, None]: the value part of a reply that carries no result and no arguments.
NOTHING: dict[str, Any] = {"v": {"r": 0}, "o": [{"t": "list", "v": [None, None]}]}
_BASE_VALUE_TYPES = (list, tuple, dict, set, frozenset, bytes, bytearray, collections.deque,
                     complex, range, slice, types.GenericAlias, types.UnionType)
# Standard-library value types from modules imported only on demand (the student side starts
# faster without them): if a module is not loaded, no instance of its classes can exist.
_LAZY_VALUE_TYPES = {"fractions": ("Fraction",), "decimal": ("Decimal",),
                     "datetime": ("date", "time", "timedelta"), "pathlib": ("PurePath",)}


def _loaded(module: str, name: str) -> type | None:
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) else None


def _value_types() -> tuple[type, ...]:
    lazy = [_loaded(m, n) for m, names in _LAZY_VALUE_TYPES.items() for n in names]
    return _BASE_VALUE_TYPES + tuple(t for t in lazy if t is not None)


class Unset:
    pass


UNSET = Unset()


def is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def check_str(value: object, what: str, limit: int = MAX_NAME) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ProtocolError(f"{what} must be a string of at most {limit} characters")
    return value


class HelperRegistry:
    """The teacher's helper modules (files of tests/ other than test modules and conftest).

    Instances of classes defined in these modules travel by value; every other object travels
    as a handle. ``names`` holds each module under both spellings it can be imported by
    (``graph`` and ``tests.graph``), because the student side has both folders on its path.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)

    @staticmethod
    def names_for(relative_paths: Iterable[str]) -> list[str]:
        """Module names for helper files given relative to the tests folder (``a/b.py``)."""
        names: list[str] = []
        for rel in relative_paths:
            if not rel.endswith(".py"):
                continue
            parts = rel[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if all(p.isidentifier() for p in parts):
                if parts:
                    names.append(".".join(parts))
                names.append(".".join(["tests", *parts]))
        return names

    def class_path(self, cls: type) -> str | None:
        module = cls.__dict__.get("__module__")
        qualname = cls.__dict__.get("__qualname__", cls.__name__)
        if module not in self.names or not isinstance(qualname, str) or "<" in qualname:
            return None
        return f"{module}:{qualname}"

    def resolve(self, path: object) -> type:
        """The helper class called ``path`` (``module:qualname``); anything else is refused."""
        text = check_str(path, "a class path")
        module_name, _, qualname = text.partition(":")
        parts = qualname.split(".")
        if module_name not in self.names or not all(p.isidentifier() for p in parts):
            raise ProtocolError(f"{text!r} is not a class of the test helper modules")
        try:
            module = sys.modules.get(module_name) or importlib.import_module(module_name)
            obj: object = module
            for part in parts:
                obj = getattr_static(obj, part)
        except (ImportError, AttributeError) as exc:
            raise ProtocolError(f"cannot find helper class {text!r}: {exc}") from None
        if not isinstance(obj, type) or obj.__module__ != module_name:
            raise ProtocolError(f"{text!r} is not a class defined in {module_name}")
        return obj


# dict subclasses of the standard library that travel as themselves (entry "k"), not as dicts.
_DICT_FLAVOURS: dict[type, str] = {collections.Counter: "counter",
                                   collections.OrderedDict: "ordered",
                                   collections.defaultdict: "default"}
DICT_CLASSES: dict[str, type] = {name: cls for cls, name in _DICT_FLAVOURS.items()}
# What collections.namedtuple puts in a class it makes, besides the fields' accessors.
_NAMEDTUPLE_KEYS = frozenset({
    "__doc__", "__getnewargs__", "__match_args__", "__module__", "__new__", "__repr__",
    "__slots__", "_asdict", "_field_defaults", "_fields", "_make", "_replace",
    "__annotations__", "__orig_bases__",  # typing.NamedTuple's
})
MAX_FIELDS = 255


def namedtuple_fields(cls: type) -> tuple[str, ...] | None:
    """The fields of a class made by ``collections.namedtuple`` or ``typing.NamedTuple`` with
    nothing of its own added (such a class is its name and fields: it travels as them, to be
    made again on the other side); None for any other class."""
    fields = cls.__dict__.get("_fields")
    if cls.__bases__ != (tuple,) or type(fields) is not tuple or len(fields) > MAX_FIELDS \
            or not all(type(f) is str and f.isidentifier() for f in fields):
        return None
    if set(cls.__dict__) - _NAMEDTUPLE_KEYS - set(fields):
        return None
    return fields


def getattr_static(obj: object, name: str, *default: object) -> Any:
    import inspect

    return inspect.getattr_static(obj, name, *default)


def _instance_attrs(obj: object) -> dict[str, object]:
    attrs: dict[str, object] = {}
    if hasattr(obj, "__dict__"):
        attrs.update(vars(obj))
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{klass.__name__.lstrip('_')}{name}"
            try:
                attrs[name] = object.__getattribute__(obj, name)
            except AttributeError:
                continue
    return attrs


class Encoder:
    """Turns one object graph into a JSON-ready dict.

    ``other`` handles every object that does not travel by value (it returns a tag dict or
    raises ``TypeError``). ``sources`` maps ``id(obj)`` of objects decoded from the peer's last
    message to their entry number there, so replies can say "this is your object n".
    """

    def __init__(self, helpers: HelperRegistry, other: Callable[[object], Tag],
                 sources: dict[int, int] | None = None) -> None:
        self.helpers = helpers
        self.other = other
        self.sources = sources or {}
        self.value_types = _value_types()

    def encode(self, root: object) -> tuple[dict[str, Any], list[object]]:
        """Return the graph and the encoded objects by entry number (to sync replies into)."""
        self._entries: list[dict[str, Any] | None] = []
        self._objects: list[object] = []
        self._memo: dict[int, int] = {}
        self._pending: list[int] = []
        value = self.value(root)
        while self._pending:
            ref = self._pending.pop()
            self._entries[ref] = self._entry(self._objects[ref])
        return {"v": value, "o": self._entries}, self._objects

    def value(self, x: object) -> Any:
        kind = type(x)
        if x is None or kind is bool or kind is str:
            return x
        if isinstance(x, int) and kind is int:
            return x if -_INT_LIMIT < x < _INT_LIMIT else {"i": format(x, "x")}
        if isinstance(x, float) and kind is float:
            return x if math.isfinite(x) else {"f": repr(x)}
        if self.helpers.class_path(kind) is not None or isinstance(x, self.value_types):
            return {"r": self._ref(x)}
        if isinstance(x, int):  # int subclasses (IntEnum, a lying __eq__) travel as plain ints
            return self.value(int.__index__(x))
        if isinstance(x, float):
            return self.value(float.__float__(x))
        if isinstance(x, str):
            return str.__str__(x)
        return self.other(x)

    def _ref(self, x: object) -> int:
        ref = self._memo.get(id(x))
        if ref is None:
            ref = len(self._objects)
            self._memo[id(x)] = ref
            self._objects.append(x)
            self._entries.append(None)
            self._pending.append(ref)
        return ref

    def _entry(self, x: object) -> dict[str, Any]:
        entry = self._entry_body(x)
        source = self.sources.get(id(x))
        if source is not None:
            entry["s"] = source
        return entry

    def _entry_body(self, x: object) -> dict[str, Any]:
        v = self.value
        path = self.helpers.class_path(type(x))
        if path is not None:
            if isinstance(x, enum.Enum):
                return {"t": "enum", "c": path, "v": x.name}
            if isinstance(x, tuple):
                return {"t": "tobj", "c": path, "v": [v(i) for i in x]}
            attrs = _instance_attrs(x)
            return {"t": "obj", "c": path, "v": {str(k): v(a) for k, a in attrs.items()}}
        if isinstance(x, types.GenericAlias | types.UnionType):  # type hints: list[int] | None
            parts = ([x.__origin__] if isinstance(x, types.GenericAlias) else []) + list(x.__args__)
            return {"t": "alias" if isinstance(x, types.GenericAlias) else "union",
                    "v": [None if p is type(None) else "..." if p is Ellipsis else v(p)
                          for p in parts],
                    "e": [i for i, p in enumerate(parts) if p is Ellipsis]}
        if isinstance(x, list):
            return {"t": "list", "v": [v(i) for i in x]}
        if isinstance(x, tuple):
            fields = namedtuple_fields(type(x))
            if fields is not None:
                cls = type(x)
                return {"t": "ntuple", "v": [v(i) for i in x], "f": list(fields),
                        "n": cls.__name__, "m": str(cls.__dict__.get("__module__"))[:MAX_NAME]}
            return {"t": "tuple", "v": [v(i) for i in x]}
        if isinstance(x, dict):
            entry = {"t": "dict", "v": [[v(k), v(i)] for k, i in x.items()]}
            flavour = _DICT_FLAVOURS.get(type(x))
            if flavour is not None:
                entry["k"] = flavour
                if isinstance(x, collections.defaultdict):
                    entry["f"] = v(x.default_factory)
            return entry
        if isinstance(x, set | frozenset):
            return {"t": "set" if isinstance(x, set) else "frozenset", "v": [v(i) for i in x]}
        if isinstance(x, collections.deque):
            return {"t": "deque", "v": [v(i) for i in x], "n": x.maxlen}
        if isinstance(x, bytes | bytearray):
            kind = "bytes" if isinstance(x, bytes) else "bytearray"
            return {"t": kind, "v": base64.b64encode(x).decode("ascii")}
        if isinstance(x, complex):
            return {"t": "complex", "v": [v(x.real), v(x.imag)]}
        if isinstance(x, range | slice):
            kind = "range" if isinstance(x, range) else "slice"
            return {"t": kind, "v": [v(x.start), v(x.stop), v(x.step)]}
        # Only reached when the module is loaded (see _value_types), so importing is free.
        import datetime as dt
        import decimal
        import fractions
        import pathlib

        if isinstance(x, pathlib.PurePath):  # its text, never a subclass's own __str__
            return {"t": "path", "v": pathlib.PurePath.__str__(x),
                    "k": "posix" if isinstance(x, pathlib.Path) else "pure"}

        if isinstance(x, fractions.Fraction):
            return {"t": "fraction", "v": [v(x.numerator), v(x.denominator)]}
        if isinstance(x, decimal.Decimal):
            return {"t": "decimal", "v": str(x)}
        if isinstance(x, dt.timedelta):
            return {"t": "timedelta", "v": [x.days, x.seconds, x.microseconds]}
        if isinstance(x, dt.datetime):
            return {"t": "datetime", "v": x.isoformat()}
        if isinstance(x, dt.date):
            return {"t": "date", "v": x.isoformat()}
        if isinstance(x, dt.time):
            return {"t": "time", "v": x.isoformat()}
        raise TypeError(f"cannot encode {type(x).__name__}")  # pragma: no cover - see value()


__all__ = [
    "DICT_CLASSES", "IMMUTABLE_KINDS", "MAX_FIELDS", "MUTABLE_KINDS", "NOTHING", "SAFE_BUILTINS",
    "UNSET", "Encoder", "HelperRegistry", "Tag", "check_str", "getattr_static", "is_dunder",
    "namedtuple_fields",
]
