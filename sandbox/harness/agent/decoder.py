"""Rebuilding object graphs sent by a (possibly hostile) peer; the format is in ``codec``."""

from __future__ import annotations

import base64
import binascii
import collections
import enum
import functools
import operator
import types
from collections.abc import Callable
from typing import Any

from .codec import (
    DICT_CLASSES,
    IMMUTABLE_KINDS,
    MAX_FIELDS,
    MAX_HEX_DIGITS,
    MUTABLE_KINDS,
    UNSET,
    HelperRegistry,
    Tag,
    check_str,
    getattr_static,
    is_dunder,
)
from .wire import ProtocolError


class Decoder:
    """Rebuilds a graph made by a (possibly hostile) peer's :class:`Encoder`.

    ``tag`` decodes the side-specific tags. ``originals`` are the objects this side encoded in
    its request, for entries marked ``"s"``. Every malformed input raises :class:`ProtocolError`.
    """

    def __init__(self, helpers: HelperRegistry, tag: Callable[[Tag], object],
                 originals: list[object] | None = None) -> None:
        self.helpers = helpers
        self.tag = tag
        self.originals = originals

    def decode(self, graph: object) -> tuple[object, list[object]]:
        """Return the root and the decoded objects by entry number."""
        if not isinstance(graph, dict) or not isinstance(graph.get("o"), list) or "v" not in graph:
            raise ProtocolError("a graph needs 'v' and a list 'o'")
        self._entries: list[dict[str, Any]] = graph["o"]
        self._objs: list[object] = [UNSET] * len(self._entries)
        self._synced: set[int] = set()
        for i, entry in enumerate(self._entries):
            if not isinstance(entry, dict) or entry.get("t") not in MUTABLE_KINDS + IMMUTABLE_KINDS:
                raise ProtocolError(f"entry {i} has no known type")
            if entry["t"] in MUTABLE_KINDS:
                self._objs[i] = self._shell(i, entry)
        try:
            for kind in MUTABLE_KINDS:
                for i, entry in enumerate(self._entries):
                    if entry["t"] == kind:
                        self._fill(i, entry)
            root = self.value(graph["v"])
        except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
            raise ProtocolError(f"bad value: {exc}") from None
        return root, self._objs

    # -- values ----------------------------------------------------------------------------

    def value(self, v: object) -> Any:
        kind = type(v)
        if v is None or kind in (bool, str, int, float):
            return v
        if kind is dict:
            assert isinstance(v, dict)
            if len(v) == 1 and "r" in v:
                return self._ref(v["r"])
            if len(v) == 1 and "i" in v:
                digits = check_str(v["i"], "a big int", MAX_HEX_DIGITS)
                return int(digits, 16)
            if len(v) == 1 and "f" in v:
                if v["f"] not in ("nan", "inf", "-inf"):
                    raise ProtocolError("bad float tag")
                return float(v["f"])
            return self.tag(v)
        raise ProtocolError(f"unexpected JSON value of type {kind.__name__}")

    def _values(self, items: object) -> list[Any]:
        if not isinstance(items, list):
            raise ProtocolError("expected a list of values")
        return [self.value(i) for i in items]

    def _ref(self, ref: object) -> object:
        if not isinstance(ref, int) or type(ref) is not int or not 0 <= ref < len(self._objs):
            raise ProtocolError(f"bad reference {ref!r}")
        if self._objs[ref] is UNSET:
            self._build_immutables(ref)
        return self._objs[ref]

    def _build_immutables(self, start: int) -> None:
        # Iterative post-order: a chain of nested tuples may be longer than the recursion limit.
        stack, visited = [start], set()
        while stack:
            j = stack[-1]
            if self._objs[j] is not UNSET:
                stack.pop()
                continue
            deps = [k for k in self._child_refs(self._entries[j]) if self._objs[k] is UNSET]
            if deps:
                if j in visited:
                    raise ProtocolError("a cycle made only of immutable values")
                visited.add(j)
                stack.extend(deps)
                continue
            self._objs[j] = self._immutable(self._entries[j])
            stack.pop()

    def _child_refs(self, entry: dict[str, Any]) -> list[int]:
        items = entry.get("v")
        if not isinstance(items, list):
            return []
        refs = []
        for item in items:
            if type(item) is dict and len(item) == 1 and "r" in item:
                ref = item["r"]
                if type(ref) is not int or not 0 <= ref < len(self._objs):
                    raise ProtocolError(f"bad reference {ref!r}")
                refs.append(ref)
        return refs

    # -- immutables ------------------------------------------------------------------------

    def _immutable(self, entry: dict[str, Any]) -> object:
        kind, raw = entry["t"], entry.get("v")
        if kind == "tuple":
            return tuple(self._values(raw))
        if kind in ("alias", "union"):
            return _type_hint(kind, self._values(raw), entry.get("e"))
        if kind == "ntuple":
            return _namedtuple_class(entry)(*self._values(raw))
        if kind == "frozenset":
            return frozenset(self._values(raw))
        if kind == "bytes":
            return self._bytes(raw)
        if kind == "tobj":
            cls = self.helpers.resolve(entry.get("c"))
            if not issubclass(cls, tuple) or issubclass(cls, enum.Enum):
                raise ProtocolError(f"{cls.__name__} is not a tuple class")
            return tuple.__new__(cls, self._values(raw))
        if kind == "enum":
            cls = self.helpers.resolve(entry.get("c"))
            if not issubclass(cls, enum.Enum):
                raise ProtocolError(f"{cls.__name__} is not an enum")
            member = cls.__members__.get(check_str(raw, "an enum member"))
            if member is None:
                raise ProtocolError(f"{cls.__name__} has no member {raw!r}")
            return member
        if kind == "path":
            import pathlib

            text = check_str(raw, "a path", 4096)
            if "\0" in text:
                raise ProtocolError("a path with a NUL byte")
            return pathlib.PosixPath(text) if entry.get("k") == "posix" \
                else pathlib.PurePosixPath(text)
        if kind == "decimal":
            import decimal

            return decimal.Decimal(check_str(raw, "a decimal", 10_000))
        import datetime as dt
        import fractions

        if kind in ("date", "time", "datetime"):
            text = check_str(raw, "an ISO date", 64)
            if kind == "date":
                return dt.date.fromisoformat(text)
            if kind == "time":
                return dt.time.fromisoformat(text)
            return dt.datetime.fromisoformat(text)
        items = self._values(raw)
        if kind == "complex":
            re, im = self._numbers(items, 2, (int, float))
            return complex(re, im)
        if kind == "fraction":
            num, den = self._numbers(items, 2, (int,))
            return fractions.Fraction(num, den)
        if kind == "timedelta":
            days, seconds, micro = self._numbers(items, 3, (int,))
            return dt.timedelta(days=days, seconds=seconds, microseconds=micro)
        if kind == "range":
            start, stop, step = self._numbers(items, 3, (int,))
            return range(start, stop, step)
        if kind == "slice":
            if len(items) != 3:
                raise ProtocolError("a slice has three parts")
            return slice(*items)
        raise ProtocolError(f"unknown entry type {kind!r}")  # pragma: no cover

    @staticmethod
    def _numbers(items: list[Any], count: int, types: tuple[type, ...]) -> list[Any]:
        if len(items) != count or not all(type(i) in types for i in items):
            raise ProtocolError(f"expected {count} numbers")
        return items

    @staticmethod
    def _bytes(raw: object) -> bytes:
        try:
            return base64.b64decode(check_str(raw, "base64 data", 12 * 1024 * 1024),
                                    validate=True)
        except binascii.Error as exc:
            raise ProtocolError(f"bad base64: {exc}") from None

    # -- mutables --------------------------------------------------------------------------

    def _original(self, entry: dict[str, Any]) -> object:
        source = entry.get("s")
        if source is None:
            return UNSET
        if self.originals is None or type(source) is not int or not (
            0 <= source < len(self.originals)
        ):
            raise ProtocolError(f"bad source reference {source!r}")
        return self.originals[source]

    def _shell(self, i: int, entry: dict[str, Any]) -> object:
        kind = entry["t"]
        expected: type = {"list": list, "dict": dict, "set": set, "bytearray": bytearray,
                          "deque": collections.deque, "obj": object}[kind]
        cls = self.helpers.resolve(entry.get("c")) if kind == "obj" else expected
        original = self._original(entry)
        if original is not UNSET:
            same = type(original) is cls if kind == "obj" else isinstance(original, expected)
            if not same:
                raise ProtocolError(f"entry {i} claims to be a {type(original).__name__}")
            self._synced.add(i)
            return original
        if kind == "dict" and entry.get("k") is not None:
            flavour = DICT_CLASSES.get(entry["k"]) if type(entry["k"]) is str else None
            if flavour is None:
                raise ProtocolError(f"unknown kind of dict {entry['k']!r}")
            return flavour()
        if kind == "deque":
            maxlen = entry.get("n")
            if maxlen is not None and (type(maxlen) is not int or maxlen < 0):
                raise ProtocolError("bad deque maxlen")
            return collections.deque(maxlen=maxlen)
        if kind != "obj":
            return expected()
        if issubclass(cls, tuple | enum.Enum | BaseException) or cls.__new__ is not object.__new__:
            raise ProtocolError(f"{cls.__name__} instances cannot be rebuilt from attributes")
        return object.__new__(cls)

    def _fill(self, i: int, entry: dict[str, Any]) -> None:
        obj, kind, raw = self._objs[i], entry["t"], entry.get("v")
        synced = i in self._synced
        if kind == "obj":
            self._fill_attrs(obj, raw, synced)
        elif kind == "list":
            assert isinstance(obj, list)
            obj[:] = self._values(raw)
        elif kind == "deque":
            assert isinstance(obj, collections.deque)
            obj.clear()
            obj.extend(self._values(raw))
        elif kind == "bytearray":
            assert isinstance(obj, bytearray)
            obj[:] = self._bytes(raw)
        elif kind == "dict":
            assert isinstance(obj, dict)
            if not isinstance(raw, list) or not all(
                isinstance(p, list) and len(p) == 2 for p in raw
            ):
                raise ProtocolError("a dict entry holds [key, value] pairs")
            pairs = [(self.value(k), self.value(v)) for k, v in raw]
            obj.clear()
            if isinstance(obj, collections.Counter):
                dict.update(obj, pairs)  # Counter.update would count the pairs
            else:
                obj.update(pairs)
            if isinstance(obj, collections.defaultdict):
                factory = self.value(entry.get("f"))
                if factory is not None and not callable(factory):
                    raise ProtocolError("a defaultdict's factory must be callable")
                obj.default_factory = factory
        elif kind == "set":
            assert isinstance(obj, set)
            items = self._values(raw)
            obj.clear()
            obj.update(items)

    def _fill_attrs(self, obj: object, raw: object, synced: bool) -> None:
        if not isinstance(raw, dict):
            raise ProtocolError("an object entry holds a dict of attributes")
        cls = type(obj)
        attrs = {}
        for name, value in raw.items():
            check_str(name, "an attribute name")
            if is_dunder(name):
                raise ProtocolError(f"attribute {name!r} is not allowed")
            found = getattr_static(cls, name, UNSET)
            is_slot = type(found).__name__ == "member_descriptor"
            data_descriptor = hasattr(type(found), "__set__")
            if found is not UNSET and not is_slot and (callable(found) or (
                hasattr(type(found), "__get__") and not data_descriptor
            )):
                # An instance attribute would shadow the teacher's method (say ``equals``).
                raise ProtocolError(f"attribute {name!r} would hide {cls.__name__}.{name}")
            attrs[name] = (self.value(value), is_slot)
        namespace = getattr(obj, "__dict__", None)
        if synced and isinstance(namespace, dict):
            namespace.clear()
        for name, (value, is_slot) in attrs.items():
            if isinstance(namespace, dict) and not is_slot:
                namespace[name] = value
            else:
                object.__setattr__(obj, name, value)


def _type_hint(kind: str, parts: list[Any], ellipses: object) -> object:
    """``list[int]`` or ``int | None`` from its parts, each a class, None, ``...`` or a hint."""
    if not isinstance(ellipses, list) or not all(type(i) is int for i in ellipses):
        raise ProtocolError("a type hint's '...' positions must be a list of ints")
    parts = [Ellipsis if i in ellipses else p for i, p in enumerate(parts)]
    hint_types = (type, types.GenericAlias, types.UnionType)
    if not all(p is None or p is Ellipsis or isinstance(p, hint_types) for p in parts):
        raise ProtocolError("a type hint is made of classes")
    if kind == "alias":
        if not parts or not isinstance(parts[0], type):
            raise ProtocolError("a type hint's origin must be a class")
        return types.GenericAlias(parts[0], tuple(parts[1:]))
    if len(parts) < 2 or Ellipsis in parts:
        raise ProtocolError("a union has two classes or more")
    return functools.reduce(operator.or_, parts)


_NAMEDTUPLES: dict[tuple[str, str, tuple[str, ...]], type] = {}
MAX_NAMEDTUPLE_CLASSES = 256


def _namedtuple_class(entry: dict[str, Any]) -> type:
    """The namedtuple class an ``ntuple`` entry names, made here once per name and fields
    (``collections.namedtuple`` checks every name: identifiers, no keywords, no repeats)."""
    name = check_str(entry.get("n"), "a namedtuple's name")
    module = check_str(entry.get("m"), "a namedtuple's module")
    fields = entry.get("f")
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        raise ProtocolError("a namedtuple's fields must be a list")
    key = (module, name, tuple(check_str(f, "a field name") for f in fields))
    found = _NAMEDTUPLES.get(key)
    if found is not None:
        return found
    if len(_NAMEDTUPLES) >= MAX_NAMEDTUPLE_CLASSES:
        raise ProtocolError("too many namedtuple classes")
    try:
        made: type = collections.namedtuple(name, key[2], module=module)  # type: ignore[misc]
    except ValueError as exc:
        raise ProtocolError(f"bad namedtuple: {exc}") from None
    _NAMEDTUPLES[key] = made
    return made


__all__ = ["Decoder"]
