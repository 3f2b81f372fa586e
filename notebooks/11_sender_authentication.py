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
# # 11 · SPF, DKIM and DMARC against the spoofed Postmaster
#
# **Learning goals**
#
# * Say what SPF, DKIM and DMARC check: SPF the *server* that hands a message over, DKIM a
#   *signature* made by the sender's domain, DMARC whether either of them matches the address in
#   the `From:` line a reader sees.
# * Show that they cannot undo an open relay at home: mail that a site's own server relays leaves
#   from the site's own address, so it passes every check.
# * Read what a receiver writes: its replies, its log lines and the `Authentication-Results`
#   header it adds to a message.
# * Explain the old tension between forwarding and sender checks, and how a DKIM signature eases it.
#
# **The story, in our words.** On 15 June 1998 たまちゃん asked the thread why an EIMS 2.x server,
# set to refuse relaying, still passed on a message sent from outside with
# `MAIL FROM:<Postmaster@...>` at the server's own domain (lesson 03), and how to avoid it. The
# moderator, 田中求之, replied that with a real account it would of course go through; to "how
# can this be avoided?" the only answer was "hmm". たまちゃん then explained that SMTP does no
# authentication of the sender when mail is sent - not particular to EIMS - and that SIMS avoids
# the trick by deciding on the *client's address*. That was the sending side's answer. Today the *receiving* side checks the
# sender too: the domain's owner publishes in the DNS which servers send its mail (SPF), signs its
# mail (DKIM) and asks receivers to refuse what fails (DMARC). This lesson asks what those checks
# would have done to たまちゃん's message. The checks are today's, not the thread's: SPF, DKIM and
# DMARC came eight to seventeen years later (RFC 4408 in 2006, RFC 4871 in 2007, RFC 7489 in 2015).
#
# **Words used below.**
#
# * **Envelope sender**: the address in `MAIL FROM`, where bounces go. **`From:`**: the header line
#   the reader's mail program shows. Nothing in SMTP ties the two together.
# * **SPF** (RFC 7208): the envelope sender's domain publishes a TXT record listing the servers that
#   may send its mail; `v=spf1 mx -all` means "our MX hosts, and nobody else" (`-all`: fail for the
#   rest). The receiver checks the *address of the client* against it: `pass`, `fail`, `none` ...
# * **DKIM** (RFC 6376): the sending server signs the header and body; the public key is a TXT
#   record at `<selector>._domainkey.<domain>`. Any change to the signed parts breaks the signature.
# * **DMARC** (RFC 7489): a TXT record at `_dmarc.<domain>` asking receivers to `none` (only
#   report), `quarantine` or `reject` mail whose `From:` domain is not backed by an SPF pass or a
#   DKIM signature *of the same domain* (*alignment*), on `pct` percent of the failing mail.
# * **Authentication-Results** (RFC 8601): the header a receiver adds to record what the checks said.
#   OpenDMARC's reads like `dmarc=pass (p=reject dis=none)`: `p` is the policy example.com
#   published, `dis` (disposition) what the receiver did about it for this message (OpenDMARC's
#   comment, `opendmarc/opendmarc.c`). **Received-SPF** (RFC 7208 §9.1) is the older header in
#   which policyd-spf records its SPF result.
# * The receiver here is Postfix as Debian 12 packages the checks: **policyd-spf** (SPF at `RCPT`),
#   **OpenDKIM** and **OpenDMARC** (mail filters, *milters*, at the end of `DATA`). Their replies and
#   log lines are the programs' own (each product module in `simlab/products/` names its source).
#
# **Addresses used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `example.com`, `mail.example.com` at 192.0.2.25 | the admin's domain `mycompany.co.jp` and its server |
# | `yourcompany.test`, `mail.yourcompany.test` at 198.51.100.80 | the foreign domain the message went to |
# | 203.0.113.50 | the outside host たまちゃん typed from; here a spammer who relays the forgery through the site, and also sends it to remote.test's forwarding address (ours) |
# | 203.0.113.51 | a spammer sending the same forgery straight to yourcompany.test (ours) |
# | `remote.test`, 198.51.100.90 | a correspondent whose server forwards `sales@remote.test` (ours) |

# %%
# %matplotlib inline
import simlab
from simlab.auth import dkim, dmarc, results, spf
from simlab.exercises.sender_auth import flow_table
from simlab.plots.sender_auth import flows_figure, setups_figure
from simlab.ui.sender_auth import sender_auth_lab

S = simlab.scenarios

# %% [markdown]
# ## What example.com publishes
#
# The scenario starts with a record that looks strict: SPF `v=spf1 mx -all` and DMARC `p=reject`.
# The site's server stays EIMS 2.1 with its Relay Restriction on, as in lesson 03. Here are the TXT
# records, and SPF's verdict for three clients that might hand over mail claiming to be from
# `Postmaster@example.com`: the site's own server, the spammer, and remote.test's forwarder.

# %%
day = simlab.run(S.sender_authentication(), seed=1)
zone = day.world.dns.zone()
for name in ("example.com", "_dmarc.example.com"):
    print(f"{name:20}", [value for kind, value in zone[name] if kind == "TXT"])
for ip, helo in (("192.0.2.25", "mail.example.com"), ("203.0.113.51", "[203.0.113.51]"),
                 ("198.51.100.90", "mail.remote.test")):
    verdict = spf.check_host(ip, "Postmaster@example.com", helo, zone)
    print(f"SPF for a client at {ip:13} -> {verdict:5} ({verdict.reason})")

# %% [markdown]
# ## Predict, then run
#
# EIMS 2.1 relays たまちゃん's `Postmaster@example.com` message to yourcompany.test. example.com
# publishes SPF `-all` and DMARC `p=reject`, and yourcompany.test checks both. **Predict:** does
# yourcompany.test refuse the message? Write your answer down before you run the next cell.

# %%
table = flow_table(day)
for (kind, path), counts in table.items():
    print(f"{kind:7} {path:10} {counts}")
flows_figure(table, title="EIMS 2.1 relaying, SPF -all and DMARC p=reject: one day at yourcompany.test")

# %% [markdown]
# Each row is one kind of mail (`forged` or `legit`) on one path to yourcompany.test: `via_site`
# through example.com's own server, `direct` straight from the spammer, `forwarded` through
# remote.test's forwarding address (see "Forwarding" below). The `legit` mail is the staff's:
# bob's and alice's ordinary mail, and bob's mail to the forwarding address. The counts say what
# became of each message by the end of the day.
#
# The first row says it: all 8 forged messages relayed by the site's server were **delivered**.
# The message left from 192.0.2.25, example.com's own server - exactly the host its SPF record
# names. SPF passed, and because the envelope sender's domain is the `From:` domain, DMARC passed
# too. SPF and DMARC authenticate *servers*, not people: they cannot tell a spammer from bob once
# the site's own server has agreed to relay for both. Here is that message at yourcompany.test:
# the dialogue, the receiver's log lines and the header fields the checks added.

# %%
yourcompany = day.world.network.host("mail.yourcompany.test").server
relayed = next(t for t in day.transcripts if t.host == "mail.yourcompany.test"
               and t.actor == "mail.example.com (relay)" and "C: MAIL FROM:<Postmaster@example.com>" in t.lines)
print("\n".join(line for line in relayed.lines if not line.startswith("S: 250-")))
print()
print("\n".join(line for t, line in yourcompany.log_records if relayed.start <= t <= relayed.start + 5
                and ("policyd-spf" in line or "opendmarc" in line)))
print()
spoof = next(m for m in yourcompany.mailboxes["user_name"] if m.sender == "Postmaster@example.com")
print("\n".join(spoof.lines[:spoof.lines.index("") if "" in spoof.lines else 8][:6]))

# %% [markdown]
# Read the header from the top: each program adds its field above the ones already there.
# OpenDMARC's `Authentication-Results` says `dmarc=pass`; policyd-spf's `Received-SPF` says `Pass`
# for client-ip 192.0.2.25. Next comes yourcompany.test's own `Received:` line (from
# mail.example.com, 192.0.2.25), and below it the site's. Only that last one still shows where the
# message really came from: `from [203.0.113.50]`. No check reads it.
#
# So the sentence "EIMS 2.1 relays the Postmaster@example.com message; with example.com publishing
# SPF and DMARC p=reject, yourcompany.test refuses it" is **wrong**. What SPF and DMARC do stop is
# the same forgery when it does *not* come through example.com's server.
#
# ## The same forgery, sent directly
#
# A spammer at 203.0.113.51 sends the same `Postmaster@example.com` message straight to
# mail.yourcompany.test. policyd-spf checks at `RCPT`. Debian's `policyd-spf.conf` says
# `Mail_From_reject = Fail`, so an SPF `fail` is refused at once, before the message is sent:

# %%
direct = next(t for t in day.transcripts if t.actor == "direct spoofer")
print("\n".join(line for line in direct.lines if line.startswith(("C: MAIL", "C: RCPT", "S: 550"))))
print()
print(next(line for line in yourcompany.log if "ip=203.0.113.51" in line and "policyd-spf" in line))
print(next(line for line in yourcompany.log if "203.0.113.51" in line and "NOQUEUE" in line))

# %% [markdown]
# Had the receiver left SPF to DMARC, the message would have been refused a step later, at the end
# of `DATA`. OpenDMARC answers `550 5.7.1 rejected by DMARC policy for example.com`
# (`opendmarc/opendmarc.c`), and Postfix's cleanup logs `milter-reject: END-OF-MESSAGE`. The real
# receiver writes each check's result in a field of its own, as above. To see all three verdicts
# side by side, the next cell runs simlab's own SPF, DKIM and DMARC checks on the forgery and writes
# them as one `Authentication-Results` field, with the `authres` package (RFC 8601). `dkim=none`:
# the forgery carries no signature.

# %%
forged = ["From: <Postmaster@example.com>", "To: <ceo@yourcompany.test>", "Subject: MAKE MONEY FAST", "",
          "Act now!"]
fail = spf.check_host("203.0.113.51", "Postmaster@example.com", "[203.0.113.51]", zone)
signatures = dkim.verify(forged, zone)
verdict = dmarc.evaluate("example.com", zone, spf_result=fail, spf_domain=fail.domain, dkim=signatures)
print(verdict.reason)
print(results.build("mail.yourcompany.test", spf=fail, spf_domain=fail.domain, dkim=signatures, dmarc=verdict))

# %% [markdown]
# ## Closing the relay first
#
# Lesson 03's fix was a server that relays by the client's address or login, not by the sender's
# domain. Run the same day with Postfix as example.com's server: the spammer at 203.0.113.50 is
# refused at the site (`Relay access denied`, as in lesson 03), and the forgery can reach
# yourcompany.test only from the spammer's own address - sent directly, or through remote.test's
# forwarding address - where SPF and DMARC refuse it.

# %%
closed = simlab.run(S.sender_authentication(preset="postfix"), seed=1)
for (kind, path), counts in flow_table(closed).items():
    print(f"{kind:7} {path:10} {counts}")

# %% [markdown]
# ## Forwarding: the old tension
#
# The first row has changed: the 8 relayed forgeries are now refused. The last row has not: 10 of
# bob's messages are still lost. Look at the forwarded rows. bob writes to `sales@remote.test`, an
# address whose owner moved to
# yourcompany.test; remote.test's Postfix forwards it (`virtual_alias_maps`) and keeps the envelope
# sender, `bob@example.com`. At yourcompany.test the message arrives from 198.51.100.90 - not a host
# example.com's SPF record names - so SPF fails, and policyd-spf refuses bob's real mail just as it
# refuses the spammer's (the spammer sends its forgery to the same address: the `forged
# forwarded` row). The tension is older than SPF. RFC 2505 (February 1999) §2.6.2 already
# warned that refusing outside mail which claims a local sender (`MAIL From:
# <user@my.local.dom.ain>`) breaks forwarding and mailing lists. RFC 7960 ("indirect email
# flows", section 3: aliases, mailing lists) describes the same problem for DMARC.
#
# A DKIM signature eases it. The forwarder adds only its own `Received:` line, so the signature
# made by example.com survives. If the receiver leaves SPF failures to DMARC (RFC 7489 §10.1 warns
# that rejecting on SPF first can lose mail that DMARC would pass), DMARC passes through DKIM
# alignment. **Predict** the three runs below: forwarded legitimate mail delivered or refused?

# %%
setups = {
    "Postfix, Debian's policyd-spf (refuses SPF fail)": {"preset": "postfix"},
    "Postfix, SPF left to DMARC, no DKIM": {"preset": "postfix", "spf_reject": False},
    "Postfix, SPF left to DMARC, DKIM signing": {"preset": "postfix", "spf_reject": False, "dkim": True},
}
tables = {label: flow_table(simlab.run(S.sender_authentication(**knobs), seed=1)) for label, knobs in setups.items()}
for label, t in tables.items():
    print(f"{label:50} forwarded legit {t[('legit', 'forwarded')]}  forwarded forged {t[('forged', 'forwarded')]}")

# %%
setups_figure({"EIMS 2.1 (lesson 03), SPF + p=reject": table, **tables},
              title="One day at yourcompany.test: forgeries that arrived, legitimate mail lost")

# %% [markdown]
# Without DKIM, `p=reject` loses bob's forwarded mail whichever step refuses it: the SPF check or
# DMARC. With DKIM it arrives, and the forged copy sent to the same alias is still refused: the
# spammer has no key. Here is the header of one forwarded message that arrived: SPF `Fail` (the
# forwarder's address), `dkim=pass` for `header.d=example.com` in OpenDKIM's field, and
# `dmarc=pass` in OpenDMARC's, above it. (`unprotected` is OpenDKIM's note that the key's DNS
# record was not signed with DNSSEC: `opendkim/opendkim.c`.)

# %%
signed_day = simlab.run(S.sender_authentication(preset="postfix", spf_reject=False, dkim=True), seed=1)
box = signed_day.world.network.host("mail.yourcompany.test").server.mailboxes["sales"]
forwarded = next(m for m in box if m.client_ip == "198.51.100.90")
print("\n".join(forwarded.lines[:5]))

# %% [markdown]
# The signature survives a forwarder that only adds a line, not one that edits the message. A
# mailing list that tags the subject breaks it, as this check of the same message shows:

# %%
tagged = [line.replace("Subject: Re: the order", "Subject: [sales] Re: the order") for line in forwarded.lines]
signed_zone = signed_day.world.dns.zone()
print("as delivered:  ", [(s.result, s.domain) for s in dkim.verify(forwarded.lines, signed_zone)])
print("subject tagged:", [(s.result, s.reason) for s in dkim.verify(tagged, signed_zone)])

# %% [markdown]
# ## Try it: the sender-authentication lab
#
# Choose example.com's server and what it publishes, and what yourcompany.test checks (the panel
# replays 12 hours). Once you change a setting, the panel compares your run with its starting
# settings on the same traffic. Things to try:
#
# 1. Pick `Postfix 3.7` as example.com's server. What happens to the relayed spoof, and why?
# 2. Switch `policyd-spf refuses an SPF fail` off, then sign with DKIM. Watch the forwarded rows.
# 3. With policyd-spf's refusal off, `p=quarantine`, then `pct` at 50. Where do the forgeries go?
# 4. Switch off `OpenDMARC acts on the policy`: that is how Debian ships it (Debian's
#    `/etc/opendmarc.conf` leaves OpenDMARC's default, `RejectFailures false`).
# 5. Look at one message: the relayed spoof, the direct forgery, bob's forwarded message.

# %%
sender_auth_lab()

# %% [markdown]
# ## Exercise
#
# You are example.com's admin. yourcompany.test's admin is a careful one: policyd-spf leaves SPF
# failures to DMARC, and OpenDMARC acts on your policy. Choose your server and what you publish so
# that **no forged `Postmaster@example.com` message reaches yourcompany.test on any path -
# delivered or held - and no legitimate message is lost**, forwarded mail included.
#
# Call it as `check_sender_setup(preset, spf="v=spf1 mx -all", dkim=False, dmarc="reject", pct=100)`:
# `preset` is the site's product (`"eims-2.1"`, `"sims"`, `"postfix"` ...), `spf` an SPF record or
# `None`, `dkim` whether the site's server signs (a product that can: Postfix with OpenDKIM), `dmarc`
# one of `None`, `"none"`, `"quarantine"`, `"reject"`, and `pct` from 0 to 100.

# %%
from simlab.exercises.sender_auth import SOLUTION, check_sender_setup  # noqa: E402

check_sender_setup("eims-2.1", spf="v=spf1 mx -all", dmarc="reject")  # the lesson's start: does it pass?

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## What carries over to today
#
# * Close the relay at home first. SPF, DKIM and DMARC tell a receiver which *servers* and *keys*
#   speak for a domain; mail your own server relays for a stranger carries your name with full
#   marks.
# * Publish all three: SPF for the servers, DKIM so that mail still authenticates after a
#   forwarder, DMARC to ask for `reject` - after a period of `p=none` and its reports, when you
#   know every server that sends as you.
# * As a receiver, leave SPF failures to DMARC (RFC 7489 §10.1), and expect mailing lists that
#   edit messages to fail: that is what ARC (RFC 8617) and lists that rewrite `From:` try to solve.
# * The checks cover the `From:` *domain*. A look-alike domain, or a display name
#   ("Postmaster" <x@elsewhere.test>), passes them all.
