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
# * Explain why an allow-list of who may relay (EIMS "AND if from a valid IP", SIMS
#   Client Hosts, Postfix `mynetworks`) wins whatever the size of the pool.
#
# **The story, in our words.** On 16 June 1998 (01:15) *cony*, the EIMS 1.2 admin who had
# found the open-relay survey's domain (lesson 02) and, oddly, another company's in their own
# log, asked whether writing to them to ask them to stop might be a good first step. The
# thread's moderator, Motoyuki Tanaka, answered a quarter of an hour later (01:30) that he
# doubted it would help much: people who send spam take care to hide who they are. He added
# what he had seen himself while running EIMS 1.2: one person, plainly the same one each
# time, logging into his SMTP server to relay spam while changing IP address at random. Two
# days later (18 June, 12:19) *Miyamura*, an EIMS 2.1 admin, wrote that they had thought
# anti-spam work meant reading the logs and registering each suspicious party by hand. This
# lesson plays that out on EIMS 2.1 with Relay Restriction on - the product the thread's
# other admins moved to - since EIMS 1.2 has no relay control at all to defend.
#
# **Words used below.**
#
# * **fail2ban** (a modern tool, first released in 2004) reads a server's log and bans, at the
#   firewall, an address whose lines match a pattern too often. Its `ignoreip` setting lists
#   addresses and networks it must never ban, whatever they do - normally your own.
# * **NAT** (network address translation): many machines - a whole office - reach the Internet
#   through one router that gives all of them one public address. To a server outside, the
#   whole office is one client. A ban on that address shuts out everyone behind it, and one
#   PC with a stale saved password, retrying every few minutes, can earn the ban for all.
# * **Dovecot's `login_trusted_networks`**: networks Dovecot, today's usual POP3/IMAP server,
#   trusts (meant for webmail and proxies in front of it). Its per-address delay after failed
#   logins - 2 seconds, doubling to at most 15 - does not apply to them (Dovecot
#   documentation, "Authentication penalty").
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
# The spammer uses the hole of S4 (the spoofed Postmaster sender, lesson 03; found in the thread
# by Tamachan, 15 June 1998): EIMS 2.1's Relay Restriction trusts the *sender's* domain, so
# `MAIL FROM:<Postmaster@example.com>` opens relaying. The
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
# block on 203.0.113.7 does nothing to 203.0.113.41. (The router drops the blocked client's
# packets, so it gets no banner at all; the `250` texts are simlab's modelled EIMS wording.)
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
#   3 times is banned for a day, and `ignoreip` lists the site's network, so bob on the LAN is
#   never banned. (Nobody ran fail2ban on a Mac in 1998: we apply it to EIMS to see how
#   today's usual answer would have fared. The jail is simlab's: fail2ban ships no filter that
#   counts *relayed* mail - its Postfix filter counts refusals - and its defaults are 5
#   matches within 10 minutes for a 10-minute ban, not 3 in a day for a day.)
# * `admin_block` - the admin reads the log every hour and adds each address seen 3 times to
#   the router's deny list;
# * `please_stop` - the admin writes to each abuser instead.
#
# All five runs below use `seed=1`, and simlab draws each actor's choices from a random stream
# of its own, so bob's, alice's and the correspondents' day is the very same in all five:
# every difference in the table is the defence's doing.
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
# So most of the spam still went out: 136 of 200 past fail2ban. A ban costs the spammer one
# address out of fifty, after three messages have gone through; the admin's hourly blocks do
# no better (139), and the 40 letters change nothing (200). Only the allow-list stops it (0) -
# we come back to it, and to its red bar of 6 lost messages, below. Both blocking defences
# also cost the site mail (3 and 2 messages, all of them alice's) - the next section shows why. The timeline
# shows the fail2ban day: the bans (ticks at the bottom) keep coming, and so does the spam.

# %%
bans_figure(days["per_ip_ban"], title="fail2ban against a pool of 50: spam relayed and bans over the day")

# %% [markdown]
# ### What the bans cost
#
# One of those ticks is red: at 14:34 fail2ban banned **198.51.100.77 - alice**. On EIMS she
# sends her mail through the site's server from outside, and her relayed mail leaves exactly
# the log line the jail counts. These are the first three of her relayed messages in the log
# (simlab's modelled EIMS wording), and fail2ban's own log line for her ban - her third
# message, at 2:34 PM, earned it:

# %%
jail = next(r for r in days["per_ip_ban"].server.restrictions if r.name == "fail2ban")
print("\n".join([line for line in days["per_ip_ban"].log if "received from 198.51.100.77" in line][:3]))
print([line for line in jail.log if "198.51.100.77" in line])
print("lost, by sender:", lost_by_sender(days["per_ip_ban"]))

# %% [markdown]
# The 3 messages she lost are the ones she sent after the ban. Had alice sat in an office
# behind NAT, the ban would have shut out every colleague sharing her address.
#
# ### Blocking by hand, at the first suspicious line
#
# The admin's hourly round has the same flaw, and on EIMS 2.1 it has more lines to misread.
# The admin counts three kinds of line as abuse: `POP3 wrong password for ... from ...` (the
# wording the thread's logs show), a refused relay, and a message relayed from outside to
# another domain (those two in simlab's modelled EIMS wording). EIMS writes the first for
# every wrong password and the last for every message it relays. Now make the admin strict:
# block an address at its *first* such line (`ban_after=1`). **Predict:** on a day when alice
# types her password right every time (`seed=1`, the day above), does the strict admin block
# her - and if so, for which line?

# %%
strict_eims = simlab.run(rotation_day("eims-2.1", "admin_block", ban_after=1), seed=1)
print("alice's lines in the EIMS log:")
print("\n".join(line for line in strict_eims.log if "198.51.100.77" in line))
print("wrong passwords that day:", [line for line in strict_eims.log if "wrong password" in line])
for t, ip, by in bans_in_order(strict_eims):
    if ip == "198.51.100.77":
        print(f"{strict_eims.start + timedelta(seconds=t):%H:%M} the {by} blocks {ip} at the router")
print("staff logins refused:", strict_eims.summary["legit_logins_refused"],
      " lost, by sender:", lost_by_sender(strict_eims))

# %% [markdown]
# She is blocked without having done anything wrong. At 1:40 AM she sent a message to carol
# through the site's server; to the admin, a message relayed from outside to another domain
# reads exactly like the spammer's. The admin's first hourly round, at 02:25, counts that one
# line and blocks her at the router. The day's only wrong password is bob's, from the LAN,
# which the admin leaves alone. From then on the router drops everything from her address:
# she cannot read her mail 23 times for the rest of the day, and 5 messages she sends are
# lost. Behind NAT, the whole office would share that fate.
#
# What about Postfix with Dovecot? There the same strict admin reads the lines fail2ban's
# stock filters read: Dovecot's failed logins (`filter.d/dovecot.conf`), Postfix's refused
# SMTP AUTH logins and its refused relays (`filter.d/postfix.conf`, copied in
# `simlab/data/fail2ban/`). alice's mail leaves none of them: she submits on port 587 with SMTP
# AUTH, and an accepted submission is not a refusal. So the question is her typos. simlab's
# alice mistypes her password about once in twenty logins (a modelling choice); on the day of
# `seed=1` she never did, so the cell runs another day, `seed=2`, on which she mistypes once
# and, as simlab models it, types it again at once in the same connection. **Predict:** what does Dovecot write in its log for that connection?

# %%
typo_day = simlab.run(rotation_day("postfix", "admin_block", ban_after=1), seed=2)
session = next(t for t in typo_day.transcripts
               if t.actor == "alice (roaming)" and any(line.startswith("S: -ERR") for line in t.lines))
print(f"alice's POP3 session at {typo_day.start + timedelta(seconds=session.start):%H:%M:%S}:")
print("\n".join(session.lines[:session.lines.index("S: +OK Logged in.") + 1]))
print()
print("what the server logged for that connection:")
print("\n".join(line for t, line in typo_day.server.log_records
                if session.start <= t <= session.start + 60 and "198.51.100.77" in line))
print("failure lines for 198.51.100.77 all day:",
      [line for line in typo_day.log if "198.51.100.77" in line and ("auth failed" in line or "Aborted login" in line)])
print("blocks of 198.51.100.77:", [ip for _t, ip, _by in bans_in_order(typo_day) if ip == "198.51.100.77"],
      " staff logins refused:", typo_day.summary["legit_logins_refused"], " lost, by sender:", lost_by_sender(typo_day))

# %% [markdown]
# Only the `Login:` line. Dovecot 2.3 writes a failure line once per connection, when a
# connection *ends without a login* (Dovecot 2.3's source, `src/login-common/client-common.c`):
# `Disconnected (auth failed, N attempts in S secs): user=<...>, method=PLAIN, rip=..., lip=...,
# session=<...>`, with the number of failed tries in that connection, or `Aborted login by
# logging out (...)` when the client said `QUIT` first. A wrong password corrected in the same
# connection ends in a login, so nothing in the log says it ever happened - and the strict
# admin has nothing to block her for. (`method=PLAIN` is how Dovecot logs a login by plain
# password: with POP3's `USER` and `PASS` the password crosses the wire in clear text, and with
# `AUTH PLAIN` it is only base64-encoded - an encoding anyone can undo, not encryption. Without
# TLS, both can be read by anyone on the path. `session=<...>` is Dovecot's id for the
# connection.)
#
# Two cautions. This is not Postfix being more careful than EIMS: it is a question of which
# lines a product writes, and a rule that reads log lines catches whoever leaves them - an
# alice whose mail program gave up after one wrong password, or an office PC behind NAT with a
# stale saved password, would leave one failure line per connection. And the second form is a
# real gap in fail2ban: its stock `dovecot` filter (fail2ban 1.0.2) does not match `Aborted
# login by logging out`, so a guesser that says `QUIT` after each wrong password passes that
# jail unseen (simlab's guesser hangs up instead, as guessing tools do).
#
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
# address buys the spammer about three more messages (9 with 3 addresses, 30 with 10, 89 with
# 30), until almost all 200 get through (197 with 250 addresses). The
# allow-list line stays at zero: it does not ask *who is abusing us* but *who may relay*, and
# the answer - the site's own network - does not grow with the spammer's pool.
#
# ## Why the allow-list wins
#
# All three products can say "relay only for these clients":
#
# * EIMS: Relay Restriction's second choice, **"only relay if for local domains or the
#   following domains AND if from a valid IP"**. The source is not the thread but the vendor's
#   notes for EIMS 2.1 to 3.1: Qualcomm's knowledge-base article 2153, "Preventing SMTP Mail
#   Relay", calls it the most secure choice, and the author's support page "EIMS Relay
#   Security" describes the same rule. simlab models it as the EIMS 2.1 settings
#   `require_valid_ip` and `valid_ips` (here: the site's network). The thread's admins did not
#   mention it; the moderator quoted only the first choice.
# * SIMS: **Client Hosts**, its relay rule from the start (the thread: Tamachan, 15 June 1998);
# * Postfix: **`mynetworks`** in `smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
#   defer_unauth_destination` - Postfix's default (postconf(5)). `defer_unauth_destination`
#   answers a relay attempt with `454 4.7.1 ... Relay access denied` (try again later) rather
#   than the final `554` of `reject_unauth_destination`, so that a mistake in the list delays
#   mail instead of bouncing it. simlab's Postfix gives these replies as a recorded real
#   Postfix 3.7 does.
#
# The allow-list has a cost too: on EIMS 2.1 and SIMS, alice's mail from outside is refused,
# because she is not on the site's network. Postfix solves it with a login instead of an
# address - SMTP AUTH on port 587 (RFC 4954, RFC 6409) - so she loses nothing. (EIMS had SMTP
# AUTH too, from 2.1 on, by the same vendor notes, and KB 2153 recommends it for roaming
# users; in this lesson's day simlab's alice logs in only on Postfix.)

# %%
for preset, defence in (("eims-2.1", "allowlist"), ("sims", "none"), ("postfix", "none")):
    day = simlab.run(rotation_day(preset, defence), seed=1)
    print(f"{preset:9} spam relayed {day.summary['spam_relayed']}   lost, by sender: {lost_by_sender(day)}")

# %% [markdown]
# ## Try it: the rotation lab
#
# Choose a server and a defence and change the spammer's pool (the panel replays the first 12
# hours). Once you change a setting, the panel adds a line "Against the starting settings (...),
# on the same traffic: ..." that compares your run with the panel's starting settings (fail2ban,
# a pool of 50, a ban after 3) on the same server and seed: the staff's and correspondents' day
# is the same in both runs, so the differences it lists are your setting's doing. Things to try:
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
# refuses none of their logins, bans nobody but the spammer, and opens relaying to nobody who
# does not need it (the checker says so if your settings let strangers relay).
#
# Call it as `check_rotation_defence("eims-2.1", defence, ban_after=3, relay_networks=None)`:
#
# * `defence` is one of `"none"`, `"per_ip_ban"` (fail2ban), `"admin_block"` (the admin blocks at
#   the router, hourly), `"please_stop"` (letters) or `"allowlist"` (Relay Restriction AND if
#   from a valid IP - the vendor's option for EIMS 2.1 to 3.1, KB 2153, see above: an answer
#   on EIMS 2.1 that uses it relies on that source, not on the thread);
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
#   own people behind a roaming address or an office's NAT. Keep fail2ban's `ignoreip` (and
#   Dovecot's `login_trusted_networks`) for your own networks, and never let a ban rule read
#   lines your own users produce in normal work.
# * Asking an abuser to stop reaches nobody: the sender's address and HELO are the abuser's
#   own words (RFC 2505 §2.1).
