# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Sandbox: your server, your attackers, your defences
#
# **Learning goals**
#
# * Build a day of your own in code: a `Scenario` with a server, its settings, the people and
#   attackers around it (`simlab.engine.actors`) and the defences, run it with `simlab.run`.
# * Read a result: the counts, the events table (pandas), the log, a timeline.
# * Sweep one knob and chart what it changes.
# * Find settings on a 1998 product that survive the thread's three attackers at once without
#   costing the site any of its own mail.
#
# **The story, in our words.** Each case of the thread came one at a time: a log of refused
# POP3 logins, a relay probe, a spoofed `Postmaster@` sender, a spammer hopping between
# addresses. A real server meets them on the same day, next to staff who must keep sending and
# reading mail and correspondents whose mail must keep arriving. The forum's last word was to
# allow what is legitimate rather than register every abuser by hand: the moderator, Motoyuki
# Tanaka, explained on 17 June 1998 (17:18) that EIMS's "only route for local domains and the
# following domains" is enough to stop third-party relaying, and Miyamura replied the next day
# (18 June, 12:19) that they had thought one had to read the logs and register each suspicious
# party. Here you test that advice against everything at once, on the products the thread's
# admins actually had.
#
# **Addresses used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `mail.example.com`, 192.0.2.25 | the admin's mail server (EIMS or SIMS on a Mac) |
# | `example.com`, 192.0.2.0/24 | the admin's domain (mycompany.co.jp) and network |
# | bob (192.0.2.101), alice (198.51.100.77) | staff in the office and away from it |
# | carol's server 198.51.100.90, yourcompany's 198.51.100.80 | correspondents (yourcompany.co.jp) |
# | 203.0.113.50 | the spoofing spammer's host (S4) |
# | 203.0.113.1-250 | the rotating spammer's pool of addresses |
# | 203.0.113.226 | the password guesser (203.216.11.226, S1) |

# %%
# %matplotlib inline
import simlab
from simlab import plots
from simlab.engine.actors import LocalUser, Pop3Guesser, RemoteMta, SpoofingSpammer
from simlab.restrictions import Fail2Ban
from simlab.scenarios import HOUR, Scenario

# %% [markdown]
# ## 1. A day, built by hand
#
# A scenario is plain configuration: which product, its settings in the product's own names,
# who talks to it, for how long, and any defences outside the product. Actors are small classes
# whose docstrings say what real behaviour they model; every random choice comes from the run's
# seed, so the same seed gives the same day.
#
# Here: EIMS 2.1 with Relay Restriction on, bob and a correspondent, the spoofing spammer of S4
# and the guesser of S1, with fail2ban watching the POP3 log. fail2ban (a modern tool, from
# 2004) bans an address at the firewall when its log lines match too often: here its defaults,
# 5 failures within 10 minutes for a 10-minute ban. Its `ignoreip` lists addresses it must
# never ban - here the site's own network, 192.0.2.0/24.
#
# **Predict**, then run: of the spammer's 10 messages, how many does EIMS 2.1 relay?

# %%
day = Scenario(
    name="by hand", title="EIMS 2.1, Relay Restriction on, a spoofer and a guesser", preset="eims-2.1",
    settings={"relay_restriction": True},
    actors=[
        LocalUser("bob (LAN)", "pc-bob", account="bob", password="Tr0ub4dor&3", send_every=2 * HOUR,
                  check_every=30 * 60, recipients=("carol@remote.test",)),
        RemoteMta("carol's MTA", "mail.remote.test", ip="198.51.100.90", domain="remote.test",
                  recipients=("bob", "alice"), send_every=HOUR),
        SpoofingSpammer("spoofing spammer", "attacker", ips=("203.0.113.50",), local_domain="example.com",
                        victims=("user_name@yourcompany.test",), messages=10, every=HOUR),
        Pop3Guesser("guesser", "attacker", ips=("203.0.113.226",), accounts=("bob", "webmaster", "info"),
                    dictionary=("password", "123456"), pace=120.0, at=HOUR),
    ],
    duration=12 * HOUR,
    restrictions=[Fail2Ban(jail="pop3", failregex="eims-pop3", maxretry=5, findtime=600, bantime=600,
                           ignoreip=["192.0.2.0/24"])],
)
result = simlab.run(day, seed=1)
{k: result.summary[k] for k in ("spam_relayed", "spam_refused", "accounts_compromised", "bans", "legit_delivered",
                                "legit_refused")}

# %% [markdown]
# All ten: the spammer writes `MAIL FROM:<Postmaster@example.com>`, and Relay Restriction trusts
# the sender's domain (the thread's S4: Tamachan, 15 June 1998). And fail2ban never fired
# (`bans` 0): the guesser failed three times on bob, then its *first* try at `webmaster` and at
# `info` was right - each account's own name, the guess kazu warned of on 24 May 1998. Two
# accounts broken into; all 16 legitimate messages (bob's 5, carol's 11) arrived.
#
# ## 2. Reading the result
#
# `result.events` is a pandas table, one row per command and reply. Which replies did each
# actor get at `RCPT`? (`mail.example.com (relay)` is the server itself, passing accepted mail on.)

# %%
events = result.events
events[events.command == "RCPT"].groupby(["actor", "reply_code"]).size()

# %%
print("\n".join(line for line in result.log if "203.0.113.226" in line))

# %% [markdown]
# The log as the admin saw it: three `POP3 wrong password` lines, then two ordinary
# `POP3 connection ... for webmaster` / `for info` lines - the break-ins look exactly like their
# owners' logins (S1). Per hour:

# %%
from simlab.ui.sandbox import readable_timeline  # noqa: E402

readable_timeline(result, what=("spam_relayed", "guess_succeeded", "log_lines"), title="The day, per hour")

# %% [markdown]
# ## 3. The same, with the lesson's builder
#
# `sandbox_scenario` assembles the site's whole ordinary day (bob, alice roaming, two
# correspondents) and any attackers from plain numbers - per-day rates, pool sizes - the way
# the panel below does: here the spoofing spammer at a rate of 20 messages *a day*, a day cut
# to 12 hours, and the guesser.
#
# **Predict:** how many spoofed messages get through in those 12 hours?

# %%
from simlab.exercises.sandbox import sandbox_scenario  # noqa: E402

scenario = sandbox_scenario("eims-2.1", {"relay_restriction": True}, defences={"fail2ban": 600},
                            duration_hours=12, spoofing_spammer=20, guesser=True)
print([actor.name for actor in scenario.actors])
summary = simlab.run(scenario, seed=1).summary
{k: summary[k] for k in ("spam_relayed", "spam_refused", "accounts_compromised", "bans", "legit_delivered",
                          "legit_refused")}

# %% [markdown]
# 20 a day is a rate, so about 10 are expected in 12 hours; the spammer's messages arrive at
# random moments, so a half-day may get a few more or a few fewer (another `seed` gives another
# count). This one got exactly 10, and every one was relayed. Alice, sending from outside on
# port 25, loses nothing (`legit_refused` 0): Relay Restriction lets her through on her local
# sender address - exactly as it lets the spammer through. This time the guesser also tries
# bob and alice, failing five times on each, so fail2ban bans it twice (`bans` 2), ten minutes
# each time - yet a 10-minute ban only delays the break-ins: both still happen.
#
# ## 4. A sweep: how many addresses does the guesser need?
#
# fail2ban counts failures *per address*: 5 within 10 minutes, then a ban. Give it a long ban
# (a day) and sweep the size of the guesser's pool of addresses, on SIMS.
#
# **Predict:** how many addresses does the guesser need before fail2ban stops catching it?

# %%
from simlab.ui.today import tidy_counts  # noqa: E402  (whole-number ticks, legend above the bars)

sweep = {}
for pool in (1, 2, 5, 20):
    swept = simlab.run(sandbox_scenario("sims", {"client_hosts": ["192.0.2.0/24"]}, defences={"fail2ban": 86400},
                                      guesser=True, guesser_ips=pool), seed=1, counts_only=True)
    sweep[f"{pool} address{'es' if pool > 1 else ''}"] = swept.summary
tidy_counts(plots.compare_bars(sweep, keys=("accounts_compromised", "bans"),
                               title="fail2ban (ban 1 day) against a guesser with a pool of addresses"))

# %% [markdown]
# Two. With one address the guesser is banned once and breaks into nothing; with two, five or
# twenty it breaks into both accounts and is never banned. The guesser tries once every two
# minutes; spread over two addresses, each sees a failure every four minutes - three in ten
# minutes, never five. This is the complaint fail2ban users keep reporting, and the reason its
# README says it lowers the rate of guessing but does not remove the risk of weak passwords.
# `counts_only=True` keeps only the counts, so sweeps stay quick.
#
# ## 5. Any scenario on your own server, and scenario files
#
# Every scenario of the lessons also runs on a server you configure yourself: pass it as
# `server=` instead of `preset=`. The site then takes that server's names - here the thread's
# own company, `mycompany.test` for mail.mycompany.co.jp - and its settings exactly as you
# wrote them. A knob the product cannot honour (an IP Range Restriction on Postfix, say) is
# refused with a message that names what is missing. Here the relay survey of S2 (lesson 02)
# meets your EIMS 2.1 with Relay Restriction on: its one test message is refused, and the
# site's 54 ordinary messages arrive.

# %%
mine = simlab.presets.eims_2_1(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                               relay_restriction=True)
probe = simlab.run(simlab.scenarios.relay_probe(server=mine), seed=1)
print(probe.product, {key: probe.summary[key] for key in ("spam_relayed", "spam_refused", "legit_delivered")})
print("\n".join(line for line in probe.log if "survey" in line))

# %% [markdown]
# A scenario can also be written down as a file (TOML) and run from a shell with
# `python -m simlab run my_lab.toml --seed 1`; the lessons' scenarios ship as such files in
# `simlab/scenarios/examples/`. Here is the start of the file for the run above, and the same
# run read back from that text:

# %%
text = simlab.scenarios.dumps_scenario(simlab.scenarios.relay_probe(server=mine))
print(text[:420])
again = simlab.run(simlab.scenarios.loads_scenario(text), seed=1)
print("same summary:", again.summary == probe.summary)

# %% [markdown]
# ## Try it: the sandbox
#
# The server menu lists every product simlab knows: the thread's EIMS 1.2, EIMS 2.1 and SIMS,
# and today's Postfix 3.7 and Exim 4.96 (as Debian 12 ships it). The panel lists every setting
# the chosen product has in simlab (and only that product's), with the site's values filled in.
# Lists take commas or spaces; EIMS 2.1's IP Range Restriction also takes `pop3: 192.0.2.0/24`
# to cover one service only. The timeline is drawn when you open its tab. Things to try:
#
# 1. Turn on the relay survey and compare EIMS 1.2 with EIMS 2.1 as installed (S2 and S3): does
#    the newer version stop it before you change a setting?
# 2. Turn on the flooder, then switch to Postfix and lower
#    `smtpd_client_connection_count_limit`.
# 3. Lock accounts after 3 failures: who else is locked out?
# 4. Type `fifty` into a Postfix limit, or `192.0.2.0/33` into a list of addresses.

# %%
from simlab.ui.sandbox import sandbox  # noqa: E402

box = sandbox()
box

# %% [markdown]
# ## Challenge: survive the day on a 1998 product
#
# Find settings on **EIMS 1.2, EIMS 2.1 or SIMS** (not Postfix or Exim: today's products pass
# as installed, and the checker says so) so that in a day with the spoofing spammer (10 a
# day), the rotating spammer (100 a day from 50 addresses) and the one-address guesser:
#
# * spam relayed = 0,
# * accounts broken into = 0,
# * no legitimate mail lost, and no member of staff unable to read their mail.
#
# Call `check_challenge(preset, settings, defences)` with the product's settings in its own
# names and any of the defences `fail2ban` (the ban in seconds), `lockout` (failures) and
# `router_filter` (the networks allowed to reach POP3). It reports each failing count, and
# who was hit by what.
#
# Where the settings come from: EIMS 2.1's Relay Restriction and IP Range Restriction are the
# thread's (S3, S5, S6). Its `require_valid_ip` / `valid_ips` (the "AND if from a valid IP"
# choice) and `smtp_auth` come from the vendor's notes for EIMS 2.1 to 3.1 - Qualcomm's
# knowledge-base article 2153 and the author's support page "EIMS Relay Security" - not from
# the thread: an answer on EIMS 2.1 that uses them relies on those notes. SIMS's Client Hosts
# is the thread's (Tamachan, 15 June 1998). The wording and limits of both products are
# simlab's modelling (the docstrings of `simlab.products.eims` and `simlab.products.sims`).

# %%
from simlab.exercises.sandbox import SOLUTION, check_challenge  # noqa: E402

check_challenge("eims-2.1", {"relay_restriction": True}, {"fail2ban": 600})  # a start: try to make it pass

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## What carries over to today
#
# * Decide relaying by what the client cannot forge: its address (Client Hosts, "valid IPs",
#   `mynetworks`) or its login - and then list *your* users' addresses or make them log in.
# * Every defence has a cost: a LAN-only rule refuses the roaming user, an account lockout
#   locks out the account's owner, an IP range on SMTP refuses the Internet's mail (S5). Check
#   legitimate mail after each change, as the challenge does.
# * Per-address defences (fail2ban, blocking by hand) slow down one address; a pool of
#   addresses walks past them. Strong passwords and "allow what is legitimate" do not care how
#   many addresses the attacker has.
# * Build the day you fear, in code, and sweep the knob you are unsure of: a simulation is the
#   cheapest place to learn what a setting costs.
