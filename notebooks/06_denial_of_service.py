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
# # 06 · Knocked offline: connection floods
#
# **Learning goals**
#
# * Explain how a flood of silent connections knocks a mail server offline without breaking
#   into anything: it fills the *process limit*, the number of clients served at once.
# * Count what it costs the people the server is for: mail lost, logins refused - and see why
#   it matters whether SMTP and POP3 share one limit.
# * Use Postfix's per-client limit (`smtpd_client_connection_count_limit`), and say what it
#   cannot do (many addresses) and what it costs when set too low (a busy sender behind one
#   address).
#
# **The story, in our words.** The thread began on 22 May 1998 with *Miyamura*, an EIMS 2.1
# admin, worried that `wrong password` lines in the log meant someone had broken into the POP3
# server; the moderator, Motoyuki Tanaka, answered the same afternoon that such a line records
# a login the server *refused* (lesson 01). Two days later (24 May 1998, 00:47) *kazu* added
# practical advice: attackers also try, one account after another, a password equal to the
# account name, so restrict access from networks that have no business with the server - not
# only to POP - in the server, or at the router if the server cannot. And kazu ended with the
# remark this lesson takes up: really, being knocked offline is scarier than an intrusion. The
# thread went no further; here we play the attack out on the 1998 servers and on Postfix.
#
# **Words used below.**
#
# * **Process limit**: how many clients a server program serves at once. Past it, a new
#   connection is refused until one ends. Each Postfix `smtpd` process serves one SMTP client
#   at a time, and Postfix runs at most `default_process_limit` = 100 of them (postconf(5)). Dovecot, the POP3 server that
#   runs beside Postfix, has its own: its `pop3-login` service also serves at most 100 at once
#   (Dovecot 2.3's default, `doveconf -d`).
# * **anvil**: a small Postfix server, anvil(8), that keeps per-client counters - how many
#   connections each client address has open, how many it opened in the last minute - for
#   `smtpd` to check against the limits below.
# * **`smtpd_client_connection_count_limit`**: how many connections *one client address* may
#   have open at once (postconf(5); default 50). A client over it is told
#   `421 4.7.0 <host> Error: too many connections from <address>` and disconnected.
#   `smtpd_client_event_limit_exceptions` (default `$mynetworks`, the site's own network) lists
#   clients the limit leaves alone.
#
# **Addresses used here** (documentation addresses; the thread names no flooder):
#
# | here | stands for |
# |---|---|
# | `mail.example.com`, 192.0.2.25 | the site's mail server (Miyamura's EIMS 2.1 in the thread, which names no host) |
# | 203.0.113.200 - 203.0.113.249 | the flooder's addresses (kazu only names the risk) |
# | 192.0.2.101, 198.51.100.77 | bob on the LAN, alice reading her mail from outside |
# | `mail.remote.test`, 198.51.100.90 | a correspondent's mail server (carol's; the thread names none) |
# | `mail.yourcompany.test`, 198.51.100.80 | another correspondent's mail server (the thread's mail.yourcompany.co.jp) |
# | `mx.provider.test`, 198.51.100.25 | the upstream provider's mail server (sends a newsletter over 10 connections) |

# %%
# %matplotlib inline
from datetime import timedelta

import simlab
from simlab import products
from simlab.exercises.flood import ATTACK_START, FLOODER, burst_delivery, flood_day
from simlab.ui.flood import costs_figure, flood_lab, flood_timeline, outcome_line

# %% [markdown]
# ## A per-client limit, by hand
#
# A Postfix server that lets each client address hold at most 3 connections at once
# (`smtpd_client_connection_count_limit = 3`; the default is 50). The flooder opens connection
# after connection and says nothing. **Predict** before you run the cell: what greets its
# fourth connection - and a connection from a different address at the same moment?

# %%
pf = simlab.presets.postfix(mydestination=["example.com"], mynetworks=["192.0.2.0/24"],
                            smtpd_client_connection_count_limit=3)
held = [pf.smtp_session(client_ip="203.0.113.200") for _ in range(3)]
fourth = pf.smtp_session(client_ip="203.0.113.200")
other = pf.smtp_session(client_ip="198.51.100.90")
print("connections 1-3:", held[0].greeting)
print("connection 4:   ", fourth.greeting)
print("another address:", other.greeting)
print("\n".join(line for line in pf.log if "limit" in line or "reject: CONNECT" in line))

# %% [markdown]
# The limit counts connections *per client address*. It leaves everyone else alone - which is
# its strength against one flooder and its weakness against a flooder with many addresses.
# (The replies and log lines follow Postfix's `smtpd` source; simlab's Postfix writes the
# `warning: Connection concurrency limit exceeded` line as Postfix does.)
#
# The 1998 Mac servers had no such setting. What they had was a small number of connections
# they could serve at once; past it, new connections are simply refused. Here are simlab's
# limits, program by program. The Postfix figure is its real `default_process_limit`, Dovecot's
# its real `pop3-login` default and Exim's its real `smtp_accept_max` (Exim's specification);
# the Mac figures are our modelling choice. So is one more thing the table shows: EIMS and SIMS
# serve SMTP and POP3 from **one** pool of connections (one program on one Mac), while on
# Postfix and Exim, POP3 is Dovecot's, with a limit of its own.

# %%
for product in products.PRODUCTS.values():
    pools = product.service_limits
    if len(pools) == 1:
        print(f"{product.label:12} one pool for SMTP and POP3: {pools[0].limit:3} connections at once")
    else:
        print(f"{product.label:12} " + ", ".join(f"{'+'.join(pool.services).upper()} ({pool.program}) {pool.limit}"
                                                   for pool in pools) + " connections at once")

# %% [markdown]
# ## Four hours with a flood
#
# The lesson's day is four hours long. Bob and alice read and send mail, two correspondents
# deliver every ten minutes or so, and half an hour in the provider hands over a newsletter
# on 10 connections at once. From one hour into the run to three hours in, one address tries
# to hold 150 silent connections open: the server closes each after 5 minutes of silence
# (Postfix's `smtpd_timeout` default, 300 s; simlab gives every product the same, a modelling
# choice) and the flooder opens a new one at once; a connection the server refuses, it tries
# again ten minutes later. (The first line printed below gives the clock times: they are the
# times on the charts and in the logs.)
#
# **Predict:** which of EIMS 2.1, SIMS and Postfix (limit 50 per client) loses mail - and on
# which can staff no longer read theirs?

# %%
one_address = {preset: simlab.run(flood_day(preset, connections=150, flooder_ips=1), seed=1)
               for preset in ("eims-2.1", "sims", "postfix")}
day = one_address["eims-2.1"]
flood_times = day.events[day.events.actor == FLOODER].time
print(f"the run starts at {day.start:%H:%M}, the flood lasts from {day.start + timedelta(seconds=ATTACK_START):%H:%M}"
      f" to {flood_times.max():%H:%M}, the run ends at {day.start + timedelta(seconds=day.world.loop.now):%H:%M}")
for preset, day in one_address.items():
    print(f"{preset:9}", outcome_line(day))

# %%
costs_figure(one_address, title="A one-address flood of 150 connections, two hours")

# %% [markdown]
# EIMS 2.1 and SIMS serve 20 and 30 clients at once; the flood takes every slot, and whoever
# comes next is refused: 111 legitimate connections on each. Because their one pool serves
# POP3 as well as SMTP, staff trying to read their mail are refused with the rest - 6 logins
# on each (bob's and alice's) - and 10 of the correspondents' messages are lost on each. (SIMS
# counts 11: the eleventh is one of alice's, refused flood or no flood, because SIMS relays
# only for its Client Hosts and she writes from outside - lesson 05.) Postfix lets the one address hold 50 of its 100 `smtpd` slots and tells the
# flooder's other 100 connections `421 4.7.0 ... Error: too many connections`, 1200 times over
# the two hours as the flooder keeps coming back; the other 50 slots stay free, and nobody
# else is refused.
#
# The timeline of the EIMS day, ten minutes per bar: the orange bars are legitimate
# connections refused (most of them the correspondents' retries), the red bars messages lost,
# the dark red bars staff logins refused; the dashed line counts the flooder's own refused
# connections (right-hand scale). simlab's correspondents retry a refused delivery every ten
# minutes and give up after six retries, an hour after the first refusal - so the red bars
# start an hour into the flood. That short patience is a modelling choice, so that four
# hours show the loss: a real Postfix keeps a message up to 5 days (`maximal_queue_lifetime`,
# postconf(5)), so in practice much of this mail would arrive late rather than never. Bob and
# alice have no such patience: their mail program just reported an error.

# %%
flood_timeline(one_address["eims-2.1"], title="EIMS 2.1 under a one-address flood")

# %% [markdown]
# What did the EIMS admin see in the log during those two hours? **Predict**, then count:

# %%
for preset, day in one_address.items():
    flood_end = (day.events[day.events.actor == FLOODER].time.max() - day.start).total_seconds()
    during = [line for t, line in day.server.log_records if ATTACK_START <= t <= flood_end]
    print(f"{preset:9} {len(during):6} log lines during the flood", during[:1])

# %% [markdown]
# Nothing at all on EIMS and SIMS: a connection that never says a word leaves no line in their
# logs (simlab's modelling, in the style of the thread's logs), and a connection refused at
# the process limit never reaches the mail server. The admin learns of the attack from the
# users. Postfix logs every connection - the 8538 lines counted above, in two hours - and says
# plainly `too many connections from 203.0.113.200`.

# %% [markdown]
# ## Many addresses
#
# A per-client limit of 50 protects a server of 100 slots from one address. **Predict:** the
# same 150 connections, spread over 3, 10 or 50 addresses? And can bob and alice still read
# their mail?

# %%
spread = {f"{n} address{'es' if n > 1 else ''}": simlab.run(flood_day("postfix", 150, n), seed=1)
          for n in (1, 3, 10, 50)}
for label, day in spread.items():
    print(f"{label:12}", outcome_line(day))
costs_figure(spread, title="Postfix (limit 50 per client, 100 at once) against 150 connections")

# %% [markdown]
# From 3 addresses on, each stays under the per-client limit and together they fill the
# server's 100 `smtpd` slots: 105 of the correspondents' connections are refused and 10 of
# their messages lost, just as on EIMS. But no login is refused: Dovecot's `pop3-login` has its
# own 100 slots, which an SMTP flood does not touch, so bob and alice read their mail all
# through it. No per-address rule helps against a flood from many addresses (today's botnets
# have thousands); that takes capacity, filtering upstream, or the provider's help.
#
# Can a bigger process limit save EIMS? Give it 200 slots:

# %%
for connections in (150, 400):
    day = simlab.run(flood_day("eims-2.1", connections, 1, process_limit=200), seed=1)
    print(f"EIMS 2.1 with 200 slots, flood of {connections}:", outcome_line(day))

# %% [markdown]
# A bigger server raises the bar - the flood of 150 now costs nothing - but the flooder only
# needs to open more connections: at 400, the losses are back.
#
# ## A limit set too low
#
# If 50 per client is good, is 1 better? It still stops the flooder. **Predict:** who else
# does it stop?

# %%
for limit in (50, 5, 1):
    day = simlab.run(flood_day("postfix", 150, 1, connection_limit=limit), seed=1)
    refused, minutes = burst_delivery(day)
    late = f"its last part {minutes:.0f} min late" if refused else "all at once"
    print(f"limit {limit:2}: mail lost {day.summary['legit_refused']}, provider refused {refused:2} times, "
          f"newsletter delivered {late}")
print(next(line for line in day.log if "198.51.100.25" in line and "limit exceeded" in line))
print(next(line for line in day.log if "198.51.100.25" in line and "reject: CONNECT" in line))

# %% [markdown]
# The provider's server delivers the newsletter over 10 connections at once, as a busy mail
# server does (Postfix's own `smtp` client opens up to `default_destination_concurrency_limit`
# = 20 connections to one site, postconf(5)). With a limit of 1 it gets `421` nine times out
# of ten and must come back later, round after round (simlab's provider retries every 5
# minutes): 45 refusals, and the last part 45 minutes late. Here the cost is delay, not loss.
# An office of thirty people behind one NAT address (one public address shared by the whole
# office), all sending at nine in the morning, meets the same wall - and their mail programs
# show the error to the users.
#
# ## Try it: the flood lab
#
# Once you change a setting, the panel adds a line "Against the starting settings (...), on the
# same traffic: ..." that compares your run with the panel's starting attack (150 connections
# from one address, per-client limit 50) on the same server, process limit and seed. Everyone
# else's day is identical in both runs, so the line shows only what your change caused.
# Things to try:
#
# 1. EIMS 2.1: how many flood connections does it take to lose mail? (The process limit is 20.)
# 2. Postfix: move the per-client limit to 0 (no limit), then to 100.
# 3. Postfix with 10 flooding addresses: which limit helps now? Do staff logins suffer?
# 4. Raise the process limit on EIMS 2.1, then switch the product: the process limit follows.
#
# Open the "timeline" tab to see the attack hour by hour.

# %%
flood_lab()

# %% [markdown]
# ## Exercise
#
# On Postfix, choose `smtpd_client_connection_count_limit` and the process limit so that one
# flooding address **loses no legitimate mail and gets no legitimate connection refused,
# however many connections it opens** - and the provider's newsletter still goes straight in.
# The checker runs the flood of 150; when nothing stops one address from taking every slot, it
# also runs a flood of (process limit + 50) connections from that address, since the flooder
# can always open more. It also judges the limit itself, not only the day: a limit that lets
# one address hold more of the process slots than it leaves free for everyone else fails, even
# when the simulated day happens to lose nothing - a quiet day does not prove that the slots
# left over would cover the site's busy moments.
#
# A colleague has already tried "no limit" so that the provider would never be refused;
# another wants to keep "no limit" and buy a server with 300 slots
# (`check_flood_limits(connection_limit=0, process_limit=300)`): try that one too.

# %%
from simlab.exercises.flood import SOLUTION, check_flood_limits  # noqa: E402

check_flood_limits(connection_limit=0, process_limit=100)  # no per-client limit: make this pass

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## What carries over to today
#
# * Availability is part of security - kazu's point. A server that can be filled with silent
#   connections can be knocked offline by anyone, without a password.
# * Give each service its own limit. On Postfix with Dovecot, an SMTP flood fills `smtpd`'s
#   slots and leaves `pop3-login`'s alone; where one pool serves everything, one flood takes
#   everything.
# * Postfix limits each client through anvil: `smtpd_client_connection_count_limit`
#   (connections at once, default 50) and `smtpd_client_connection_rate_limit` (new
#   connections per minute; default 0, no limit), with `smtpd_client_event_limit_exceptions`
#   (default `$mynetworks`) for your own network (postconf(5)). Under stress, shorter timeouts
#   free slots faster (`smtpd_timeout` and other settings that Postfix shortens when its
#   process limit is reached: STRESS_README). And `postscreen(8)`, a single Postfix process that
#   can take every incoming SMTP connection first and hand only clients that pass its tests on
#   to an `smtpd` process, keeps "zombie" clients away from `smtpd`'s slots: a silent client
#   costs one of postscreen's cheap connections, not a whole `smtpd` process
#   (POSTSCREEN_README). simlab models neither stress settings nor postscreen.
# * Per-address limits do nothing against many addresses, and too low they refuse busy
#   legitimate senders (a provider's server, an office behind NAT). Large floods are stopped
#   before they reach you: capacity, upstream filtering, the provider's help.
