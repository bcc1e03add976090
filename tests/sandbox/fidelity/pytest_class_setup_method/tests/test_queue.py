"""A plain pytest test class with setup_method and a class attribute."""

import solution


class TestQueue:
    capacity = 2

    def setup_method(self):
        self.queue = solution.Queue(self.capacity)

    def test_first_in_first_out(self):
        self.queue.put("a")
        self.queue.put("b")
        assert self.queue.get() == "a"

    def test_full(self):
        self.queue.put(1)
        self.queue.put(2)
        assert self.queue.full()

    def test_put_on_a_full_queue_fails(self):
        self.queue.put(1)
        self.queue.put(2)
        assert self.queue.put(3) is False
