from nodes import Node


def reverse(head):
    out = None
    while head is not None:
        out = Node(head.value, out)
        head = head.next
    return out
