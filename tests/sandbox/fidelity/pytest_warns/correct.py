import warnings


def area(w, h):
    return w * h


def old_area(w, h):
    warnings.warn("old_area is deprecated; use area", DeprecationWarning, stacklevel=2)
    return area(w, h)
