from __future__ import annotations

from tests.lms.conftest import graded  # noqa: F401 (a fixture: a graded submission of Alice's)
