"""An incremental ``text/event-stream`` decoder: bytes in, events out.

aiohttp hands the chat stream over in arbitrary byte chunks; :class:`SSEDecoder` turns them into
:class:`ServerSentEvent` values following the WHATWG "server-sent events" parsing rules, whatever the
chunk boundaries: LF, CR and CRLF line ends (also a CR ending one chunk and its LF starting the
next), one leading UTF-8 BOM, comments, multi-line ``data``, ``event``, ``id`` (ignored when it holds
a NUL), ``retry`` (ASCII digits only), fields without a colon, one space after the colon stripped, and
dispatch only on a blank line, so an unterminated last event is never delivered.

It works on whole lines of bytes and decodes UTF-8 once per event, so a character split across two
chunks decodes correctly and the hot path (one ``data:`` line of JSON per event, as ADK sends) costs
a ``split``, a slice and a ``decode`` per event. It is bounded: a line longer than ``max_line_bytes``
(checked while it is still arriving) or an event whose data grows past ``max_event_bytes`` raises
:class:`~nemovideo.errors.StreamDecodeError` before it is buffered, so a hostile stream cannot eat
memory.

Usage::

    decoder = SSEDecoder(emit_comments=True)
    async for chunk in response.content.iter_any():
        for item in decoder.feed(chunk):
            if isinstance(item, SSEComment):
                ...  # a heartbeat
            else:
                handle(item.event, json.loads(item.data))
    decoder.close()
"""

from __future__ import annotations

import contextlib
from typing import NoReturn

import attrs

from nemovideo.errors import StreamDecodeError

__all__ = ["SSEComment", "SSEDecoder", "SSEItem", "SSEStray", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"


@attrs.frozen
class ServerSentEvent:
    """One dispatched event.

    ``id`` is the stream's last-event-id buffer at dispatch (it persists across events, as the spec
    says; ``None`` until an ``id`` field was seen); ``retry`` likewise is the reconnection time in
    force at dispatch, in milliseconds (``None`` until a valid ``retry`` field was seen).
    ``stray`` holds the lines of unknown fields seen while the event was building, as received
    (only with ``emit_stray=True``; see :class:`SSEStray`).
    """

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    stray: tuple[str, ...] = attrs.field(default=(), repr=False)


@attrs.frozen
class SSEComment:
    """A comment line (``: text``), without the colon and one leading space.

    Servers send these as keep-alives; the decoder returns them only when built with
    ``emit_comments=True``.
    """

    text: str


@attrs.frozen
class SSEStray:
    """A blank line that dispatched no event, with the unknown-field lines seen before it.

    The SSE rules ignore such lines; a decoder built with ``emit_stray=True`` returns them so a
    reader can rebuild a frame a server failed to encode: ADK 1.x writes its last frame as
    ``data: {"error": "<message>"}`` without escaping, so a message with newlines (blank lines
    included) spreads over several lines, and only its first arrives as ``data``.

    :ivar lines: the lines, as received, without their line ends; ``()`` for a bare blank line.
    """

    lines: tuple[str, ...] = ()


SSEItem = ServerSentEvent | SSEComment | SSEStray | bytes
"""What ``feed`` returns; bare ``bytes`` only from a decoder built with ``plain=True``."""


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


class SSEDecoder:
    """Feed it the stream's byte chunks; it returns the events (and comments) each chunk completes.

    ``feed`` raises :class:`StreamDecodeError` when a line or an event passes its cap; the decoder is
    unusable afterwards (every later ``feed`` raises too). ``close`` ends the stream: an event or line
    still unterminated is discarded, as the spec says.

    ``plain=True`` is for hot loops: an event that is nothing but ``data`` (type ``message``, no
    ``id`` in force, no stray lines) comes out as its data's UTF-8 ``bytes``, undecoded, rather
    than a :class:`ServerSentEvent`: no object to unpack, and a JSON parser that reads bytes
    (orjson) needs no ``str`` at all. Decode it with ``data.decode("utf-8", "replace")`` to get
    what ``ServerSentEvent.data`` would hold. Every other event still comes out whole.

    Example::

        >>> d = SSEDecoder()
        >>> d.feed(b'data: {"a": 1}\\n')
        []
        >>> d.feed(b"\\n")
        [ServerSentEvent(event='message', data='{"a": 1}', id=None, retry=None)]
    """

    def __init__(
        self,
        *,
        max_line_bytes: int = 1 << 20,
        max_event_bytes: int = 16 << 20,
        emit_comments: bool = False,
        emit_stray: bool = False,
        plain: bool = False,
    ) -> None:
        if max_line_bytes < 1 or max_event_bytes < 0:
            raise ValueError("max_line_bytes must be >= 1 and max_event_bytes >= 0")
        self.max_line_bytes = max_line_bytes
        self.max_event_bytes = max_event_bytes
        self.emit_comments = emit_comments
        self.emit_stray = emit_stray
        self.plain = plain
        self._stray: list[str] = []
        self.bytes_fed = 0
        self._head: bytes | None = b""  # leading bytes held until the BOM question is settled
        self._pending = bytearray()  # the current unterminated line, never longer than the cap
        self._skip_lf = False  # the last chunk ended with CR: a leading LF completes that CRLF
        self._data: list[bytes] = []
        self._data_len = -1  # bytes the joined data buffer would hold (parts + newlines - 1)
        self._event: bytes = b""
        self._last_id: str | None = None
        self._retry: int | None = None
        self._failed: str | None = None
        self._closed = False

    @property
    def pending_bytes(self) -> int:
        """Bytes of the current, not yet terminated, line held in memory."""
        return len(self._pending) + (len(self._head) if self._head else 0)

    def feed(self, chunk: bytes) -> list[SSEItem]:
        """Decode one chunk; return the events and comments it completed, in order."""
        if self._failed is not None:
            raise StreamDecodeError(self._failed)
        if self._closed:
            raise RuntimeError("SSEDecoder.feed() called after close()")
        self.bytes_fed += len(chunk)
        if not chunk:
            return []
        if self._head is not None:
            head = self._head + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._head = head
                return []
            self._head = None
            chunk = head[3:] if head.startswith(_BOM) else head
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        out: list[SSEItem] = []
        if not chunk:
            return out
        try:
            if self._pending:
                chunk = self._finish_pending(chunk, out)
                if not chunk:
                    return out
            self._feed_lines(chunk, out)
        except StreamDecodeError as e:
            self._failed = f"{e} (the decoder stopped at this error)"
            self._pending = bytearray()
            self._data = []
            raise
        return out

    def close(self) -> list[SSEItem]:
        """End of stream. Returns the items still to deliver: none, since an unterminated event or
        line is discarded rather than dispatched (WHATWG: "any pending data must be discarded")."""
        self._closed = True
        self._head = None
        self._pending = bytearray()
        self._data = []
        self._data_len = -1
        self._event = b""
        self._stray = []
        return []

    def _finish_pending(self, chunk: bytes, out: list[SSEItem]) -> bytes:
        """Complete the line held from earlier chunks; return what of ``chunk`` follows it."""
        lf = chunk.find(b"\n")
        cr = chunk.find(b"\r", 0, lf if lf >= 0 else len(chunk))
        end = cr if cr >= 0 else lf
        if end < 0:
            self._check_line(len(self._pending) + len(chunk))
            self._pending += chunk
            return b""
        self._check_line(len(self._pending) + end)
        self._pending += chunk[:end]
        line = bytes(self._pending)
        self._pending = bytearray()
        self._feed_lines(line + b"\n", out)
        if end == cr:
            if end + 1 == len(chunk):
                self._skip_lf = True
            elif chunk[end + 1] == 0x0A:
                end += 1
        return chunk[end + 1 :]

    def _check_line(self, length: int) -> None:
        if length > self.max_line_bytes:
            raise StreamDecodeError(
                f"SSE line longer than max_line_bytes={self.max_line_bytes} "
                f"(at stream byte {self.bytes_fed}); the server sent an oversized or garbled stream"
            )

    def _event_too_big(self) -> NoReturn:
        raise StreamDecodeError(
            f"SSE event data longer than max_event_bytes={self.max_event_bytes} "
            f"(at stream byte {self.bytes_fed}); the server sent an oversized event"
        )

    def _feed_lines(self, chunk: bytes, out: list[SSEItem]) -> None:
        """Process ``chunk`` (no pending line before it): its complete lines, then keep the tail."""
        if chunk.find(b"\r") >= 0:  # not ``in``: see ``jsonparse._by_orjson`` (a TypeError a chunk)
            if chunk[-1] == 0x0D:
                self._skip_lf = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if len(chunk) > self.max_line_bytes:
            self._check_line(max(map(len, chunk.split(b"\n"))))
        if self.plain:
            tail = self._feed_blocks(chunk, out)
        else:
            lines = chunk.split(b"\n")
            tail = lines.pop()
            self._lines(lines, out)
        if tail:
            self._pending += tail

    def _feed_blocks(self, chunk: bytes, out: list[SSEItem]) -> bytes:
        """The ``plain`` hot path, the floor's own loop: split the chunk on blank lines; a block
        that is one ``data: `` line, with nothing else building, is an event's data as it stands.
        Any other block goes through the line rules. Returns the unterminated last line."""
        blocks = chunk.split(b"\n\n")
        rest = blocks.pop()
        cap = self.max_event_bytes
        clean = not self._data and not self._event and self._last_id is None
        for block in blocks:
            if (
                clean
                and block.startswith(b"data: ")
                and block.find(b"\n") < 0  # not ``in``: see ``jsonparse._by_orjson``
            ):
                if len(block) - 6 > cap:
                    self._event_too_big()
                out.append(block[6:])
            else:
                lines = block.split(b"\n")
                lines.append(b"")
                self._lines(lines, out)
                clean = not self._data and not self._event and self._last_id is None
        lines = rest.split(b"\n")
        tail = lines.pop()
        if lines:
            self._lines(lines, out)
        return tail

    def _lines(self, lines: list[bytes], out: list[SSEItem]) -> None:
        """The line rules, for complete lines (no line ends)."""
        data = self._data
        data_len = self._data_len
        cap = self.max_event_bytes
        make = ServerSentEvent
        plain = self.plain
        for line in lines:
            if not line:
                if data:
                    raw = data[0] if len(data) == 1 else b"\n".join(data)
                    if plain and not self._event and self._last_id is None and not self._stray:
                        out.append(raw)
                    else:
                        event = _decode(self._event) if self._event else "message"
                        text = raw.decode("utf-8", "replace")
                        if self._stray:
                            out.append(make(event, text, self._last_id, self._retry, self._take()))
                        else:
                            out.append(make(event, text, self._last_id, self._retry))
                    data.clear()
                    data_len = -1
                elif self.emit_stray:
                    out.append(SSEStray(self._take()))
                self._event = b""
                continue
            if line[:6] == b"data: ":
                value = line[6:]
            else:
                other = self._field(line, out)
                if other is None:
                    continue
                value = other
            data_len += len(value) + 1
            if data_len > cap:
                self._event_too_big()
            data.append(value)
        self._data_len = data_len

    def _take(self) -> tuple[str, ...]:
        lines = tuple(self._stray)
        self._stray.clear()
        return lines

    def _field(self, line: bytes, out: list[SSEItem]) -> bytes | None:
        """Handle any line but a blank one or ``data: ...``; return the value if it is ``data``."""
        colon = line.find(b":")
        if colon == 0:
            if self.emit_comments:
                out.append(SSEComment(_decode(line[2:] if line[1:2] == b" " else line[1:])))
            return None
        if colon < 0:
            name, value = line, b""
        else:
            name = line[:colon]
            value = line[colon + 2 :] if line[colon + 1 : colon + 2] == b" " else line[colon + 1 :]
        if name == b"data":
            return value
        if name == b"event":
            self._event = value
        elif name == b"id":
            if b"\x00" not in value:
                self._last_id = _decode(value)
        elif name == b"retry" and value.isdigit():
            with contextlib.suppress(ValueError):  # past int()'s digit limit: not a sane time
                self._retry = int(value)
        elif self.emit_stray and name != b"retry":
            self._stray.append(_decode(line))
        return None
