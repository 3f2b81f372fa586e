"""SMTP on a real socket (RFC 5321), with asyncio streams on the lab's event loop.

Each connection gets a :class:`SmtpBridge`, an asyncio stream protocol
that feeds each line to ``server.smtp_session(...)`` and writes back what
:meth:`SmtpSession.send` returns. The simulated product alone decides every
reply and every log line; this module only carries lines.
(:func:`start_smtp_server` serves it with ``loop.create_server``; the lab's
:class:`~simlab.live.runner.LoopThread` runs the loop.)

Besides the session's replies the bridge says three things of its own, all
about the connection rather than the protocol:

* ``421 4.7.0 <host> Error: too many connections`` when the lab already
  serves ``max_connections`` clients (no session is opened; products that
  predate RFC 2034 say it without the enhanced code ``4.7.0``);
* on an idle client, what the product says then
  (:meth:`~simlab.products.base.Product.idle_timeout_reply`: Postfix's ``421 4.4.2 <host>
  Error: timeout exceeded``; the other products just close: what they said is not recorded);
* answers to XCLIENT (Postfix's ``XCLIENT_README``), only for clients in
  ``xclient_hosts``: ``XCLIENT ADDR=203.0.113.7`` ends the session and opens
  a fresh one as if the client came from that address; the reply is the
  new session's greeting.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from typing import TYPE_CHECKING

from simlab import products
from simlab.errors import ConfigError
from simlab.live.wire import Bridge, Conversation
from simlab.protocol.reply import Reply

if TYPE_CHECKING:
    import socket

    from simlab.live.server import LiveLab

__all__ = ["SmtpBridge", "SmtpConversation", "start_smtp_server"]

#: XCLIENT attributes (Postfix XCLIENT_README); ADDR and NAME change the session, the others are accepted.
XCLIENT_ATTRIBUTES = {"NAME", "ADDR", "PORT", "PROTO", "HELO", "LOGIN", "DESTADDR", "DESTPORT"}


def _xtext_decode(value: str) -> str:
    """RFC 3461 §4 xtext: ``+HH`` stands for one octet."""
    return re.sub(r"\+([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), value)


class SmtpConversation(Conversation):
    """One SMTP client: every reply from :class:`~simlab.protocol.smtp.SmtpSession`."""

    service = "smtp"

    def open_session(self, client_ip: str, client_name: str = "unknown"):
        return self.lab.server.smtp_session(client_ip, port=25, client_name=client_name)

    def _hostname_reply(self, code: int, enhanced: str, text: str) -> Reply:
        persona = self.lab.server.persona
        words = f"{enhanced} {text}" if persona.enhanced else text
        return Reply.of(code, words, close=True)

    def busy_reply(self) -> Reply:
        return self._hostname_reply(421, "4.7.0", f"{self.lab.server.hostname} Error: too many connections")

    def timeout_reply(self) -> Reply | None:
        server = self.lab.server
        try:
            product = products.product_of(server)
        except ConfigError:  # a server not made by a preset: no product's words for it
            return None
        return product.idle_timeout_reply(server)

    def after_send(self) -> list[Reply]:
        closing = self.session.closing_reply
        return [closing] if closing is not None and self.session.closed else []

    # --- XCLIENT ----------------------------------------------------------------------
    async def intercept(self, line: str) -> bool:
        session = self.session
        if self.peer not in self.lab.xclient_hosts or session.in_data:
            return False
        verb, _, argument = line.strip(" ").partition(" ")
        if verb.upper() != "XCLIENT":
            return False
        if session.ctx.sender is not None:
            await self.write(Reply.of(503, "5.5.1 Error: MAIL transaction in progress"))
            return True
        attributes = {}
        for word in argument.split():
            name, sep, value = word.partition("=")
            if not sep or not value:
                await self.write(Reply.of(501, "5.5.4 Syntax: XCLIENT attribute=value..."))
                return True
            if name.upper() not in XCLIENT_ATTRIBUTES:
                await self.write(Reply.of(501, f"5.5.4 Bad XCLIENT attribute name: {name}"))
                return True
            attributes[name.upper()] = _xtext_decode(value)
        if not attributes:
            await self.write(Reply.of(501, "5.5.4 Syntax: XCLIENT attribute=value..."))
            return True
        address = self.client_ip
        if "ADDR" in attributes and attributes["ADDR"].upper() not in ("[UNAVAILABLE]", "[TEMPUNAVAIL]"):
            text = attributes["ADDR"]
            text = text[5:] if text.upper().startswith("IPV6:") else text
            try:
                address = str(ipaddress.ip_address(text))
            except ValueError:
                await self.write(Reply.of(501, f"5.5.4 Bad ADDR syntax: {attributes['ADDR']}"))
                return True
        name = attributes.get("NAME", "unknown")
        if name.upper() in ("[UNAVAILABLE]", "[TEMPUNAVAIL]"):
            name = "unknown"
        self.end_session()
        self.client_ip = address
        self.start_session(address, name)
        await self.greet()  # a refusal or a drop closes the session, and so the connection
        return True


class SmtpBridge(Bridge):
    """The asyncio protocol for one SMTP connection: lines in, the session's replies out."""

    conversation_class = SmtpConversation


async def start_smtp_server(lab: LiveLab, sock: socket.socket) -> asyncio.AbstractServer:
    """Listen on ``sock`` (already bound) on the running loop, one :class:`SmtpBridge` per client."""
    return await asyncio.get_running_loop().create_server(lambda: SmtpBridge(lab), sock=sock, backlog=lab.backlog)
