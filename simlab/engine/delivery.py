"""Passing queued mail on: MX lookup, connection, retries and non-delivery reports.

What a 1998 MTA and Postfix's ``qmgr``/``smtp``/``bounce`` do with a message
accepted for a domain that is not their own (RFC 5321 §4.5.4, §5; RFC 3464):

* look up the recipient domain's MX (or A) record. A lookup that times out
  is retried later (EIMS logs ``DNR timed out to <resolver> for <domain>``);
  a domain that does not exist fails at once;
* connect to the mail host; a host that does not answer is retried later
  (``Connection timed out to <addr> (<domain>)``);
* speak SMTP to it - the receiving end is another simulated server, so the
  answer comes from that server's own policy - and retry on 4xx, when the
  product's :class:`~simlab.products.base.QueueSchedule` says (Postfix's
  doubling backoff at its queue scans, Exim's retry rule at its queue runs,
  the 1998 products' fixed interval);
* when a failed attempt comes at or after the product's queue lifetime, or
  the message got a 5xx, return a non-delivery report (RFC 3464 ``multipart/report``) to the
  sender. A report that itself cannot be delivered (its sender is ``<>``)
  is never bounced again (RFC 5321 §6.1): it goes to the local postmaster.
  That is how the thread's admin found the relay probe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from simlab.addresses.mail import AddressSyntaxError, parse_address
from simlab.addresses.routing import Destination
from simlab.clock import mail_date
from simlab.engine.conversation import Conversation, Outcome, send_script
from simlab.engine.network import DnsAnswer, Host, Reach
from simlab.products.base import RFC5321_QUEUE, QueueSchedule
from simlab.protocol.message import Message
from simlab.protocol.persona import DeliveryEvent
from simlab.protocol.reply import Reply

if TYPE_CHECKING:
    from simlab.engine.world import World

__all__ = ["QueueManager", "non_delivery_report"]


@dataclass
class Job:
    """The recipients of one queued message that share a destination domain."""

    message: Message
    domain: str
    recipients: list[str]
    attempts: int = 0
    first_failure: float | None = None
    last_delay: float = 0.0
    done: bool = False
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (recipient, status, diagnostic)


def non_delivery_report(host: Host, original: Message, failures: list[tuple[str, str, str]], to: str,
                        queue_id: str, when: str, arrived: str | None = None) -> Message:
    """An RFC 3464 delivery status notification from ``<>`` to ``to``, with the original attached."""
    server = host.server
    boundary = f"{queue_id}.{int(original.received_at)}/{server.hostname}"
    persona = server.persona
    lines = [
        f"From: MAILER-DAEMON@{server.hostname} (Mail Delivery System)",
        f"To: {to}",
        f"Subject: {persona.dsn_subject()}",
        f"Message-ID: <{queue_id}.bounce@{server.hostname}>",
        f"Date: {when}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Description: Notification",
        "Content-Type: text/plain",
        "",
        *persona.dsn_explanation(server),
        "",
        *(f"<{rcpt}>: {diagnostic}" for rcpt, _status, diagnostic in failures),
        "",
        f"--{boundary}",
        "Content-Description: Delivery report",
        "Content-Type: message/delivery-status",
        "",
        f"Reporting-MTA: dns; {server.hostname}",
        f"Arrival-Date: {arrived or when}",
    ]
    for rcpt, status, diagnostic in failures:
        lines += ["", f"Final-Recipient: rfc822; {rcpt}", "Action: failed", f"Status: {status}",
                  f"Diagnostic-Code: X-Simlab; {diagnostic}"]
    lines += ["", f"--{boundary}", "Content-Description: Undelivered Message", "Content-Type: message/rfc822", "",
              *original.lines, "", f"--{boundary}--"]
    return Message(queue_id=queue_id, sender="", recipients=[to], lines=lines, client_ip=host.ip,
                   helo=server.hostname, received_at=server.clock.now)


class QueueManager:
    """Delivers what one simulated server queued for relaying.

    Args:
        world: the running world.
        host: the server's host.
        schedule: when to retry and when to give up: the product's (``Product.queue``), or a scenario's
            shortened one (default: RFC 5321's figures).
        transport: next hops by domain that override MX (Postfix ``transport_maps``).
    """

    def __init__(self, world: World, host: Host, schedule: QueueSchedule = RFC5321_QUEUE,
                 transport: dict[str, str] | None = None) -> None:
        self.world = world
        self.host = host
        self.server = host.server
        self.schedule = schedule
        #: Postfix ``transport_maps``: domain -> next-hop host, bypassing MX (a provider forwarding to its client).
        self.transport = dict(transport or {})
        self.open_jobs: dict[str, int] = {}

    @property
    def queue_lifetime(self) -> float:
        """Seconds before an undeliverable message is returned (the schedule's lifetime)."""
        return self.schedule.lifetime

    @property
    def retry_interval(self) -> float:
        """The shortest wait between attempts (Postfix ``minimal_backoff_time``; Exim's first interval)."""
        return self.schedule.min_interval

    # --- entry ----------------------------------------------------------------------
    def submit(self, message: Message) -> None:
        """A message entered this server's queue: plan its first attempt."""
        groups: dict[str, list[str]] = {}
        for rcpt in message.recipients:
            groups.setdefault(self._domain_of(rcpt), []).append(rcpt)
        self.open_jobs[message.queue_id] = len(groups)
        for domain, rcpts in groups.items():
            self.world.loop.after(1.0, self._attempt, Job(message, domain, rcpts))

    def _domain_of(self, rcpt: str) -> str:
        try:
            resolution = self.server.resolver.resolve(parse_address(rcpt))
        except AddressSyntaxError:
            return ""
        return resolution.domain

    def _log(self, event: DeliveryEvent) -> None:
        for process, pid, text in self.server.persona.log_delivery(self.server, event):
            self.server.log_line(text, process, pid)

    # --- one attempt ---------------------------------------------------------------------
    def _attempt(self, job: Job) -> None:
        world, message = self.world, job.message
        job.attempts += 1
        event = dict(queue_id=message.queue_id, recipients=tuple(job.recipients), domain=job.domain,
                     delay=world.loop.now - message.received_at)
        if job.domain in self.transport:
            answer = DnsAnswer("ok", (self.transport[job.domain],))
        else:
            rng = world.stream(f"queue manager {self.host.name}")
            answer = world.dns.lookup_mx(job.domain, rng) if job.domain else None
        if answer is None or answer.status == "nxdomain":
            self._log(DeliveryEvent("no-such-domain", **event))
            self._fail(job, "5.1.2", f"Host or domain name not found: {job.domain or 'no domain'}")
            return
        if answer.status == "timeout":
            world.loop.after(world.dns_timeout, self._timed_out, job, DeliveryEvent(
                "dns-timeout", dns_ip=world.dns.server_ip, **event), "4.4.3", f"DNS lookup for {job.domain} timed out")
            return
        target = next((name for name in answer.hosts if name in world.network.hosts), None)
        ip = world.dns.address(answer.hosts[0]) or ""
        if target is None:
            world.loop.after(world.connect_timeout, self._timed_out, job, DeliveryEvent(
                "connect-timeout", ip=ip, host=answer.hosts[0], **event), "4.4.1",
                f"connect to {answer.hosts[0]}[{ip}]:25: Connection timed out")
            return
        mx = world.network.host(target)
        reach = world.network.reach(self.host.name, mx.name, self.host.ip, "smtp")
        if reach is not Reach.OK or mx.server is None:
            world.loop.after(world.connect_timeout, self._timed_out, job, DeliveryEvent(
                "connect-timeout", ip=mx.ip, host=mx.name, **event), "4.4.1",
                f"connect to {mx.name}[{mx.ip}]:25: Connection timed out")
            return
        world.tag_message(message, world.intent_of(message))
        conversation = Conversation(world, self.host.name, self.host.ip, mx.name, "smtp",
                                    self._relay_script(message, job.recipients), actor=f"{self.host.name} (relay)",
                                    on_end=lambda outcome: self._after_relay(job, mx, outcome, event))
        conversation.start()

    def _relay_script(self, message: Message, recipients: list[str]):
        """The same dialogue as any client handing over a message, from this server's name."""
        return send_script(self.server.hostname, message.sender, recipients, message.lines)

    def _after_relay(self, job: Job, mx: Host, outcome: Outcome, event: dict) -> None:
        rcpt_replies = [reply for line, reply in outcome.replies if line.upper().startswith("RCPT")]
        final = outcome.reply_to(".")
        sent, deferred = [], []
        for rcpt, reply in zip(job.recipients, rcpt_replies, strict=False):
            if reply.code == 250 and isinstance(final, Reply) and final.code == 250:
                sent.append(rcpt)
            elif reply.code >= 500 or (reply.code == 250 and isinstance(final, Reply) and final.code >= 500):
                if reply.code < 500:  # RFC 5321 §4.2.5: a 5xx to the end of DATA fails every accepted recipient
                    reply = final
                job.failed.append((rcpt, reply.enhanced or "5.0.0", f"host {mx.name}[{mx.ip}] said: {reply}"))
                self._log(DeliveryEvent("rejected", ip=mx.ip, host=mx.name, reply=str(reply),
                                        **{**event, "recipients": (rcpt,)}))
            else:
                deferred.append(rcpt)
        for rcpt in job.recipients[len(rcpt_replies):]:
            deferred.append(rcpt)
        if sent:
            self._log(DeliveryEvent("sent", ip=mx.ip, host=mx.name, reply=str(final),
                                    **{**event, "recipients": tuple(sent)}))
        if deferred:
            greeting = outcome.greeting
            why = str(final or (rcpt_replies[-1] if rcpt_replies else greeting) or "connection closed")
            if not outcome.connected:
                self._log(DeliveryEvent("deferred", ip=mx.ip, host=mx.name, reply=why,
                                        **{**event, "recipients": tuple(deferred)}))
            job.recipients = deferred
            self._defer(job, "4.0.0", f"host {mx.name}[{mx.ip}] said: {why}")
            return
        self._close(job)

    def _timed_out(self, job: Job, event: DeliveryEvent, status: str, diagnostic: str) -> None:
        """A lookup or connection gave up after its timeout: log it, then retry or give up."""
        self._log(DeliveryEvent(**{**event.__dict__, "delay": self.world.loop.now - job.message.received_at}))
        self._defer(job, status, diagnostic)

    # --- outcomes -------------------------------------------------------------------------
    def _defer(self, job: Job, status: str, diagnostic: str) -> None:
        """A failed attempt: give the message up if it is old enough, else plan the next attempt."""
        now = self.world.loop.now
        waited = now - job.message.received_at
        schedule = self.schedule
        if schedule.gives_up(waited, bounce=not job.message.sender):
            self._log(DeliveryEvent("expired", queue_id=job.message.queue_id, recipients=tuple(job.recipients),
                                    domain=job.domain, delay=waited))
            job.failed += [(rcpt, "4.4.7", f"delivery time expired: {diagnostic}") for rcpt in job.recipients]
            job.recipients = []
            self._close(job)
            return
        if job.first_failure is None:
            job.first_failure = now
        job.last_delay = schedule.next_delay(now - job.first_failure, job.last_delay)
        self.world.loop.at(schedule.next_attempt(now, job.last_delay), self._attempt, job)

    def _fail(self, job: Job, status: str, diagnostic: str) -> None:
        job.failed += [(rcpt, status, diagnostic) for rcpt in job.recipients]
        job.recipients = []
        self._close(job)

    def _close(self, job: Job) -> None:
        if job.done:
            return
        job.done = True
        message = job.message
        if job.failed:
            self.bounce(message, job.failed)
        left = self.open_jobs.get(message.queue_id, 1) - 1
        self.open_jobs[message.queue_id] = left
        if left <= 0:
            self.open_jobs.pop(message.queue_id, None)
            # A message is queued once. Mail waiting for a retry collects at the front of a long
            # queue, and the message just delivered is usually near the end: look from there.
            queue = self.server.queue
            for i in range(len(queue) - 1, -1, -1):
                if queue[i] is message:
                    del queue[i]
                    break

    def bounce(self, message: Message, failures: list[tuple[str, str, str]]) -> None:
        """Return a non-delivery report to the sender, or to postmaster if the sender is ``<>``."""
        world, server = self.world, self.server
        world.message_failed(message, failures)
        to = message.sender or f"postmaster@{server.hostname}"
        queue_id = server.next_queue_id()
        when = mail_date(server.clock.datetime())
        arrived = mail_date(server.clock.datetime(message.received_at))
        report = non_delivery_report(self.host, message, failures, to, queue_id, when, arrived)
        world.tag_message(report, "bounce")
        self._log(DeliveryEvent("bounce", queue_id=message.queue_id, recipients=tuple(r for r, _, _ in failures),
                                domain="", new_queue_id=queue_id, sender=message.sender))
        if not message.sender:
            self.deliver_to_postmaster(report)
            return
        try:
            resolution = server.resolver.resolve(parse_address(message.sender))
        except AddressSyntaxError:
            self.deliver_to_postmaster(report)
            return
        if resolution.destination is Destination.LOCAL:
            account = server.local_account(resolution.local_part)
            if account is None or account == "postmaster":
                self.deliver_to_postmaster(report)
            else:
                server.store.deliver_local(account, report)
            return
        server.store.enqueue(report)
        self.submit(report)

    def deliver_to_postmaster(self, report: Message) -> None:
        account = self.server.local_account("postmaster") or "postmaster"
        self.server.store.deliver_local(account, report)
        self.world.bounce_to_postmaster(self.host, report)
