"""C and C++: gcc/g++ build ``/work/prog`` (gcc runs no code of its input); the run is the
executable."""

from __future__ import annotations

from sandbox.languages.base import Language
from sandbox.types import Limits

PROGRAM = "prog"  # the executable C and C++ builds produce in /work


class C(Language):
    name = "c"
    extensions: tuple[str, ...] = (".c",)
    compiler = "gcc"
    standard = "-std=c17"

    def build_argv(self, main_file: str) -> list[str] | None:
        return [self.compiler, "-O2", self.standard, "-pipe", "-o", PROGRAM, main_file, "-lm"]

    def run_argv(self, main_file: str, limits: Limits | None = None) -> list[str]:
        return [f"/work/{PROGRAM}"]


class Cpp(C):
    name = "cpp"
    extensions = (".cpp", ".cc", ".cxx")
    aliases = ("c++", "cxx")
    compiler = "g++"
    standard = "-std=c++17"
