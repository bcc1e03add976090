"""unittest's setUpClass makes one student object; its tests (run in name order) share it."""

import unittest

import solution


class InventoryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inventory = solution.Inventory()

    def test_1_add(self):
        self.inventory.add("apple", 3)
        self.assertEqual(self.inventory.count("apple"), 3)

    def test_2_remove_some(self):
        self.inventory.remove("apple", 2)
        self.assertEqual(self.inventory.count("apple"), 1)

    def test_3_remove_too_many(self):
        with self.assertRaises(ValueError):
            self.inventory.remove("apple", 5)
        self.assertEqual(self.inventory.count("apple"), 1)
