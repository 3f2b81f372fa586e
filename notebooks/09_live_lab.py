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
# **The story, in our words.** One admin had turned on EIMS 2.1's Relay Restriction and
# tested it from outside: connect to port 25, give a sender address at the site's own
# domain - the postmaster's - and a recipient at another company. What the server answered
# is the first thing you will reproduce below. Others in the thread explained that SIMS
# decides by the connecting machine's address instead. In another part of the thread, a
# POP3 log filled with "wrong password" lines for the webmaster account, coming from an
# outside address.
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
# listen on the loopback address 127.0.0.1 and nothing leaves the computer. The whole of
# 127.0.0.0/8 is loopback, so a client connecting *from* 127.0.0.2 is a different client
# from one connecting from 127.0.0.1. `client_map` tells the lab which documentation address
# each loopback address stands for: below, 127.0.0.2 is the outside tester 203.0.113.50 and
# 127.0.0.3 bob's PC on the LAN, 192.0.2.101.

# %%
import poplib
import smtplib

import simlab
import simlab.live

CLIENTS = {"127.0.0.2": "203.0.113.50", "127.0.0.3": "192.0.2.101"}
THREAD = ["HELO outside.test", "MAIL FROM:<Postmaster@mycompany.test>", "RCPT TO:<user_name@yourcompany.test>",
          "DATA", ".", "QUIT"]


def replay(lab, lines, source="127.0.0.2"):
    """Connect from ``source`` with smtplib and type ``lines`` one by one, as in telnet."""
    client = smtplib.SMTP(timeout=10, source_address=(source, 0))
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
lab = simlab.live.serve(eims, client_map=CLIENTS)
print(f"SMTP on {lab.host}:{lab.smtp_port}, POP3 on {lab.host}:{lab.pop3_port}")

# %% [markdown]
# **Predict, then run.** The tester is outside (203.0.113.50) and the recipient is at a
# foreign company. Relay Restriction is on. What does the server answer to `RCPT TO`:
# `250` (accepted) or `550` (relaying refused)? And to the final `.`?

# %%
replay(lab, THREAD)

# %% [markdown]
# Accepted, all the way: Relay Restriction looked only at the domain the client *wrote* as
# its sender - the site's own - and anyone can write anything there. This was a real TCP
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
# the sender. Stop this server before starting the next one.

# %%
lab.stop()

# %% [markdown]
# ## SIMS: Client Hosts
#
# SIMS relays only for the machines in its "Client Hosts" list - here the LAN,
# 192.0.2.0/24. **Predict, then run:** the same dialogue from the same outside address.
# Where does it stop? And from bob's PC on the LAN (127.0.0.3, i.e. 192.0.2.101)?

# %%
sims = simlab.presets.sims(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                           client_hosts=["192.0.2.0/24"])
with simlab.live.serve(sims, client_map=CLIENTS) as lab:
    replay(lab, THREAD)
    print()
    replay(lab, THREAD, source="127.0.0.3")
print()
print("\n".join(sims.log))

# %% [markdown]
# From outside the spoofed sender changes nothing: `550 ... relaying prohibited` at
# `RCPT`. From the LAN the message goes through - relaying for its own users is the server's
# job. (A `with` block stops the lab at its end.)
#
# ## Postfix 3.7
#
# Today's reference decides the same way, by the client's address (`mynetworks`), unless
# the client logs in. **Predict:** which code does Postfix use at `RCPT` for a stranger -
# and is it a permanent (5xx) or a temporary (4xx) refusal?

# %%
postfix = simlab.presets.postfix(myhostname="mail.mycompany.test", mydestination=["mycompany.test"],
                                 mynetworks=["192.0.2.0/24"])
with simlab.live.serve(postfix, client_map=CLIENTS) as lab:
    replay(lab, THREAD)
print()
print("\n".join(line for line in postfix.log if "reject" in line))

# %% [markdown]
# `454 4.7.1 ... Relay access denied`: Postfix 3.7's default `defer_unauth_destination`
# answers with a temporary code, so a mistake in its own configuration does not bounce
# legitimate mail; a relay attempt gets nowhere either way, and the log line tells you who
# tried. With no recipient left, `DATA` is refused too, and the lone `.` that follows is not
# a command at all: Postfix takes it for a client that does not speak SMTP, says so
# (`221 2.7.0 Error: I can break rules, too. Goodbye.`) and hangs up.
#
# ## POP3: the wrong password, and the right one
#
# Suppose the webmaster's password is the account name - the first guess any attacker
# tries. Serve an EIMS 2.1 with that account, and let every local client appear as the
# outside guesser 203.0.113.226 (`poplib` cannot choose its source address, so here 127.0.0.1
# itself is mapped).
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
# That is the thread's log line. **Predict:** the guesser now tries the account name as the
# password. What does the *error* log show this time?

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
# No new error: a login with the right password looks exactly like the owner's. The log
# shows the failures *before* a guess succeeds, and then goes quiet.

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
# ## Your turn, in a terminal
#
# The lab also runs from a shell, and then any client can talk to it. In one terminal:
#
# ```sh
# python -m simlab serve --preset eims-2.1 --smtp-port 2525 --pop3-port 1110 \
#     --set hostname=mail.mycompany.test --set local_domains=mycompany.test \
#     --set relay_restriction=yes --account webmaster:webmaster \
#     --client-map 127.0.0.1=203.0.113.50 --client-map 127.0.0.3=192.0.2.101 --log
# ```
#
# The two `--client-map`s make a plain connection to 127.0.0.1 the outside tester
# (203.0.113.50) and one from 127.0.0.3 bob's PC (192.0.2.101). In another terminal, type the
# thread's dialogue yourself:
#
# * `telnet 127.0.0.1 2525`, then `HELO outside.test`, `MAIL FROM:<Postmaster@mycompany.test>`,
#   `RCPT TO:<user_name@yourcompany.test>`, `DATA`, a line, `.`, `QUIT` - the server sees you
#   at 203.0.113.50, outside;
# * `nc -C 127.0.0.1 2525` does the same (`-C` sends CRLF line ends, as SMTP wants);
#   `nc -C -s 127.0.0.3 127.0.0.1 2525` connects as bob on the LAN;
# * `swaks --server 127.0.0.1:2525 --from Postmaster@mycompany.test --to user_name@yourcompany.test`
#   runs the whole dialogue for you (add `--local-interface 127.0.0.3` to send as bob);
# * `telnet 127.0.0.1 1110`, then `USER webmaster` and `PASS` with a wrong and a right password.
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
