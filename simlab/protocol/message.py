"""A message a simulated server accepted, and the server's mail store.

RFC 5321 §6.1: once a server has answered 250 to the end of DATA it is
responsible for the message: here that means it is in a local mailbox or in
the relay queue, never dropped. Each message records the envelope (what the
client claimed) and the connection facts (what the server saw).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Message", "MailStore"]


@dataclass
class Message:
    """A message and its envelope.

    ``recipients`` are the accepted RCPT addresses as written by the client;
    ``lines`` the body after dot-unstuffing, starting with the server's own
    ``Received:`` header (RFC 5321 §4.4).
    """

    queue_id: str
    sender: str
    recipients: list[str]
    lines: list[str]
    client_ip: str
    helo: str | None
    received_at: float
    authenticated_user: str | None = None

    @property
    def size(self) -> int:
        """Size in octets as POP3 counts it: each line plus CRLF (RFC 1939 §5)."""
        lines = self.lines
        if all(map(str.isascii, lines)):
            return sum(map(len, lines)) + 2 * len(lines)
        return sum(len(line.encode("utf-8", "surrogateescape")) + 2 for line in lines)

    @property
    def header(self) -> dict[str, str]:
        """The message's header fields (first occurrence of each, names lower-cased)."""
        fields: dict[str, str] = {}
        for name, value in self._fields():
            fields.setdefault(name, value)
        return fields

    def header_field(self, name: str) -> str | None:
        """The first header field called ``name`` (lower case), as in :attr:`header`, or ``None``."""
        for line in self.lines:  # what ``_fields`` yields, without a generator: Postfix asks once per message
            if not line:
                break
            field_name, sep, value = line.partition(":")
            if sep and not field_name.startswith((" ", "\t")) and field_name.strip().lower() == name:
                return value.strip()
        return None

    def _fields(self):
        for line in self.lines:
            if not line:
                break
            name, sep, value = line.partition(":")
            if sep and not name.startswith((" ", "\t")):
                yield name.strip().lower(), value.strip()


@dataclass
class MailStore:
    """Local mailboxes (by account) and the relay queue of one server."""

    mailboxes: dict[str, list[Message]] = field(default_factory=dict)
    queue: list[Message] = field(default_factory=list)

    def deliver_local(self, account: str, message: Message) -> None:
        self.mailboxes.setdefault(account, []).append(message)

    def enqueue(self, message: Message) -> None:
        self.queue.append(message)
