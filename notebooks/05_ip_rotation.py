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
# # 05 · A spammer who keeps changing address
#
# **Learning goals**
#
# * Show why blocking abusers one address at a time - by fail2ban, by hand at the router, or
#   by asking them to stop - loses against a spammer with a pool of addresses.
# * Count what those blocks cost the site's own people: a member of staff working from outside
#   looks like an abuser to a rule that only sees addresses.
# * Explain why an allow-list of who may relay (EIMS 2.1 "AND if from a valid IP", SIMS
#   Client Hosts, Postfix `mynetworks`) wins whatever the size of the pool.
#
# **The story, in our words.** An admin who had found the open-relay survey's domain (lesson
# 02) and another company's in his own log asked whether a good first step might be to write
# to them and ask them to stop. The thread's moderator doubted it would help much: people who send spam take care to
# hide who they are. He added what he had seen himself while running EIMS 1.2: one person,
# plainly the same one each time, logging into his SMTP server to relay spam while changing IP
# address at random. Another admin had thought anti-spam work meant reading the logs and
# registering each suspicious party by hand. This lesson plays that out.
#
# **Addresses used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `mail.example.com`, 192.0.2.25 | the site's mail server (EIMS 2.1 with Relay Restriction on) |
# | 192.0.2.0/24 (bob at 192.0.2.101) | the site's own network |
# | 203.0.113.1 - 203.0.113.250 | the addresses the spammer rotates through (the thread names none) |
# | 198.51.100.77 | alice, reading and sending her mail from outside |
# | `yourcompany.test` | the spam's recipients, a foreign domain |

# %%
# %matplotlib inline
from datetime import timedelta

import simlab
from simlab import plots
from simlab.exercises.rotation import (
    DEFENCES,
    SHORT_NAMES,
    bans_in_order,
    lost_by_sender,
    pool_sweep,
    relayed_spam_by_network,
    rotation_day,
)
from simlab.restrictions import RouterFilter
from simlab.ui.rotation import bans_figure, pool_sweep_figure, rotation_lab

# %% [markdown]
# ## The trick, by hand
#
# The spammer uses the hole of S4 (the spoofed Postmaster sender): EIMS 2.1's Relay Restriction
# trusts the *sender's* domain, so `MAIL FROM:<Postmaster@example.com>` opens relaying. The
# admin has just spotted 203.0.113.7 in the log and blocked it at the router. **Predict:** the
# spammer's next three messages come from 203.0.113.7, .41 and .19. How many get through?

# %%
admin_block = RouterFilter(deny=["203.0.113.7"], services=("smtp",))
eims = simlab.presets.eims_2_1(local_domains=["example.com"], relay_restriction=True, restrictions=[admin_block])
for address in ("203.0.113.7", "203.0.113.41", "203.0.113.19"):
    s = eims.smtp_session(client_ip=address)
    if s.greeting is None:
        print(f"{address:13} dropped at the router: no banner at all")
        continue
    for line in ("EHLO [" + address + "]", "MAIL FROM:<Postmaster@example.com>", "RCPT TO:<sales@yourcompany.test>"):
        reply = s.send(line)
    print(f"{address:13} RCPT -> {reply}")

# %% [markdown]
# Each connection stands on its own: the server has no idea that the three are one person. The
# block on 203.0.113.7 does nothing to 203.0.113.41.
#
# ## A day of it
#
# The spammer sends 200 messages over the day, one every five minutes on average, each from an
# address picked at random from a pool of 50. Meanwhile bob works on the LAN, alice reads and
# sends her mail from outside, and two correspondents deliver mail to the staff.

# %%
undefended = simlab.run(rotation_day("eims-2.1", "none"), seed=1)
print(relayed_spam_by_network(undefended))

# %% [markdown]
# ### Blocking by address
#
# Now the defences the thread's admins reached for:
#
# * `per_ip_ban` - fail2ban reading the log: an address whose mail was relayed to the outside
#   3 times is banned for a day. (fail2ban is a modern tool, from 2004; nobody ran it on a Mac
#   in 1998. We apply it to EIMS to see how today's usual answer would have fared.)
# * `admin_block` - the admin reads the log every hour and adds each address seen 3 times to
#   the router's deny list;
# * `please_stop` - the admin writes to each abuser instead.
#
# **Predict** before you run the cell: with 50 addresses and a ban after 3 messages, how many
# of the 200 spams get through fail2ban?

# %%
days = {name: simlab.run(rotation_day("eims-2.1", name), seed=1) for name in DEFENCES}
for name, day in days.items():
    s = day.summary
    print(f"{DEFENCES[name]:46} spam relayed {s['spam_relayed']:3}   legitimate mail lost {s['legit_refused']:2}   "
          f"logins refused {s['legit_logins_refused']:2}   bans {s['bans']:2}")
print("letters asking the abuser to stop:", days["please_stop"].summary["complaints_sent"])

# %% [markdown]
# Check your prediction: how many spams got past fail2ban, and what the bans did.

# %%
fail2ban_day = days["per_ip_ban"]
banned = {ip for _t, ip, _by in bans_in_order(fail2ban_day)}
events = fail2ban_day.events
spam_in = events[(events.actor == "rotating spammer") & (events.command == "RCPT") & (events.reply_code == 250)]
from_banned = int(spam_in.client_ip.isin(banned).sum())
never_banned = spam_in.client_ip.nunique() - len(banned & set(spam_in.client_ip))
spammer_bans = len([ip for ip in banned if ip.startswith("203.0.113.")])
print(f"fail2ban let {fail2ban_day.summary['spam_relayed']} of the 200 spams through, with "
      f"{fail2ban_day.summary['bans']} bans ({spammer_bans} of the spammer's addresses, "
      f"{fail2ban_day.summary['bans'] - spammer_bans} other - we come to it below)")
print(f"  {from_banned} came from addresses that were banned in the end - 3 each, before the ban")
print(f"  {len(spam_in) - from_banned} came from the {never_banned} addresses the spammer used fewer than 3 times:"
      " never banned")

# %%
plots.compare_bars({SHORT_NAMES[n]: d.summary for n, d in days.items()},
                   keys=("spam_relayed", "legit_refused"), title="EIMS 2.1, pool of 50 addresses, one day")

# %% [markdown]
# So most of the spam still went out. A ban costs the spammer one address out of
# fifty, after three messages have gone through;
# the admin's hourly blocks do no better, and the letters change nothing. Only the allow-list
# stops it - we come back to it, and to its red bar, below. The timeline shows the fail2ban
# day: the bans (ticks at the bottom) keep coming, and so does the spam.

# %%
bans_figure(days["per_ip_ban"], title="fail2ban against a pool of 50: spam relayed and bans over the day")

# %% [markdown]
# ### What the bans cost
#
# One of those ticks is red: fail2ban banned **198.51.100.77 - alice**. On EIMS she sends her
# mail through the site's server from outside, and her relayed mail leaves exactly the log line
# the jail counts. These are the first three of her relayed messages in the log, and
# fail2ban's own log line for her ban:

# %%
jail = next(r for r in days["per_ip_ban"].server.restrictions if r.name == "fail2ban")
print("\n".join([line for line in days["per_ip_ban"].log if "received from 198.51.100.77" in line][:3]))
print([line for line in jail.log if "198.51.100.77" in line])
print("lost, by sender:", lost_by_sender(days["per_ip_ban"]))

# %% [markdown]
# Blocking by hand has the same flaw with one more way in: the admin also counts
# `wrong password` lines. On Postfix (where alice submits with SMTP AUTH on port 587, so her
# mail leaves no "relayed" line), an admin who blocks an address at its first suspicious line
# catches alice the first time she mistypes her password - and the router block shuts her
# out of POP3 as well. **Predict:** how many times will she fail to read her mail today?
#
# (The Dovecot line below is shortened: a real one goes on after `lip=192.0.2.25,` with
# fields such as `session=<...>`, the session's id, which simlab does not model.)

# %%
strict_admin = simlab.run(rotation_day("postfix", "admin_block", ban_after=1), seed=1)
print("\n".join(line for line in strict_admin.log if "auth failed" in line and "rip=198.51.100.77" in line))
for t, ip, by in bans_in_order(strict_admin):
    if ip == "198.51.100.77":
        print(f"{strict_admin.start + timedelta(seconds=t):%H:%M} the {by} blocks {ip} at the router")
print("staff logins refused:", strict_admin.summary["legit_logins_refused"],
      " lost, by sender:", lost_by_sender(strict_admin))

# %% [markdown]
# ## More addresses, more spam
#
# How does it scale? **Predict** the shape of the two curves: spam relayed in a day against
# the size of the spammer's pool, for fail2ban (ban after 3) and for the allow-list. The sweep
# runs 14 short simulations (counts only); the pool of 50 is the day above.

# %%
sizes = [1, 3, 10, 30, 50, 100, 250]
sweep = pool_sweep(sizes, defences=("per_ip_ban", "allowlist"))
print("fail2ban, pool of 50:", sweep["per_ip_ban"][50]["spam_relayed"], "relayed (the day above:",
      days["per_ip_ban"].summary["spam_relayed"], ")")
pool_sweep_figure(sweep, sent=200)

# %% [markdown]
# Against one address, fail2ban is nearly perfect: three messages, then silence. Each extra
# address buys the spammer about three more messages, until almost all 200 get through. The
# allow-list line stays at zero: it does not ask *who is abusing us* but *who may relay*, and
# the answer - the site's own network - does not grow with the spammer's pool.
#
# ## Why the allow-list wins
#
# All three products can say "relay only for these clients":
#
# * EIMS 2.1: Relay Restriction **AND if from a valid IP** (the valid IPs are the site's network);
# * SIMS: **Client Hosts**, its relay rule from the start;
# * Postfix: **`mynetworks`** in `smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
#   defer_unauth_destination` - Postfix's default. `defer_unauth_destination` answers a relay
#   attempt with `454 4.7.1 ... Relay access denied` (try again later) rather than the final
#   `554` of `reject_unauth_destination`, so that a mistake in the list delays mail instead of
#   bouncing it.
#
# The allow-list has a cost too: on EIMS 2.1 and SIMS, alice's mail from outside is refused,
# because she is not on the site's network. Postfix solves it with a login instead of an
# address - SMTP AUTH on port 587 - so she loses nothing:

# %%
for preset, defence in (("eims-2.1", "allowlist"), ("sims", "none"), ("postfix", "none")):
    day = simlab.run(rotation_day(preset, defence), seed=1)
    print(f"{preset:9} spam relayed {day.summary['spam_relayed']}   lost, by sender: {lost_by_sender(day)}")

# %% [markdown]
# ## Try it: the rotation lab
#
# Choose a server and a defence and change the spammer's pool (the panel replays the first 12
# hours). Things to try:
#
# 1. fail2ban with a pool of 1, then 250. Then the ban threshold at 1.
# 2. "new address only when refused": a careful spammer keeps a working address. Does the
#    admin's hourly block do better against it?
# 3. The allow-list on EIMS 2.1: whose mail is lost now, and why? (Keep the answer for the exercise.)
# 4. Type `192.0.2.0/33` in the allow-list and read the message.

# %%
rotation_lab()

# %% [markdown]
# ## Exercise
#
# The site runs **EIMS 2.1** (switching products is not an option today). The spammer rotates
# through 50 addresses, a new one for every message. Choose a defence that **relays no spam,
# and loses no mail of bob (on the LAN) nor of alice (working from outside, 198.51.100.77)**,
# refuses none of their logins and bans nobody but the spammer. The relay list may let in
# no outside address but alice's own.
#
# Call it as `check_rotation_defence("eims-2.1", defence, ban_after=3, relay_networks=None)`:
#
# * `defence` is one of `"none"`, `"per_ip_ban"` (fail2ban), `"admin_block"` (the admin blocks at
#   the router, hourly), `"please_stop"` (letters) or `"allowlist"` (Relay Restriction AND if
#   from a valid IP);
# * `ban_after` is the ban threshold of `per_ip_ban` and `admin_block`;
# * `relay_networks` is EIMS 2.1's list of valid IPs, used by `"allowlist"`: a list of CIDR
#   blocks, addresses or from-to ranges (`None`: the site's network, `["192.0.2.0/24"]`).

# %%
from simlab.exercises.rotation import SOLUTION, check_rotation_defence  # noqa: E402

check_rotation_defence("eims-2.1", "per_ip_ban", ban_after=1)  # the strictest fail2ban: does it pass?

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## What carries over to today
#
# * Decide who may relay by a list of what is legitimate - the client's network or, better,
#   its login (SMTP AUTH on port 587) - and refuse everyone else at `RCPT`. That list does not
#   grow when spammers rent more addresses; a block list does.
# * fail2ban and friends count per address. They slow a single-address attacker and are
#   useless against a pool (botnets today have thousands of addresses); they also catch your
#   own people behind a shared or roaming address. Keep `ignoreip` for your networks, and
#   never let a ban rule read lines your own users produce in normal work.
# * Asking an abuser to stop reaches nobody: the sender's address and HELO are the abuser's
#   own words (RFC 2505 §2.1).
