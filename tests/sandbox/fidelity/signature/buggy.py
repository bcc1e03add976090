def area(w, h=2):
    return w * h
