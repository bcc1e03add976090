import unittest

from calculator import add, divide, multiply, subtract
from gradescope_utils.autograder_utils.decorators import number, visibility, weight


class TestOperations(unittest.TestCase):
    @weight(1)
    @number("1.1")
    def test_add(self):
        """add(a, b)"""
        self.assertEqual(add(2, 3), 5)
        self.assertEqual(add(-1, 1), 0)

    @weight(1)
    @number("1.2")
    def test_subtract(self):
        """subtract(a, b)"""
        self.assertEqual(subtract(10, 4), 6)

    @weight(1)
    @number("1.3")
    def test_multiply(self):
        """multiply(a, b)"""
        self.assertEqual(multiply(3, -4), -12)

    @weight(2)
    @number("1.4")
    def test_divide(self):
        """divide(a, b), by zero too"""
        self.assertAlmostEqual(divide(10, 4), 2.5)
        with self.assertRaises(ZeroDivisionError):
            divide(1, 0)

    @weight(1)
    @number("1.10")
    @visibility("after_due_date")
    def test_large_numbers(self):
        """add and multiply with large numbers"""
        self.assertEqual(add(10**20, 1), 10**20 + 1)
        self.assertEqual(multiply(10**10, 10**10), 10**20)
