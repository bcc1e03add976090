"""Java: ``javac -proc:none`` (no annotation processor, not even one the submission ships in
``META-INF/services``, and no processor path) and ``java -cp /work``.

Java's memory limit is its heap: ``run_argv`` passes ``-Xmx<memory_mb>m`` and flags that keep
the JVM's other reservations small, and the run's ``RunSpec.needs`` (``JVM_NEEDS``) asks the
backend for ``JVM_EXTRA_AS_MB`` of address space and ``JVM_EXTRA_RSS_MB`` of memory beyond
``memory_mb`` (a JVM reserves far more than it uses). A JVM also needs ~15 threads of
``max_processes`` just to start.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from sandbox.languages.base import BUILD_LIMITS, Language, checked
from sandbox.types import Limits, RuntimeNeeds

JAVAC_HEAP_MB = 256  # javac on one assignment's sources: 65 MB resident measured
JAVAC_LIMITS = BUILD_LIMITS.with_(memory_mb=JAVAC_HEAP_MB, max_processes=32)  # a dozen threads

JVM_EXTRA_AS_MB = 1024  # address space a JVM reserves beyond -Xmx (metaspace, code cache, stacks)
# Memory a JVM uses beyond its heap (-Xmx): metaspace (capped at 128 MB by JVM_FLAGS), code cache
# (32 MB), thread stacks, GC tables. Measured: 36 MB beyond a full 128 MB heap.
JVM_EXTRA_RSS_MB = 256
JVM_NEEDS = RuntimeNeeds(
    name="jvm",
    extra_address_space_mb=JVM_EXTRA_AS_MB,
    extra_memory_mb=JVM_EXTRA_RSS_MB,
    host_paths=("/etc/java-17-openjdk",),  # the JDK's configuration (security, logging)
    env=(("MALLOC_ARENA_MAX", "2"),),  # each glibc arena reserves 64 MB of address space
    trust_rss=False,  # the heap is bounded by -Xmx: only OutOfMemoryError means MEMORY
)

# Flags that keep a JVM small and quick to start: C1 only, serial GC, no perf-data file, the
# class-data-sharing archive, and reservations small enough for the backend's address-space cap
# (``JVM_EXTRA_AS_MB`` above the heap).
JVM_FLAGS = (
    "-Xss8m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:CICompilerCount=1",
    "-XX:-UsePerfData",
    "-Xshare:auto",
    "-XX:CompressedClassSpaceSize=64m",
    "-XX:ReservedCodeCacheSize=32m",
    "-XX:MaxMetaspaceSize=128m",
    "-XX:+DisplayVMOutputToStderr",  # the VM's own messages (OutOfMemoryError...) stay off stdout
)


class Java(Language):
    name = "java"
    extensions = (".java",)
    needs = JVM_NEEDS  # javac is a JVM too

    def build_argv(self, main_file: str) -> list[str] | None:
        heap = [f"-J-Xmx{JAVAC_HEAP_MB}m"] + [f"-J{flag}" for flag in JVM_FLAGS]
        # -proc:none: no annotation processing at all, so no processor is looked up on the
        # class path (/work, the submission) and none runs; no -processorpath either.
        return ["javac", *heap, "-proc:none", "-encoding", "UTF-8", "-d", "/work", main_file]

    def submission_problem(self, submission: str) -> str:
        problem = super().submission_problem(submission)
        if not problem and not PurePosixPath(submission).stem.isidentifier():
            problem = f"submission {submission!r} must be a Java class name + .java"
        return problem

    def build_limits(self, limits: Limits) -> Limits:
        return JAVAC_LIMITS

    def run_argv(self, main_file: str, limits: Limits | None = None) -> list[str]:
        memory = (limits or Limits()).memory_mb
        main_class = PurePosixPath(checked(main_file)).stem
        return [
            "java",
            f"-Xmx{memory}m",
            *JVM_FLAGS,
            "-XX:+ExitOnOutOfMemoryError",
            "-cp",
            "/work",
            main_class,
        ]
