"""SMTP on a real socket (RFC 5321), served with aiosmtpd's infrastructure.

aiosmtpd's :class:`~aiosmtpd.controller.Controller` runs an asyncio event
loop in a thread, waits until the listener is ready and stops cleanly. Its
:meth:`factory` normally builds aiosmtpd's own SMTP implementation; here it
builds :class:`SmtpBridge`, an asyncio stream protocol that feeds each line
to ``server.smtp_session(...)`` and writes back what
:meth:`SmtpSession.send` returns. The simulated product alone decides every
reply and every log line; this module only carries lines.

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

from aiosmtpd.controller import Controller

from simlab import products
from simlab.errors import ConfigError
from simlab.live.wire import Bridge, Conversation
from simlab.protocol.reply import Reply

if TYPE_CHECKING:
    import socket

    from simlab.live.server import LiveLab

__all__ = ["LabController", "SmtpBridge", "SmtpConversation"]

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


class LabController(Controller):
    """aiosmtpd's threaded controller, serving :class:`SmtpBridge` (and the lab's POP3) on one loop.

    The listening sockets are bound before the thread starts (so port 0 is
    known and a busy port fails at once). The readiness check opens no
    client connection: the simulated server would log it as a visitor.

    Public API used: ``Controller(handler, hostname=, port=, ready_timeout=)``,
    ``start()``, ``stop()``, ``loop``, ``server`` and the ``factory()`` hook.
    Three private members of aiosmtpd 1.4 are used because its public API has
    no equivalent: ``_create_server`` is overridden to serve the socket bound
    above with the lab's backlog (the public controller binds ``hostname:port``
    itself, in its thread, with asyncio's default backlog, so a busy port would
    surface only after ``ready_timeout``) and to start POP3 on the same loop;
    ``_factory_invoker`` is what aiosmtpd's contract says such an override must
    hand to ``create_server`` (it records the factory's errors for ``start()``);
    and ``_trigger_server`` is overridden because the public ``start()``
    otherwise connects to the port and reads the banner, a connection the
    simulated server would log and count.
    """

    def __init__(self, lab: LiveLab, smtp_socket: socket.socket, ready_timeout: float = 5.0) -> None:
        host, port = smtp_socket.getsockname()[:2]
        super().__init__(None, hostname=host, port=port, ready_timeout=ready_timeout)
        self.lab = lab
        self.smtp_socket = smtp_socket

    def factory(self) -> SmtpBridge:
        return SmtpBridge(self.lab)

    def _create_server(self):
        return self._create_servers()

    async def _create_servers(self) -> asyncio.AbstractServer:
        await self.lab._start_pop3()
        return await self.loop.create_server(self._factory_invoker, sock=self.smtp_socket,
                                             backlog=self.lab.backlog)

    def _trigger_server(self) -> None:
        self._factory_invoker()
