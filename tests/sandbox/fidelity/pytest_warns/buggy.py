def area(w, h):
    return w * h


def old_area(w, h):
    return area(w, h)
