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
# # 09 · Live lab: the same servers on real sockets
#
# **Learning goals**
#
# * Talk to a simulated server with real clients - Python's `smtplib` and `poplib`, and
#   `telnet`, `nc` or `swaks` in a terminal - and see that it answers exactly as in the
#   simulation: one server model, two ways in.
# * Repeat the test one admin of the thread ran: check EIMS 2.1's Relay Restriction from
#   outside with a `Postmaster@` sender at the site's own domain, and read what it answered.
# * Send the same dialogue to SIMS and Postfix, and explain any difference from what each
#   server looks at when it decides who may relay.
# * See in the POP3 log that a wrong password leaves a line, and a right one - even a stolen
#   one - leaves none.
#
# **The story, in our words.** On 15 June 1998 (14:35) a participant, *Tamachan*, asked
# others to check a test they had run on EIMS 2.x, whose local domain was set not to relay:
# from a host outside that domain, connect to port 25, give a sender address at the site's own
# domain - the postmaster's - and a recipient at another company. The message went out. What
# the server answered is the first thing you will reproduce below (on EIMS 2.1, the version
# simlab models). The moderator, Motoyuki Tanaka, first read it as a login with a valid
# account (15:39) and later asked whether SIMS would not behave the same in principle (17:10);
# Tamachan explained that evening (18:24) that SIMS decides by the connecting machine's
# address instead. In another part of the thread, the POP3 log of *cony*'s EIMS 1.2 server
# (15 June, 00:51) filled with "wrong password" lines for the webmaster account from an
# outside address; the thread's first post (Miyamura, 22 May 1998) had asked about the same
# kind of line, and the moderator had answered that it records a refused login - a real
# intruder, holding the right password, leaves no error line.
#
# **Addresses used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `mycompany.test`, `mail.mycompany.test` | the site's domain and server (mail.mycompany.co.jp) |
# | `yourcompany.test` | the foreign company (mail.yourcompany.co.jp) |
# | 203.0.113.50 | the outside tester (the same host sends the spoofed mail in lessons 03 and 07) |
# | 203.0.113.226 | the password guesser (203.216.11.226) |
# | 192.0.2.0/24, bob's PC 192.0.2.101 | the site's own LAN |
#
# **How the addresses reach the server.** Everything here runs on this machine: the servers
# listen on the loopback address 127.0.0.1 and nothing leaves the computer. The lab runs on
# Python's standard library alone (asyncio, smtplib, poplib): nothing extra to install.
# `client_map` tells the lab which documentation address a loopback client stands for. The
# cells below connect from 127.0.0.1 only, which every system has, and start the lab with
# the map that fits: `{"127.0.0.1": "203.0.113.50"}` to be the outside tester,
# `{"127.0.0.1": "192.0.2.101"}` to be bob's PC. No administrator rights are needed.
#
# Two other ways, for later:
#
# * **Several loopback addresses at once.** On Linux the whole of 127.0.0.0/8 answers as
#   loopback, so a client can connect *from* 127.0.0.2 or 127.0.0.3
#   (`smtplib.SMTP(source_address=("127.0.0.2", 0))`) and one lab can map each to a different
#   person. On macOS only 127.0.0.1 is configured; add another address with
#   `sudo ifconfig lo0 alias 127.0.0.2 up` and remove it afterwards with
#   `sudo ifconfig lo0 -alias 127.0.0.2` (this needs an administrator's password).
# * **XCLIENT.** `simlab.live.serve(..., xclient_hosts=["127.0.0.1"])` lets a client on
#   127.0.0.1 send Postfix's `XCLIENT ADDR=203.0.113.50` (Postfix's XCLIENT_README) to start
#   over as that address. It is how simlab's Postfix was recorded against a real Postfix; the
#   last SMTP cell below shows it.

# %%
import poplib
import smtplib

import simlab
import simlab.live

OUTSIDE = {"127.0.0.1": "203.0.113.50"}  # a client on 127.0.0.1 is the outside tester
BOB = {"127.0.0.1": "192.0.2.101"}  # ... or bob's PC on the LAN
THREAD = ["HELO outside.test", "MAIL FROM:<Postmaster@mycompany.test>", "RCPT TO:<user_name@yourcompany.test>",
          "DATA", ".", "QUIT"]


def replay(lab, lines):
    """Connect from 127.0.0.1 with smtplib and type ``lines`` one by one, as in telnet."""
    client = smtplib.SMTP(timeout=10)
    code, text = client.connect(lab.host, lab.smtp_port)
    print(f"S: {code} {text.decode()}")
    try:
        for line in lines:
            print(f"C: {line}")
            try:
                code, text = client.docmd(line)
            except smtplib.SMTPServerDisconnected:
                print("   (the server has closed the connection)")
                break
            print(f"S: {code} {text.decode()}")
    finally:
        client.close()


# %% [markdown]
# ## EIMS 2.1 with Relay Restriction on
#
# Start the server the admin had: EIMS 2.1, local domain `mycompany.test`, Relay
# Restriction checked. `simlab.live.serve` returns as soon as the server listens; the
# ports are chosen free (`lab.smtp_port`, `lab.pop3_port`).

# %%
eims = simlab.presets.eims_2_1(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                               relay_restriction=True)
lab = simlab.live.serve(eims, client_map=OUTSIDE)
print(f"SMTP on {lab.host}:{lab.smtp_port}, POP3 on {lab.host}:{lab.pop3_port}")

# %% [markdown]
# **Predict, then run.** The tester is outside (203.0.113.50) and the recipient is at a
# foreign company. Relay Restriction is on. What does the server answer to `RCPT TO`:
# `250` (accepted) or `550` (relaying refused)? And to the final `.`?

# %%
replay(lab, THREAD)

# %% [markdown]
# Accepted, all the way, as Tamachan found: Relay Restriction looked only at the domain the
# client *wrote* as its sender - the site's own - and anyone can write anything there. (The
# reply texts are simlab's modelled EIMS wording; the thread records only that the message
# went through.) This was a real TCP
# connection: `smtplib` cannot tell this server from a real one. The server's log and its
# relay queue say what happened - the message is now waiting to go out to
# `yourcompany.test`, with the postmaster's name on it:

# %%
print("\n".join(eims.log))
for message in eims.queue:
    print(message.queue_id, "from", message.sender, "to", message.recipients, "client", message.client_ip)

# %% [markdown]
# The server keeps its own transcript of the session: the same dialogue, seen from its side.

# %%
print("\n".join(lab.sessions[-1].transcript))

# %% [markdown]
# Now an honest outsider, writing their *own* address as sender. **Predict:** does the same
# rule let this one through?

# %%
replay(lab, ["HELO outside.test", "MAIL FROM:<someone@yourcompany.test>", "RCPT TO:<friend@elsewhere.test>",
             "QUIT"])
print(eims.log[-1])

# %% [markdown]
# Refused: the rule works against honest clients and fails against anyone who lies about
# the sender. (That the refusal depends on the sender's domain is the thread's finding and
# the vendor's description of EIMS 2.1 to 3.1 in "EIMS Relay Security"; the wording is
# simlab's.) Stop this server before starting the next one.

# %%
lab.stop()

# %% [markdown]
# ## SIMS: Client Hosts
#
# SIMS relays only for the machines in its "Client Hosts" list - here the LAN,
# 192.0.2.0/24 (the thread: Tamachan, 15 June 1998). **Predict, then run:** the same dialogue
# from the same outside address. Where does it stop? And from bob's PC on the LAN
# (192.0.2.101)? The same server is served twice, first with the outside tester's map, then
# with bob's.

# %%
sims = simlab.presets.sims(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                           client_hosts=["192.0.2.0/24"])
with simlab.live.serve(sims, client_map=OUTSIDE) as lab:
    replay(lab, THREAD)
print()
with simlab.live.serve(sims, client_map=BOB) as lab:
    replay(lab, THREAD)
print()
print("\n".join(sims.log))

# %% [markdown]
# From outside the spoofed sender changes nothing: `550 ... relaying prohibited` at
# `RCPT`. From the LAN the message goes through - relaying for its own users is the server's
# job. (A `with` block stops the lab at its end. The SIMS reply texts are simlab's modelling;
# the thread describes the rule, not its words.)
#
# The same two clients in one lab, with XCLIENT: the client on 127.0.0.1 says which address
# it stands for, and the server starts a fresh session as that address. XCLIENT is a lab
# device here - the 1998 servers had no such command - so the lab accepts it only from the
# addresses in `xclient_hosts`.

# %%
with simlab.live.serve(sims, xclient_hosts=["127.0.0.1"]) as lab:
    for address in ("203.0.113.50", "192.0.2.101"):
        replay(lab, [f"XCLIENT ADDR={address}", *THREAD[:3], "QUIT"])
        print()

# %% [markdown]
# The first greeting goes to 127.0.0.1; the one after `XCLIENT` opens the session the server
# judges, and it judges it exactly as before: refused from outside, accepted from the LAN.
#
# ## Postfix 3.7
#
# Today's reference decides the same way, by the client's address (`mynetworks`), unless
# the client logs in with SMTP AUTH (RFC 4954). **Predict:** which code does Postfix use at
# `RCPT` for a stranger - and is it a permanent (5xx) or a temporary (4xx) refusal?

# %%
postfix = simlab.presets.postfix(myhostname="mail.mycompany.test", mydestination=["mycompany.test"],
                                 mynetworks=["192.0.2.0/24"])
with simlab.live.serve(postfix, client_map=OUTSIDE) as lab:
    replay(lab, THREAD)
print()
print("\n".join(line for line in postfix.log if "reject" in line))

# %% [markdown]
# `454 4.7.1 ... Relay access denied`: Postfix 3.7's default `defer_unauth_destination`
# answers with a temporary code, so a mistake in its own configuration does not bounce
# legitimate mail; a relay attempt gets nowhere either way, and the log line tells you who
# tried. With no recipient left, `DATA` is refused too, and the lone `.` that follows is not
# a command at all: Postfix takes it for a client that does not speak SMTP, says so
# (`221 2.7.0 Error: I can break rules, too. Goodbye.`) and hangs up. These are not simlab's
# guesses: a real Postfix 3.7 gave the same replies to the same `MAIL`, `RCPT`, `DATA` and
# `.` (simlab's recordings, `tests/data/postfix_reference.json`, case `spoof/outside`, which
# opened with EHLO and used XCLIENT to come from an outside address).
#
# A word on logging in. The usual SMTP login, `AUTH PLAIN`, sends the user name and password
# base64-encoded. Base64 is an encoding, not encryption: anyone who sees the line reads the
# password back in one step.

# %%
import base64  # noqa: E402

line = "AUTH PLAIN " + base64.b64encode(b"\0alice\0s3cret").decode()
print(line)
print(base64.b64decode(line.split()[-1]))

# %% [markdown]
# ## POP3: the wrong password, and the right one
#
# Suppose the webmaster's password is the account name - the first guess any attacker tries
# (kazu's warning in the thread, 24 May 1998). Serve an EIMS 2.1 with that account, and let
# the client on 127.0.0.1 appear as the outside guesser 203.0.113.226.
#
# POP3's `USER` and `PASS` (RFC 1939) cross the wire in clear text: the password below
# travels over the socket exactly as typed. Here it never leaves this computer; on a real
# network, without TLS, anyone on the path can read it.
#
# **Predict, then run:** what does the server answer to a wrong password, and which line
# appears in its log?

# %%
pop_server = simlab.presets.eims_2_1(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                                     accounts={"webmaster": "webmaster", "bob": "Tr0ub4dor&3"})
lab = simlab.live.serve(pop_server, client_map={"127.0.0.1": "203.0.113.226"})

guesser = poplib.POP3(lab.host, lab.pop3_port, timeout=10)
print(guesser.getwelcome().decode())
guesser.user("webmaster")
try:
    guesser.pass_("123456")
except poplib.error_proto as refusal:
    print("refused:", refusal)
guesser.quit()
print(pop_server.log[-1])

# %% [markdown]
# That is the line of cony's log (the thread quotes it from EIMS 1.2; simlab's EIMS 2.1 writes
# the same). **Predict:** the guesser now tries the account name as the password. What does
# the *error* log show this time?

# %%
errors_before = [line for line in pop_server.log if "wrong password" in line]
guesser = poplib.POP3(lab.host, lab.pop3_port, timeout=10)
guesser.user("webmaster")
print(guesser.pass_("webmaster").decode())
print(guesser.stat())
guesser.quit()
errors_after = [line for line in pop_server.log if "wrong password" in line]
print("new error lines:", errors_after[len(errors_before):])
print("last log line:  ", pop_server.log[-1])

# %% [markdown]
# No new error: a login with the right password looks exactly like the owner's, as the
# moderator said (22 May 1998). The log shows the failures *before* a guess succeeds, and then
# goes quiet. (The server's own transcript, `lab.sessions[-1].transcript`, shows `PASS` as
# stars; the socket carried it in clear.)

# %%
lab.stop()

# %% [markdown]
# ## Time in the live lab
#
# A simulated server has a clock that moves only when told. In the live lab it follows the
# real time that passes (counted from the simulation's start, June 1998), so rate limits,
# lockouts and fail2ban's time windows work as they would on a real server. The POP3
# server above has been up only for the moment the cells above took, and its clock has moved
# by just that much (the first number below, in seconds):

# %%
print(f"{pop_server.clock.now:.2f} s after {pop_server.clock.start}: {pop_server.clock.datetime()}")

# %% [markdown]
# ## The live lab in a panel
#
# The same servers, started from a panel: choose the product and its relay settings, and which
# loopback address plays which host (`127.0.0.2=203.0.113.50` makes a client connecting from
# 127.0.0.2 the outside tester; on macOS, where only 127.0.0.1 exists until you add an alias as
# shown above, map `127.0.0.1` instead). Press **Start**: the panel shows the ports and the
# commands to try - `telnet`, `nc -C`, `swaks` in a terminal, or `smtplib` in a cell - and, as
# clients connect, each session's transcript (newest first), the server's log, the mailboxes and
# the relay queue. **Predict, then try:** send the thread's dialogue to EIMS 2.1 with Relay
# Restriction on, then switch to SIMS or Postfix and press Start again (a restart, with an empty
# server). Where does each one stop it? Press **Stop** when you are done; closing the panel or
# the notebook stops it too. The server runs in its own thread, so the notebook stays free while
# it listens.

# %%
import simlab.ui  # noqa: E402

simlab.ui.live_lab(preset="eims-2.1", relay_restriction=True,
                   client_map="127.0.0.2=203.0.113.50, 127.0.0.3=192.0.2.101")

# %% [markdown]
# ## Your turn, in a terminal
#
# The lab also runs from a shell, and then any client can talk to it. In one terminal:
#
# ```sh
# python -m simlab serve --preset eims-2.1 --smtp-port 2525 --pop3-port 1110 \
#     --set hostname=mail.mycompany.test --set local_domains=mycompany.test \
#     --set relay_restriction=yes --account webmaster:webmaster \
#     --client-map 127.0.0.1=203.0.113.50 --log
# ```
#
# `--client-map` makes a plain connection from 127.0.0.1 the outside tester (203.0.113.50).
# In another terminal, type the thread's dialogue yourself:
#
# * `telnet 127.0.0.1 2525`, then `HELO outside.test`, `MAIL FROM:<Postmaster@mycompany.test>`,
#   `RCPT TO:<user_name@yourcompany.test>`, `DATA`, a line, `.`, `QUIT` - the server sees you
#   at 203.0.113.50, outside;
# * `nc -C 127.0.0.1 2525` does the same (`-C` sends CRLF line ends, as SMTP wants);
# * `swaks --server 127.0.0.1:2525 --from Postmaster@mycompany.test --to user_name@yourcompany.test`
#   runs the whole dialogue for you;
# * `telnet 127.0.0.1 1110`, then `USER webmaster` and `PASS` with a wrong and a right password.
#
# To be bob on the LAN instead, stop the server (Ctrl-C) and start it again with
# `--client-map 127.0.0.1=192.0.2.101`: this works on every system, without root. To have both
# at once, add `--client-map 127.0.0.3=192.0.2.101` and connect from 127.0.0.3:
# `nc -C -s 127.0.0.3 127.0.0.1 2525`, or swaks with `--local-interface 127.0.0.3`. On Linux
# that address works as it is; on macOS first run `sudo ifconfig lo0 alias 127.0.0.3 up`
# (and `sudo ifconfig lo0 -alias 127.0.0.3` when you are done).
#
# Ctrl-C stops the server and, with `--log`, prints its log.
#
# ## What carries over to today
#
# * Test a relay rule from *outside*, as this admin did: the sender address proves nothing,
#   because the client writes it.
# * Relay permission must rest on something a client cannot type: its address or its login.
# * A quiet log is not a safe log: count successful logins from unusual addresses, not only
#   failures.
