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
# * Count what it costs the people the server is for: mail lost, logins refused.
# * Use Postfix's per-client limit (`smtpd_client_connection_count_limit`), and say what it
#   cannot do (many addresses) and what it costs when set too low (a busy sender behind one
#   address).
#
# **The story, in our words.** Early in the thread, an admin worried that someone had broken
# into the site's POP3 server. One participant answered with practical advice - attackers try
# password = account name, so restrict access from networks that have no business with the
# server, in the server or at the router - and then added a remark this lesson takes up:
# really, being knocked offline is scarier than an intrusion. The thread went no further; here
# we play the attack out on the 1998 servers and on Postfix.
#
# **Addresses used here** (documentation addresses; the thread names no flooder):
#
# | here | stands for |
# |---|---|
# | `mail.example.com`, 192.0.2.25 | the site's mail server (mycompany.co.jp) |
# | 203.0.113.200 - 203.0.113.249 | the flooder's addresses |
# | 192.0.2.101, 198.51.100.77 | bob on the LAN, alice reading her mail from outside |
# | `mail.remote.test`, 198.51.100.90 | a correspondent's mail server (carol's; the thread names none) |
# | `mail.yourcompany.test`, 198.51.100.80 | another correspondent's mail server (the thread's mail.yourcompany.co.jp) |
# | `mx.provider.test`, 198.51.100.25 | the upstream provider's mail server (sends a newsletter over 10 connections) |

# %%
# %matplotlib inline
from datetime import timedelta

import simlab
from simlab.exercises.flood import ATTACK_START, FLOODER, burst_delivery, flood_day
from simlab.scenarios.site import PROCESS_LIMITS
from simlab.ui.flood import costs_figure, flood_lab, flood_timeline, outcome_line

# %% [markdown]
# ## A per-client limit, by hand
#
# A Postfix server that lets each client address hold at most 3 connections at once (the
# default is 50). The flooder opens connection after connection and says nothing.
# **Predict** before you run the cell: what greets its fourth connection - and a connection
# from a different address at the same moment?

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
#
# The 1998 Mac servers had no such setting. What they had was a small number of connections
# they could serve at once; past it, new connections are simply refused. simlab's process
# limits (Postfix's is its real `default_process_limit`; the Mac figures are our modelling
# choice):

# %%
print(PROCESS_LIMITS)

# %% [markdown]
# ## Four hours with a flood
#
# The lesson's day is four hours long. Bob and alice read and send mail, two correspondents
# deliver every ten minutes or so, and half an hour in the provider hands over a newsletter
# on 10 connections at once. From one hour into the run to three hours in, one address tries
# to hold 150 silent connections open: the server closes each after 5 minutes of silence and
# the flooder opens a new one at once; a connection the server refuses, it tries again ten
# minutes later. (The first line printed below gives the clock times: they are the times on
# the charts and in the logs.)
#
# **Predict:** which of EIMS 2.1, SIMS and Postfix (limit 50 per client) loses mail?

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
# comes next is refused - staff reading their mail, bob sending his, correspondents
# delivering. Postfix lets the one address hold 50 of its 100 slots and tells the other 100
# attempts `421 4.7.0 ... Error: too many connections`; the other 50 slots stay free.
#
# The timeline of the EIMS day. Correspondents retry a refused delivery every ten minutes
# (the orange bars); after an hour of refusals they give up and return the message - that is
# the mail lost. (Real servers keep trying for days, so in practice much of it arrives late
# rather than never; but bob's own mail client just reported an error, and nobody could read
# mail.)

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
# users. Postfix logs every connection - the thousands of lines counted above, in two hours -
# and says plainly `too many connections from 203.0.113.200`.

# %% [markdown]
# ## Many addresses
#
# A per-client limit of 50 protects a server of 100 slots from one address. **Predict:** the
# same 150 connections, spread over 3, 10 or 50 addresses?

# %%
spread = {f"{n} address{'es' if n > 1 else ''}": simlab.run(flood_day("postfix", 150, n), seed=1)
          for n in (1, 3, 10, 50)}
costs_figure(spread, title="Postfix (limit 50 per client, 100 at once) against 150 connections")

# %% [markdown]
# From 3 addresses on, each stays under the per-client limit and together they fill the
# server. No per-address rule helps against a flood from many addresses (today's botnets have
# thousands); that takes capacity, filtering upstream, or the provider's help.
#
# Can a bigger process limit save EIMS? Give it 200 slots:

# %%
for connections in (150, 400):
    day = simlab.run(flood_day("eims-2.1", connections, 1, process_limit=200), seed=1)
    print(f"EIMS 2.1 with 200 slots, flood of {connections}:", outcome_line(day))

# %% [markdown]
# A bigger server raises the bar; the flooder only needs to open more connections.
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
# The provider's server delivers the newsletter over 10 connections at once, as any busy mail
# server does; with a limit of 1 it gets `421` nine times out of ten and must come back later,
# round after round. Here the cost is the delay printed above. An office of thirty people behind one
# NAT address, all sending at nine in the morning, meets the same wall - and their mail
# programs show the error to the users. The limit must sit between what a legitimate busy
# client needs and what would fill the server.
#
# ## Try it: the flood lab
#
# Things to try:
#
# 1. EIMS 2.1: how many flood connections does it take to lose mail? (The process limit is 20.)
# 2. Postfix: move the per-client limit to 0 (no limit), then to 100.
# 3. Postfix with 10 flooding addresses: which limit helps now?
# 4. Raise the process limit on EIMS 2.1, then switch the product: the process limit follows.
#
# Open the "timeline" tab to see the attack hour by hour.

# %%
flood_lab()

# %% [markdown]
# ## Exercise
#
# On Postfix, choose `smtpd_client_connection_count_limit` and the process limit so that one
# flooding address **loses no legitimate mail and refuses no login, however many connections
# it opens** - and the provider's newsletter still goes straight in. The checker runs the
# flood of 150; when nothing stops one address from taking every slot, it also runs a flood
# of (process limit + 50) connections from that address, since the flooder can always open
# more. A colleague has already tried "no limit" so that the provider would never be refused;
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
# * Availability is part of security. A server that can be filled with silent connections can
#   be knocked offline by anyone, without a password.
# * Postfix limits each client: `smtpd_client_connection_count_limit` (connections at once,
#   default 50) and `smtpd_client_connection_rate_limit` (per minute), with
#   `smtpd_client_event_limit_exceptions` (default `$mynetworks`) for your own network. Under
#   stress, `postscreen` and shorter timeouts (`smtpd_timeout`, stress-dependent settings)
#   free slots faster.
# * Per-address limits do nothing against many addresses, and too low they refuse busy
#   legitimate senders (a provider's server, an office behind NAT). Large floods are stopped
#   before they reach you: capacity, upstream filtering, the provider's help.
