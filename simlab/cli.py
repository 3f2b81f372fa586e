"""Command line: talk SMTP or POP3 to a simulated server on standard input and output.

    python -m simlab smtp --preset eims-2.1 --client-ip 203.0.113.7
    python -m simlab pop3 --preset eims-2.1 --account webmaster:webmaster
    python -m simlab presets
    python -m simlab list
    python -m simlab run relay_probe --preset eims-1.2 --seed 1
    python -m simlab compare relay_probe --preset eims-2.1 --change relay_restriction=yes --seeds 1-5
    python -m simlab serve --preset eims-2.1 --smtp-port 2525 --pop3-port 1110

The server answers each line you type, with CRLF line ends as on the wire,
so ``swaks --pipe "python -m simlab smtp ..."`` works. ``--set NAME=VALUE``
sets any preset setting by its product name (``--set relay_restriction=yes``,
``--set mynetworks=192.0.2.0/24``); lists are comma-separated. ``--log``
prints the server's log to standard error when the session ends.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Sequence
from typing import TextIO

from simlab.errors import ConfigError
from simlab.i18n import t, tn
from simlab.live.cli import add_serve_parser, build_server, convert_setting, run_serve
from simlab.presets import PRESETS
from simlab.scenarios import SCENARIOS, load_scenario, run

__all__ = ["main", "build_server"]

def parse_knobs(name: str, items: Sequence[str], option: str = "--set") -> dict[str, object]:
    """``NAME=VALUE`` knobs of scenario ``name``, each converted to the kind of the knob."""
    if name not in SCENARIOS:
        raise ConfigError("scenario", name, t("cli.error.not_a_scenario"),
                          t("expected.one_of", choices=", ".join(SCENARIOS)))
    parameters = inspect.signature(SCENARIOS[name]).parameters
    kwargs: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(option, item, t("cli.error.no_equals"), "NAME=VALUE")
        if key not in parameters:
            raise ConfigError(option, key, t("cli.error.not_a_knob", scenario=name),
                              t("expected.one_of", choices=", ".join(parameters)))
        kwargs[key] = convert_setting(key, value.strip(), _example_of(parameters[key]))
    return kwargs


def build_scenario(name: str, preset: str | None, settings: Sequence[str] = ()):
    """A scenario from its name and ``NAME=VALUE`` knobs."""
    kwargs = parse_knobs(name, settings)
    if preset is not None:
        kwargs["preset"] = preset
    return SCENARIOS[name](**kwargs)


def parse_seeds(text: str) -> list[int]:
    """``"1-5"`` or ``"1,2,7"``: the seeds of a comparison."""
    seeds: list[int] = []
    for part in text.replace(" ", "").split(","):
        low, dash, high = part.partition("-")
        try:
            seeds += list(range(int(low), int(high) + 1)) if dash else [int(low)]
        except ValueError:
            raise ConfigError("--seeds", text, t("cli.error.not_seeds"), t("cli.expected.seeds")) from None
    if not seeds:
        raise ConfigError("--seeds", text, t("cli.error.empty"), t("cli.expected.seeds"))
    return seeds


def _compare(args, stdout: TextIO) -> None:
    from simlab.comparison import compare

    baseline = parse_knobs(args.scenario, args.set)
    if args.preset is not None:
        baseline["preset"] = args.preset
    change = parse_knobs(args.scenario, args.change, "--change")
    result = compare(SCENARIOS[args.scenario], baseline, change, seeds=parse_seeds(args.seeds))
    seeds = result.runs["seed"].nunique()
    stdout.write(tn("cli.compare.heading", seeds, scenario=args.scenario,
                    change=", ".join(f"{k}={v}" for k, v in change.items()),
                    baseline=", ".join(f"{k}={v}" for k, v in baseline.items()) or t("cli.compare.defaults"))
                 + "\n\n")
    moved = result.changed()
    if moved.empty:
        stdout.write("  " + t("cli.compare.nothing_changed") + "\n")
    columns = [t("cli.compare.figure"), t("cli.compare.baseline"), t("cli.compare.change"),
               t("cli.compare.difference"), t("cli.compare.interval")]
    width = max([len(key) for key in moved.index] + [len(columns[0])])
    stdout.write(f"  {columns[0]:<{width}}  {columns[1]:>9}  {columns[2]:>9}  {columns[3]:>10}  {columns[4]}\n")
    for key, row in moved.iterrows():
        stdout.write(f"  {key:<{width}}  {row['baseline']:9.1f}  {row['change']:9.1f}  {row['difference']:+10.1f}  "
                     f"[{row['low']:+.1f}, {row['high']:+.1f}]\n")
    stdout.write(f"\n  {result.sentence()}\n")


def _example_of(parameter: inspect.Parameter) -> object:
    """A value of the knob's kind: its default, or for a knob that defaults to None, what its annotation says."""
    if parameter.default is not None:
        return parameter.default
    kind = str(parameter.annotation).split("|")[0].strip()
    return {"bool": False, "int": 0, "float": 0.0, "str": ""}.get(kind)


def _run(args, stdout: TextIO) -> None:
    if args.scenario.endswith(".toml"):
        if args.preset is not None or args.set:
            raise ConfigError("--preset/--set", args.scenario, t("cli.error.file_settings"),
                              t("cli.expected.file_settings"))
        scenario = load_scenario(args.scenario)
    else:
        scenario = build_scenario(args.scenario, args.preset, args.set)
    result = run(scenario, seed=args.seed, counts_only=args.counts_only)
    stdout.write(t("cli.run.heading", title=scenario.title, preset=scenario.preset, seed=args.seed) + "\n\n")
    width = max(len(key) for key in result.summary)
    for key, value in result.summary.items():
        stdout.write(f"  {key:<{width}}  {value}\n")
    if args.tail and result.log:
        stdout.write("\n" + tn("cli.run.tail", len(result.log), shown=min(args.tail, len(result.log))) + "\n")
        for line in result.tail(args.tail):
            stdout.write(f"  {line}\n")


def _serve(session, stdin: TextIO, stdout: TextIO) -> None:
    def write(reply) -> None:
        for line in reply.wire_lines:
            stdout.write(line + "\r\n")
        stdout.flush()

    if session.greeting is None:
        stdout.write("(" + t("cli.session.no_banner") + ")\r\n")
        return
    write(session.greeting)
    for raw in stdin:
        if session.closed:
            break
        reply = session.send(raw.rstrip("\r\n"))
        if reply is not None:
            write(reply)
        closing = getattr(session, "closing_reply", None)
        if closing is not None:
            write(closing)
        if session.closed:
            break
    if not session.closed:
        session.close()


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = argparse.ArgumentParser(prog="python -m simlab", description=t("cli.description"))
    sub = parser.add_subparsers(dest="command", required=True)
    for name, port in (("smtp", 25), ("pop3", 110)):
        p = sub.add_parser(name, help=t("cli.speak.help", protocol=name.upper()))
        p.add_argument("--preset", default="postfix", help=t("cli.preset.help", choices=", ".join(PRESETS)))
        p.add_argument("--client-ip", default="203.0.113.7", help=t("cli.client_ip.help"))
        p.add_argument("--port", type=int, default=port, help=t("cli.port.help", port=port))
        p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=t("cli.set.help"))
        p.add_argument("--account", action="append", default=[], metavar="USER:PASSWORD", help=t("cli.account.help"))
        p.add_argument("--log", action="store_true", help=t("cli.log.help"))
    sub.add_parser("presets", help=t("cli.presets.help"))
    add_serve_parser(sub)
    sub.add_parser("list", help=t("cli.list.help"))
    runner = sub.add_parser("run", help=t("cli.run.help"))
    runner.add_argument("scenario", help=t("cli.run.scenario.help", choices=", ".join(SCENARIOS)))
    runner.add_argument("--preset", default=None, help=t("cli.site_preset.help", choices=", ".join(PRESETS)))
    runner.add_argument("--seed", type=int, default=1, help=t("cli.seed.help"))
    runner.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=t("cli.knob.help"))
    runner.add_argument("--tail", type=int, default=15, help=t("cli.tail.help"))
    runner.add_argument("--counts-only", action="store_true", help=t("cli.counts_only.help"))
    comparer = sub.add_parser("compare", help=t("cli.compare.help"))
    comparer.add_argument("scenario", help=t("expected.one_of", choices=", ".join(SCENARIOS)))
    comparer.add_argument("--preset", default=None, help=t("cli.site_preset.help", choices=", ".join(PRESETS)))
    comparer.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                          help=t("cli.compare.set.help"))
    comparer.add_argument("--change", action="append", default=[], metavar="NAME=VALUE", required=True,
                          help=t("cli.compare.change.help"))
    comparer.add_argument("--seeds", default="1-5", help=t("cli.seeds.help"))
    args = parser.parse_args(argv)
    if args.command == "serve":
        return run_serve(args, stdout, stderr)
    if args.command == "list":
        for name, factory in SCENARIOS.items():
            summary = (inspect.getdoc(factory) or "").splitlines()[0]
            knobs = [p for p in inspect.signature(factory).parameters]
            stdout.write(f"{name}: {summary}\n  " + t("cli.list.knobs", knobs=", ".join(knobs)) + "\n")
        return 0
    if args.command in ("run", "compare"):
        try:
            (_run if args.command == "run" else _compare)(args, stdout)
        except ConfigError as exc:
            stderr.write(t("cli.error", message=exc) + "\n")
            return 2
        return 0
    if args.command == "presets":
        for name, factory in PRESETS.items():
            summary = (inspect.getdoc(factory) or "").splitlines()[0]
            settings = [p for p in inspect.signature(factory).parameters
                        if p not in ("clock", "restrictions", "dns")]
            stdout.write(f"{name}: {summary}\n  " + t("cli.presets.settings", settings=", ".join(settings)) + "\n")
        return 0
    try:
        server = build_server(args.preset, args.set, args.account)
        if args.command == "smtp":
            session = server.smtp_session(args.client_ip, port=args.port)
        else:
            session = server.pop3_session(args.client_ip, port=args.port)
    except ConfigError as exc:
        stderr.write(t("cli.error", message=exc) + "\n")
        return 2
    _serve(session, stdin, stdout)
    if args.log:
        for line in server.log:
            stderr.write(line + "\n")
    return 0
