"""xunit-style setup_module: a module global holds one student queue for every test."""

import solution

queue = None


def setup_module(module):
    global queue
    queue = solution.Queue()


def test_enqueue():
    queue.enqueue("a")
    queue.enqueue("b")
    assert queue.size() == 2


def test_dequeue_is_first_in_first_out():
    assert queue.dequeue() == "a"
    assert queue.size() == 1
