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
# # 10 · Password spraying from a botnet
#
# **Learning goals**
#
# * Tell a *spray* from the thread's guesser: many addresses, a few attempts each, one common
#   password tried on every account before the next.
# * Show why defences that count per address - fail2ban's stock jails, Postfix's
#   `smtpd_client_auth_rate_limit`, Dovecot's auth penalty - hardly slow a botnet.
# * Show that counting per *account* holds, and count what an account lockout costs the staff:
#   anyone who knows a name can lock its owner out.
# * Read the log lines Postfix and Dovecot write for a refused login, and the ones they do not
#   write for a login that worked.
#
# **The story, in our words.** The thread's first case (lesson 01): in May 1998 みやむら found
# "wrong password" lines in the POP3 log of their EIMS 2.1 server. The moderator, 田中求之,
# explained that such a line records a *refused* login; kazu added that guessers try, account
# after account, a password equal to the account name, and that access from networks that need
# none should be restricted. That guesser came from one address. Today's sequel comes from
# thousands: a *botnet* (many hijacked computers steered by one controller) tries common
# passwords against the ports where staff log in - SMTP AUTH on the submission ports 587 and
# 465, and POP3 on 110. The lesson is ours, not the thread's: the thread ends in 1998.
#
# **Words used below.**
#
# * **Password spraying**: trying *one* common password on *many* accounts, then the next
#   password. Each account sees few failures, and with a botnet each address sends only a few.
# * **SMTP AUTH** (RFC 4954): logging in to an SMTP server, here on the *submission* ports 587
#   (RFC 6409) and 465 (RFC 8314, with TLS from the start). `AUTH PLAIN` carries user name and
#   password in base64 - an encoding anyone can undo, not encryption.
# * **fail2ban** reads the log and bans an address at the firewall after `maxretry` matching
#   lines within `findtime` (fail2ban's `jail.conf`, as Debian ships it: 5 within 10 minutes, ban
#   10 minutes). Its stock jails `[postfix-sasl]` and `[dovecot]` count per *address*.
# * **A per-account jail**: the same fail2ban, but its filter names the *user* as the thing
#   that failed (fail2ban's `<F-ID>` tag; our filter is
#   `simlab/data/fail2ban/filter.d/simlab-login-user.conf`). 5 failures of one account within an
#   hour jail it. Its action is ours: for an hour, the account may log in only from the site's own
#   network (Dovecot's `allow_nets` passdb field). Both pieces are documented features; putting
#   them together is a modelling choice.
# * **Account lockout**: after 5 failed logins in a row the account is locked for 30 minutes,
#   for everyone. Neither Postfix nor Dovecot has such a setting: it is a modelling choice that
#   stands for the lockout policies of directories and mail suites.
# * **anvil** is Postfix's counter of events per client (anvil(8)): `smtpd_client_auth_rate_limit`
#   refuses an address's AUTH commands beyond a number per minute, with `450 4.7.1 Error: too many
#   AUTH commands from <address>` (postconf(5), `smtpd.c`). Postfix's default is 0, no limit; here
#   it is 2 (our choice).
# * **Dovecot's auth penalty** (`src/auth/auth-penalty.c`): after a failure from an address,
#   Dovecot makes that address's next login wait 4, 8, then 15 seconds - but 15 quiet seconds wipe
#   the slate.
# * **postscreen** (postscreen(8)): Postfix's screen in front of port 25, which other *servers* use
#   to deliver mail. It can drop clients a DNS blocklist names. It never sees the submission ports.
#
# **Addresses and names used here.**
#
# | here | stands for |
# |---|---|
# | `mail.example.com`, 192.0.2.25 | the site's server: Postfix 3.7 with Dovecot, as Debian 12 ships them |
# | 192.0.2.0/24: bob (.101), the sales desk and the webmaster (.102) | the site's LAN and its staff there |
# | 198.51.100.77, alice | a member of staff reading and sending mail from outside |
# | 203.0.113.1 - .254, then 198.18.0.0/15 | the botnet (RFC 5737; beyond 249 bots, RFC 2544's benchmarking range) |
# | `info`, `sales`, `webmaster` | the accounts with a weak password: the list's 8th, 17th and 31st |

# %%
# %matplotlib inline
import base64

import simlab
from simlab.exercises.spraying import DEFENCE_NAMES, size_sweep, spraying_day, staff_refusals
from simlab.plots.spraying import spraying_sweep_figure
from simlab.scenarios.spraying import SPRAY_PASSWORDS, SPRAY_USERS, WEAK_PASSWORDS, first_compromise
from simlab.ui.spraying import attack_lines, spraying_lab

# %% [markdown]
# ## One attempt, by hand
#
# A bot's attempt is short: `EHLO`, then `AUTH PLAIN` with the user name and a password, then it
# hangs up. **Predict:** the password is wrong. What does Postfix answer, and what does it write
# in its log? And for the right password?

# %%
server = simlab.presets.postfix(mydestination=["example.com"], accounts={"info": "welcome", "bob": "Tr0ub4dor&3"})
for password in ("123456", "welcome"):
    s = server.smtp_session("203.0.113.5", port=587)
    s.send("EHLO [203.0.113.5]")
    token = base64.b64encode(f"\0info\0{password}".encode()).decode()
    print(f"AUTH PLAIN {token:24} ({password!r}) ->", s.send(f"AUTH PLAIN {token}"))
    s.close()
p = server.pop3_session("198.18.0.9")
p.send("USER bob")
reply = p.send("PASS 123456")
print("POP3 PASS 123456 ->", reply, f"(after {reply.delay:g} s)")
server.clock.advance(reply.delay)  # the bot hears the answer, then hangs up
p.close()
print()
print("\n".join(server.log))

# %% [markdown]
# The wrong password leaves `SASL PLAIN authentication failed: ..., sasl_username=info` under
# `postfix/submission/smtpd` (the port-587 entry of `master.cf`; Postfix's `smtpd_sasl_glue.c`).
# The right one leaves *no* failure line - the moderator's point of 1998 still holds. Both
# sessions end with `lost connection after AUTH`, because the client hung up without `QUIT`. In
# the success's lines, only `auth=1` in the `disconnect` line shows that a login worked (the
# failure's has `auth=0/1`: one AUTH command, none accepted).
# POP3's failure is Dovecot's one line per connection, `Disconnected (auth failed, 1 attempts in
# 2 secs)`: the "2 secs" is Dovecot's `auth_failure_delay` (2 s by default), the wait before it
# answers a failure.
#
# ## The thread's guesser against fail2ban
#
# First the 1998 case on today's server: *one* address, 200 attempts, one a minute - without a
# defence, then against fail2ban's stock jails, then with 1,000 attempts. (Unlike the thread's
# guesser, which tried each account's own name, this one works down the list of common passwords
# the botnet uses below.) **Predict:** how many of its attempts reach a password check?

# %%
for defences, attempts in (((), 200), (("fail2ban",), 200), (("fail2ban",), 1000)):
    lone = simlab.run(spraying_day(defences, botnet_size=1, attempts_per_address=attempts, pace=60), seed=1,
                      counts_only=True).summary
    first = first_compromise(lone)
    print(f"{'fail2ban' if defences else 'no defence':10} attempts {lone['spray_attempts']:4}: "
          f"{lone['spray_failed']:3} checked and refused, {lone['spray_refused_fail2ban']:3} dropped by a ban "
          f"({lone['bans']:2} bans); accounts lost: {lone['accounts_compromised']}"
          + ("" if first is None else f", the first after {first / 3600:.1f} hours"))

# %% [markdown]
# fail2ban does its job here: after 5 failures the address is banned for 10 minutes, and most of
# the guesser's attempts (130 of 200) hit a closed door. Without it the same 200 attempts find
# `info` (the list's 8th password) after about two hours. It is slowed, not stopped: given 1,000
# attempts, the lone guesser still finds two accounts within the day.
#
# ## The botnet
#
# Now 2,000 bots, 3 attempts each, about 10 minutes apart; they join in the first hour. The work
# list is every one of 16 account names with each of 40 common passwords, commonest first: 640
# pairs, so the 6,000 attempts are more than enough. 7 of the 16 names are real accounts (bob,
# alice, webmaster, info, sales, support, office); the bots cannot know which. The staff go on
# working all day.
#
# **Predict** before you run: with fail2ban's stock jails on, how many of the three weak
# accounts fall? With the per-account jail? With the lockout - and what does each cost the staff?

# %%
print("account names sprayed:", ", ".join(SPRAY_USERS))
print("the list's first ten:", ", ".join(SPRAY_PASSWORDS[:10]), "...")
print("weak passwords:", {account: (rank, SPRAY_PASSWORDS[rank - 1]) for account, rank in WEAK_PASSWORDS.items()})

# %%
choices = {"no defence": (), **{DEFENCE_NAMES[d]: (d,) for d in DEFENCE_NAMES}}
days = {name: simlab.run(spraying_day(defences), seed=1) for name, defences in choices.items()}
for name, day in days.items():
    s, first = day.summary, first_compromise(day.summary)
    when = "-" if first is None else f"{first / 60:.0f} min"
    print(f"{name:50} lost {s['accounts_compromised']}  first {when:>6}  staff refused {s['legit_logins_refused']:2}"
          f"  bans {s['bans']:2}  dropped {s['spray_refused_fail2ban']:3}  450s {s['spray_refused_anvil']:3}")

# %% [markdown]
# The columns: `lost` accounts lost; `first` minutes from the start of the attack to the first
# account lost; `staff refused` the staff's own logins refused; `bans` fail2ban's bans of an
# address; `dropped` attempts that met a ban; `450s` AUTH commands anvil refused.
#
# Check your predictions. Everything that counts per address did nothing at all: no address sent
# more than 3 attempts, 5 to 15 minutes apart, so fail2ban never saw 5 failures in 10 minutes
# (0 bans), anvil never saw more than 2 AUTH commands in a minute (0 refusals), and Dovecot's
# penalty was always forgiven before the next attempt. postscreen watches port 25, which the bots
# never touched. The first account fell 3 minutes into the attack.
#
# Both per-account defences held: each account gets about two attempts a minute from the whole
# botnet, so after its fifth failure it is shut, and the right passwords of `info`, `sales` and
# `webmaster` came while it was shut. They were refused exactly like wrong ones, so the bots
# learnt nothing and went on down the list. (The counters count names, so all 16 names were shut
# at some point, real accounts or not.)

# %%
for name in (DEFENCE_NAMES["account_jail"], DEFENCE_NAMES["lockout"]):
    s = days[name].summary
    print(f"{name:45} right passwords refused: jail {s['right_guesses_refused_jail']}, lockout "
          f"{s['right_guesses_refused_lockout']};  accounts shut: {s['account_bans'] or s['lockouts']}")

# %% [markdown]
# ### What each costs the staff
#
# Which staff logins were refused, and from where? **Predict** first: bob, the sales desk and the
# webmaster read mail from the LAN; alice from outside.

# %%
for name in ("no defence", DEFENCE_NAMES["account_jail"], DEFENCE_NAMES["lockout"]):
    print(f"{name:45} {staff_refusals(days[name]) or 'nobody'}")

# %% [markdown]
# The lockout shuts every sprayed account for everyone: bob, the sales desk and the webmaster on
# the LAN are locked out of their own mailboxes (7 refusals with alice's) - the denial of service
# the thread's kazu feared more than an intrusion, handed to anyone who knows the staff's names.
# The jail's action lets the account in from the LAN, so only alice, outside, pays (3 refusals).
#
# ## The log, as the admin sees it
#
# The first lines the bots left on the fail2ban day. Each address appears a few times at most.
# The `authentication failed` and `auth failed` lines are the ones fail2ban's stock filters
# match; `postfix/submissions/smtpd` is the port-465 entry of `master.cf`. The last line gives the
# most failures fail2ban counted against any one address within its 10-minute window:

# %%
lines = attack_lines(days[DEFENCE_NAMES["fail2ban"]].log, limit=12)
print("\n".join(lines))
jail = next(r for r in days[DEFENCE_NAMES["fail2ban"]].server.restrictions if getattr(r, "jail", "") == "postfix-sasl")
print()
print("most failures any address had in fail2ban's window:", max((len(t) for t in jail.failures.values()), default=0))

# %% [markdown]
# ## As the botnet grows
#
# The same day for botnets of 1 to 10,000 addresses, three attempts each: fail2ban's stock jails,
# the per-account jail and the lockout. **Predict** the shape of the curves. (18 short runs,
# counts only: a few seconds.)

# %%
sweep = size_sweep({"fail2ban per address": ("fail2ban",), "fail2ban per account": ("account_jail",),
                    "account lockout": ("lockout",)})
for name, rows in sweep.items():
    print(f"{name:22}", [(r["botnet_size"], r["accounts_compromised"], r["legit_logins_refused"]) for r in rows])
spraying_sweep_figure(sweep, title="three attempts per address: what the botnet wins as it grows")

# %% [markdown]
# (Each triple above: botnet size, accounts lost, staff logins refused.) With one or ten
# addresses the botnet makes only 3 or 30 attempts - not enough to reach the list's 8th password
# (`info`'s is tried around the 114th attempt). Against the per-address defence, 100 addresses
# win two of the weak accounts and 1,000 or more win all three, and the bigger the botnet, the
# sooner (the right panel). The two per-account lines stay at zero (in the left panel they lie on
# top of each other); the middle panel shows their price, highest for the lockout.
#
# ### Slow is also a way round
#
# The per-account jail here counts failures over an **hour** (`jail_findtime=3600`, our choice).
# With fail2ban's stock window of 10 minutes, an account must fail 5 times in 10 minutes to be
# jailed. **Predict:** 100 bots spread 300 attempts over about an hour and a half - roughly one
# per account every five minutes. Does the 10-minute jail hold?

# %%
for window in (600, 3600):
    s = simlab.run(spraying_day(("account_jail",), botnet_size=100, jail_findtime=window), seed=1,
                   counts_only=True).summary
    print(f"per-account jail, window {window // 60:2} minutes: accounts lost {s['accounts_compromised']}, "
          f"accounts jailed {s['account_bans']}, staff refused {s['legit_logins_refused']}")

# %% [markdown]
# No: the 10-minute jail never jails anyone, and two accounts are lost. A spray slow enough per
# account stays under any window, just as a botnet stays under a per-address one. Attackers tune
# their pace to the defaults they expect. The longer window catches this one - at the price of
# jailing an account whose owner mistypes five times in an hour.
#
# ## Dovecot's penalty, up close
#
# Dovecot's auth penalty (`src/auth/auth-penalty.c`) is real and faithful here: each failure
# from an address raises its penalty, the next login waits 4, 8, then 15 seconds, and the answer
# to a failure comes 2 seconds later still (`auth_failure_delay`). **Predict:** how long does the
# fifth wrong password in a row from one address wait? And after a 15-second pause?

# %%
from simlab.restrictions.logins import DovecotAuthPenalty  # noqa: E402

penalty = DovecotAuthPenalty()
srv = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "s3cret"}, restrictions=[penalty])
waits = []
for n in range(5):
    p = srv.pop3_session("203.0.113.9")
    p.send("USER bob")
    reply = p.send(f"PASS guess{n}")
    waits.append(reply.delay)
    srv.clock.advance(reply.delay)  # the client hears the answer, then tries again
    p.close()
print("seconds until each answer:", waits)
srv.clock.advance(15)
p = srv.pop3_session("203.0.113.9")
p.send("USER bob")
print("after 15 quiet seconds:", p.send("PASS again").delay)

# %% [markdown]
# A bot that waits more than 15 seconds between its attempts never meets the penalty at all;
# ours wait 5 to 15 *minutes*. The penalty is a brake for a guesser hammering from one address,
# which is what it was built for.
#
# ## Try it: the spraying lab
#
# Choose the botnet's size, its attempts per address and pace, and tick defences. The first tab
# shows accounts lost and staff logins refused for this botnet, and compares your run with the
# panel's starting settings (no defence) on the same traffic; the second tab runs the sweep from
# 1 to 10,000 addresses for your choice (it takes a moment: a progress bar shows it working). Things to try:
#
# 1. Tick every per-address defence at once. Then one address, 10 attempts, "every minute".
# 2. The per-account jail, then the lockout: who pays?
# 3. fail2ban, 10 attempts per address, "every minute": bans at last - and the accounts?

# %%
spraying_lab()

# %% [markdown]
# ## Exercise
#
# Choose defences for the site so that the 2,000-address botnet **gets no account**, and **fewer
# staff logins are refused than with a plain lockout**. Call
# `check_spraying_defence(defences)` with a list of the defence names:
# `"fail2ban"`, `"anvil"`, `"auth_penalty"`, `"account_jail"`, `"lockout"`, `"postscreen"`.

# %%
from simlab.exercises.spraying import SOLUTION, check_spraying_defence  # noqa: E402

check_spraying_defence(["fail2ban", "anvil"])  # the stock answer: does it pass?

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## What carries over to today
#
# * A botnet makes per-address counting useless: fail2ban's stock jails, anvil's AUTH rate limit
#   and Dovecot's penalty all slow *one* address. Keep them for the lone guesser; do not expect
#   them to stop a spray.
# * Count what the attack is about: failures per account. A jail that shuts an account to the
#   outside for a while, and lets the site's own network in, holds without locking the office out.
#   A plain lockout holds too - and hands anyone who knows your staff's names a way to lock them out.
# * No counter saves a password near the top of every list. Try
#   `simlab.run(spraying_day(("account_jail",), weak_passwords={"info": 3}), seed=1).summary`:
#   `info` is lost, because its password is the list's third, tried before the fifth failure
#   can shut the account. Refuse such passwords when they are set, and prefer logins that a list
#   cannot guess.
# * A right password still leaves no failure line (lesson 01): watch the *successful* logins from
#   addresses you have never seen, too.
