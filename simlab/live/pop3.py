"""POP3 on a real socket (RFC 1939), with asyncio streams on the lab's event loop.

Each connection gets a ``server.pop3_session(...)``; every line the client
sends goes to :meth:`Pop3Session.send` and its reply - multi-line answers
already byte-stuffed and ended by ``.`` - goes back on the wire. A client
that leaves without QUIT ends the session without the UPDATE state: nothing
it marked with DELE is removed (RFC 1939 §6).

The only words of its own: ``-ERR Too many connections`` when the lab
already serves ``max_connections`` clients.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from simlab.live.wire import Bridge, Conversation
from simlab.protocol.reply import Pop3Reply

if TYPE_CHECKING:
    import socket

    from simlab.live.server import LiveLab

__all__ = ["Pop3Bridge", "Pop3Conversation", "start_pop3_server"]


class Pop3Conversation(Conversation):
    """One POP3 client: every reply from :class:`~simlab.protocol.pop3.Pop3Session`."""

    service = "pop3"

    def open_session(self, client_ip: str, client_name: str = "unknown"):
        return self.lab.server.pop3_session(client_ip, port=110)

    def busy_reply(self) -> Pop3Reply:
        return Pop3Reply(False, "Too many connections", close=True)


class Pop3Bridge(Bridge):
    """The asyncio stream protocol for one POP3 connection."""

    conversation_class = Pop3Conversation


async def start_pop3_server(lab: LiveLab, sock: socket.socket) -> asyncio.AbstractServer:
    """Listen on ``sock`` (already bound) on the running loop, one :class:`Pop3Bridge` per client."""
    return await asyncio.get_running_loop().create_server(lambda: Pop3Bridge(lab), sock=sock, backlog=lab.backlog)
