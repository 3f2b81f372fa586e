"""Lesson 05 panel: a spammer rotating IP addresses against per-address blocking and an allow-list.

The thread's moderator once watched one person relay spam through a server
while changing IP address at random. The panel pits the defences of
:func:`simlab.scenarios.ip_rotation` against a pool of addresses and shows
what each costs: spam still relayed, and legitimate mail lost when the
blocks catch alice, who works from outside.
"""

from __future__ import annotations

import html
from datetime import timedelta

import ipywidgets as widgets

from simlab import products
from simlab.addresses.networks import ClientNetworks
from simlab.exercises.rotation import DEFENCES, SPAMMER, allowlist_used, bans_in_order, lost_by_sender, rotation_day
from simlab.plots import COLOURS, LABELS, outcome_bars
from simlab.scenarios import HOUR, run
from simlab.ui.common import Panel, choice_label, log_html, product_menu, summary_html, transcript_html

__all__ = ["rotation_lab", "pool_sweep_figure", "bans_figure", "spammer_sessions_html", "KEYS", "LAB_HOURS"]
KEYS = ("spam_relayed", "spam_refused", "legit_refused", "legit_logins_refused", "bans")
#: The panel replays half a day, so that it answers quickly; the notebook runs whole days.
LAB_HOURS = 12


def pool_sweep_figure(sweep, sent: int | None = None, title: str = ""):
    """Spam relayed in a day against the spammer's pool size, one line per defence.

    ``sweep`` is what :func:`simlab.exercises.rotation.pool_sweep` returns; ``sent``, if given,
    draws the number of spams sent as a dotted line. The pool sizes are spaced evenly and
    labelled with their values (a category axis), and each point carries its count.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    colours = ["#d1495b", "#00798c", "#edae49", "#30638e", "#66a182"]
    sizes = sorted({size for by_size in sweep.values() for size in by_size})
    position = {size: n for n, size in enumerate(sizes)}
    top = max([sent or 0, *(r["spam_relayed"] for by_size in sweep.values() for r in by_size.values()), 1])
    for n, (colour, (defence, by_size)) in enumerate(zip(colours, sweep.items(), strict=False)):
        points = sorted(by_size)
        values = [by_size[size]["spam_relayed"] for size in points]
        ax.plot([position[size] for size in points], values, "o-", color=colour, label=DEFENCES.get(defence, defence))
        below = n % 2 == 1  # alternate lines put their counts below the points, so that labels do not collide
        for size, value in zip(points, values, strict=True):
            ax.annotate(str(value), (position[size], value), xytext=(0, -13 if below else 7),
                        textcoords="offset points", ha="center", fontsize=8, color=colour)
    if sent:
        ax.axhline(sent, color="#777777", ls=":", lw=1)
        ax.text(0.01, sent, f"spam sent ({sent})", va="bottom", fontsize=8, color="#777777",
                transform=ax.get_yaxis_transform())
    ax.set_xticks(range(len(sizes)), [str(size) for size in sizes])
    ax.set_xlim(-0.4, len(sizes) - 0.6)
    ax.set_ylim(-0.12 * top, top * 1.25)
    ax.set_xlabel("addresses in the spammer's pool (evenly spaced, not to scale)")
    ax.set_ylabel("spam relayed in one day")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(0.0, 0.76))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title or "More addresses, more spam past per-address bans; none past an allow-list", loc="left",
                 fontsize=10)
    return fig


def bans_figure(result, title: str = ""):
    """The day in time, two panels on one clock.

    Above: spam relayed so far, and each ban as a tick (red and named: an address that is not
    the spammer). Below, on its own scale: legitimate mail lost so far - a handful of messages
    that would be invisible on the spam's scale.
    """
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 4.4), layout="constrained")
    ax, below = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    start = result.start
    end = start + timedelta(seconds=result.world.loop.now)
    relayed = sorted(t for t, what in result.timeline if what == "spam_relayed")
    lost = sorted(t for t, what in result.timeline if what == "legit_refused")
    for axis, times, key in ((ax, relayed, "spam_relayed"), (below, lost, "legit_refused")):
        clock = [start, *(start + timedelta(seconds=t) for t in times), end]
        counts = [0, *range(1, len(times) + 1), len(times)]
        axis.step(clock, counts, where="post", color=COLOURS[key], label=f"{LABELS[key]} so far ({len(times)})")
        axis.legend(frameon=False, fontsize=8, loc="upper left")
        axis.spines[["top", "right"]].set_visible(False)
    bans = bans_in_order(result)
    top = max(len(relayed), 1)
    for t, ip, by in bans:
        staff = not ip.startswith("203.0.113.")
        ax.plot([start + timedelta(seconds=t)] * 2, [-0.06 * top, -0.01 * top], color="#b00020" if staff else "#777777",
                lw=2.5 if staff else 1)
        if staff:
            ax.annotate(f"{ip} banned ({by})", (start + timedelta(seconds=t), -0.06 * top), xytext=(0, -14),
                        textcoords="offset points", ha="center", fontsize=8, color="#b00020")
    if bans:
        ax.plot([], [], color="#777777", label=f"a ban ({len(bans)} in all)")
        ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.set_ylim(-0.16 * top, top * 1.08)
    ax.set_yticks([tick for tick in ax.get_yticks() if 0 <= tick <= top * 1.08])
    ax.set_ylabel("spam messages")
    below.set_ylim(0, max(len(lost), 1) * 1.3)
    below.set_ylabel("mail lost")
    below.yaxis.get_major_locator().set_params(integer=True)
    below.xaxis.set_major_formatter(DateFormatter("%H:%M"))
    ax.set_title(title or f"{result.preset}: spam relayed and bans over the day", loc="left", fontsize=10)
    return fig


def spammer_sessions_html(result) -> str:
    """How the spammer's connections went, and the dialogue of its first and of its last session."""
    events = result.events
    connects = events[(events.actor == SPAMMER) & (events.command == "CONNECT")]
    ended = events[(events.actor == SPAMMER) & (events.command == ".")]
    dropped = int(connects.outcome.isin(["filtered", "dropped", "refused"]).sum())
    addresses = connects.client_ip.nunique()
    sent = int((ended.reply_code == 250).sum())
    parts = [f"<p>The spammer connected {len(connects)} times from {addresses} addresses: {sent} messages "
             f"accepted, {len(connects) - dropped - sent} refused in the dialogue, {dropped} connections dropped "
             "by a ban before any banner.</p>"]
    sessions = [t for t in result.transcripts if t.actor == SPAMMER]
    for label, record in (("first", sessions[:1]), ("last", sessions[-1:] if len(sessions) > 1 else [])):
        for t in record:
            when = result.start + timedelta(seconds=t.start)
            parts.append(f"<p><b>The {label} session</b>, from {t.client_ip} at {when:%H:%M:%S}:</p>")
            parts.append(transcript_html(t.lines, height=200))
    return "".join(parts)


def _costs_html(result) -> str:
    lost = lost_by_sender(result)
    staff_bans = [(t, ip, by) for t, ip, by in bans_in_order(result) if not ip.startswith("203.0.113.")]
    items = [f"<li>{html.escape(who)}: {n} message(s) lost</li>" for who, n in lost.items()]
    items += [f"<li><b style='color:#b00020'>{ip} banned by {by}</b> at "
              f"{result.start + timedelta(seconds=t):%H:%M} - not the spammer</li>" for t, ip, by in staff_bans]
    return ("<p style='font-size:12px;margin:6px 0 0'>what it cost:</p><ul style='font-size:12px;margin:0'>"
            f"{''.join(items) or '<li>nothing</li>'}</ul>")


def _menu_label(product: products.Product) -> str:
    """The product as the day runs it: a rule on the sender's domain is switched on (EIMS 2.1 Relay Restriction)."""
    on = product.relay_restriction(True) if product.can(products.RELAY_BY_SENDER_DOMAIN) else {}
    return choice_label(product, on)


def _allowlist_names() -> str:
    """The products' own names for their relay allow-lists: ``valid IPs / Client Hosts / mynetworks``."""
    names = [p.setting_label(p.relay_allowlist_setting) for p in products.with_capability(products.RELAY_BY_CLIENT_IP)]
    return " / ".join(dict.fromkeys(names))


def rotation_lab(preset: str = "eims-2.1", seed: int = 1) -> Panel:
    """A spammer changing address at random, against the defence you choose.

    Controls: the server, the defence, the spammer's pool size, the per-address ban threshold
    (fail2ban ``maxretry``, or the admin's count), how the spammer switches addresses, who may
    relay (the product's allow-list), and the seed. Views: spam relayed vs legitimate mail lost
    and bans (with who else was banned), the server log, and the spammer's sessions. It replays
    the first 12 hours of the day.
    """
    controls = [
        {"name": "preset", "type": "Dropdown", "options": product_menu(label=_menu_label), "value": preset,
         "description": "server"},
        {"name": "defence", "type": "Dropdown", "options": [(label, key) for key, label in DEFENCES.items()],
         "value": "per_ip_ban"},
        {"name": "pool_size", "type": "IntSlider", "value": 50, "min": 1, "max": 250,
         "description": "spammer's addresses (pool size)"},
        {"name": "ban_after", "type": "IntSlider", "value": 3, "min": 1, "max": 10,
         "description": "ban after this many relayed messages"},
        {"name": "switch", "type": "Dropdown", "value": "session",
         "options": [("new address for every message", "session"), ("new address only when refused", "refusal")],
         "description": "the spammer switches"},
        {"name": "relay_networks", "type": "Text", "value": "192.0.2.0/24",
         "description": f"may relay ({_allowlist_names()})"},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20},
    ]

    def compute(v: dict):
        networks = [str(r) for r in ClientNetworks(v["relay_networks"], setting="may relay")]
        scenario = rotation_day(v["preset"], v["defence"], v["pool_size"], v["ban_after"], v["switch"],
                                relay_networks=networks if allowlist_used(v["preset"], v["defence"]) else None,
                                duration=LAB_HOURS * HOUR)
        return run(scenario, seed=v["seed"])

    views = {"outcome": widgets.HBox([widgets.Image(format="png"), widgets.HTML()]),
             "server log": widgets.HTML(), "the spammer's sessions": widgets.HTML()}

    def render(panel: Panel, result) -> None:
        chart, table = panel.views["outcome"].children
        defence = DEFENCES[panel.controls["defence"].value]
        panel.set_figure(chart, outcome_bars(result.summary, KEYS, title=f"{result.preset}, {defence}: 12 hours"))
        table.value = summary_html(result.summary, KEYS) + _costs_html(result)
        if not allowlist_used(result.preset, panel.controls["defence"].value):
            table.value += ("<p style='font-size:12px;color:#777'>The 'may relay' list is not used here: EIMS "
                            "checks it only with the allow-list defence (EIMS 1.2 has none).</p>")
        panel.views["server log"].value = log_html(result.log, highlight=r"198\.51\.100\.77|refused|prohibited|reject")
        panel.views["the spammer's sessions"].value = spammer_sessions_html(result)

    return Panel("A spammer rotating IP addresses", controls, compute, render, views)
