"""Area of shapes."""


def area(width, height):
    """Width times height."""
    return width * height
