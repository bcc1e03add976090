class Node:
    def __init__(self, value, next=None):
        self.value = value
        self.next = next


def build(*values):
    head = None
    for value in reversed(values):
        head = Node(value, head)
    return head


def values(head):
    out = []
    while head is not None:
        out.append(head.value)
        head = head.next
    return out
