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
# * Show that EIMS 2.1 is still open *as installed*, and close it with Relay Restriction.
#
# **The story, in our words.** An admin running EIMS 1.2 came back from a week away to an
# error log full of lines about a domain nobody at the site wrote to, and a returned message
# in postmaster's mailbox. A survey program had scanned port 25 for open relays and sent one
# test through the server, addressed to a mailbox at its own domain that was set up *not* to
# accept it. The server took the test, tried for hours to deliver it, gave up and returned
# it - and since the test's sender was unusable too, the report landed with postmaster. The
# forum's answer: EIMS 1.2 relays for anyone and cannot be told otherwise; a filter at the
# router does not help, because port 25 must stay open to receive mail; EIMS 2.1 or SIMS can
# refuse. A second admin added that EIMS 2.1 had received the same test: its anti-relay
# settings are off until you turn them on.
#
# **Addresses used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `mail.example.com`, 192.0.2.25 | the admin's EIMS server (210.163.xxx.34) |
# | `survey.test` | the survey's domain (simkin.com) |
# | 203.0.113.111 | the survey's mail host (199.175.137.111) |
# | 203.0.113.66 | the scanning host |
# | 192.0.2.53 | the resolver named in `DNR timed out to ...` |
#
# In the thread the `DNR timed out to 210.163.xxx.34` line named the admin's own server: it was
# its own name server. Here the resolver is a separate machine, 192.0.2.53 - a modelling choice
# that keeps the two kinds of failure apart in the log.

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
# The same lines against Postfix, which decides by the client's address:

# %%
pf = simlab.presets.postfix(mydestination=["example.com"], mynetworks=["192.0.2.0/24"])
p = pf.smtp_session(client_ip="203.0.113.66")
for line in ["EHLO scanner.survey.test", "MAIL FROM:<sender@survey.test>", "RCPT TO:<rtest@survey.test>"]:
    reply = p.send(line)
print(reply)
print(pf.log[-1])

# %% [markdown]
# Postfix refuses, but with `454 4.7.1`: a 4xx, "not now, try later". Its default rule is
# `defer_unauth_destination`, which *defers* a recipient it will not relay for, so that a
# mistake in the server's own settings costs a delay instead of lost mail. The stricter
# `reject_unauth_destination` answers `554 5.7.1 ... Relay access denied`, a 5xx, "no". Either
# way the message is never taken; a 4xx only invites the client to try again later:

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
# probe at 1:25 AM. The server retries every five minutes; after four hours it returns the
# message. **Predict:** where does the returned message end up, and how many log lines
# does this one test cost?

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
# One test message, and the log lines above are all its doing: the lines naming `survey.test`
# and the returns it caused. Per hour, the probe's lines (red) against everyone else's:

# %%
probe_lines_per_hour(day, title="Log lines per hour: the probe's retries in red")

# %% [markdown]
# The log shows the two lines of the thread: `DNR timed out` when the name server did not
# answer, `Connection timed out` when it did but the survey's host never answered. There are
# two rounds of about four hours each. The probe arrived at 1:25 AM; after four hours of
# retries (a little after 5 AM) the server gave up and sent a report back to
# `sender@survey.test` - which failed the same way for another four hours. A report about a
# report is never bounced again (RFC 5321 §6.1), so a little after 9 AM it went to postmaster.
# The exact times, read from the log:

# %%
for line in probe:
    if "received from" in line or "returning to sender" in line or "Returned message" in line:
        print(line)

# %% [markdown]
# The report in postmaster's mailbox is nested like a set of boxes: the report about the failed
# report, which holds the first report, which holds the probe itself. Its first lines are only
# the outer report; here is the start of it, and then the innermost part, the probe's own
# headers:

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
# probe's dialogue. Things to try:
#
# 1. EIMS 1.2, then EIMS 2.1 as installed: is there a difference?
# 2. EIMS 2.1 with Relay Restriction checked.
# 3. SIMS and Postfix: what do they answer at `RCPT`? Then empty their client list.
# 4. Type a bad range (`192.0.2.0/33`) into Client Hosts and read the message.

# %%
simlab.ui.relay_lab()

# %% [markdown]
# ## Exercise
#
# Configure a server so that the probe is refused, no bounce reaches postmaster, and staff
# and correspondents lose no mail. Call the checker with the product and its settings, in
# the product's own names, for example
# `check_no_open_relay("sims", client_hosts=["192.0.2.0/24", "198.51.100.77"])` - the LAN and
# alice's address when she sends from outside. The checker names whose mail was lost.

# %%
from simlab.exercises.relay import SOLUTION, check_no_open_relay  # noqa: E402

check_no_open_relay("eims-2.1")  # as installed: try to make this pass

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## What carries over to today
#
# * A server must decide who may relay by something the client cannot forge - its address
#   (`mynetworks`, Client Hosts) or its login (SMTP AUTH) - and refuse everyone else at
#   `RCPT` (Postfix: by default `defer_unauth_destination`, answering `454 4.7.1 ... Relay access
#   denied`; with `reject_unauth_destination`, `554 5.7.1`).
# * Anti-relay that is off by default protects nobody: check a fresh install from outside.
# * A probe that gets `250` at `RCPT` suggests, but does not prove, an open relay; the
#   bounce in postmaster's mailbox is what proved it here.
