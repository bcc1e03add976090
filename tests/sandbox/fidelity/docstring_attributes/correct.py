"""Helpers for rectangles."""


def area(width, height):
    """Width times height."""
    return width * height
