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
# # 07 · From 1998 to today: the same problems, in Postfix's and Exim's words
#
# **Learning goals**
#
# * Map each fix the thread reached for to the setting that does the job today, in both of
#   today's common mail servers: Postfix (`mynetworks`, `reject_unauth_destination`, master.cf's
#   submission entry with SMTP AUTH, `smtpd_sender_login_maps`, `reject_rbl_client`) and Exim as Debian configures
#   it (`dc_relay_nets` -> `relay_from_hosts`, `dc_other_hostnames` -> `local_domains`,
#   `dc_relay_domains` -> `relay_to_domains`) - and say where Exim's Debian default has no such
#   feature at all.
# * Read today's refusals and their log lines: Postfix's `454` against `554`, the submission
#   port's `554 5.7.1 ... Recipient address rejected: Access denied`, `553 5.7.1 ... not logged in`,
#   `NOQUEUE: reject: RCPT from ...`; Exim's `550 relay not
#   permitted`, `550 Unrouteable address`, `501 ...: domain literals not allowed` (no enhanced
#   status codes) and its `H=... rejected RCPT ...` lines.
# * Run nmap's 16 open-relay tests against all five servers and explain each answer from the
#   way each product reads an address - including the tests Exim ends at `MAIL`.
# * Write a relay policy that lets your own users relay and refuses everyone else for good.
#
# **The story so far, in our words.** The thread's admins ran Macintosh mail servers in 1998.
# They met a log full of refused POP3 logins and feared a break-in (S1); found that a survey
# had used their EIMS 1.2 as a relay (S2); learned that EIMS 2.1's anti-relay settings were off
# until switched on (S3) and that its relay rule trusted the sender's domain, which anyone can
# type (S4); shut out the Internet's mail with an IP restriction that was too strict (S5); and
# watched a spammer hop between addresses. The forum's conclusion was sound and still is:
# decide by something the client cannot forge, and allow what is legitimate instead of chasing
# each abuser. This lesson takes the same site and puts today's servers where the Mac server
# stood: Postfix 3.7 (with Dovecot for POP3), and Exim 4.96 as Debian 12 ships it - Exim is
# Debian's default mail server, so an admin meets it as often as Postfix. Each section shows the
# setting that answers the problem in both products' own names.
#
# **Where the facts come from.** Postfix's words are from its documentation (`postconf(5)`) and
# source, and its replies were compared with a real Postfix 3.7.11 as Debian 12 packages it,
# port 587 included (the file `tests/data/postfix_reference.json`); Exim's replies and log
# lines were recorded from a real Exim 4.96 under Debian's generated configuration, driven with
# `exim4 -bh` (the file `tests/data/exim_reference.json`);
# Exim's defaults are from its specification (`spec.txt` of 4.96); the ACLs and the
# `update-exim4.conf.conf` names are from Debian's `exim4-config` package. The simulated Exim
# leaves out what simlab does not model (TLS, for one).
#
# **Addresses used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `mail.example.com`, 192.0.2.25 | the admin's mail server (Postfix or Exim, one at a time) |
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
# The same site for Exim. A Debian admin does not edit Exim's configuration by hand: the
# answers to `dpkg-reconfigure exim4-config` land in `/etc/exim4/update-exim4.conf.conf`, and
# `update-exim4.conf` generates Exim's lists from them. Here is that file for our site, and the
# lists it gives:

# %%
from simlab.exercises.today import exim_settings, update_exim4_conf  # noqa: E402

print(update_exim4_conf(relay_nets="192.0.2.0/24", other_hostnames="example.com"))
exim = site_server("exim", exim_settings(relay_nets="192.0.2.0/24"))
print()
print("the simulated Exim: relay_from_hosts =", exim.settings["relay_from_hosts"])

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
# **Exim asks the same question** of `relay_from_hosts`, which Debian fills from `dc_relay_nets`.
# Debian's recipient check (`acl_check_rcpt`) refuses a foreign recipient unless the client is
# in that list. **Predict** the three answers, then run the same lines against Exim:

# %%
print("bob (LAN):      ", rcpt_reply(exim, "192.0.2.101", "bob@example.com", "carol@remote.test"))
print("outside host:   ", rcpt_reply(exim, "203.0.113.50", "Postmaster@example.com", "user_name@yourcompany.test"))
print("to one of ours: ", rcpt_reply(exim, "203.0.113.50", "carol@remote.test", "bob@example.com"))
print(next(line for line in exim.log if "rejected RCPT" in line))

# %% [markdown]
# The same decisions in Exim's words: `250 Accepted`, and `550 relay not permitted` - a plain
# three-digit code, since Exim adds enhanced status codes (`5.7.1`) only when configured to
# (Exim's spec). Its log line names the client as `H=(helo) [address]`, then the sender `F=<...>`
# and the refused recipient. The sender made no difference here either.
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
# **Exim, as Debian ships it, refuses for good**: the `550 relay not permitted` above is
# permanent, and `update-exim4.conf.conf` has no switch for a temporary refusal (an admin who
# wants one edits the ACL and makes the refusal a `defer`, Exim's word for "try again later").
# Debian's recipient check is an ordered list too; we read it after the exercise. One
# difference shows already: what happens to a recipient that does not exist here.
# **Predict:** `nosuch@example.com`, from bob's PC and from outside - on each server?

# %%
for name, server in (("Postfix", postfix), ("Exim", exim)):
    print(f"{name:8} bob (LAN):", rcpt_reply(server, "192.0.2.101", "bob@example.com", "nosuch@example.com"))
    print(f"{name:8} outside:  ", rcpt_reply(server, "203.0.113.50", "carol@remote.test", "nosuch@example.com"))

# %% [markdown]
# Postfix refuses the unknown name from both (`550 5.1.1 ... User unknown`). Exim accepts it
# from the LAN (the message would bounce later, at delivery) and refuses it from outside with
# `550 Unrouteable address`: Debian's configuration lets its relay
# hosts through *before* it checks that the recipient exists (the recording shows both answers).
#
# ## 3. Roaming users: submission on port 587 with SMTP AUTH
#
# In 1998 alice, away from the office, could send through EIMS only because her sender address
# was local - the same hole a spammer used - and SIMS refused her. Today she logs in (SMTP AUTH,
# RFC 4954) on the submission port 587 (RFC 6409), kept apart from port 25, where the Internet
# delivers to us.
#
# **Where port 587 comes from: master.cf.** `main.cf` holds Postfix's settings; `master.cf` lists
# the services Postfix runs, one entry per line. Its `smtp inet ... smtpd` entry is port 25, and
# it reads `main.cf` as it is. Debian 12's `master.cf` also ships a `submission inet ... smtpd`
# entry, *commented out*: to open port 587 the admin removes the `#` from that line and from its
# `-o` lines below it, then reloads Postfix. Each `-o name=value` line overrides one `main.cf`
# setting *for that service only*. Here is the entry as Debian ships it, uncommented (its TLS
# lines left out: simlab simulates no TLS):

# %%
from simlab.exercises.today import submission_entry  # noqa: E402

print(*submission_entry(), sep="\n")

# %% [markdown]
# On port 587 this entry switches AUTH on (`smtpd_sasl_auth_enable=yes`), names its log lines
# `postfix/submission/smtpd`, *empties* `main.cf`'s client, HELO, sender and relay lists (a bare
# `name=` sets an empty list), and decides at `RCPT` with its own
# `smtpd_recipient_restrictions=permit_sasl_authenticated,reject`: a logged-in client may send
# anywhere, everyone else is refused. None of `main.cf`'s client, HELO, sender, relay or
# recipient lists reaches port 587.
#
# **Predict:** alice sends `MAIL FROM` and `RCPT TO` *before* `AUTH`. At which command is she
# refused, and with which code? (RFC 6409 §4.3 has an answer; does Postfix follow it?) Then she
# starts again (`RSET`), logs in and repeats them. The `AUTH PLAIN` argument is base64 of
# `\0alice\0wonderland42`.

# %%
from simlab.ui.today import auth_plain  # noqa: E402

s = postfix.smtp_session(client_ip="198.51.100.77", port=587)
for line in ["EHLO alice-laptop.example.com", "MAIL FROM:<alice@example.com>", "RCPT TO:<carol@remote.test>",
             "RSET", f"AUTH PLAIN {auth_plain('alice', 'wonderland42')}", "MAIL FROM:<alice@example.com>",
             "RCPT TO:<carol@remote.test>", "QUIT"]:
    s.send(line)
ehlo_reply = s.transcript[2:s.transcript.index("C: MAIL FROM:<alice@example.com>")]
print("The reply to EHLO, line by line:", *ehlo_reply, sep="\n  ")
print("The rest of the dialogue:", *s.transcript[2 + len(ehlo_reply):], sep="\n  ")

# %% [markdown]
# The `250-AUTH PLAIN LOGIN` line is the server offering SMTP AUTH. In the diagram below the
# ten-line reply is drawn as one arrow, naming its first line, the `AUTH` line and the last.

# %%
from simlab.ui.today import join_multiline_replies  # noqa: E402

plots.sequence_diagram(join_multiline_replies(s.transcript, keep="AUTH"),
                       client="alice (198.51.100.77)", server="mail.example.com:587",
                       title="Submission: refused at RCPT until AUTH")

# %% [markdown]
# Before `AUTH`, `MAIL` gets `250 2.1.0 Ok` and `RCPT` gets
# `554 5.7.1 <carol@remote.test>: Recipient address rejected: Access denied` - the entry's
# recipient list at work. After `AUTH` (`235 2.7.0 Authentication successful`) the same `RCPT`
# gets `250 2.1.5 Ok`. RFC 6409 §4.3 asks a submission server to refuse `MAIL` with
# `530 5.7.0 Authentication required` until the client has logged in; that is what the RFC asks,
# not what Debian's Postfix does (a real Postfix 3.7.11 with this entry answered as above). The
# log names the service and the login - look for `postfix/submission/smtpd` and `sasl_username`:

# %%
for line in postfix.log:
    if "198.51.100.77" in line and ("reject" in line or "sasl_username" in line):
        print(line)

# %% [markdown]
# **Exim, as Debian ships it, has neither half.** No authenticator is enabled, so its `EHLO`
# reply offers no `AUTH` (the recording's reply has no such line), and it listens for SMTP on
# port 25 only (Exim's `daemon_smtp_ports` defaults to `smtp`; there is no submission service).
# So there is nothing to simulate on port 587; here is what alice sees on port 25:

# %%
s = exim.smtp_session(client_ip="198.51.100.77")
s.send("EHLO alice-laptop.example.com")
print(*s.transcript, sep="\n")
print(rcpt_reply(exim, "198.51.100.77", "alice@example.com", "carol@remote.test"))

# %% [markdown]
# alice, away from the office, is an outsider to this Exim: `550 relay not permitted`. (The
# simulated reply also leaves out the `STARTTLS`, `CHUNKING`, `PRDR` and `PIPECONNECT` lines a
# real Exim 4.96 offers, because simlab does not model them.) A Debian admin who wants roaming
# users would, in words: switch on one of the authenticators Debian's configuration ships
# commented out (checking passwords against Dovecot or saslauthd), require TLS before a
# password is sent, and add port 587 to the ports Exim listens on. Debian's recipient check
# already has a rule that accepts a client that has logged in, so relaying would then follow.
#
# ## 4. The spoofed sender: `smtpd_sender_login_maps` + `reject_sender_login_mismatch`
#
# Postfix already refuses to *relay* for the spoofer. But the spoofer can still write to our
# own users as `Postmaster@example.com` - a convincing message. `smtpd_sender_login_maps` says
# which login owns which address; `reject_sender_login_mismatch` then refuses a local sender
# address from a client that is not logged in as its owner. First both settings in `main.cf`:

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
# **Predict:** alice logs in on port 587 and writes as `bob@example.com`. Does the check in
# `main.cf` refuse her? (Read the submission entry in section 3 again.) Then the same check is
# added to the entry as well, with the preset's `sender_login_check`:

# %%
from simlab import products  # noqa: E402


def as_bob_on_587(server):
    s = server.smtp_session(client_ip="198.51.100.77", port=587)
    s.send("EHLO alice-laptop.example.com")
    s.send(f"AUTH PLAIN {auth_plain('alice', 'wonderland42')}")
    mail = s.send("MAIL FROM:<bob@example.com>")
    return f"MAIL {mail} | RCPT {s.send('RCPT TO:<carol@remote.test>')}"


both = products.get("postfix").sender_login_check("reject_sender_login_mismatch", SENDER_LOGIN_MAPS)
print("the preset's settings:", {k: v for k, v in both.items() if k != "smtpd_sender_login_maps"})
print("main.cf only:         ", as_bob_on_587(checked))
print("and the entry:        ", as_bob_on_587(site_server("postfix", both)))

# %% [markdown]
# With the check in `main.cf` only, alice's `MAIL` and `RCPT` get `250 2.1.0 Ok` and
# `250 2.1.5 Ok`: the entry's
# `-o smtpd_sender_restrictions=` empties `main.cf`'s list on port 587, so the check never runs
# there (a real Postfix with Debian's entry let a logged-in user send as `Postmaster@example.com`
# the same way). The check for logged-in users belongs on the submission entry. In the files an
# admin edits:
#
# ```
# # main.cf (its settings apply to port 25; a comment must have a line of its own)
# smtpd_sender_login_maps = hash:/etc/postfix/sender_login
# smtpd_sender_restrictions = reject_sender_login_mismatch
#
# # master.cf, in the submission entry (replacing its empty line)
#   -o smtpd_sender_restrictions=reject_sender_login_mismatch
# ```
#
# Then alice's `RCPT` gets `553 5.7.1 <bob@example.com>: Sender address rejected: not owned by
# user alice`. (Postfix checks the sender list at `RCPT`, since `smtpd_delay_reject = yes`, so
# `MAIL` still gets `250 2.1.0 Ok`.) `smtpd_sender_login_maps` stays in `main.cf`: the entry does not override it.
#
# **Exim, as Debian ships it, has no sender check of this kind.** Its relay decision ignores the
# sender (section 1), but mail *to* bob that claims to come from `Postmaster@example.com` is
# taken from anyone:

# %%
print("spoofer -> bob:  ", rcpt_reply(exim, "203.0.113.50", "Postmaster@example.com", "bob@example.com"))
print("bob on the LAN:  ", rcpt_reply(exim, "192.0.2.101", "bob@example.com", "carol@remote.test"))

# %% [markdown]
# A Debian admin who wants the check writes it into the ACL: a rule that refuses a local sender
# address unless the client has logged in as its owner, comparing the sender
# (`$sender_address`) with the login (`$authenticated_id`, both Exim variables). It needs SMTP
# AUTH first (section 3), and it has the same cost as in Postfix: bob on the LAN, who does not
# log in, must be let through before it.
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
# **With Exim**, nothing here changes: Exim is a mail transfer agent and serves no POP3 at all
# (Exim's spec). On a Debian host with Exim, POP3 comes from a separate server - Dovecot, as
# here - so its failure delay and fail2ban's `dovecot` jail are the same. (fail2ban also ships
# an `exim` filter, which reads Exim's own refusals in its main log.)
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
# **With Exim**, a blocklist is an ACL condition: `dnslists = bl.example.test` in a `deny`
# statement of the recipient check does what `reject_rbl_client` does (Exim's spec). Debian's
# default configuration consults no blocklist, so there is nothing to run here; the self-test
# advice applies just the same.
#
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
# Restriction on - which one gets through? Exim's spec says it refuses domain literals such as
# `[192.0.2.25]` in addresses unless told otherwise: which tests will that touch?

# %%
from simlab.relaytests import (  # noqa: E402
    DEFAULT_PRESETS,
    explain,
    reason_table,
    relay_test_bars,
    relay_test_table,
    run_nmap_script,
)

table = relay_test_table(["eims-1.2", "eims-2.1", ("eims-2.1 + Relay Restriction", "eims-2.1",
                                                    {"relay_restriction": True}), "sims", "postfix", "exim"])
print("tests that ended at MAIL (no RCPT sent):", {k: v for k, v in table.attrs["refused_at_mail"].items() if v})
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
                              "sims", "postfix", "exim"])

# %% [markdown]
# Two ways of reading an address: EIMS and SIMS look only at the domain after the last `@`, so
# `relaytest%nmap.scanme.test@[192.0.2.25]` is "a local user with a strange name" - refused,
# but only because no such mailbox exists. Postfix unpicks the percent hack, the bang path and
# the source route, sees the foreign domain and refuses it as relaying. Either way nothing
# leaves; but only Postfix refuses *because* it understood the trick.
#
# **Exim's column** is different in kind. Tests 1-3 reach `RCPT` and get `550 relay not
# permitted`. Tests 4-16 all send `MAIL FROM:<antispam@[192.0.2.25]>`, a sender whose domain is
# a literal address in brackets, and Exim's address parser refuses it before any ACL:
# `501 ...: domain literals not allowed`. nmap's script sends `RCPT` only after a `250` to
# `MAIL`, so those 13 tests never ask Exim to relay at all; the cell shows the `501` to `MAIL`.

# %%
print(explain("exim", 4))

# %% [markdown]
# And nmap itself? Its script runs all 16 tests in *one* connection, with `RSET` between them
# (that is how the script is written). Exim counts each refused `MAIL` as a syntax error and
# drops a client after the fourth (`smtp_max_synprot_errors = 3`, Exim's spec; the recording
# shows the drop). Here is the script played against each server, and the line nmap would print:

# %%
for preset in DEFAULT_PRESETS:
    run = run_nmap_script(preset)
    stop = f", connection closed before test {run.ended_early}" if run.ended_early else ""
    print(f"{preset:9} {len(run.steps):2} tests run{stop}: {run.output}")
print(*run_nmap_script("exim").log[-2:], sep="\n")

# %% [markdown]
# Against Exim, nmap prints an error instead of a verdict: four tests of domain literals
# (4 to 7) end the session, and the script stops when its next `RSET` finds the connection
# closed. (This is worked out from the script's source and Exim's recorded error counting, not
# from a recorded nmap run.) Exim is no open relay, but the scan never tested tests 8-16. To see
# how Exim reads those recipient forms, send them with an ordinary sender, as an admin testing
# by hand would:

# %%
from simlab.relaytests import RELAY_TESTS  # noqa: E402

for test in RELAY_TESTS[4:]:
    rcpt = test.addresses("nmap.scanme.test")[1]
    print(f"{test.number:2} {rcpt:46} {rcpt_reply(exim, '203.0.113.7', 'antispam@nmap.scanme.test', rcpt[1:-1])}")

# %% [markdown]
# Every form is refused, each for a reason Exim states: a domain literal again; `%` or `!` in
# the local part of one of our own domains ("restricted characters", a rule in Debian's ACL,
# since Exim does not apply the percent hack unless told to); a quoted or bang-path address with
# no domain; a second `@` it cannot parse; and the source route `@mail.example.com:`, which
# Exim strips before it sees the foreign domain and refuses relaying. These are the answers the
# recording shows, with its server's address in place of 192.0.2.25.
#
# ## Try it: from 1998 to today
#
# The panel is Postfix's (Exim's Debian default lacks most of these settings; its answers are in
# the sections above). Pick a problem of the thread; only the Postfix settings that answer it
# are shown (the rest stay at Postfix's defaults). Each change reruns a day on Postfix and the problem's dialogues.
# The **main.cf** tab shows your choices as an admin would write them, in `main.cf` and in
# master.cf's submission entry. Things to try:
#
# 1. *Open relay:* put `0.0.0.0/0` in `mynetworks` ("trust everyone"), then leave it empty.
# 2. *Anti-relay:* switch between `defer` and `reject` and watch the reply code in the transcript.
# 3. *Roaming users:* untick `permit_sasl_authenticated` (main.cf's relay list): does alice on
#    port 587 notice? Then close the submission port.
# 4. *Spoofed sender:* try each `smtpd_sender_restrictions` choice for main.cf; who loses mail?
#    Then set the submission entry's `-o smtpd_sender_restrictions=` and watch alice writing as bob.
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
# Write `main.cf`'s `smtpd_relay_restrictions` for the site (port 25) so that bob's LAN may
# relay, carol's mail server may still deliver to bob, and everyone else sending to a foreign
# domain gets a **permanent** `5xx` at `RCPT` - while alice, logged in on port 587, still relays
# and a client that has not logged in there is still refused. The checker sends six clients and
# says what each got; if your answer puts a setting in the wrong file (`main.cf`, or master.cf's
# submission entry as a `-o` line), it says which file the setting goes in. The exercise is for
# Postfix only: Exim as Debian ships it has no SMTP AUTH (section 3), so no Exim setting could let
# alice relay.

# %%
from simlab.exercises.today import SOLUTION, check_relay_restrictions  # noqa: E402

check_relay_restrictions("permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination")  # the default

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# **Exim's answer to the same exercise** is already written into Debian's configuration. Its
# recipient check, `acl_check_rcpt` in Debian's `exim4.conf.template`, is read top to bottom at
# `RCPT TO`, first match wins, like `smtpd_relay_restrictions`: refuse local parts with
# restricted characters; accept `postmaster` at our domains; accept a client in
# `relay_from_hosts` (the LAN: Postfix's `permit_mynetworks`); accept a client that logged in
# (`permit_sasl_authenticated` - but no one can log in until AUTH is set up); refuse, for good,
# any recipient outside `local_domains` and `relay_to_domains` ("relay not permitted": Postfix's
# `reject_unauth_destination`); and finally check that the recipient exists ("Unrouteable
# address"). That order is why bob's unknown recipient got `250` from the LAN in section 2.
#
# ## What carries over to today
#
# | 1998 problem | the thread's fix | today: Postfix 3.7 | today: Exim 4.96, Debian 12 |
# |---|---|---|---|
# | who may relay (S2, S4) | SIMS Client Hosts | `mynetworks` + `permit_mynetworks` | `dc_relay_nets` -> `relay_from_hosts` |
# | anti-relay off by default (S3, S6) | EIMS 2.1 Relay Restriction | `reject_unauth_destination` (554) / default `defer_unauth_destination` (454) | on as installed: `550 relay not permitted`, for good |
# | staff sending from outside | trusted their sender domain | port 587: master.cf's submission entry, uncommented - SMTP AUTH, `permit_sasl_authenticated,reject` | not in Debian's default: enable an authenticator and port 587 |
# | the spoofed Postmaster (S4) | decide by client address | the sender never grants relay; `smtpd_sender_login_maps` + `reject_sender_login_mismatch` in main.cf (port 25) and on the submission entry (587) | the sender never grants relay; a sender-login check is an ACL rule you write |
# | password guessing (S1) | restrict POP3 by address | fail2ban jails, Dovecot's failure delay - and strong passwords | the same: Exim serves no POP3, Dovecot does |
# | spam sources | read the log, block by hand | `reject_rbl_client` (RFC 5782), with a list that passes the self-test | a `dnslists` ACL condition; none in Debian's default |
# | odd address forms (nmap) | - | unpicks `%`, `!` and source routes, then refuses relaying | refuses domain literals at `MAIL`/`RCPT`, `%` and `!` by Debian's ACL, strips source routes |
#
# * Decide by what the client cannot forge - its address or its login - never by what it types
#   (`HELO`, `MAIL FROM`). RFC 2505 said so in 1999; Postfix and Debian's Exim are built that way.
# * Test from outside, as nmap does: a 2xx to any of the 16 forms is worth a look - and read
#   how the scan ended, since a server that drops the scanner (Exim after four syntax errors)
#   leaves some forms untested.
# * Every defence has a cost to check: who else did it refuse? (bob on the LAN, a forwarded
#   message, a whole network behind one address.)
