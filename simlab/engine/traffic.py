"""Bulk traffic for benchmarks and sandboxes: many short SMTP sessions of mixed intent."""

from __future__ import annotations

from dataclasses import dataclass

from simlab.engine.actors import Actor, compose
from simlab.engine.conversation import Conversation, Outcome, send_script
from simlab.engine.world import World

__all__ = ["TrafficMix"]


@dataclass
class TrafficMix(Actor):
    """``sessions`` clients arriving every ``interarrival`` seconds, each handing over one message.

    A ``trusted_share`` of clients sit on the site's network (192.0.2.0/24), the rest outside;
    a ``local_share`` of messages are for the site's users. Outsiders writing to foreign
    recipients are relay attempts - spam; the rest is legitimate mail.
    """

    server: str = "mail.example.com"
    sessions: int = 1000
    interarrival: float = 0.0005
    trusted_share: float = 0.5
    local_share: float = 0.5
    #: The site's mail domain: local recipients are bob and alice there, and trusted clients write as bob.
    domain: str = "example.com"
    foreign_recipients: tuple[str, ...] = ("carol@remote.test", "dave@remote.test")

    def start(self, world: World) -> None:
        self._started = 0
        self._local = (f"bob@{self.domain}", f"alice@{self.domain}")
        world.loop.after(0.0, self._arrive, world)

    def _arrive(self, world: World) -> None:
        n = self._started
        self._started += 1
        rng = world.stream(self.name)
        trusted = rng.random() < self.trusted_share
        local = rng.random() < self.local_share
        if trusted:
            host, ip = "lan", f"192.0.2.{100 + n % 150}"
        else:
            host, ip = "internet", f"198.51.100.{100 + n % 100}"
        rcpt = rng.choice(self._local if local else self.foreign_recipients)
        sender = self._local[0] if trusted else "someone@elsewhere.test"
        intent = "legit" if trusted or local else "spam"
        lines = compose(world, self.name, sender, [rcpt], "hello", ["Hello."], intent)

        def done(outcome: Outcome) -> None:
            if intent == "legit" and not outcome.message_accepted:
                world.legit_refused(lines)
            if intent == "spam" and not outcome.message_accepted:
                world.mark("spam_refused")

        Conversation(world, host, ip, self.server, "smtp", send_script("client.test", sender, [rcpt], lines),
                     self.name, done).start()
        if self._started < self.sessions:
            world.loop.after(self.interarrival, self._arrive, world)
