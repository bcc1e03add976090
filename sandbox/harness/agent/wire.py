"""Framing and request/reply plumbing shared by the trusted and the student side.

A frame is a 4-byte big-endian length and that many bytes of strict JSON (ASCII only: lone
surrogates travel escaped; no NaN/Infinity literals, the codec spells those out). Frames larger
than ``MAX_FRAME`` are refused before they are read, so a peer cannot make the other side buffer
more than that.

Both sides talk through a :class:`Peer`: ``request()`` sends one message and then serves the
peer's own requests (callbacks, and requests nested inside those) until the matching reply
arrives. Messages with ``"op"`` are requests, messages with ``"re"`` are replies.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

MAX_FRAME = 8 * 1024 * 1024  # bytes of JSON in one message, either direction
# Seconds a student process may take to start (sandbox set-up, interpreter) beyond the test's
# own wall time, before the trusted side stops waiting for it. The runner and the trusted
# process both budget with it.
START_SLACK = 5.0
_HEADER = struct.Struct(">I")

Message = dict[str, Any]
Handler = Callable[[Message], Message]


class ChannelClosed(Exception):
    """The peer went away (EOF or a broken socket)."""


class ChannelTimeout(Exception):
    """The deadline passed while waiting for the peer."""


class ProtocolError(Exception):
    """The peer sent something that is not a well-formed message of this protocol."""


def _reject_constant(name: str) -> Any:
    raise ProtocolError(f"JSON constant {name} is not allowed")


def dumps(message: object) -> bytes:
    """Encode a message; raises ``ValueError`` when it exceeds ``MAX_FRAME``."""
    data = json.dumps(message, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    raw = data.encode("ascii")
    if len(raw) > MAX_FRAME:
        raise ValueError(f"message of {len(raw)} bytes exceeds the {MAX_FRAME}-byte limit")
    return raw


def loads(raw: bytes) -> Message:
    """Decode one frame body into a dict, or raise :class:`ProtocolError`."""
    try:
        value = json.loads(raw.decode("ascii"), parse_constant=_reject_constant)
    except ProtocolError:
        raise
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"malformed JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ProtocolError("a message must be a JSON object")
    return value


class Peer:
    """One end of a stream socket carrying frames.

    ``deadline`` (a ``time.monotonic()`` value or None) bounds every blocking wait; the trusted
    side sets it to the end of the current test, the student side leaves it None.
    """

    def __init__(self, sock: socket.socket, *, max_frame: int = MAX_FRAME) -> None:
        self.sock = sock
        self.max_frame = max_frame
        self.deadline: float | None = None
        self._next_id = 0
        sock.setblocking(True)

    # -- frames ---------------------------------------------------------------------------

    def send(self, message: object) -> None:
        raw = dumps(message)
        self._wait(write=True)
        try:
            self.sock.settimeout(self._remaining())
            self.sock.sendall(_HEADER.pack(len(raw)) + raw)
        except TimeoutError:
            raise ChannelTimeout("timed out sending to the peer") from None
        except OSError as exc:
            raise ChannelClosed(f"peer gone while sending: {exc}") from None

    def recv(self) -> Message:
        (size,) = _HEADER.unpack(self._read(_HEADER.size))
        if size > self.max_frame:
            raise ProtocolError(f"frame of {size} bytes exceeds the {self.max_frame}-byte limit")
        return loads(self._read(size))

    def _remaining(self) -> float | None:
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ChannelTimeout("the test ran out of time")
        return left

    def _wait(self, *, write: bool) -> None:
        left = self._remaining()
        if left is None:
            return
        fds = [self.sock]
        ready = select.select([], fds, [], left) if write else select.select(fds, [], [], left)
        if not (ready[1] if write else ready[0]):
            raise ChannelTimeout("the test ran out of time")

    def _read(self, size: int) -> bytes:
        buf = bytearray()
        while len(buf) < size:
            self._wait(write=False)
            try:
                self.sock.settimeout(self._remaining())
                chunk = self.sock.recv(min(size - len(buf), 1 << 20))
            except TimeoutError:
                raise ChannelTimeout("the test ran out of time") from None
            except OSError as exc:
                raise ChannelClosed(f"peer gone while receiving: {exc}") from None
            if not chunk:
                raise ChannelClosed("the peer closed the connection")
            buf += chunk
        return bytes(buf)

    # -- request / reply ------------------------------------------------------------------

    def request(self, message: Message, handler: Handler) -> Message:
        """Send ``message`` as a request and return its reply, serving nested requests meanwhile."""
        self._next_id += 1
        rid = self._next_id
        self.send({**message, "id": rid})
        while True:
            incoming = self.recv()
            if "re" in incoming:
                if incoming["re"] != rid:
                    raise ProtocolError(f"reply to {incoming['re']!r} while waiting for {rid}")
                return incoming
            self.serve_one(incoming, handler)

    def serve_one(self, incoming: Message, handler: Handler) -> None:
        """Answer one request received from the peer."""
        rid = incoming.get("id")
        if not isinstance(rid, int) or not isinstance(incoming.get("op"), str):
            raise ProtocolError("a request needs an integer id and a string op")
        reply = handler(incoming)
        self.send({**reply, "re": rid})
