"""Exceptions on the trusted side: the harness's own signals, and student exceptions rebuilt.

Student exceptions are rebuilt from names only (never unpickled): a builtin exception class
is itself, a student class becomes a :class:`StudentException` subclass of the same name that
also derives from the student class's builtin base, so ``pytest.raises(ValueError)`` and
``pytest.raises(solution.EmptyStackError)`` both work. What the exception object holds travels
with it as values do (its ``args``, its attributes: ``info.value.shortfall``), and ``str()`` of
a rebuilt student exception is the student's own.
"""

from __future__ import annotations

import builtins
import sys
import types

from .wire import ProtocolError

# Raising these for real would stop pytest itself; they become StudentBaseException subclasses.
_NEVER_RAISE = (KeyboardInterrupt, GeneratorExit)


class HarnessSignal(BaseException):
    """Stops the current test for a reason of the harness's own (never a student's exception)."""


class StudentLost(HarnessSignal):
    """The student process is gone: exited, crashed, or was killed for a limit."""


class TestTimeout(HarnessSignal):
    """The test used up its time."""

    __test__ = False


class ProtocolViolation(HarnessSignal):
    """The student process sent something that is not a valid reply."""


class ValueNotTransferable(HarnessSignal):
    """Student code produced a value that cannot travel (too large, or not encodable)."""


class Refused(HarnessSignal):
    """The test asked for something the harness does not do for a test: start a program, or run
    the student's code in the test's own process. No submission can change that: the test gives
    no result and the package is at fault (the submission could not be graded)."""


class StudentImportFailed(HarnessSignal, ImportError):
    """The student module raised while being imported.

    Also an ImportError, for pytest's short "ImportError while importing test module" report;
    a test that catches it still fails (``Session.broken``).
    """


class StudentBaseException(BaseException):
    """An exception raised by student code, rebuilt here by name (never unpickled).

    Subclasses are made per student class name (``solution.EmptyStackError``) and also derive
    from the builtin the student class derived from, so ``pytest.raises(ValueError)`` works.
    Student exceptions that are not ``Exception`` subclasses (``KeyboardInterrupt``) stay
    outside ``Exception`` too, so ``pytest.raises(Exception)`` does not catch them.
    """

    _student_path: tuple[str, str] = ("builtins", "BaseException")
    student_traceback: str = ""
    student_message: str | None = None  # str() of the student's exception, where it had one

    def __str__(self) -> str:
        return super().__str__() if self.student_message is None else self.student_message


class StudentException(StudentBaseException, Exception):
    """A student exception that is an ``Exception``."""


class ExceptionClasses:
    """Makes (once per name) and remembers the local classes of student exceptions."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, str], type[BaseException]] = {}

    def get(self, mro: object) -> type[BaseException]:
        """The local class for a student exception class given by the names of its MRO."""
        if not isinstance(mro, list) or not mro or len(mro) > 64:
            raise ProtocolError("an exception class needs its MRO")
        pairs: list[tuple[str, str]] = []
        for item in mro:
            if (not isinstance(item, list) or len(item) != 2
                    or not all(isinstance(p, str) and len(p) <= 300 for p in item)):
                raise ProtocolError("bad MRO entry")
            pairs.append((item[0], item[1]))
        chain: list[tuple[str, str]] = []
        base: type[BaseException] | None = None
        for module, qualname in pairs:
            found = _known_class(module, qualname)
            if found is not None:
                base = found
                break
            chain.append((module, qualname))
        if not chain and base is not None and not issubclass(base, _NEVER_RAISE):
            return base
        if not chain:
            chain = [pairs[0]]
        bases: tuple[type, ...] = (StudentBaseException,)
        if base is not None and issubclass(base, Exception):
            bases = (StudentException,) if base is Exception else (StudentException, base)
        made: type[BaseException] | None = None
        for module, qualname in reversed(chain):
            key = (module, qualname)
            if key not in self._made:
                self._made[key] = make_exception_class(module, qualname,
                                                       (made,) if made else bases)
            made = self._made[key]
        assert made is not None
        return made


def _known_class(module: str, qualname: str) -> type[BaseException] | None:
    """A builtin exception class, or one of a standard-library module already loaded here
    (``dataclasses.FrozenInstanceError``, ``json.JSONDecodeError``): the test names those
    classes too. Nothing is imported for it and nothing of the student's is ever looked up."""
    if module != "builtins" and (module not in sys.stdlib_module_names
                                 or module not in sys.modules):
        return None
    found: object = builtins if module == "builtins" else sys.modules[module]
    if type(found) is not types.ModuleType:  # the student module's proxy, say: never asked
        return None
    for part in qualname.split("."):
        found = getattr(found, part, None) if part.isidentifier() else None
    if (isinstance(found, type) and issubclass(found, BaseException)
            and found.__module__ == module and found.__qualname__ == qualname):
        return found
    return None


def path_of(cls: type) -> tuple[str, str]:
    return cls.__module__, cls.__qualname__


def make_exception_class(module: str, qualname: str,
                         bases: tuple[type, ...]) -> type[BaseException]:
    name = qualname.rsplit(".", 1)[-1]
    if not name.isidentifier():
        name = "StudentError"
    namespace = {"__module__": module, "__qualname__": qualname,
                 "_student_path": (module, qualname)}
    try:
        made = type(name, bases, namespace)
    except TypeError:  # a builtin base with an incompatible layout
        plain = any(issubclass(b, Exception) for b in bases)
        made = type(name, (StudentException,) if plain else (StudentBaseException,), namespace)
    assert issubclass(made, BaseException)
    return made


__all__ = [
    "ExceptionClasses", "HarnessSignal", "ProtocolViolation", "Refused", "StudentBaseException",
    "StudentException", "StudentImportFailed", "StudentLost", "TestTimeout",
    "ValueNotTransferable", "make_exception_class", "path_of",
]
