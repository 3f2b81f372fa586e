"""Lesson 09 panel: the live lab - a simulated server on real loopback sockets, and what real clients did to it.

Pick a product and a few of its relay settings (in the product's own words, as
in lesson 02's panel), the client map (``127.0.0.2=203.0.113.50``: a second
loopback address plays an outside host) and the ports (0: any free one), then
press Start. The panel shows where the server listens and the commands to try
(telnet, ``nc -C``, swaks, a ``smtplib`` snippet), and follows what real
clients do: each session's transcript (newest first), the server's log as it
grows, the mailboxes and the relay queue.

Design - threads, refresh and shutdown:

* The server runs in the live lab's own thread (:func:`simlab.live.serve`:
  one thread, one event loop); nothing here ever waits for a client.
* **Watching.** While a lab runs, a small watcher runs *on the lab's own
  loop* (``loop.call_later``, every ``refresh_interval`` seconds, 0.25 by
  default), between two client lines. It compares a cheap signature of the
  server (log length, the newest sessions' transcript lengths and states, queue
  and mailbox sizes); when something changed, it copies what the views show
  (a :class:`LiveState`: plain tuples and strings) and hands that copy over.
  Reading the server on its own thread means the copy is always consistent:
  no session changes the server while the watcher reads it, and the kernel's
  thread never touches the live server. A mid-session change shows too (a
  ``550`` at ``RCPT`` typed in telnet appears in the log before ``QUIT``),
  and the live lab needs no event hook for it (a hook on session ends would
  miss the lines written while a session is still open).
* **Drawing.** The copy is drawn by the thread that owns the widgets. When
  Start ran inside an asyncio loop - in Jupyter, the kernel's own loop, which
  runs cells and widget callbacks - the watcher schedules the drawing there
  with ``loop.call_soon_threadsafe``, so widgets are only changed from the
  kernel's thread, between two messages, never racing a callback (ipywidgets 8
  tolerates updates from other threads, but two threads setting widget state
  at once may interleave their messages). Updates coalesce: while one drawing
  is pending, newer copies replace the pending one, so a burst of sessions
  costs one redraw. A long-running cell delays the drawing until it ends; it
  never blocks the server. Without a running loop (a script, headless tests)
  the copy is drawn at once, under a lock. A "Refresh" button redraws on
  demand (its snapshot is taken on the lab's loop with :meth:`LiveLab.call`).
* **Start, Stop and shutdown.** Start validates the controls, stops the
  panel's running server if any (a second Start restarts; never two servers)
  and serves a fresh server. Stop stops the lab - no thread or socket is left
  (:meth:`LiveLab.stop`) - and shows the final state. Closing the panel
  (``panel.close()``, which ``Widget.close_all()`` calls too) stops the
  server, and a :func:`weakref.finalize` stops it when the panel is collected
  or the interpreter (the kernel) exits. Updates of a stopped or replaced lab
  are dropped (each Start has a new generation number).
* **Bad input** - a bad client map, a port that is not a number or is in use,
  a bad network - shows as a message in the panel, never a traceback; the
  controls keep what was typed, and a running server keeps running. (A port
  in use is found only by binding it, once the running server has been
  stopped - its own port may be the one asked for; the message then says so.)
* **Loopback only**: the panel always serves on 127.0.0.1, and the lab itself
  refuses any other host.

The site is lesson 09's: ``mail.mycompany.test`` for ``mycompany.test``, the
LAN 192.0.2.0/24 and the standard site's accounts (``webmaster`` has the
password ``webmaster``). Each Start builds a new server, with empty mailboxes
and log.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import itertools
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from simlab import products
from simlab.errors import ConfigError
from simlab.exercises.common import split_list
from simlab.exercises.spoof import MY_SITE
from simlab.i18n import t, tn
from simlab.live.server import LiveLab, check_client_map, serve
from simlab.protocol import Pop3Session
from simlab.protocol.server import MailServer
from simlab.scenarios.site import ACCOUNTS, build_server
from simlab.ui.common import (
    Panel,
    allowlist_controls,
    choice_label,
    enable_by_product,
    log_html,
    product_menu,
    setting_description,
    transcript_html,
)

__all__ = ["live_lab", "LiveLabPanel", "LivePlan", "LiveState", "SessionView", "parse_client_map", "parse_port",
           "SITE", "THREAD_DIALOGUE", "HOST", "connect_html"]

#: Where the panel listens: loopback only.
HOST = "127.0.0.1"
#: Lesson 09's site: the names of the thread, in documentation addresses.
SITE = MY_SITE
#: The admin's test from outside: a sender at the site's own domain, a recipient at a foreign company.
THREAD_DIALOGUE = ("HELO outside.test", "MAIL FROM:<Postmaster@mycompany.test>", "RCPT TO:<user_name@yourcompany.test>",
                   "DATA", ".", "QUIT")
#: Log lines worth reading first: refusals and relaying, in any product's words.
HIGHLIGHT = r"reject|refused|denied|prohibited|not permitted|wrong password|failed|[Rr]elay"
#: Sessions shown, newest first; log lines shown, the last ones.
SHOWN_SESSIONS = 20
SHOWN_LOG_LINES = 400
DEFAULT_CLIENT_MAP = "127.0.0.2=203.0.113.50, 127.0.0.3=192.0.2.101"


# --- the controls' values -------------------------------------------------------------------------------------


def parse_client_map(text: str) -> dict[str, str]:
    """``"127.0.0.2=203.0.113.50, 127.0.0.3=192.0.2.101"`` -> the lab's ``client_map``; bad entries raise
    :class:`ConfigError` (``->`` may stand for ``=``; empty: no map)."""
    table: dict[str, str] = {}
    for item in split_list(str(text).replace("->", "=").replace(";", " ").replace(" = ", "=")):
        real, sep, shown = item.partition("=")
        if not sep or not real or not shown:
            raise ConfigError(t("ui.live.client_map_setting"), item, t("ui.live.not_a_pair"),
                              t("ui.live.expected_pair", example="127.0.0.2=203.0.113.50"))
        table[real] = shown
    return check_client_map(table)


def parse_port(value: object, setting: str) -> int:
    """A port typed in a text field: 0 (or empty) for any free port, else 1-65535."""
    text = str(value).strip() or "0"
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ConfigError(setting, text, t("ui.live.not_a_port"), t("ui.live.expected_port"))
    return port


@dataclass(frozen=True)
class LivePlan:
    """What Start serves: a product, its relay settings (product's names), the client map and the ports."""

    preset: str
    settings: Mapping[str, Any]
    client_map: Mapping[str, str]
    smtp_port: int
    pop3_port: int

    @property
    def product(self) -> products.Product:
        return products.get(self.preset)

    @property
    def label(self) -> str:
        """The product's panel name for these settings (``"EIMS 2.1 (Relay Restriction on)"``); settings left
        at the factory's defaults do not count."""
        defaults = {name: parameter.default for name, parameter in
                    inspect.signature(self.product.factory).parameters.items()}
        changed = {name: value for name, value in self.settings.items()
                   if not _same(value, defaults.get(name, inspect.Parameter.empty))}
        return choice_label(self.product, changed)

    def build(self) -> MailServer:
        """A fresh server of the lesson's site with these settings (a bad one raises :class:`ConfigError`)."""
        product = self.product
        return build_server(product.name, base=product.site_settings(SITE, ACCOUNTS), settings=dict(self.settings))


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, list | tuple) and isinstance(default, list | tuple):
        return list(value) == list(default)
    return value == default or (value == [] and default is None)


def plan_from(values: Mapping[str, Any]) -> LivePlan:
    """The panel's values as a :class:`LivePlan`, checked (a server is built and thrown away)."""
    product = products.get(values["preset"])
    settings: dict[str, Any] = {}
    if product.can(products.RELAY_BY_SENDER_DOMAIN):
        settings.update(product.relay_restriction(values.get("relay_restriction", False),
                                                  split_list(values.get("relay_domains", ""))))
    elif product.relay_allowlist_by_default and values.get(product.relay_allowlist_setting) is not None:
        settings.update(product.relay_allowlist(split_list(values[product.relay_allowlist_setting])))
    client_map = parse_client_map(values.get("client_map", ""))
    smtp_port = parse_port(values.get("smtp_port", 0), "smtp_port")
    pop3_port = parse_port(values.get("pop3_port", 0), "pop3_port")
    if smtp_port and smtp_port == pop3_port:
        raise ConfigError("pop3_port", pop3_port, t("ui.live.same_port"), t("ui.live.expected_other_port"))
    plan = LivePlan(product.name, settings, client_map, smtp_port, pop3_port)
    plan.build()
    return plan


# --- what the views show: copied on the lab's thread ----------------------------------------------------------


@dataclass(frozen=True)
class SessionView:
    """One session as the panel shows it (a copy)."""

    service: str
    number: int
    client_ip: str
    ended: bool
    transcript: tuple[str, ...]


@dataclass(frozen=True)
class LiveState:
    """A copy of what the views show, taken where the server lives (on the lab's loop, or after it stopped)."""

    running: bool
    sessions: tuple[SessionView, ...] = ()  # newest first
    session_count: int = 0
    connections: int = 0
    log: tuple[str, ...] = ()  # the last SHOWN_LOG_LINES lines
    log_count: int = 0
    #: (account, ((queue id, sender, subject, client), ...)) for each mailbox holding mail
    mailboxes: tuple[tuple[str, tuple[tuple[str, str, str, str], ...]], ...] = ()
    queue: tuple[tuple[str, str, str, str], ...] = ()  # (id, from, to, client)


def _signature(lab: LiveLab) -> tuple:
    """Cheap: changes whenever what the views show changes."""
    server = lab.server
    newest = itertools.islice(reversed(lab.sessions), SHOWN_SESSIONS)
    return (len(server.log), len(server.queue), tuple(len(box) for box in server.mailboxes.values()),
            tuple((id(s), s.closed, len(s.transcript)) for s in newest), lab.connections)


def snapshot(lab: LiveLab) -> LiveState:
    """Copy what the views show. Call it on the lab's loop (:meth:`LiveLab.call`) while it runs."""
    server = lab.server
    shown = []
    for session in itertools.islice(reversed(lab.sessions), SHOWN_SESSIONS):
        service = "POP3" if isinstance(session, Pop3Session) else "SMTP"
        shown.append(SessionView(service, session.ctx.session_id, str(session.ctx.client_ip), session.closed,
                                 tuple(session.transcript)))
    boxes = tuple((account, tuple((m.queue_id, m.sender or "<>", m.header.get("subject", ""), m.client_ip)
                                  for m in box))
                  for account, box in sorted(server.mailboxes.items()) if box)
    queue = tuple((m.queue_id, m.sender or "<>", ", ".join(m.recipients), m.client_ip) for m in server.queue)
    log = server.log
    return LiveState(running=lab.running, sessions=tuple(shown), session_count=len(lab.sessions),
                     connections=lab.connections, log=tuple(log[-SHOWN_LOG_LINES:]), log_count=len(log),
                     mailboxes=boxes, queue=queue)


# --- views -----------------------------------------------------------------------------------------------


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = "".join("<tr>" + "".join(f"<td style='padding:1px 10px 1px 0'>{html.escape(str(c))}</td>" for c in row)
                    + "</tr>" for row in rows)
    heads = "".join(f"<th style='text-align:left;padding-right:10px'>{html.escape(h)}</th>" for h in head)
    return f"<table style='font-size:12px'><tr>{heads}</tr>{cells}</table>"


def _seen_as(client_map: Mapping[str, str]) -> dict[str, str]:
    return {shown: real for real, shown in client_map.items()}


def sessions_html(state: LiveState, client_map: Mapping[str, str]) -> str:
    if not state.sessions:
        tab = "<i>" + t("ui.live.tab.connect") + "</i>"
        return "<p>" + t("ui.live.no_session", tab=tab) + "</p>"
    reverse = _seen_as(client_map)
    newest = t("ui.live.newest", count=len(state.sessions)) if state.session_count > len(state.sessions) else ""
    so_far = tn("ui.live.sessions_count", state.session_count)
    parts = ["<p style='margin:2px 0;font-size:12px'>" + t("ui.live.sessions_head", sessions=so_far) + newest + "</p>"]
    for s in state.sessions:
        via = t("ui.live.connected_from", ip=reverse[s.client_ip]) if s.client_ip in reverse else ""
        status = t("ui.live.ended") if s.ended else "<b>" + t("ui.live.open") + "</b>"
        heading = t("ui.live.session_heading", service=s.service, number=s.number,
                    ip=html.escape(s.client_ip) + html.escape(via), status=status)
        parts.append(f"<div class='simlab-session' style='margin:6px 0 2px;font-size:12px'>{heading}</div>"
                     + transcript_html(s.transcript, height=180))
    return "".join(parts)


def server_log_html(state: LiveState) -> str:
    earlier = state.log_count - len(state.log)
    note = ("<p style='margin:2px 0;font-size:12px'>" + tn("ui.live.earlier_lines", earlier) + "</p>"
            if earlier > 0 else "")
    return note + log_html(state.log, highlight=HIGHLIGHT, limit=SHOWN_LOG_LINES, height=320)


def mailboxes_html(state: LiveState) -> str:
    if not state.mailboxes:
        return "<p>" + t("ui.live.no_mail") + "</p>"
    rows = [(account, *message) for account, box in state.mailboxes for message in box]
    return _table((t("ui.live.column.mailbox"), t("ui.live.column.queue_id"), t("ui.live.column.sender"),
                   t("ui.live.column.subject"), t("ui.live.column.client")), rows)


def queue_html(state: LiveState) -> str:
    if not state.queue:
        return "<p>" + t("ui.live.queue_empty") + "</p>"
    head = tn("ui.live.queue_waiting", len(state.queue))
    return (f"<p style='margin:2px 0;font-size:12px'>{head}</p>"
            + _table((t("ui.live.column.queue_id"), t("ui.live.column.sender"), t("ui.live.column.recipients"),
                      t("ui.live.column.client")), state.queue))


def connect_html(lab: LiveLab | None, plan: LivePlan | None) -> str:
    """Where the server listens and the commands to try (``lab=None``: how to start)."""
    if lab is None or plan is None:
        start = "<b>" + t("ui.live.button.start") + "</b>"
        return "<p>" + t("ui.live.press_start", start=start) + "</p>"
    smtp, pop3 = lab.smtp_port, lab.pop3_port
    outside = next(iter(plan.client_map), None)
    mapped = t("exercise.common.list_separator").join(
        t("ui.live.appears_as", real=real, shown=shown) for real, shown in plan.client_map.items()) \
        or t("ui.live.no_client_map")
    local = plan.client_map.get(HOST, HOST)
    domain = SITE.domain
    source = f', source_address=("{outside}", 0)' if outside else ""
    seen = "  # " + t("ui.live.seen_as", ip=plan.client_map[outside]) if outside else ""
    steps = "\n".join(f'        "{line}",' for line in THREAD_DIALOGUE[:-1])
    python = (f"import smtplib\n\n"
              f"with smtplib.SMTP(\"{HOST}\", {smtp}{source}, timeout=10) as client:{seen}\n"
              f"    for line in [\n{steps}\n    ]:\n"
              f"        print(line, \"->\", client.docmd(line))")
    shell = [(f"telnet {HOST} {smtp}", t("ui.live.comment.telnet", ip=local)),
             (f"nc -C {HOST} {smtp}", t("ui.live.comment.nc"))]
    if outside:
        shell.append((f"nc -C -s {outside} {HOST} {smtp}",
                      t("ui.live.comment.from", outside=outside, ip=plan.client_map[outside])))
    shell.append((f"telnet {HOST} {pop3}", t("ui.live.comment.pop3")))
    width = max(len(command) for command, _ in shell)
    lines = [f"{command.ljust(width)}   # {comment}" for command, comment in shell]
    swaks = f"swaks --server {HOST}:{smtp} --from Postmaster@{domain} --to user_name@yourcompany.test"
    lines.insert(-1, swaks + (f" --local-interface {outside}" if outside else ""))
    pre = "<pre style='font-size:12px;background:#fafafa;border:1px solid #ddd;padding:6px;margin:2px 0'>{}</pre>"
    smtp_on = "<b>" + t("ui.live.smtp_on", address=HOST + ":" + str(smtp)) + "</b>"
    pop3_on = "<b>" + t("ui.live.pop3_on", address=HOST + ":" + str(pop3)) + "</b>"
    where = t("ui.live.listening", label=html.escape(plan.label), hostname=SITE.hostname, domain=domain,
              smtp=smtp_on, pop3=pop3_on)
    clients = t("ui.live.clients", mapped=html.escape(mapped))
    return (f"<p style='font-size:13px'>{where}<br>{clients}</p>"
            "<p style='margin:2px 0'>" + t("ui.live.in_a_terminal") + "</p>" + pre.format(html.escape("\n".join(lines)))
            + "<p style='margin:2px 0'>" + t("ui.live.thread_test") + "</p>"
            + pre.format(html.escape("\n".join(THREAD_DIALOGUE)))
            + "<p style='margin:2px 0'>" + t("ui.live.from_python") + "</p>"
            + pre.format(html.escape(python)))


# --- the panel -----------------------------------------------------------------------------------------------


class _Runner:
    """Holds the running lab, so a finalizer can stop it without keeping the panel alive."""

    def __init__(self) -> None:
        self.lab: LiveLab | None = None
        self.lock = threading.Lock()

    def swap(self, lab: LiveLab | None) -> LiveLab | None:
        with self.lock:
            old, self.lab = self.lab, lab
        return old

    def stop(self) -> None:
        lab = self.swap(None)
        if lab is not None:
            lab.stop()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class LiveLabPanel(Panel):
    """The live lab's panel (build it with :func:`live_lab`).

    Attributes (beside :class:`~simlab.ui.common.Panel`'s):
        buttons: ``{"start": ..., "stop": ..., "refresh": ...}``.
        status: the line that says whether and where the server runs.
        lab: the running :class:`~simlab.live.server.LiveLab`, else ``None``.
        plan: the :class:`LivePlan` the running (or last) server was started with.
        state: the last :class:`LiveState` drawn.
        redraws: how many times the live views were drawn.
    """

    def __init__(self, controls: Sequence[Mapping[str, Any]], refresh_interval: float = 0.25) -> None:
        self._runner = _Runner()
        self._run_lock = threading.RLock()
        self._view_lock = threading.RLock()
        self._pending: tuple[int, LiveState] | None = None
        self._scheduled = False
        self._generation = 0
        self._kernel_loop: asyncio.AbstractEventLoop | None = None
        self.refresh_interval = float(refresh_interval)
        self.plan: LivePlan | None = None
        self.state = LiveState(running=False)
        self.redraws = 0
        self.watch_errors: list[str] = []
        self.status = widgets.HTML()
        views = {"how to connect": widgets.HTML(), "sessions": widgets.HTML(), "server log": widgets.HTML(),
                 "mailboxes": widgets.HTML(), "relay queue": widgets.HTML()}
        titles = {"how to connect": t("ui.live.tab.connect"), "sessions": t("ui.live.tab.sessions"),
                  "server log": t("ui.common.tab.server_log"), "mailboxes": t("ui.live.tab.mailboxes"),
                  "relay queue": t("ui.live.tab.queue")}
        super().__init__(t("ui.live.title"), controls, plan_from, LiveLabPanel._render_plan, views, titles=titles)
        self.buttons = {"start": widgets.Button(description=t("ui.live.button.start"), button_style="success",
                                                icon="play"),
                        "stop": widgets.Button(description=t("ui.live.button.stop"), icon="stop", disabled=True),
                        "refresh": widgets.Button(description=t("ui.live.button.refresh"), icon="refresh",
                                                  disabled=True)}
        self.buttons["start"].on_click(lambda _b: self.start())
        self.buttons["stop"].on_click(lambda _b: self.stop())
        self.buttons["refresh"].on_click(lambda _b: self.refresh_views())
        children = list(self.children)
        at = children.index(self.message)  # buttons and status line go just above the message line
        children[at:at] = [widgets.HBox(list(self.buttons.values())), self.status]
        self.children = tuple(children)
        self._finalizer = weakref.finalize(self, _Runner.stop, self._runner)
        self.views["how to connect"].value = connect_html(None, None)
        self._draw(self.state)
        self._show_status()

    # --- public API -------------------------------------------------------------------------------
    @property
    def lab(self) -> LiveLab | None:
        return self._runner.lab

    def start(self) -> LiveLab | None:
        """Serve a fresh server with the controls' settings (stopping the one running); ``None`` on a bad entry,
        which the message line then explains."""
        try:
            plan = plan_from(self.values())
        except ConfigError as exc:
            self._show_error(t("ui.live.not_started", error=exc))
            return None
        except Exception as exc:  # never a traceback in a panel
            self._show_error(t("ui.live.could_not_build", error=exc))
            return None
        with self._run_lock:
            restarting = self.lab is not None
            self.stop(show=False)  # a second Start restarts: never two servers
            try:
                lab = serve(plan.build(), plan.smtp_port, plan.pop3_port, HOST, client_map=dict(plan.client_map))
            except ConfigError as exc:  # ListenError included: a port in use or not allowed
                return self._not_started(str(exc), restarting)
            except OSError as exc:
                return self._not_started(t("ui.live.cannot_listen", host=HOST, error=exc.strerror or exc), restarting)
            except Exception as exc:  # never a traceback in a panel
                return self._not_started(t("ui.live.could_not_start", error=exc), restarting)
            self._generation += 1
            generation = self._generation
            self._kernel_loop = _running_loop()
            self.plan = plan
            self._runner.swap(lab)
        self.error = None
        self.message.value = ""
        try:
            state = lab.call(snapshot, lab, timeout=2.0)
        except Exception:  # the watcher draws it a moment later
            state = None
        if state is not None:
            self._apply(generation, state)
        _Watcher(self, lab, generation).schedule(first=True)
        self.views["how to connect"].value = connect_html(lab, plan)
        self._set_buttons(running=True)
        self._show_status()
        return lab

    def stop(self, show: bool = True) -> None:
        """Stop the server (no thread or socket of it is left) and show its final state."""
        with self._run_lock:
            lab = self._runner.swap(None)
            if lab is None:
                return
            self._generation += 1  # updates still on their way from the old lab are dropped
            generation = self._generation
        lab.stop()
        if show:
            self._apply(generation, snapshot(lab))  # its thread has ended: the server is ours to read
            self.views["how to connect"].value = connect_html(None, None)
            self._set_buttons(running=False)
            self._show_status()

    def refresh_views(self) -> None:
        """Redraw the live views now (the watcher does it by itself; this is for the impatient)."""
        lab, generation = self._runner.lab, self._generation
        if lab is None:
            return
        try:
            state = lab.call(snapshot, lab, timeout=2.0)
        except Exception as exc:
            self._show_error(t("ui.live.no_answer", error=exc or type(exc).__name__))
            return
        self._apply(generation, state)
        self._show_status()

    def close(self) -> None:
        """Stop the server, then close the panel (its views disappear from the notebook)."""
        self.stop(show=False)
        self._finalizer.detach()
        super().close()

    def _not_started(self, text: str, restarting: bool = False) -> None:
        error = t("ui.live.not_started", error=text)
        self._show_error(error + t("ui.live.previous_stopped") if restarting else error)
        self._set_buttons(running=False)
        self._show_status()

    # --- drawing ---------------------------------------------------------------------------------------
    def _deliver(self, generation: int, state: LiveState) -> None:
        """From the lab's thread: keep the newest copy and have it drawn by the widgets' thread."""
        with self._view_lock:
            self._pending = (generation, state)
            if self._scheduled:
                return
            self._scheduled = True
        loop = self._kernel_loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._apply_pending)
                return
            except RuntimeError:  # the kernel's loop closed meanwhile
                pass
        self._apply_pending()

    def _apply_pending(self) -> None:
        with self._view_lock:
            pending, self._pending, self._scheduled = self._pending, None, False
        if pending is not None:
            self._apply(*pending)
            self._show_status()

    def _apply(self, generation: int, state: LiveState) -> None:
        with self._view_lock:
            if generation != self._generation:
                return  # from a lab stopped or replaced since
            self._draw(state)

    def _draw(self, state: LiveState) -> None:
        client_map = self.plan.client_map if self.plan is not None else {}
        self.state = state
        self.views["sessions"].value = sessions_html(state, client_map)
        self.views["server log"].value = server_log_html(state)
        self.views["mailboxes"].value = mailboxes_html(state)
        self.views["relay queue"].value = queue_html(state)
        self.redraws += 1

    def _set_buttons(self, running: bool) -> None:
        self.buttons["start"].description = t("ui.live.button.restart") if running else t("ui.live.button.start")
        self.buttons["stop"].disabled = not running
        self.buttons["refresh"].disabled = not running

    def _show_status(self) -> None:
        lab, plan, state = self.lab, self.plan, self.state
        if lab is None:
            state_word = t("ui.live.stopped") if plan is not None else t("ui.live.not_started_yet")
            text = "<b>" + state_word + "</b> " + t("ui.live.choose_then_start")
        else:
            running = "<b style='color:#2e7d32'>" + t("ui.live.running") + "</b>"
            clients = tn("ui.live.clients_count", state.connections)
            sessions = tn("ui.live.sessions_count", state.session_count)
            text = t("ui.live.status_running", running=running, label=html.escape(plan.label), host=HOST,
                     smtp="<b>" + str(lab.smtp_port) + "</b>", pop3="<b>" + str(lab.pop3_port) + "</b>",
                     clients=clients, sessions=sessions)
            if self.outcome is not None and self.outcome != plan:
                text += " <i>" + t("ui.live.changed_settings") + "</i>"
        self.status.value = f"<div class='simlab-live-status' style='font-size:13px;margin:2px 0'>{text}</div>"

    @staticmethod
    def _render_plan(panel: Panel, plan: LivePlan) -> None:
        if hasattr(panel, "buttons"):  # not while Panel.__init__ runs
            panel._show_status()


class _Watcher:
    """Runs on the lab's loop: every ``refresh_interval`` seconds, copy the state if it changed and deliver it."""

    def __init__(self, panel: LiveLabPanel, lab: LiveLab, generation: int) -> None:
        self.panel, self.lab, self.generation = panel, lab, generation
        self.seen: tuple | None = None

    def schedule(self, first: bool = False) -> None:
        try:
            if first:
                self.lab.loop.call_soon_threadsafe(self.tick)
            else:
                self.lab.loop.call_later(self.panel.refresh_interval, self.tick)
        except RuntimeError:  # the loop has closed: the lab stopped
            pass

    def tick(self) -> None:
        if not self.lab.running or self.panel._generation != self.generation:
            return  # stopped or replaced: no more ticks
        try:
            signature = _signature(self.lab)
            if signature != self.seen:
                self.seen = signature
                self.panel._deliver(self.generation, snapshot(self.lab))
        except Exception as exc:  # a drawing fault must not reach the lab's loop (nor lab.errors)
            self.panel.watch_errors.append(repr(exc))
        self.schedule()


def live_lab(preset: str = "eims-2.1", relay_restriction: bool = True, client_map: str = DEFAULT_CLIENT_MAP,
             smtp_port: int | str = 0, pop3_port: int | str = 0, refresh_interval: float = 0.25) -> LiveLabPanel:
    """A simulated server on real loopback sockets, for real clients (telnet, nc, swaks, smtplib, poplib).

    Controls: the product (every registered one); its relay settings in its own words - the rule on the
    sender's domain and its domain list (EIMS 2.1's Relay Restriction), the allow-list of each product that
    relays by the client's address (SIMS's Client Hosts, Postfix's mynetworks, Exim's relay_from_hosts);
    the client map (``127.0.0.2=203.0.113.50``: loopback address = the address the server sees); the SMTP
    and POP3 ports (0: any free port). Buttons: Start (again: restart), Stop, Refresh. Views: how to
    connect (ports and commands), the sessions (transcripts, newest first), the server log, the mailboxes
    and the relay queue; they follow what clients do while the server runs.
    """
    by_sender = products.RELAY_BY_SENDER_DOMAIN
    allowlists = allowlist_controls(SITE.lan)
    controls = [
        {"name": "preset", "type": "Dropdown", "options": product_menu(), "value": preset,
         "description": t("ui.common.server"), "fallback": "eims-2.1"},
        {"name": "relay_restriction", "type": "Checkbox", "value": bool(relay_restriction),
         "description": setting_description(by_sender, lambda p: "relay_restriction")},
        {"name": "relay_domains", "type": "Text", "value": "", "placeholder": "partner.test",
         "description": setting_description(by_sender, lambda p: "relay_domains")},
        *allowlists,
        {"name": "client_map", "type": "Text", "value": str(client_map), "placeholder": "127.0.0.2=203.0.113.50",
         "description": t("ui.live.client_map")},
        {"name": "smtp_port", "type": "Text", "value": str(smtp_port), "placeholder": t("ui.live.any_free_port"),
         "description": t("ui.live.smtp_port")},
        {"name": "pop3_port", "type": "Text", "value": str(pop3_port), "placeholder": t("ui.live.any_free_port"),
         "description": t("ui.live.pop3_port")},
    ]
    panel = LiveLabPanel(controls, refresh_interval=refresh_interval)
    enable_by_product(panel, {"relay_restriction": lambda p: p.can(by_sender),
                              "relay_domains": lambda p: p.can(by_sender),
                              **{c["name"]: (lambda p, s=c["name"]: p.relay_allowlist_setting == s
                                             and p.relay_allowlist_by_default) for c in allowlists}})
    return panel
