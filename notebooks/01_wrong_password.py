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
# # 01 · Wrong passwords in the POP3 log (S1)
#
# **Learning goals**
#
# * Read a POP3 "wrong password" log line: what it proves (a refused login) and what it does not.
# * Show that a stolen or guessed password leaves *no* error line: the server cannot tell the
#   intruder from the owner.
# * Explain why "password = account name" is what guessers try first.
# * Compare the defences - restricting POP3 by client address (in the server or at the router),
#   account lockout, fail2ban with short and long bans, a failure delay - by what each stops
#   and what each costs the site's own users.
#
# **The story, in our words.** An administrator running EIMS 2.1 opened the error log and found
# a line saying that somebody outside had given the wrong password for `webmaster` over POP3.
# Was the server broken into? The replies were calm: the line is the record of a login the
# server *refused*; nothing got in that time. What should worry an admin is the opposite case:
# someone who holds the right password logs in like the owner and leaves no error line at all.
# The usual way in is guessing - trying, account after account, a password equal to the
# account's name. The advice: only let the networks that need POP3 reach it, either in the
# server itself or with a filter on the router. One participant added that being knocked
# offline would frighten him more than an intrusion - a point lockouts bring back, as we'll see.
#
# **Addresses used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `mail.example.com`, 192.0.2.25 | the admin's EIMS 2.1 server |
# | 203.0.113.226 | the outside address in the log line (203.216.11.226) |
# | 203.0.113.150 - 203.0.113.198 | more addresses of the same guesser, when it has a pool |
# | 192.0.2.0/24, bob at 192.0.2.101 | the site's LAN and a member of staff on it |
# | 198.51.100.77, alice | a member of staff reading mail from outside (not in the thread) |
#
# The site's four mailboxes are `bob`, `alice`, `webmaster` and `info`; the last two have the
# password the thread warns about - their own name.

# %%
# %matplotlib inline
import simlab
from simlab import plots
from simlab.exercises.password import break_ins, guessing_day, staff_refusals
from simlab.scenarios.site import site_server
from simlab.ui.password import guessing_timeline, password_lab

# %% [markdown]
# ## One wrong password, one right one
#
# Alice checks her mail from 198.51.100.77. Then the address from the log tries `webmaster`
# twice: first with `password`, then with `webmaster`. Each `USER`/`PASS` pair is a login
# attempt (RFC 1939; the transcript hides what was typed after `PASS`).
#
# **Predict** before you run the cell: how many lines will the server log show, and which of
# them will tell the admin that webmaster's mailbox was opened by a stranger?

# %%
eims = site_server("eims-2.1")
alice = eims.pop3_session(client_ip="198.51.100.77")
for line in ["USER alice", "PASS wonderland42", "QUIT"]:
    alice.send(line)
guesser = eims.pop3_session(client_ip="203.0.113.226")
for line in ["USER webmaster", "PASS password", "USER webmaster", "PASS webmaster", "STAT", "QUIT"]:
    guesser.send(line)
print("\n".join(guesser.transcript))
print()
print("\n".join(eims.log))

# %% [markdown]
# Three lines. The first and the last look the same: "POP3 connection from ... for ...". The
# only error line is the refused guess. The guess that *worked* is recorded exactly like
# alice's normal login; nothing marks it as suspicious, because to the server it isn't. Only
# the address gives it away - and only to an admin who knows where each user logs in from.

# %% [markdown]
# ## A day with a guesser
#
# Now a whole day at the site: bob and alice read and send mail as usual, two correspondents
# deliver, and from 2:25 AM a guesser at 203.0.113.226 tries each account in turn - first the
# account's name as password, then four common passwords - one guess every two minutes.

# %%
day = simlab.run(simlab.scenarios.wrong_password(), seed=1)
print({key: day.summary[key] for key in ("login_failures", "accounts_compromised", "logins_ok")})
for line in day.log:
    if "203.0.113.226" in line or "wrong password" in line:
        print(line)

# %% [markdown]
# Read the list from the top. The first line, and most of those after 3 AM, come from bob's
# own PC (192.0.2.101), one from alice: staff mistype too, and their lines look exactly like an
# attack's. From 2:25 AM, ten refused guesses against bob and alice, whose passwords are not
# guessable - and then `POP3 connection from 203.0.113.226 for webmaster` and `... for info`:
# the first try on each was right. No error, no alarm.

# %%
[(b.account, b.client_ip, f"{b.time:%H:%M}") for b in break_ins(day)]

# %%
guessing_timeline(day, title="Failed logins per hour: the guesser's burst, staff typos, two break-ins")

# %% [markdown]
# ## Defences, side by side
#
# The thread named two defences; today's servers add three more:
#
# * **IP Range Restriction on POP3** (EIMS 2.1): only the listed addresses may connect; the
#   others get `-ERR ... Access denied` before they can say `USER`.
# * **Router filter**: the router drops POP3 packets from outside; the guesser gets no answer.
# * **Account lockout**: after N failed logins the account is locked for 30 minutes.
# * **fail2ban**: reads the server's log; five failures from one address within ten minutes ban
#   that address at the firewall - by default for ten minutes.
# * **Failure delay**: each failed login from an address waits longer before the reply (2, 4,
#   8, 15 s). This is how Dovecot behaves - Dovecot is today's most common POP3/IMAP server, the
#   program that hands mail to mail clients on a Postfix site.
#
# `True` for the IP range or the router filter below means "the LAN only" (192.0.2.0/24); in the
# exercise you can give a list of ranges instead.
#
# **Predict:** which of these stop both break-ins? And which of them cost alice, who reads
# her mail from outside, her mail?

# %%
defences = {
    "none": {},
    "IP range: LAN": {"ip_range_restriction": True},
    "router: LAN": {"router_filter": True},
    "lockout after 3": {"lockout": 3},
    "fail2ban 10 min": {"fail2ban": True},
    "fail2ban 1 day": {"fail2ban": True, "bantime": 86400},
    "failure delay": {"failure_delay": True},
}
outcomes = {name: simlab.run(guessing_day(**kw), seed=1).summary for name, kw in defences.items()}
plots.compare_bars(outcomes, keys=("accounts_compromised", "legit_logins_refused"),
                   title="What each defence stops, and what it costs")

# %% [markdown]
# What the bars say:
#
# * **Restricting POP3 to the LAN** - in the server or at the router - stops the guesser cold,
#   and locks alice out every time she checks her mail (the red "staff logins refused" bar).
#   The thread's advice is right for a site whose users are all inside; a roaming user must be
#   added to the list.
# * **Lockout** stops nothing here: the guesser's *first* try on webmaster and info is the
#   right one, before any counter reaches three. Worse, its wrong guesses on bob and alice
#   lock *them* out for half an hour - and if they check their mail in that half hour, they
#   are refused. Anyone who knows an account name can keep its owner from their mail: the
#   denial of service the thread's participant was worried about.
# * **fail2ban with its default ten-minute ban** only slows the guesser down: it is banned
#   after bob's five failures, comes back, is banned again after alice's - and then walks into
#   webmaster and info. A ban of a day keeps it out, and costs nobody anything: on these bars
#   it is already a passing answer to the exercise below. So there are two routes - the IP list
#   with alice's address added, or the long ban - and the exercise's follow-up question, with a
#   guesser that has 20 addresses, tells them apart.
# * **The failure delay** makes each wrong guess slower; it cannot slow a right one.
#
# Let's look closer at two of them. First the lockout: the guesser's failures lock bob's and
# alice's accounts, its own next tries are turned away (`blocked`), and so is any login by
# the owner while the lock lasts (the lines marked "the account's owner" below). Webmaster and
# info fall anyway. The lines below say when each lock caught whom:

# %%
locked = simlab.run(guessing_day(lockout=3), seed=1)
print("staff refused:", dict(staff_refusals(locked)), "- broken into:", [b.account for b in break_ins(locked)])
for line in locked.log:
    if "blocked" in line:
        who = "the guesser" if "203.0.113.226" in line else "the account's owner"
        print(f"{line}   <- {who}")

# %% [markdown]
# fail2ban counts failures *per address*. A guesser with a pool of addresses spreads its
# guesses so that no address reaches five. **Predict:** with a one-day ban and 20 addresses,
# how many accounts fall?

# %%
pooled = simlab.run(guessing_day(fail2ban=True, bantime=86400, guesser_ips=20), seed=1)
print("bans:", pooled.summary["bans"], "- broken into:", [(b.account, b.client_ip) for b in break_ins(pooled)])

# %% [markdown]
# None of the addresses failed five times, so none was banned, and the guesser got in from
# 203.0.113.159 and 203.0.113.160. fail2ban's own documentation says as much: it lowers the
# rate of guessing; it does not make a weak password safe.
#
# ## Try it: the password lab
#
# The panel runs the same day with the defences you tick. "POP3 allowed from" is the list that
# both the IP Range Restriction and the router filter allow (ranges `A-B`, CIDR blocks such as
# `192.0.2.0/24` - "the 256 addresses that start with 192.0.2" - or single addresses, separated
# by commas). Things to try:
#
# 1. Tick IP Range Restriction. Who is refused? Then add `198.51.100.77` to the list.
# 2. fail2ban: move the ban time from 10 minutes to a day. Then give the guesser 20 addresses.
# 3. Account lockout: set it to 1 failure. Does the guesser still get in? Who else can't?
# 4. Slow the guesser down to one guess every 10 minutes with fail2ban on: what happens?
# 5. Tick "no password equals its account name" and untick everything else.
# 6. Type `192.0.2.0/33` into "POP3 allowed from" with a restriction ticked, and read the message.
#
# The "failed logins per hour" tab draws the day as a timeline; the server log shows refused
# logins in red; "the guesser's dialogue" shows one refused guess and, if there was one, the
# guess that worked.

# %%
password_lab()

# %% [markdown]
# ## Exercise
#
# Choose defences **on EIMS 2.1** so that no account is broken into *and* both bob (on the LAN)
# and alice (roaming, at 198.51.100.77) can read their mail all day. The passwords stay as they
# are: the webmaster account is used by a script nobody can change today.
#
# Call the checker with the defences as keyword arguments - the same names as
# `guessing_day`: `ip_range_restriction=[...]`, `router_filter=[...]`, `lockout=N`,
# `fail2ban=True`, `bantime=seconds`, `failure_delay=True`. It tells you which accounts fell,
# from which addresses, and who could not read their mail. When you pass, try again with
# `guesser_ips=20`: does your answer still hold?

# %%
from simlab.exercises.password import SOLUTION, check_no_break_in  # noqa: E402

check_no_break_in(lockout=3)  # replace with your defences

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## What carries over to today
#
# * A "wrong password" line is a refused login: worth counting, not a break-in. The break-in is
#   the *successful* login from an address that user never uses - look for those.
# * Weak passwords - above all, the account's own name - are the real hole; no server setting
#   fully makes up for them.
# * Restrict who can reach a login service at all (VPN, firewall, `login_trusted_networks`),
#   and plan for the users who are outside.
# * Lockouts turn guessing into a denial of service against your own users; fail2ban slows
#   guessers and is walked past by a pool of addresses. Use them as speed bumps, not walls.
# * Today: POP3 and IMAP over TLS only, with modern authentication (app passwords, OAuth or
#   client certificates), and alerts on logins from unusual places.
