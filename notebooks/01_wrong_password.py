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
# * Explain why a password equal to the account name is an easy first guess.
# * Compare the defences - restricting POP3 by client address (in the server or at the router),
#   account lockout, fail2ban, a failure delay - by what each stops and what each costs the
#   site's own users.
#
# **The story, in our words.** The thread opens with a post by みやむら (22 May 1998), who ran
# EIMS 2.1. Reading the mail log, they had found entries "Wrong password for..." about the POP3
# server, and it looked as if a complete stranger was connecting and delivering mail: could
# that happen, and what should they do? (An hour and a half later they wrote that it might be a
# misunderstanding on their part.) The moderator, 田中求之, answered the same afternoon: the
# error means the password was wrong and the server *refused* the connection - nothing got
# into POP, so there is no problem. A real intruder would leave no error message at all,
# because they would log in with a real user's name and password - something, the moderator
# added, the server side cannot control. If access to POP from outside is the worry (say, the
# sheet with a user name and password was faxed to the wrong company by mistake), restrict POP
# by client IP address. On 24 May kazu added that one technique is to try, one account after
# another, a password equal to the account name; that access from networks that need none
# should be restricted, for POP and everything else - in the mail server, or if it cannot, by
# filtering at the router; and that being knocked offline is really scarier than an intrusion -
# a point lockouts bring back, as we'll see.
#
# **Addresses and names used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `mail.example.com`, 192.0.2.25 | みやむら's EIMS 2.1 server (no name or address given) |
# | 203.0.113.226 | 203.216.11.226, borrowed: みやむら gave no address (see below) |
# | `webmaster` | the account in the same borrowed line (see below); みやむら named none |
# | 203.0.113.150 - 203.0.113.198 | more addresses of the same guesser, when it has a pool (not in the thread) |
# | 192.0.2.0/24, bob at 192.0.2.101 | the site's LAN and a member of staff on it |
# | 198.51.100.77, alice | a member of staff reading mail from outside (not in this part of the thread) |
#
# The address and the account come from a later post's log line (cony, 15 June, EIMS 1.2;
# lesson 02), since みやむら's post gave neither. The site's four mailboxes are `bob`, `alice`,
# `webmaster` and `info`; the last two have the password kazu warned about - their own name.
#
# **What is documented and what is modelled.** みやむら quoted only the words "Wrong password
# for..."; the one full POP3 error line in the thread, `POP3 wrong password for webmaster from
# 203.216.11.226`, comes from cony's EIMS 1.2 log. simlab's EIMS 2.1 writes its failures in that
# same form, and its other lines (`POP3 connection from ... for ...`) and its POP3 replies are
# simlab's wording: a modelling choice, as the docstring of `simlab/products/eims.py` says.

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
# Alice checks her mail from 198.51.100.77. Then the guesser at 203.0.113.226 tries `webmaster`
# twice: first with `password`, then with `webmaster`. Each `USER`/`PASS` pair is a login
# attempt (RFC 1939 §7). `USER` and `PASS` cross the network in clear text: anyone on the path
# can read the password (the transcript below hides what was typed after `PASS`, the wire does
# not). The `<...>` at the end of the server's first line is an APOP timestamp (RFC 1939 §7): a
# client that supports APOP answers with `APOP name digest`, where the digest is MD5 of that
# timestamp followed by the password, so the password itself never crosses the wire. (That
# simulated EIMS offers APOP is simlab's modelling; nobody here uses it.)
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
# alice's normal login; nothing marks it as suspicious, because to the server it isn't - the
# moderator's point. Only the address gives it away - and only to an admin who knows where
# each user logs in from.

# %% [markdown]
# ## A day with a guesser
#
# Now a whole day at the site: bob and alice read and send mail as usual, two correspondents
# deliver, and from 2:25 AM a guesser at 203.0.113.226 tries each account in turn - first the
# account's name as password (kazu's technique), then four common passwords - one guess every
# two minutes. (The day, its users and the guesser's list are simlab's; the thread gives no
# times or counts.)

# %%
day = simlab.run(simlab.scenarios.wrong_password(), seed=1)
print({key: day.summary[key] for key in ("login_failures", "accounts_compromised", "logins_ok")})
for line in day.log:
    if "203.0.113.226" in line or "wrong password" in line:
        print(line)

# %% [markdown]
# Read the list from the top. From 2:25 AM, ten refused guesses against bob and alice, whose
# passwords are not guessable - and then, at 2:45 and 2:47, `POP3 connection from 203.0.113.226
# for webmaster` and `... for info`: the first try on each was right. No error, no alarm. The
# last line, at 6:46 AM, comes from bob's own PC (192.0.2.101): staff mistype too, and their
# lines look exactly like an attack's. That makes 11 failed logins in the day - ten from the
# guesser, one from bob - beside 72 successful logins by the staff.

# %%
[(b.account, b.client_ip, f"{b.time:%H:%M}") for b in break_ins(day)]

# %%
guessing_timeline(day, title="Failed logins per hour: the guesser's burst, a staff typo, two break-ins")

# %% [markdown]
# In the chart, the blue line counts the guesser's wrong passwords per hour, the red line the
# staff's, and the purple crosses mark the two break-ins.
#
# ## Defences, side by side
#
# The thread named two defences; today's servers add three more:
#
# * **IP Range Restriction on POP3** (EIMS 2.1): only the listed addresses may connect. The
#   moderator advised restricting POP by IP address, and EIMS 2.1's IP Range Restriction is
#   named later in the thread; that it can be set for POP3 alone, and its answer `-ERR ...
#   Access denied` before the client can say `USER`, are simlab's modelling.
# * **Router filter** (kazu's advice): the router drops POP3 packets from outside; the guesser
#   gets no answer.
# * **Account lockout**: after N failed logins the account is locked for 30 minutes (a generic
#   lockout, as many servers offer; the 30 minutes are simlab's choice).
# * **fail2ban** (a tool from 2004, long after the thread): reads the server's log; five failures
#   from one address within ten minutes ban that address at the firewall for ten minutes -
#   fail2ban's defaults (`maxretry`, `findtime`, `bantime` in its `jail.conf`). The LAN is on its
#   ignore list here. The pattern it looks for in EIMS's log is simlab's, since the log wording is.
# * **Failure delay**: each failed login from an address waits longer before the reply (2, 4,
#   8, 15 s). This is Dovecot's documented authentication penalty - Dovecot is today's most
#   common POP3/IMAP server, the program that hands mail to mail clients on a Postfix site.
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
    "failure delay": {"failure_delay": True},
}
outcomes = {name: simlab.run(guessing_day(**kw), seed=1).summary for name, kw in defences.items()}
plots.compare_bars(outcomes, keys=("accounts_compromised", "legit_logins_refused"),
                   title="What each defence stops, and what it costs")

# %% [markdown]
# What the bars say (purple: accounts broken into; orange: staff logins refused):
#
# * **Restricting POP3 to the LAN** - in the server or at the router - stops the guesser cold,
#   and refuses alice every time she checks her mail: the orange bar, 24 refused logins, all
#   hers. The thread's advice fits a site whose users are all inside; alice is not.
# * **Lockout** stops nothing here: the guesser's *first* try on webmaster and info is the
#   right one, before any counter reaches three. Worse, its wrong guesses on bob and alice
#   lock *them* out for half an hour - and if they check their mail in that half hour, they
#   are refused (2 refused logins, one each). Anyone who knows an account name can keep its
#   owner from their mail: the denial of service kazu found scarier than a break-in.
# * **fail2ban with its default ten-minute ban** only slows the guesser down: it is banned
#   after bob's five failures, comes back, is banned again after alice's - and then walks into
#   webmaster and info, 40 minutes later than without it (at 3:25 and 3:27 AM).
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
# ## Try it: the password lab
#
# The panel runs the same day with the defences you tick. "POP3 allowed from" is the list that
# both the IP Range Restriction and the router filter allow (ranges `A-B`, CIDR blocks such as
# `192.0.2.0/24` - "the 256 addresses that start with 192.0.2" - or single addresses, separated
# by commas). The server menu also offers today's servers, Postfix and Exim, each with Dovecot
# answering POP3 (neither has a POP3 server of its own; Dovecot is their usual companion).
# Things to try:
#
# 1. Tick IP Range Restriction. Who is refused, and why?
# 2. Tick fail2ban and open the "failed logins per hour" tab: when is the guesser banned, and
#    when does it come back?
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
# are: the webmaster account is used by a script nobody can change today. (EIMS 2.1's IP Range
# Restriction on POP3 works here as simlab models it, described above.)
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
# ## After the exercise: a guesser with many addresses
#
# fail2ban counts failures *per address*. A guesser with a pool of addresses spreads its
# guesses so that no address reaches five. **Predict:** with a one-day ban and 20 addresses,
# how many accounts fall?

# %%
pooled = simlab.run(guessing_day(fail2ban=True, bantime=86400, guesser_ips=20), seed=1)
print("bans:", pooled.summary["bans"], "- broken into:", [(b.account, b.client_ip) for b in break_ins(pooled)])

# %% [markdown]
# None of the addresses failed five times, so none was banned, and the guesser got in from
# 203.0.113.159 and 203.0.113.160. fail2ban's own README says as much: it lowers the rate of
# guessing; it does not make a weak password safe.

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
# * POP3's `USER`/`PASS` send the password in clear text: anyone on the path can read it.
# * Today: POP3 and IMAP over TLS only, with modern authentication (app passwords, OAuth or
#   client certificates), and alerts on logins from unusual places.
