"""Serve a simulated :class:`~simlab.protocol.server.MailServer` on loopback sockets.

:func:`serve` starts SMTP (RFC 5321) and POP3 (RFC 1939) listeners for one
server and returns a :class:`LiveLab` once both are listening; a notebook
goes on at once. Real clients - smtplib, poplib, telnet, ``nc -C``, swaks -
then talk to the very server model the simulation uses: the same restrictions decide, the same log fills, accepted
mail lands in the same mailboxes and queue.

One thread, one event loop (:class:`~simlab.live.runner.LoopThread`): every
connection of both services is handled on the lab's loop, so sessions change
the shared server (log, store, rate counters) one line at a time, never
concurrently. To touch the server from another thread while the lab runs,
use :meth:`LiveLab.call`.

Time: the server's :class:`~simlab.clock.ManualClock` moves only when told.
With ``realtime=True`` (the default) the lab advances it, before each
connection and each line, by the real seconds elapsed (``time.monotonic``)
since it last did; so anvil rate windows, fail2ban's ``findtime`` and
lockout times run at wall-clock speed, and log timestamps show the real
pace, counted from the clock's simulated start (June 1998). Advancing the
clock yourself adds to that. ``realtime=False`` leaves the clock alone.
Reply delays (Postfix's ``smtpd_error_sleep_time``, Dovecot's failure
delay) are really waited, unless ``reply_delays=False``.

Client addresses: a client's address is the one it connects from (all of
127.0.0.0/8 is loopback: ``smtplib.SMTP(host, port,
source_address=("127.0.0.2", 0))`` is another client), or the one
``client_map`` gives for it (``{"127.0.0.2": "203.0.113.7"}``), so lessons
speak in documentation addresses.

The lab binds loopback addresses only: another host raises
:class:`~simlab.errors.ConfigError` unless ``allow_non_loopback=True``,
which warns - these servers include open relays. Both ports are bound before
the loop's thread starts, so a port in use fails at once, with a
:class:`ListenError` (a ``ConfigError`` and an ``OSError``) naming it.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import ipaddress
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.live.runner import LoopThread
from simlab.protocol.pop3 import MAX_COMMAND
from simlab.protocol.server import MailServer

__all__ = ["LiveLab", "ListenError", "serve", "check_host", "check_client_map", "DEFAULT_MAX_LINE"]

#: Longest line read whole, in octets without the line end.
DEFAULT_MAX_LINE = 65536



def check_host(host: object, allow_non_loopback: bool = False) -> str:
    """The address to listen on: loopback only, unless ``allow_non_loopback`` (then a warning).

    ``"localhost"`` means ``127.0.0.1``. Host names are not resolved.
    """
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(str(host).strip("[]")) if isinstance(host, str) else None
    except ValueError:
        address = None
    if address is None:
        raise ConfigError("host", host, t("address.error.not_an_ip"), t("live.expected.listen_address"))
    if not address.is_loopback:
        if not allow_non_loopback:
            raise ConfigError("host", host, t("live.error.not_loopback"), t("live.expected.listen_address"))
        warnings.warn(t("live.warning.not_loopback", address=address), UserWarning, stacklevel=2)
    return str(address)


def check_client_map(client_map: Mapping[str, str] | None) -> dict[str, str]:
    """Validate ``{"127.0.0.2": "203.0.113.7"}``: loopback addresses to the addresses the server sees."""
    if client_map is None:
        return {}
    if not isinstance(client_map, Mapping):
        raise ConfigError("client_map", client_map, t("product.error.not_a_mapping"), t("live.expected.client_map"))
    out: dict[str, str] = {}
    for real, shown in client_map.items():
        try:
            real_ip = ipaddress.ip_address(str(real))
        except ValueError:
            raise ConfigError("client_map", real, t("address.error.not_an_ip"),
                              t("live.expected.loopback", example="127.0.0.2")) from None
        if not real_ip.is_loopback:
            raise ConfigError("client_map", real, t("live.error.not_loopback"), t("live.expected.loopback_range"))
        try:
            shown_ip = ipaddress.ip_address(str(shown))
        except ValueError:
            raise ConfigError(f"client_map[{real!r}]", shown, t("address.error.not_an_ip"),
                              t("live.expected.shown_address")) from None
        out[str(real_ip)] = str(shown_ip)
    return out


def _port(value: object, setting: str, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ConfigError(setting, value, t("live.error.not_a_port"),
                          t("live.expected.optional_port") if optional else t("live.expected.port"))
    return value


def _positive(value: object, setting: str, expected: str, integer: bool = False) -> float:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        raise ConfigError(setting, value, t("live.error.not_positive"), expected)
    return value


class ListenError(ConfigError, OSError):
    """A port the lab cannot listen on (in use, privileged, an address this host lacks).

    Both a :class:`~simlab.errors.ConfigError` naming the setting and the port
    (``smtp_port: 2525 cannot be listened on at 127.0.0.1: Address already in
    use; expected a free port, or 0 (any free port)``) and an :class:`OSError`
    with the operating system's ``errno`` and ``strerror``.
    """

    def __init__(self, setting: str, port: int, host: str, error: OSError) -> None:
        reason = error.strerror or str(error)
        super().__init__(setting, port, t("live.error.cannot_listen", host=host, reason=reason),
                         t("live.expected.free_port"))
        self.errno, self.strerror = error.errno, error.strerror
        self.host = host

    def __str__(self) -> str:
        return str(self.args[0])


def _listen(host: str, port: int, backlog: int, setting: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise ListenError(setting, port, host, exc) from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ListenError(setting, port, host, exc) from exc
    except BaseException:
        sock.close()
        raise
    return sock


class LiveLab:
    """A simulated server listening on real sockets. Build it with :func:`serve`.

    Attributes:
        server: the :class:`MailServer` served (the same object you passed).
        host, smtp_port, pop3_port: where it listens (``pop3_port`` is None without POP3).
        sessions: the most recent sessions opened (SMTP and POP3), with their transcripts.
        errors: faults inside the lab's event loop (exception contexts); empty in a healthy lab.
    """

    def __init__(self, server: MailServer, smtp_port: int = 0, pop3_port: int | None = 0,
                 host: str = "127.0.0.1", *, client_map: Mapping[str, str] | None = None,
                 max_connections: int = 100, idle_timeout: float = 300, max_line: int = DEFAULT_MAX_LINE,
                 xclient_hosts: Iterable[str] = (), allow_non_loopback: bool = False, realtime: bool = True,
                 reply_delays: bool = True, keep_sessions: int = 1000) -> None:
        if not isinstance(server, MailServer):
            raise ConfigError("server", server, t("live.error.not_a_server"), t("live.expected.server"))
        self.server = server
        self.host = check_host(host, allow_non_loopback)
        self._smtp_request = _port(smtp_port, "smtp_port")
        self._pop3_request = _port(pop3_port, "pop3_port", optional=True)
        if self._smtp_request and self._smtp_request == self._pop3_request:
            raise ConfigError("pop3_port", pop3_port, t("live.error.same_port"), t("live.expected.other_port"))
        self.client_map = check_client_map(client_map)
        self.max_connections = int(_positive(max_connections, "max_connections", t("live.expected.connections"),
                                             integer=True))
        self.idle_timeout = float(_positive(idle_timeout, "idle_timeout", t("live.expected.seconds")))
        persona = server.persona
        shortest = max(persona.max_command_line, persona.max_text_line, MAX_COMMAND) + 1
        if isinstance(max_line, bool) or not isinstance(max_line, int) or max_line < shortest:
            raise ConfigError("max_line", max_line, t("live.error.line_too_short"),
                              t("live.expected.line_length", shortest=shortest))
        self.max_line = max_line
        hosts = []
        for item in xclient_hosts if not isinstance(xclient_hosts, str) else [xclient_hosts]:
            try:
                hosts.append(str(ipaddress.ip_address(str(item))))
            except ValueError:
                raise ConfigError("xclient_hosts", item, t("address.error.not_an_ip"),
                                  t("live.expected.loopback", example="127.0.0.1")) from None
        self.xclient_hosts = frozenset(hosts)
        self.realtime = bool(realtime)
        self.reply_delays = bool(reply_delays)
        self.backlog = max(128, self.max_connections)
        self.sessions: collections.deque = collections.deque(maxlen=keep_sessions)
        self.errors: list[dict[str, Any]] = []
        self.smtp_port: int | None = None
        self.pop3_port: int | None = None
        self._active = 0
        self._tasks: set[asyncio.Task] = set()
        self._transports: set[asyncio.BaseTransport] = set()
        self._smtp_socket: socket.socket | None = None
        self._pop3_socket: socket.socket | None = None
        self._smtp_server: asyncio.AbstractServer | None = None
        self._pop3_server: asyncio.AbstractServer | None = None
        self._runner: LoopThread | None = None
        self._last_tick = time.monotonic()
        self._state = "new"
        self._lock = threading.Lock()

    # --- start and stop --------------------------------------------------------------
    def start(self) -> LiveLab:
        """Bind, start the event loop thread and return once both services listen."""
        with self._lock:
            if self._state != "new":
                raise RuntimeError(t("live.error.started_twice", state=self._state))
            self._state = "starting"
        try:
            self._smtp_socket = _listen(self.host, self._smtp_request, self.backlog, "smtp_port")
            if self._pop3_request is not None:
                self._pop3_socket = _listen(self.host, self._pop3_request, self.backlog, "pop3_port")
        except BaseException:
            self._close_sockets()
            self._state = "stopped"
            raise
        self.smtp_port = self._smtp_socket.getsockname()[1]
        self.pop3_port = self._pop3_socket.getsockname()[1] if self._pop3_socket is not None else None
        runner = LoopThread(self._open_servers, self._shutdown, name=f"simlab-live-{self.smtp_port}",
                            exception_handler=self._on_loop_error)
        self._runner = runner
        self._last_tick = time.monotonic()
        try:
            runner.start()
        except BaseException:
            self._close_sockets()
            self._state = "stopped"
            raise
        self._state = "running"
        return self

    def _close_sockets(self) -> None:
        for sock in (self._smtp_socket, self._pop3_socket):
            if sock is not None:
                sock.close()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop every connection is served on."""
        return self._runner.loop

    @property
    def running(self) -> bool:
        return self._state == "running"

    def stop(self, timeout: float = 10.0) -> None:
        """Close every connection (sessions end as if the client left), the listeners and the thread.

        Safe to call twice; after it returns no thread or socket of the lab is left.
        """
        with self._lock:
            if self._state != "running":
                return
            self._state = "stopping"
        try:
            self._runner.stop(timeout)
        finally:
            self._close_sockets()  # their servers closed them; this covers a closing() cut short
            self._state = "stopped"

    async def _open_servers(self) -> None:
        """On the loop: serve both pre-bound sockets (a server listens once ``create_server`` returns)."""
        from simlab.live.pop3 import start_pop3_server
        from simlab.live.smtp import start_smtp_server

        self._smtp_server = await start_smtp_server(self, self._smtp_socket)
        if self._pop3_socket is not None:
            self._pop3_server = await start_pop3_server(self, self._pop3_socket)

    async def _shutdown(self) -> None:
        servers = [s for s in (self._smtp_server, self._pop3_server) if s is not None]
        for srv in servers:
            srv.close()
        for transport in list(self._transports):
            transport.abort()  # reads end, so each conversation finishes and ends its session
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()  # those waiting out a reply delay
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for attempt in range(100):  # connection_lost runs on the next loop iterations
            if not self._transports:
                break
            await asyncio.sleep(0.01 if attempt else 0)
        for srv in servers:
            await srv.wait_closed()

    def __enter__(self) -> LiveLab:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        pop3 = f" pop3={self.host}:{self.pop3_port}" if self.pop3_port is not None else ""
        return (f"<LiveLab {self.server.persona.product} {self.server.hostname} {self._state} "
                f"smtp={self.host}:{self.smtp_port}{pop3}>")

    # --- for other threads -------------------------------------------------------------
    def call(self, function: Callable[..., Any], *args: Any, timeout: float = 10.0) -> Any:
        """Run ``function(*args)`` on the lab's loop, between two client lines, and return its result.

        Use it to change the server while clients talk to it (``lab.call(server.clock.advance, 600)``).
        """
        if not self.running:
            return function(*args)
        future: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(function(*args))
            except BaseException as exc:
                future.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return future.result(timeout)

    # --- used by the connections, on the loop thread -------------------------------------
    def tick(self) -> None:
        """Advance the server's clock by the real time elapsed since the last tick (``realtime``)."""
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        if self.realtime and elapsed > 0:
            self.server.clock.advance(elapsed)

    def peer_address(self, peername: object) -> str:
        """The address a client connects from, as text (IPv4-mapped IPv6 unwrapped)."""
        if not peername:
            return self.host
        address = ipaddress.ip_address(str(peername[0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return str(address)

    def simulated_address(self, peer: str) -> str:
        """The address the simulated server sees for a client connecting from ``peer``."""
        return self.client_map.get(peer, peer)

    def _admit(self) -> bool:
        if self._active >= self.max_connections:
            return False
        self._active += 1
        return True

    def _release(self) -> None:
        self._active -= 1

    @property
    def connections(self) -> int:
        """Clients connected right now (both services)."""
        return self._active

    def _track(self, task: asyncio.Task | None) -> None:
        if task is not None:
            self._tasks.add(task)

    def _untrack(self, task: asyncio.Task | None) -> None:
        self._tasks.discard(task)

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.errors.append(context)
        loop.default_exception_handler(context)


def serve(server: MailServer, smtp_port: int = 0, pop3_port: int | None = 0, host: str = "127.0.0.1", *,
          client_map: Mapping[str, str] | None = None, max_connections: int = 100, idle_timeout: float = 300,
          max_line: int = DEFAULT_MAX_LINE, xclient_hosts: Iterable[str] = (), allow_non_loopback: bool = False,
          realtime: bool = True, reply_delays: bool = True) -> LiveLab:
    """Serve ``server`` over SMTP and POP3 on loopback; returns the running :class:`LiveLab`.

    Use it with ``with`` (stopped at the end of the block) or call ``lab.stop()``.

    Args:
        server: a simulated server from :mod:`simlab.presets`.
        smtp_port, pop3_port: ports to listen on; 0 picks a free one (see ``lab.smtp_port``),
            ``pop3_port=None`` serves no POP3. The sessions see ports 25 and 110.
        host: a loopback address (``"127.0.0.1"``, ``"::1"``, ``"localhost"``).
        client_map: loopback address -> the address the server sees, e.g. ``{"127.0.0.2": "203.0.113.7"}``.
        max_connections: clients served at once (both services); beyond it,
            ``421 4.7.0 <host> Error: too many connections`` and close.
        idle_timeout: seconds a client may stay silent before the server hangs up.
        max_line: longest line read whole, in octets; longer lines are cut to this.
        xclient_hosts: real client addresses allowed to send Postfix's ``XCLIENT ADDR=...``.
        allow_non_loopback: permit another host address (with a warning).
        realtime: advance the server's clock by real elapsed time (see the module docstring).
        reply_delays: really wait the delays replies carry (error sleep, failure delay).
    """
    lab = LiveLab(server, smtp_port, pop3_port, host, client_map=client_map, max_connections=max_connections,
                  idle_timeout=idle_timeout, max_line=max_line, xclient_hosts=xclient_hosts,
                  allow_non_loopback=allow_non_loopback, realtime=realtime, reply_delays=reply_delays)
    return lab.start()
