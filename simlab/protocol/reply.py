"""Server replies as they appear on the wire.

SMTP replies follow RFC 5321 §4.2: a three-digit code, optionally an RFC 3463
enhanced status code at the start of the text, and multi-line replies written
``250-first`` ... ``250 last``. POP3 replies follow RFC 1939 §3: ``+OK`` or
``-ERR``, and multi-line responses end with a line holding one ``.``, with
lines that start with ``.`` byte-stuffed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

__all__ = ["Reply", "Pop3Reply"]

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?= |$)")


@dataclass(frozen=True)
class Reply:
    """One SMTP reply.

    ``lines`` are the text lines after the code; ``close`` says the server
    closes the connection after sending it (421, or a refusal at connect);
    ``delay`` is how long the server waits before answering, in simulated
    seconds (a tarpit or failure delay: the simulation never sleeps).
    """

    code: int
    lines: tuple[str, ...]
    close: bool = False
    delay: float = 0.0

    @classmethod
    def of(cls, code: int, *lines: str, close: bool = False, delay: float = 0.0) -> Reply:
        try:
            return _reply_of(cls, code, lines, close, delay)
        except TypeError:  # an unhashable line: build it afresh
            return cls(code, tuple(lines) if lines else ("",), close, delay)

    @property
    def text(self) -> str:
        """The text of all lines, joined by newlines (without codes)."""
        return "\n".join(self.lines)

    @property
    def enhanced(self) -> str | None:
        """The RFC 3463 enhanced status code (``"5.7.1"``), if the reply has one."""
        m = _ENHANCED.match(self.lines[0])
        return ".".join(m.groups()) if m else None

    @property
    def positive(self) -> bool:
        return 200 <= self.code < 400

    @property
    def wire_lines(self) -> list[str]:
        """The reply as the lines sent on the wire, without CRLF."""
        last = len(self.lines) - 1
        out = []
        for i, line in enumerate(self.lines):
            sep = " " if i == last else "-"
            out.append(f"{self.code}{sep}{line}")
        return out

    @property
    def transcript_lines(self) -> tuple[str, ...]:
        """The reply as a session transcript shows it (``S: 250 2.1.0 Ok``), worked out once."""
        lines = self.__dict__.get("_transcript_lines")
        if lines is None:
            lines = tuple(f"S: {wire}" for wire in self.wire_lines)
            object.__setattr__(self, "_transcript_lines", lines)  # a cache, not a field: still frozen
        return lines

    def __str__(self) -> str:
        return "\n".join(self.wire_lines)


# Replies are immutable and a server sends the same few again and again ("250 2.1.0 Ok"):
# each distinct reply is built once, and its wire lines with it.
@functools.lru_cache(maxsize=4096, typed=True)
def _reply_of(cls: type[Reply], code: int, lines: tuple[str, ...], close: bool, delay: float) -> Reply:
    return cls(code, lines if lines else ("",), close, delay)


@dataclass(frozen=True)
class Pop3Reply:
    """One POP3 response: status, text, and for multi-line answers the data lines."""

    ok: bool
    text: str = ""
    data: tuple[str, ...] | None = None
    close: bool = False
    delay: float = 0.0

    @property
    def status(self) -> str:
        return "+OK" if self.ok else "-ERR"

    @property
    def wire_lines(self) -> list[str]:
        first = f"{self.status} {self.text}" if self.text else self.status
        if self.data is None:
            return [first]
        body = ["." + line if line.startswith(".") else line for line in self.data]
        return [first, *body, "."]

    def __str__(self) -> str:
        return "\n".join(self.wire_lines)
