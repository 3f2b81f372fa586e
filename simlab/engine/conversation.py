"""Client connections stepped on the event loop: every command and reply is an event.

A client's behaviour is a *script*: a generator function that receives the
server's greeting and then yields what the client sends, getting each reply
back - the way a SimPy process yields events::

    def deliver(greeting):
        if greeting is None or greeting.code != 220:
            return
        reply = yield "HELO mta.remote.test"
        reply = yield "MAIL FROM:<carol@remote.test>"
        ...

A yielded list is sent as one burst (a DATA body ending with "."); a
yielded :class:`Hold` keeps the connection open and silent (a flood). Each
exchange takes one round trip over the network plus any delay the server
put on its reply (a tarpit or failure delay). The server side is the core's
own session object: this module holds no protocol or policy logic.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simlab.engine.network import Reach
from simlab.protocol.reply import Pop3Reply, Reply

if TYPE_CHECKING:
    from simlab.engine.world import World

__all__ = ["Hold", "Outcome", "Conversation", "Script", "send_script"]

Script = Callable[[Any], Generator[Any, Any, None]]


@dataclass(frozen=True)
class Hold:
    """Keep the connection open without sending anything for ``seconds``."""

    seconds: float


@dataclass
class Outcome:
    """How a connection went, for the actor that opened it."""

    reach: Reach
    greeting: Reply | Pop3Reply | None = None
    replies: list[tuple[str, Reply | Pop3Reply]] = field(default_factory=list)
    session_id: int | None = None
    timed_out: bool = False
    transcript: list[str] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        """A session started and the server sent a positive greeting."""
        g = self.greeting
        if g is None:
            return False
        return g.ok if isinstance(g, Pop3Reply) else g.code == 220

    def reply_to(self, verb: str) -> Reply | Pop3Reply | None:
        """The last reply to a command starting with ``verb`` (``"RCPT"``, ``"."``, ``"PASS"``)."""
        for line, reply in reversed(self.replies):
            if line.upper().startswith(verb):
                return reply
        return None

    @property
    def message_accepted(self) -> bool:
        reply = self.reply_to(".")
        return isinstance(reply, Reply) and reply.code == 250


class Conversation:
    """One client connection to a simulated server host, stepped on the world's event loop.

    Args:
        world: the running world.
        client: the host the client runs on; ``client_ip`` the address it uses (a pool may vary it).
        server: the host name of the server.
        service: ``"smtp"`` or ``"pop3"``; ``port`` the port (25, 587, 110).
        script: the client's behaviour (see module docstring).
        actor: the actor's name, for events; ``on_end``: called with the :class:`Outcome`.
    """

    def __init__(self, world: World, client: str, client_ip: str, server: str, service: str, script: Script,
                 actor: str, on_end: Callable[[Outcome], None] | None = None, port: int | None = None) -> None:
        self.world = world
        self.client = client
        self.client_ip = client_ip
        self.host = world.network.host(server)
        self.service = service
        self.port = port or (25 if service == "smtp" else 110)
        self.script = script
        self.actor = actor
        self.on_end = on_end
        self.rtt = 2 * world.network.latency(client, server)
        self._half_rtt = self.rtt / 2  # one way: a line reaches the server, or a reply the client
        self._after = world.loop.after  # the loop's scheduling call, looked up once (several per command)
        self.session = None
        self.generator = None
        self.outcome = Outcome(Reach.OK)
        self._ended = False
        self._deadline_serial = 0

    def start(self) -> None:
        """Try to connect now; the rest follows on the event loop."""
        world = self.world
        reach = world.network.reach(self.client, self.host.name, self.client_ip, self.service)
        if reach is Reach.OK and not self.host.has_room(self.service):
            reach = Reach.REFUSED  # the program serving this service is at its limit (Host.service_limits)
        self.outcome.reach = reach
        if reach is not Reach.OK:
            world.record(self.host.name, self.client_ip, self.actor, "CONNECT", None, reach.value)
            # a timeout is noticed after the client's connect timeout; a reset at once
            delay = world.connect_timeout if reach in (Reach.FILTERED, Reach.DOWN) else self.rtt
            self._after(delay, self._finish)
            return
        self.host.take(self.service)
        self._after(self.rtt, self._open)

    def _open(self) -> None:
        server = self.host.server
        if self.service == "smtp":
            self.session = server.smtp_session(self.client_ip, port=self.port)
        else:
            self.session = server.pop3_session(self.client_ip, port=self.port)
        greeting = self.session.greeting
        self.outcome.greeting = greeting
        self.outcome.session_id = self.session.ctx.session_id
        self.world.sessions_opened(self)
        self.world.record(self.host.name, self.client_ip, self.actor, "CONNECT", _code(greeting),
                          "dropped" if greeting is None else "greeting")
        self.generator = self.script(greeting)
        self._advance(None, first=True)

    def _advance(self, reply, first: bool = False) -> None:
        if self.session.closed:
            self._finish()
            return
        try:
            step = next(self.generator) if first else self.generator.send(reply)
        except StopIteration:
            self._finish()
            return
        if isinstance(step, Hold):
            self._deadline_serial += 1
            if step.seconds >= self.host.idle_timeout:
                self._after(self.host.idle_timeout, self._idle_timeout)
            else:
                self._after(step.seconds, self._advance, None)
            return
        self._after(self._half_rtt, self._deliver, step)

    def _deliver(self, step) -> None:
        """The client's line(s) reach the server; the reply travels back."""
        session = self.session
        if session.closed:
            self._finish()
            return
        if step.__class__ is str:  # the usual case: one command
            shown = step
            reply = session.send(step)
        else:
            lines = step if isinstance(step, list) else [step]
            send_lines = getattr(session, "send_lines", None)
            if send_lines is not None and isinstance(step, list):
                reply = send_lines(lines)
            else:
                reply = None
                for line in lines:
                    if session.closed:
                        break
                    reply = session.send(line)
            shown = lines[-1] if isinstance(step, list) else step
        closing = getattr(session, "closing_reply", None)
        world = self.world
        if reply is not None:
            self.outcome.replies.append((shown, reply))
            if world.keep_events:  # a reply is an event row and nothing else
                # ``_verb(shown)`` and ``_code(reply)`` written out: this runs once per command of every session
                verb = "." if shown == "." else shown.split(" ", 1)[0].upper()[:12]
                world.record(self.host.name, self.client_ip, self.actor, verb,
                             reply.status if isinstance(reply, Pop3Reply) else reply.code, "reply")
            delay = self._half_rtt + reply.delay
        else:
            delay = self._half_rtt + 0.0
        if closing is not None:
            self.outcome.replies.append(("", closing))
        self._after(delay, self._advance, reply)

    def _idle_timeout(self) -> None:
        self.outcome.timed_out = True
        self.world.record(self.host.name, self.client_ip, self.actor, "TIMEOUT", None, "idle timeout")
        self._finish()

    def _finish(self) -> None:
        if self._ended:
            return
        self._ended = True
        if self.session is not None:
            if not self.session.closed:
                self.session.close()
            self.host.release(self.service)
            self.outcome.transcript = self.session.transcript
            self.world.sessions_closed(self)
        if self.generator is not None:
            self.generator.close()
        if self.on_end is not None:
            self.on_end(self.outcome)


def _code(reply) -> int | None:
    if reply is None:
        return None
    if isinstance(reply, Pop3Reply):
        return reply.status
    return reply.code


def _verb(line: str) -> str:
    if line == ".":
        return "."
    return line.split(" ", 1)[0].upper()[:12]


def send_script(helo: str, sender: str, recipients: Sequence[str], lines: list[str],
                auth: tuple[str, str] | None = None):
    """The SMTP dialogue of a client handing over one message (RFC 5321 §3.3)."""

    def script(greeting):
        if greeting is None or getattr(greeting, "code", 0) != 220:
            return
        reply = yield f"EHLO {helo}"
        if auth is not None:
            token = base64.b64encode(f"\0{auth[0]}\0{auth[1]}".encode()).decode()
            reply = yield f"AUTH PLAIN {token}"
        reply = yield f"MAIL FROM:<{sender}>"
        if reply.code != 250:
            yield "QUIT"
            return
        accepted = 0
        for rcpt in recipients:
            reply = yield f"RCPT TO:<{rcpt}>"
            accepted += reply.code == 250
        if accepted:
            reply = yield "DATA"
            if reply.code == 354:
                yield [*lines, "."]
        yield "QUIT"

    return script
