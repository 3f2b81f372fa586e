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
# # 02 · The open-relay probe (S2, S3)
#
# **Learning goals**
#
# * Explain what an *open relay* is and why a 1998 server with no relay control is one.
# * Read the log lines a relayed-but-undeliverable message leaves behind, and follow the
#   bounce that ended in postmaster's mailbox.
# * Show that EIMS 2.1 is still open *as installed*, and find settings that close a server to
#   the probe without costing staff and correspondents their mail.
#
# **The story, in our words.** More than three weeks after the thread began, cony (15 June
# 1998), who ran EIMS 1.2, picked it up again, apologising for reviving an old topic. They
# tried to read the error logs as often as they could, but had been away for about a week,
# and in that time someone had tried to get into POP - or so it looked. What drew their
# attention was a returned, undeliverable message in postmaster's mailbox (left
# there on purpose, they suspected). It said, in effect, that a program scans port 25 and tests
# for open relays, that its author was not a spammer, and that only one test would be sent
# through any system, for a survey; it was addressed to `rtest` at the survey's domain, as if
# the sender had counted on it not arriving. Searching the error log, cony found lines like
# these (dates left out), many times a day while they were away:
#
#     DNR timed out to 210.163.xxx.34 for simkin.com
#     Connection timed out to 199.175.137.111 (simkin.com)
#     POP3 wrong password for webmaster from 203.216.11.226
#
# (the first address was cony's own mail server). The worry: they had checked their mail from
# outside while away, but had never once mistyped the password - so these failed logins were
# not theirs. How should they deal with this? Was filtering particular addresses at the router,
# as suggested earlier in the thread, the only way?
#
# The moderator, 田中求之, answered two hours later, in the middle of the night. As the
# suspicious message pointed out - kindly or meddlesomely - EIMS 1.2's SMTP is defenceless
# against spam relaying. POP3 had most likely not been broken into, unless the password had
# been found out, but SMTP could be used to relay spam, and nothing can be done about that
# while running EIMS 1.2: the only way is to change to EIMS 2.1 or SIMS, which have anti-relay
# features. And - a guess, hedged: the moderator thought that IP filtering at the router would
# not stop spam relaying, and asked someone who knew more to follow up on that point (nobody
# did, in the thread). A likely reason - ours, not the
# thread's - is that port 25 must stay open to the whole Internet for the site to receive mail
# at all.
#
# The same morning みやむら (lesson 01), running EIMS 2.1, reported the same undeliverable
# message for `rtest@simkin.com` the week before, and asked whether outsiders could use EIMS
# 2.1's SMTP too. The moderator: if Relay Restriction and IP Range Restriction are left as
# installed, without any settings, then of course spammers' abuse of SMTP cannot be prevented.
#
# This lesson follows the probe; lesson 01 covers the "wrong password" line.
#
# **Addresses used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `mail.example.com`, 192.0.2.25 | cony's EIMS server (210.163.xxx.34) |
# | `survey.test` | the survey's domain (simkin.com) |
# | `sender@survey.test`, `rtest@survey.test` | sender@simkin.com, rtest@simkin.com |
# | 203.0.113.111 | the survey's mail host (199.175.137.111) |
# | 203.0.113.66 | the scanning host (not in the thread) |
# | 203.0.113.226 | the address in the POP3 line (203.216.11.226; lesson 01) |
# | 192.0.2.53 | the resolver named in `DNR timed out to ...` (see below) |
#
# `DNR` is the classic Mac OS name for the DNS resolver. In the thread the `DNR timed out to
# 210.163.xxx.34` line named the admin's own server: it was its own name server. Here the
# resolver is a separate machine, 192.0.2.53 - a modelling choice that keeps the two kinds of
# failure apart in the log. The two `timed out` lines are the thread's own words; EIMS's other
# log lines and all its replies below are simlab's wording (see `simlab/products/eims.py`).

# %%
import simlab
from simlab.ui.relay import probe_lines_per_hour, probe_log_lines

# %% [markdown]
# ## One probe, by hand
#
# This is what the scanner says to port 25. **Predict** before you run the cell: what does
# EIMS 1.2 answer to the `RCPT TO` line, a 2xx or a 5xx?

# %%
eims12 = simlab.presets.eims_1_2()
s = eims12.smtp_session(client_ip="203.0.113.66")
for line in ["HELO scanner.survey.test", "MAIL FROM:<sender@survey.test>", "RCPT TO:<rtest@survey.test>",
             "DATA", "Subject: Open relay test", "", "One message per server, for a survey.", ".", "QUIT"]:
    s.send(line)
print("\n".join(s.transcript))
print("queued for relaying:", [m.recipients for m in eims12.queue])

# %% [markdown]
# `250` to a recipient at a foreign domain, from a client the server has never seen: that is
# an open relay. The message now sits in the queue, waiting to go to `survey.test`.
#
# The same lines against Postfix. Postfix decides at `RCPT` with its list
# `smtpd_relay_restrictions`, whose default is `permit_mynetworks, permit_sasl_authenticated,
# defer_unauth_destination`, read left to right, first match wins:
#
# * `permit_mynetworks`: relay for a client whose address is in `mynetworks` (here the LAN);
# * `permit_sasl_authenticated`: relay for a client that has logged in with **SMTP AUTH**
#   (RFC 4954) - the SMTP command `AUTH`, by which a mail program gives a user name and
#   password to the server before sending (SASL is the name of the login framework behind it);
# * `defer_unauth_destination`: refuse anything else that is not for one of our own domains.
#
# simlab's Postfix is checked reply for reply against a recording of the real Postfix 3.7 with
# these defaults (`tests/data/postfix_reference.json`):

# %%
pf = simlab.presets.postfix(mydestination=["example.com"], mynetworks=["192.0.2.0/24"])
p = pf.smtp_session(client_ip="203.0.113.66")
for line in ["EHLO scanner.survey.test", "MAIL FROM:<sender@survey.test>", "RCPT TO:<rtest@survey.test>"]:
    reply = p.send(line)
print(reply)
print(pf.log[-1])

# %% [markdown]
# Postfix refuses, but with `454 4.7.1`: a 4xx, "not now, try later" - the reply the
# recording shows. `defer_unauth_destination` *defers* a recipient it will not relay for: a
# client that was entitled to relay keeps its message and tries again later, so a mistake in
# the server's own settings costs a delay instead of lost mail. The stricter `reject_unauth_destination`
# answers `554 5.7.1 ... Relay access denied`, a 5xx, "no" (that text is from Postfix's source,
# `smtpd_check.c`; this case is not in the recording). Either way the message is never taken; a
# 4xx only invites the client to try again later:

# %%
strict = simlab.presets.postfix(mydestination=["example.com"], mynetworks=["192.0.2.0/24"],
                                smtpd_relay_restrictions=["permit_mynetworks", "permit_sasl_authenticated",
                                                          "reject_unauth_destination"])
p = strict.smtp_session(client_ip="203.0.113.66")
for line in ["EHLO scanner.survey.test", "MAIL FROM:<sender@survey.test>", "RCPT TO:<rtest@survey.test>"]:
    reply = p.send(line)
print(reply)

# %% [markdown]
# ## A day with the probe
#
# Now the whole day: staff reading and sending mail, correspondents delivering, and the
# probe at 1:25 AM. The server retries every 30 minutes; after four hours it gives up and
# returns the message. Nobody records EIMS 1.2's own schedule, so both figures are simlab's:
# the half hour is the shortest interval RFC 5321 §4.5.4.1 allows in general, and simlab's 1998
# servers would keep trying for 5 days, as that section suggests (4-5 days; Postfix's default is
# 5 days too) - but this scenario cuts that to four hours, so that the whole story fits into one
# day. **Predict:** how long after the probe does a returned message reach postmaster, and how
# many log lines does this one test cost?

# %%
day = simlab.run(simlab.scenarios.relay_probe(preset="eims-1.2"), seed=1)
print({k: day.summary[k] for k in ("spam_relayed", "bounces_to_postmaster", "legit_delivered", "log_lines")})
probe = probe_log_lines(day)
print(f"the probe's lines: {len(probe)} of the day's {len(day.log)}")
for line in probe[:6]:
    print(line)
print("...")
for line in probe:
    if "returning to sender" in line or "Returned message" in line:
        print(line)

# %% [markdown]
# One test message, and 23 of the day's 169 log lines are its doing: the lines naming
# `survey.test` and the returns it caused. Per hour, the probe's lines (red) against everyone
# else's (grey-blue):

# %%
probe_lines_per_hour(day, title="Log lines per hour: the probe's retries in red")

# %% [markdown]
# The log shows the two lines of the thread: `DNR timed out` when the name server did not
# answer, `Connection timed out` when it did but the survey's host never answered. There are
# two rounds of about four hours each. The probe arrived at 1:25 AM; at 5:30 AM the server gave
# up and sent a report - a *bounce* - back to `sender@survey.test`, which failed the same way
# for another four hours, until 9:34 AM.
#
# What happens to a bounce that cannot be delivered either? RFC 5321 §6.1 says a bounce goes
# out with an empty ("null") sender, `MAIL FROM:<>`, and that a message with a null sender must
# never cause another bounce: there is nobody to return it to, and two servers must not bounce
# reports back and forth for ever. Where the undeliverable report goes then is not an RFC rule
# but a convention of mail servers: a *double bounce* is handed to the local postmaster
# (Postfix's `2bounce_notice_recipient`, postmaster by default; sendmail does the same). simlab's
# EIMS follows that convention - a modelling choice: the thread only says the returned message
# was in postmaster's mailbox, not how it got there. The exact times, read from the log:

# %%
for line in probe:
    if "received from" in line or "returning to sender" in line or "Returned message" in line:
        print(line)

# %% [markdown]
# The report in postmaster's mailbox is nested like a set of boxes: the report about the failed
# report, which holds the first report, which holds the probe itself. Three terms before you
# read it:
#
# * **MAILER-DAEMON** is the conventional name a mail server signs its own reports with (the
#   "daemon" is the mail program itself); the envelope sender of such a report is the null
#   sender `<>`, as above.
# * **multipart/report** is the MIME format for delivery reports (RFC 3462, now RFC 6522): a
#   human-readable part, a machine-readable `message/delivery-status` part (RFC 3464), and
#   the returned message itself.
# * The wording of simlab's EIMS reports is modelled, like the rest of its words.
#
# Its first lines are only the outer report; here is the start of it, and then the innermost
# part, the probe's own headers:

# %%
report = day.server.mailboxes["postmaster"][0]
print("\n".join(report.lines[:16]))
print("...")
probe_start = max(n for n, line in enumerate(report.lines) if line.startswith("Content-Description: Undelivered"))
headers = report.lines[probe_start:]
print("\n".join(headers[:headers.index("", 3)]))

# %% [markdown]
# ## Try it: the relay lab
#
# Pick a server, turn its relay settings on and off, and watch the chart, the log and the
# probe's dialogue. The menu has five servers: the thread's three, and today's Postfix and Exim
# (Exim 4.96 as Debian 12 configures it, checked against a recording of the real one; it
# relays for the hosts in `relay_from_hosts`, which Debian's `dc_relay_nets` fills). Things to
# try:
#
# 1. EIMS 1.2, then EIMS 2.1 as installed: is there a difference?
# 2. EIMS 2.1: which of its controls changes what the probe gets at `RCPT`?
# 3. SIMS, Postfix and Exim: what do they answer at `RCPT`? Then empty their client list.
# 4. Type a bad range (`192.0.2.0/33`) into Client Hosts and read the message.

# %%
simlab.ui.relay_lab()

# %% [markdown]
# ## Exercise
#
# Configure a server so that the probe is refused, no bounce reaches postmaster, and staff
# and correspondents lose no mail - alice included, who sends from outside (198.51.100.77).
# Call the checker with the product and its settings, in the product's own names, for example
# `check_no_open_relay("eims-2.1", relay_domains=["partner.test"])` (that one does not pass:
# run it and read why). The checker names whose mail was lost.

# %%
from simlab.exercises.relay import SOLUTION, check_no_open_relay  # noqa: E402

check_no_open_relay("eims-2.1")  # as installed: try to make this pass

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## What carries over to today
#
# * A server must decide who may relay by something the client cannot forge - its address
#   (`mynetworks`, Client Hosts, `relay_from_hosts`) or its login (SMTP AUTH) - and refuse
#   everyone else at `RCPT` (Postfix: by default `defer_unauth_destination`, answering `454 4.7.1
#   ... Relay access denied`; with `reject_unauth_destination`, `554 5.7.1`; Exim as Debian
#   configures it: `550 relay not permitted`). Lesson 03 shows why the sender's address is not
#   such a thing.
# * Anti-relay that is off by default protects nobody: check a fresh install from outside.
# * A probe that gets `250` at `RCPT` suggests, but does not prove, an open relay (nmap's
#   `smtp-open-relay` script warns the same: some servers accept, then discard); the bounce in
#   postmaster's mailbox is what proved it here.
