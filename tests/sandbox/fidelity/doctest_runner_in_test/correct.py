def square(x):
    """Return x squared.

    >>> square(3)
    9
    >>> square(-2)
    4
    """
    return x * x
