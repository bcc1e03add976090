"""Code that runs inside the two sandboxes of a pytest run (see ``sandbox.harness.runner``).

This folder is bind-mounted read-only into both sandboxes as the top-level package
``_grader_harness``, so it imports only the standard library and its own modules (relative
imports), never ``sandbox.*``. ``trusted`` and ``plugin`` also import pytest; the student side
(``student``, ``streams``, ``scripts``, ``tracer``, ``introspect``, ``codec``, ``wire``) needs
nothing beyond the standard library. ``session`` and ``exchange`` are the trusted side's end of
the channel. ``ambient`` (process state a test patches) has a half for each side; ``redirect``
and ``programs`` are the trusted side's redirections of the student module's import, source and
runs.
"""
