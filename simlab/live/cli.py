"""Command line: serve a simulated server on loopback sockets until Ctrl-C.

    python -m simlab serve --preset eims-2.1 --smtp-port 2525 --pop3-port 1110 \\
        --set relay_restriction=yes --account webmaster:webmaster --client-map 127.0.0.2=203.0.113.50 --log

Then, in another terminal, talk to it with any client: ``telnet 127.0.0.1
2525``, ``nc -C 127.0.0.1 2525``, ``swaks --server 127.0.0.1:2525 --from
a@remote.test --to b@remote.test``. ``--set`` and ``--account`` work as for
``python -m simlab smtp``; ``--client-map REAL=SHOWN`` makes a loopback
address appear to the server as a documentation address (connect from it
with ``nc -s 127.0.0.2``, ``swaks --local-interface 127.0.0.2``). Ports 0
pick free ports; the command prints where it listens. Ctrl-C (SIGINT) or
SIGTERM stops it; ``--log`` then prints the server's log.
"""

from __future__ import annotations

import argparse
import inspect
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.presets import PRESETS
from simlab.protocol.server import MailServer

__all__ = ["add_serve_parser", "run_serve", "main", "build_server", "convert_setting"]

# --- settings typed on a command line (``python -m simlab`` imports them from here: one direction) ----------

_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


def convert_setting(name: str, text: str, default: object) -> object:
    """``text`` typed for setting ``name`` as the kind of value its ``default`` is: yes/no, a number, a list."""
    if isinstance(default, bool):
        lowered = text.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ConfigError(name, text, t("setting.error.not_yes_no"), t("setting.expected.yes_no"))
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ConfigError(name, text, t("setting.error.not_whole_number"),
                              t("setting.expected.whole_number")) from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise ConfigError(name, text, t("setting.error.not_number"), t("setting.expected.number")) from None
    if isinstance(default, tuple | list) or default is None or (isinstance(default, str) and "," in text):
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def build_server(preset: str, settings: Sequence[str] = (), accounts: Sequence[str] = ()) -> MailServer:
    """Build a preset from ``NAME=VALUE`` strings and ``user:password`` accounts."""
    if preset not in PRESETS:
        raise ConfigError("--preset", preset, t("cli.error.not_a_preset"),
                          t("expected.one_of", choices=", ".join(PRESETS)))
    factory = PRESETS[preset]
    parameters = inspect.signature(factory).parameters
    kwargs: dict[str, object] = {}
    for item in settings:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ConfigError("--set", item, t("cli.error.no_equals"), "NAME=VALUE")
        if name not in parameters or name in ("clock", "restrictions", "accounts", "dns"):
            usable = [p for p in parameters if p not in ("clock", "restrictions", "accounts", "dns")]
            raise ConfigError("--set", name, t("cli.error.not_a_setting", preset=preset),
                              t("expected.one_of", choices=", ".join(usable)))
        kwargs[name] = convert_setting(name, value.strip(), parameters[name].default)
    table: dict[str, str] = {}
    for item in accounts:
        user, sep, password = item.partition(":")
        if not sep or not user:
            raise ConfigError("--account", item, t("cli.error.not_an_account"), "user:password")
        table[user] = password
    if table:
        kwargs["accounts"] = table
    return factory(**kwargs)



# --- serve --------------------------------------------------------------------------------------------------


def add_serve_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``serve`` command to a ``python -m simlab`` parser's subcommands."""
    p = subparsers.add_parser("serve", help=t("serve.help"), description=t("serve.description"))
    p.add_argument("--preset", default="postfix", help=t("cli.preset.help", choices=", ".join(PRESETS)))
    p.add_argument("--host", default="127.0.0.1", help=t("serve.host.help"))
    p.add_argument("--smtp-port", type=int, default=2525, help=t("serve.port.help", protocol="SMTP", port=2525))
    p.add_argument("--pop3-port", type=int, default=1110, help=t("serve.port.help", protocol="POP3", port=1110))
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=t("cli.set.help"))
    p.add_argument("--account", action="append", default=[], metavar="USER:PASSWORD", help=t("cli.account.help"))
    p.add_argument("--client-map", action="append", default=[], metavar="REAL=SHOWN", help=t("serve.client_map.help"))
    p.add_argument("--xclient-host", action="append", default=[], metavar="ADDRESS", help=t("serve.xclient.help"))
    p.add_argument("--max-connections", type=int, default=100, help=t("serve.max_connections.help"))
    p.add_argument("--idle-timeout", type=float, default=300, help=t("serve.idle_timeout.help"))
    p.add_argument("--log", action="store_true", help=t("serve.log.help"))
    return p


def _client_map(items: Sequence[str]) -> dict[str, str]:
    table = {}
    for item in items:
        real, sep, shown = item.partition("=")
        if not sep or not real.strip() or not shown.strip():
            raise ConfigError("--client-map", item, t("serve.error.not_a_pair"), t("serve.expected.pair"))
        table[real.strip()] = shown.strip()
    return table


def _printable(line: str) -> str:
    """A log line that any terminal can print (undecodable client bytes as ``\\xNN``)."""
    return line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def run_serve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stop: threading.Event | None = None) -> int:
    """Run ``serve`` until Ctrl-C, SIGTERM or ``stop`` is set; returns the exit status.

    From the main thread, SIGINT and SIGTERM stop the server cleanly; from
    another thread only ``stop`` does.
    """
    from simlab.live.server import ListenError, serve

    stop = stop or threading.Event()
    try:
        server = build_server(args.preset, args.set, args.account)
        lab = serve(server, args.smtp_port, args.pop3_port, args.host, client_map=_client_map(args.client_map),
                    xclient_hosts=args.xclient_host, max_connections=args.max_connections,
                    idle_timeout=args.idle_timeout)
    except ListenError as exc:  # a port in use or not allowed: the operating system's no, as before (status 1)
        stderr.write(t("cli.error", message=exc) + "\n")
        return 1
    except ConfigError as exc:
        stderr.write(t("cli.error", message=exc) + "\n")
        return 2
    except OSError as exc:
        stderr.write(t("cli.error", message=t("serve.error.cannot_listen", host=args.host,
                                               reason=exc.strerror or exc)) + "\n")
        return 1
    previous = None
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        stdout.write("".join(f"simlab: {line}\n" for line in (
            t("serve.serving", product=server.persona.product, hostname=server.hostname),
            t("serve.listening", protocol="SMTP", host=lab.host, port=lab.smtp_port),
            t("serve.listening", protocol="POP3", host=lab.host, port=lab.pop3_port),
            t("serve.stop_hint", host=lab.host, port=lab.smtp_port))))
        stdout.flush()
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        lab.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    stdout.write("simlab: " + t("serve.stopped") + "\n")
    stdout.flush()
    if args.log:
        for line in server.log:
            stderr.write(_printable(line) + "\n")
        stderr.flush()
    return 0


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """``python -m simlab.live.cli serve ...``: the ``serve`` command on its own."""
    parser = argparse.ArgumentParser(prog="python -m simlab.live.cli", description=t("serve.description"))
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_parser(sub)
    args = parser.parse_args(argv)
    return run_serve(args, stdout or sys.stdout, stderr or sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
