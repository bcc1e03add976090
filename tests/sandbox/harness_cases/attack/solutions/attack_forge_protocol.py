"""Take over the student side of the channel and send forged or hostile replies."""

import struct
import sys

agent_module = sys.modules["_grader_harness.student"]
honest_handle = agent_module.Agent.handle
HANDLE = {"h": 1, "k": "callable", "t": "function", "n": "same_as"}



def reply(value, *entries):
    """A well-formed reply graph: [value, no arguments] plus extra entries."""
    return {"ok": True, "v": {"v": {"r": 0}, "o": [{"t": "list", "v": [value, None]}, *entries]}}


PAYLOADS = {
    # a builtin that would run code on the trusted side
    2: reply({"b": "eval"}),
    # an "instance" of a class outside the tests/ helper modules
    -2: reply({"r": 1}, {"t": "obj", "c": "os:_wrap_close", "v": {}}),
    # a callback the test never passed
    4: reply({"cb": 7}),
    # a helper instance whose attribute would hide the teacher's method Box.same_as
    3: reply({"r": 1}, {"t": "obj", "c": "shapes:Box", "v": {"size": 3, "same_as": HANDLE}}),
}


def send_raw(sock, body):
    sock.sendall(struct.pack(">I", len(body)) + body)


def forged(self, message):
    if message.get("op") != "call":
        return honest_handle(self, message)
    root, _ = agent_module.Decoder(self.helpers, self.decode_tag).decode(message["a"])
    first = root[0][0] if root[0] else None
    sock = self.peer.sock
    if first == "a":  # NaN is not JSON
        send_raw(sock, b'{"re":%d,"ok":true,"v":{"v":[NaN,null],"o":[]}}' % message["id"])
    elif isinstance(first, list):  # a 2 GB frame header
        sock.sendall(struct.pack(">I", 2**31))
    elif first is None:  # JSON nested far beyond any recursion limit
        send_raw(sock, b"[" * 100_000 + b"]" * 100_000)
    elif first in PAYLOADS:
        return PAYLOADS[first]
    return reply(5)


agent_module.Agent.handle = forged


def add(a, b):
    return 0


def make_box(size):
    return None
