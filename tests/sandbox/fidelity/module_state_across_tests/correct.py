_NAMES = []


def register(name):
    if name not in _NAMES:
        _NAMES.append(name)


def names():
    return list(_NAMES)
