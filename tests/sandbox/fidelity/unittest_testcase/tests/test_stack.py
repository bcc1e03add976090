"""A unittest.TestCase class with setUp, assertEqual and assertRaises."""

import unittest

import solution


class TestStack(unittest.TestCase):
    def setUp(self):
        self.stack = solution.Stack()

    def test_push_then_pop_gives_the_last_item(self):
        self.stack.push(1)
        self.stack.push(2)
        self.assertEqual(self.stack.pop(), 2)

    def test_pop_from_empty_raises(self):
        with self.assertRaises(IndexError):
            self.stack.pop()

    def test_len(self):
        self.stack.push(5)
        self.assertEqual(len(self.stack), 1)
        self.assertTrue(self.stack)
