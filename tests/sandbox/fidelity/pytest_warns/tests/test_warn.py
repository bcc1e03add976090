"""pytest.warns around a student call that emits a DeprecationWarning."""

import pytest
import solution


def test_old_name_warns():
    with pytest.warns(DeprecationWarning, match="use area"):
        assert solution.old_area(2, 3) == 6
