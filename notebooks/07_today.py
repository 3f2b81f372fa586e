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
# # 07 · From 1998 to today: the same problems, in Postfix's words
#
# **Learning goals**
#
# * Map each fix the thread reached for to the Postfix setting that does the job today:
#   `mynetworks`, `reject_unauth_destination`, submission with SMTP AUTH,
#   `smtpd_sender_login_maps`, fail2ban, `reject_rbl_client`.
# * Read today's refusals and their log lines: `454` against `554`, `530 5.7.0`,
#   `553 5.7.1 ... not logged in`, `NOQUEUE: reject: RCPT from ...`.
# * Run nmap's 16 open-relay tests against all four servers and explain each answer from the
#   way each product reads an address.
# * Write a relay policy that lets your own users relay and refuses everyone else for good.
#
# **The story so far, in our words.** The thread's admins ran Macintosh mail servers in 1998.
# They met a log full of refused POP3 logins and feared a break-in (S1); found that a survey
# had used their EIMS 1.2 as a relay (S2); learned that EIMS 2.1's anti-relay settings were off
# until switched on (S3) and that its relay rule trusted the sender's domain, which anyone can
# type (S4); shut out the Internet's mail with an IP restriction that was too strict (S5); and
# watched a spammer hop between addresses. The forum's conclusion was sound and still is:
# decide by something the client cannot forge, and allow what is legitimate instead of chasing
# each abuser. This lesson takes the same site, puts Postfix 3.7 (with Dovecot for POP3) where
# the Mac server stood, and shows which setting answers each problem.
#
# **Addresses used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `mail.example.com`, 192.0.2.25 | the admin's mail server |
# | `example.com` | the admin's domain (mycompany.co.jp) |
# | 192.0.2.0/24, bob's PC 192.0.2.101 | the site's own network |
# | 198.51.100.77 | alice, a member of staff reading and sending mail from outside |
# | `yourcompany.test`, `remote.test` (198.51.100.90) | foreign domains (yourcompany.co.jp) and a correspondent |
# | 203.0.113.50 | the host that sent the spoofed `Postmaster@` message |
# | 203.0.113.226 | the password guesser (203.216.11.226) |
# | 203.0.113.7 | the host running nmap's relay tests, outside the site |
# | `nmap.scanme.test` | the foreign domain nmap's relay tests aim at |

# %%
# %matplotlib inline
import simlab
from simlab import plots
from simlab.scenarios.site import site_server

postfix = site_server("postfix")  # the site's settings: mydestination, mynetworks, the accounts
print("mynetworks =", postfix.settings["mynetworks"])
print("smtpd_relay_restrictions =", ", ".join(postfix.settings["smtpd_relay_restrictions"]))

# %% [markdown]
# ## 1. Who may relay: `mynetworks` and `permit_mynetworks`
#
# SIMS asked "is the client's address on my Client Hosts list?"; Postfix asks the same of
# `mynetworks`. The relay decision is made at `RCPT TO`, by `smtpd_relay_restrictions`, read
# left to right, first match wins. The default is
# `permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination`.
#
# **Predict**, then run: the same three lines from bob's PC on the LAN and from an outside
# host. What does each get at `RCPT`?

# %%
def rcpt_reply(server, client_ip, sender, recipient, port=25):
    s = server.smtp_session(client_ip=client_ip, port=port)
    s.send("EHLO client.example.net")
    s.send(f"MAIL FROM:<{sender}>")
    return s.send(f"RCPT TO:<{recipient}>")


print("bob (LAN):      ", rcpt_reply(postfix, "192.0.2.101", "bob@example.com", "carol@remote.test"))
print("outside host:   ", rcpt_reply(postfix, "203.0.113.50", "Postmaster@example.com", "user_name@yourcompany.test"))
print("to one of ours: ", rcpt_reply(postfix, "203.0.113.50", "carol@remote.test", "bob@example.com"))
print(next(line for line in postfix.log if "NOQUEUE: reject" in line))

# %% [markdown]
# The sender `Postmaster@example.com` made no difference: in Postfix the sender address never
# grants relay - the thread's spoofing trick (S4) has nothing to hold on to. And the outsider may
# still write *to* bob: a mail server must accept its own domain's mail from anyone.
#
# ## 2. Refuse for good, or for now: `reject_unauth_destination` or `defer_unauth_destination`
#
# The outsider above got `454 4.7.1`: a *temporary* refusal. That is Postfix's default, a safety
# net: if you get `mynetworks` wrong, your own users' mail waits and is retried instead of
# bouncing. The words of the default list, read left to right:
#
# | word | means |
# |---|---|
# | `permit_mynetworks` | the client's address is in `mynetworks`: allow, stop reading |
# | `permit_sasl_authenticated` | the client logged in with SMTP AUTH: allow, stop reading |
# | `defer_unauth_destination` | the recipient's domain is not ours: refuse *for now* (`454`) |
# | `reject_unauth_destination` | the same test, but refuse *for good* (`554`) |
#
# Here is `reject_unauth_destination` on its own, as the whole list. **Predict:** what do the
# outsider and bob on the LAN get now?

# %%
alone = site_server("postfix", {"smtpd_relay_restrictions": "reject_unauth_destination"})
print("outside host:", rcpt_reply(alone, "203.0.113.50", "Postmaster@example.com", "user_name@yourcompany.test"))
print("bob (LAN):   ", rcpt_reply(alone, "192.0.2.101", "bob@example.com", "carol@remote.test"))
print(next(line for line in alone.log if "NOQUEUE: reject" in line))

# %% [markdown]
# A permanent `554 5.7.1` - but for bob too: on its own, the word refuses everyone who writes to
# a foreign domain. Which words must come before it, in which order, is the exercise at the end.
#
# ## 3. Roaming users: submission on port 587 with SMTP AUTH
#
# In 1998 alice, away from the office, could send through EIMS only because her sender address
# was local - the same hole a spammer used - and SIMS refused her. Today she logs in: the
# submission port 587 refuses `MAIL` until the client has authenticated (RFC 6409, RFC 4954),
# and `permit_sasl_authenticated` lets a logged-in user relay from anywhere. The `AUTH PLAIN`
# argument is base64 of `\0alice\0wonderland42`.
#
# **Predict:** what does the server answer to `MAIL FROM` *before* `AUTH`?

# %%
from simlab.ui.today import auth_plain  # noqa: E402

s = postfix.smtp_session(client_ip="198.51.100.77", port=587)
for line in ["EHLO alice-laptop.example.com", "MAIL FROM:<alice@example.com>",
             f"AUTH PLAIN {auth_plain('alice', 'wonderland42')}", "MAIL FROM:<alice@example.com>",
             "RCPT TO:<carol@remote.test>", "QUIT"]:
    s.send(line)
ehlo_reply = s.transcript[2:s.transcript.index("C: MAIL FROM:<alice@example.com>")]
print("The reply to EHLO, line by line:", *ehlo_reply, sep="\n  ")

# %% [markdown]
# The `250-AUTH PLAIN LOGIN` line is the server offering SMTP AUTH. In the diagram below the
# ten-line reply is drawn as one arrow, naming its first line, the `AUTH` line and the last.

# %%
from simlab.ui.today import join_multiline_replies  # noqa: E402

plots.sequence_diagram(join_multiline_replies(s.transcript, keep="AUTH"),
                       client="alice (198.51.100.77)", server="mail.example.com:587",
                       title="Submission: no MAIL before AUTH")

# %% [markdown]
# `530 5.7.0 Authentication required`, then `235 2.7.0` after `AUTH`, then relaying is
# allowed. The log names the login - look for `sasl_username`:

# %%
for line in postfix.log:
    if "198.51.100.77" in line and ("530" in line or "sasl_username" in line):
        print(line)
#
# ## 4. The spoofed sender: `smtpd_sender_login_maps` + `reject_sender_login_mismatch`
#
# Postfix already refuses to *relay* for the spoofer. But the spoofer can still write to our
# own users as `Postmaster@example.com` - a convincing message. `smtpd_sender_login_maps` says
# which login owns which address; `reject_sender_login_mismatch` then refuses a local sender
# address from a client that is not logged in as its owner.

# %%
from simlab.ui.today import SENDER_LOGIN_MAPS  # noqa: E402

checked = site_server("postfix", {"smtpd_sender_login_maps": SENDER_LOGIN_MAPS,
                                  "smtpd_sender_restrictions": "reject_sender_login_mismatch"})
print("spoofer -> bob:  ", rcpt_reply(checked, "203.0.113.50", "Postmaster@example.com", "bob@example.com"))
print("bob on the LAN:  ", rcpt_reply(checked, "192.0.2.101", "bob@example.com", "carol@remote.test"))

# %% [markdown]
# The second line is the catch: bob on the LAN does not log in, so he is refused too. Either
# everyone submits with AUTH, or the list trusts the LAN first
# (`permit_mynetworks, reject_sender_login_mismatch`). RFC 2505 (§2.6.2) warns of a wider
# tension: refusing outside mail that claims a local sender also breaks forwarding and mailing
# lists. These checks look only at the envelope sender (`MAIL FROM`), not the `From:` header.
#
# ## 5. Password guessing: fail2ban and Dovecot's failure delay
#
# The thread's guesser tried each account's own name as its password. Dovecot answers every
# failure after a delay (2 s, doubling up to 15 s per address); fail2ban's `dovecot` jail (and
# `postfix-sasl` for SMTP AUTH) bans an address after 5 failures in 10 minutes.
#
# **Predict:** with fail2ban's defaults (a 10-minute ban), how many of the two weak accounts
# (`webmaster`, `info`) does a one-address guesser still break into in a day? With a one-day
# ban? And with a day-long ban against a guesser with 20 addresses?

# %%
from simlab.restrictions import Fail2Ban  # noqa: E402
from simlab.scenarios import wrong_password  # noqa: E402
from simlab.ui.today import tidy_counts  # noqa: E402


def guessing_day(bantime=None, guesser_ips=1):
    scenario = wrong_password(preset="postfix", guesser_ips=guesser_ips)
    if bantime:
        scenario.restrictions.append(Fail2Ban(jail="dovecot", failregex="dovecot", maxretry=5, findtime=600,
                                              bantime=bantime, ignoreip=["192.0.2.0/24"]))
    return simlab.run(scenario, seed=1).summary


days = {"no fail2ban": guessing_day(), "ban 10 min": guessing_day(600), "ban 1 day": guessing_day(86400),
        "ban 1 day, 20 addresses": guessing_day(86400, guesser_ips=20)}
print("failed logins in the day:", {name: summary["login_failures"] for name, summary in days.items()})
tidy_counts(plots.compare_bars(days, keys=("accounts_compromised", "bans"),
                               title="A day of POP3 guessing against Postfix + Dovecot"))

# %% [markdown]
# Lesson 01 ran the same guesser against EIMS with a 10-minute ban and saw it banned *twice*;
# here it is banned once. The difference is Dovecot's failure delay: each wrong password is
# answered a little later than the one before, so the guesser's steps grow. Here are its
# failures from the 10-minute-ban day, with the time since the previous one:

# %%
ban_day = wrong_password(preset="postfix")
ban_day.restrictions.append(Fail2Ban(jail="dovecot", failregex="dovecot", maxretry=5, findtime=600, bantime=600,
                                     ignoreip=["192.0.2.0/24"]))
events = simlab.run(ban_day, seed=1).events
failures = events[(events.actor == "guesser") & (events.command.str.startswith("PASS"))
                  & (events.reply_code == "-ERR")].time
print(failures.dt.strftime("%H:%M:%S").to_frame("failure").assign(
    after=failures.diff().dt.total_seconds().round().fillna(0).astype(int).astype(str) + " s").to_string(index=False))
if len(failures) >= 10:
    print(f"failures 6 to 10 (after the ban) span {(failures.iloc[9] - failures.iloc[5]).total_seconds():.0f} s;"
          " fail2ban's window (findtime) is 600 s")

# %% [markdown]
# After its ban the guesser's five failures stretch over just more than ten minutes, so
# fail2ban (five failures *within* ten minutes) never sees five in its window again, and the
# guesser walks in. Against EIMS, which answers at once, the same five fitted in the window.
# A short ban only slows the guesser down; a long one stops a single address; a pool of
# addresses stays under the threshold. fail2ban's own README says it: it lowers the rate of
# guessing, it does not remove the risk of weak passwords. The real fix is that no account has
# its own name as its password.
#
# ## 6. DNS blocklists (RFC 5782), and the self-test
#
# SIMS 1.6 could consult a DNS blocklist; Postfix does with `reject_rbl_client`. The client
# 203.0.113.121 is looked up as `121.113.0.203.bl.example.test`; any answer means "listed".
# RFC 5782 asks every list to list 127.0.0.2 and never 127.0.0.1, so that you can test it.
# A list that refuses your resolver may answer "listed" for *everything*.

# %%
from simlab.restrictions import BlocklistZone, Dns, reversed_query  # noqa: E402

good = BlocklistZone("bl.example.test", listed=["203.0.113.121"])
broken = BlocklistZone("bl.example.test", answers_everything=True)
print(reversed_query("203.0.113.121", "bl.example.test"))
print(good.self_test())
print(broken.self_test())

# %% [markdown]
# **Predict:** Postfix does not run that self-test. With the broken list, what does carol's
# mail server (198.51.100.90) get when it delivers to bob?

# %%
rbl = {"smtpd_recipient_restrictions": "permit_mynetworks, permit_sasl_authenticated, "
                                       "reject_rbl_client bl.example.test"}
for name, zone in (("good list", good), ("broken list", broken)):
    server = site_server("postfix", rbl | {"dns": Dns([zone])})
    print(f"{name:12}", rcpt_reply(server, "198.51.100.90", "carol@remote.test", "bob@example.com"))

# %% [markdown]
# ## 7. nmap's 16 relay tests against every server
#
# nmap's `smtp-open-relay` script tries 16 pairs of `MAIL FROM` / `RCPT TO`. It hides the
# foreign domain `D` behind the percent hack (`to%D@S`), quotes (`"to@D"`), a second `@`,
# source routes (`@S:to@D`) and UUCP bang paths (`D!to`); `S` is the server's name and `IP`
# its address. A 2xx at `RCPT` *suggests* an open relay (some servers accept and then discard).
# Test 3, `from@S → to@D`, is the thread's spoofed-Postmaster trick. The tests come from
# 203.0.113.7, a host outside the site.
#
# **Predict:** from outside, how many of the 16 does EIMS 1.2 accept? And EIMS 2.1 with Relay
# Restriction on - which one gets through?

# %%
from simlab.relaytests import explain, reason_table, relay_test_bars, relay_test_table  # noqa: E402

table = relay_test_table(["eims-1.2", "eims-2.1", ("eims-2.1 + Relay Restriction", "eims-2.1",
                                                    {"relay_restriction": True}), "sims", "postfix"])
table

# %%
relay_test_bars(table, title="nmap's 16 relay tests, from outside (203.0.113.7)")

# %% [markdown]
# EIMS accepts every form whose *last* domain is foreign: no relay control in 1.2, none switched
# on in 2.1 as installed. The routed forms it "refuses" only by accident. `explain` tells the
# whole story of one answer - here test 5 against EIMS 1.2:

# %%
print(explain("eims-1.2", 5))

# %% [markdown]
# The same story, in a few words per server, for four telling tests (`explain(preset, number)`
# gives the long version of any cell):

# %%
reason_table([5, 3, 13, 14], ["eims-1.2", ("eims-2.1 + Relay Restriction", "eims-2.1", {"relay_restriction": True}),
                              "sims", "postfix"])

# %% [markdown]
# Two ways of reading an address: EIMS and SIMS look only at the domain after the last `@`, so
# `relaytest%nmap.scanme.test@[192.0.2.25]` is "a local user with a strange name" - refused,
# but only because no such mailbox exists. Postfix unpicks the percent hack, the bang path and
# the source route, sees the foreign domain and refuses it as relaying. Either way nothing
# leaves; but only Postfix refuses *because* it understood the trick.
#
# ## Try it: from 1998 to today
#
# Pick a problem of the thread; only the Postfix settings that answer it are shown (the rest
# stay at Postfix's defaults). Each change reruns a day on Postfix and the problem's dialogues.
# The **main.cf** tab shows your choices as an admin would write them. Things to try:
#
# 1. *Open relay:* put `0.0.0.0/0` in `mynetworks` ("trust everyone"), then leave it empty.
# 2. *Anti-relay:* switch between `defer` and `reject` and watch the reply code in the transcript.
# 3. *Roaming users:* close the submission port.
# 4. *Spoofed sender:* try each `smtpd_sender_restrictions` choice; who loses mail?
# 5. *Password guessing:* turn fail2ban on, lengthen the ban, then give the guesser 20 addresses.
# 6. *Blocklists:* a working list, then the broken one.
# 7. Type your own dialogue (one command a line) - for instance `USER info` / `PASS info` on
#    port 110 - and read the Postfix log tab. Type a bad range into `mynetworks` too.

# %%
from simlab.ui.today import today_lab  # noqa: E402

lab = today_lab()
lab

# %% [markdown]
# ## Exercise: today's relay policy
#
# Write `smtpd_relay_restrictions` for the site so that bob's LAN and alice (logged in, on port
# 587) may relay, carol's mail server may still deliver to bob, and everyone else sending to a
# foreign domain gets a **permanent** `5xx` at `RCPT`. The checker sends all five clients and
# says what each got.

# %%
from simlab.exercises.today import SOLUTION, check_relay_restrictions  # noqa: E402

check_relay_restrictions("permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination")  # the default

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## What carries over to today
#
# | 1998 problem | the thread's fix | today (Postfix 3.7) |
# |---|---|---|
# | who may relay (S2, S4) | SIMS Client Hosts | `mynetworks` + `permit_mynetworks` |
# | anti-relay off by default (S3, S6) | EIMS 2.1 Relay Restriction | `reject_unauth_destination` (554) / default `defer_unauth_destination` (454) |
# | staff sending from outside | trusted their sender domain | port 587 + SMTP AUTH, `permit_sasl_authenticated` |
# | the spoofed Postmaster (S4) | decide by client address | the sender never grants relay; `smtpd_sender_login_maps` + `reject_sender_login_mismatch` |
# | password guessing (S1) | restrict POP3 by address | fail2ban jails, Dovecot's failure delay - and strong passwords |
# | spam sources | read the log, block by hand | `reject_rbl_client` (RFC 5782), with a list that passes the self-test |
#
# * Decide by what the client cannot forge - its address or its login - never by what it types
#   (`HELO`, `MAIL FROM`). RFC 2505 said so in 1999; Postfix is built that way.
# * Test from outside, as nmap does: a 2xx to any of the 16 forms is worth a look.
# * Every defence has a cost to check: who else did it refuse? (bob on the LAN, a forwarded
#   message, a whole network behind one address.)
