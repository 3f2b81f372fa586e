"""Lines on a real socket, for both protocols (RFC 5321 §2.3.8, RFC 1939 §3).

Both protocols are lines of octets ending in CRLF. A client may also end a
line with a bare LF (many servers accept that, and so do we); a CR alone is
an ordinary character inside the line. Octets are decoded as UTF-8 with
``surrogateescape``, so any byte sequence - binary, Latin-1, NULs - is a
line the session can answer, and a reply that quotes it back gives the same
octets on the wire.

Input is never buffered without bound: the stream reader holds at most
``max_line`` octets of one line (it stops reading from the socket beyond
twice that). A longer line is cut: the session sees its first ``max_line``
octets - more than any product accepts in a command, so it answers as it
would the whole line - and the rest, up to the line end, is skipped.

:class:`Conversation` is one client connection: it opens a session on the
simulated server, writes its greeting, reads lines, feeds each to the
session and writes back exactly the replies the session returns.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from simlab.protocol.reply import Pop3Reply, Reply

if TYPE_CHECKING:
    from simlab.live.server import LiveLab

__all__ = ["Bridge", "Conversation", "decode_line", "encode_reply", "read_line"]


async def read_line(reader: asyncio.StreamReader, max_line: int) -> bytes | None:
    """The next line, without its line end; ``None`` at the end of the stream.

    A line longer than ``max_line`` octets comes back cut to ``max_line``
    octets; the rest of it is read and thrown away. Octets after the last
    line end when the client closes are not a line (they are dropped).
    """
    try:
        data = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        head = await reader.read(max_line)
        if not await _skip_rest(reader):
            return None
        return head
    data = data[:-1]
    return data[:-1] if data.endswith(b"\r") else data


async def _skip_rest(reader: asyncio.StreamReader) -> bool:
    """Discard up to and including the next LF; False if the stream ends first."""
    while True:
        try:
            await reader.readuntil(b"\n")
            return True
        except asyncio.IncompleteReadError:
            return False
        except asyncio.LimitOverrunError as exc:
            await reader.read(max(exc.consumed, 1))


def decode_line(data: bytes) -> str:
    """Octets to text, losslessly: invalid UTF-8 becomes lone surrogates."""
    return data.decode("utf-8", "surrogateescape")


def encode_reply(reply: Reply | Pop3Reply) -> bytes:
    """A reply's wire lines, each ended by CRLF, as octets."""
    return "".join(f"{line}\r\n" for line in reply.wire_lines).encode("utf-8", "surrogateescape")


class Conversation:
    """One client connection to one service of a :class:`~simlab.live.server.LiveLab`.

    Subclasses say how to open the session (:meth:`open_session`), what to
    answer when the lab is full (:meth:`busy_reply`) and when the client is
    idle too long (:meth:`timeout_reply`). Every other reply comes from the
    session's ``greeting`` and ``send()``.
    """

    service = ""

    def __init__(self, lab: LiveLab, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.lab = lab
        self.reader = reader
        self.writer = writer
        self.peer = lab.peer_address(writer.get_extra_info("peername"))
        self.client_ip = lab.simulated_address(self.peer)
        self.session = None

    # --- what subclasses provide ---------------------------------------------------
    def open_session(self, client_ip: str, client_name: str = "unknown"):
        raise NotImplementedError

    def busy_reply(self) -> Reply | Pop3Reply:
        raise NotImplementedError

    def timeout_reply(self) -> Reply | Pop3Reply | None:
        return None

    async def intercept(self, line: str) -> bool:
        """Handle a line before the session sees it (XCLIENT); True when handled."""
        return False

    def after_send(self) -> list[Reply | Pop3Reply]:
        """Replies the session sent on its own after the last one (SMTP's 421 hang-up)."""
        return []

    # --- the connection ------------------------------------------------------------------
    async def run(self) -> None:
        lab = self.lab
        task = asyncio.current_task()
        lab._track(task)
        admitted = False
        try:
            admitted = lab._admit()
            if not admitted:
                await self.write(self.busy_reply())
                return
            await self.converse()
        except asyncio.CancelledError:
            pass  # the lab is stopping; end like any other connection (the session ends below)
        except OSError:
            pass  # the client went away (reset, broken pipe) or stopped reading: the session ends below
        except Exception as exc:  # a fault in the model must not stop the other connections
            self.report(exc)
        finally:
            if admitted:
                lab._release()
            try:
                self.end_session()
            except Exception as exc:
                self.report(exc)
            finally:
                self.writer.close()
                lab._untrack(task)

    def report(self, exc: Exception) -> None:
        """Hand a fault to the loop's exception handler (the lab records it in ``lab.errors``)."""
        self.lab.loop.call_exception_handler({
            "message": f"simlab.live: error in a {self.service.upper()} connection from {self.peer}",
            "exception": exc, "transport": self.writer.transport})

    async def converse(self) -> None:
        self.start_session(self.client_ip)
        if not await self.greet():
            return
        while self.session is not None and not self.session.closed:
            try:
                async with asyncio.timeout(self.lab.idle_timeout):
                    data = await read_line(self.reader, self.lab.max_line)
            except TimeoutError:
                await self.idle_timeout()
                return
            if data is None:
                return
            line = decode_line(data)
            self.lab.tick()
            if await self.intercept(line):
                continue
            reply = self.session.send(line)
            if reply is not None:
                await self.write(reply)
            for extra in self.after_send():
                await self.write(extra)

    def start_session(self, client_ip: str, client_name: str = "unknown") -> None:
        self.lab.tick()
        self.session = self.open_session(client_ip, client_name)
        self.lab.sessions.append(self.session)

    async def greet(self) -> bool:
        """Write the session's greeting; False when the connection ends here."""
        session = self.session
        if session.greeting is None:  # dropped below the protocol (a firewall ban): no banner at all
            return False
        await self.write(session.greeting)
        return not session.closed

    async def idle_timeout(self) -> None:
        reply = self.timeout_reply()
        if reply is not None:
            self.session.transcript.extend(f"S: {line}" for line in reply.wire_lines)
            await self.write(reply)

    async def write(self, reply: Reply | Pop3Reply) -> None:
        if reply.delay > 0 and self.lab.reply_delays:
            await asyncio.sleep(reply.delay)
        if self.writer.is_closing():
            return
        self.writer.write(encode_reply(reply))
        async with asyncio.timeout(self.lab.idle_timeout):  # a client that never reads is dropped too
            await self.writer.drain()

    def end_session(self) -> None:
        session = self.session
        if session is not None and not session.closed:
            self.lab.tick()
            session.close()


class Bridge(asyncio.StreamReaderProtocol):
    """The asyncio protocol of one connection: a stream reader capped at ``max_line``,
    a :class:`Conversation` task, and the transport registered with the lab until it is gone."""

    conversation_class: type[Conversation] = Conversation

    def __init__(self, lab: LiveLab) -> None:
        reader = asyncio.StreamReader(limit=lab.max_line, loop=lab.loop)
        super().__init__(reader, client_connected_cb=self._connected, loop=lab.loop)
        self.lab = lab

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.lab_transport = transport
        self.lab._transports.add(transport)
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lab._transports.discard(self.lab_transport)
        super().connection_lost(exc)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.conversation_class(self.lab, reader, writer).run()
