_NAMES = []


def register(name):
    _NAMES[:] = [name]


def names():
    return list(_NAMES)
