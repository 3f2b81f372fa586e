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
# # 00 · Start here
#
# **Learning goals**
#
# * Say what simlab is and what the 1998 thread behind it was about.
# * Find your way around the simulated network, and know which documentation address
#   stands for which machine of the thread.
# * Use a lesson panel: change a control, read the dialogue, the server log and the outcome.
# * Read an SMTP reply code, and tell "accepted" (2xx) from "refused" (4xx, 5xx).
#
# ## What simlab is
#
# simlab is a small laboratory of mail servers that runs entirely inside Python. Each server
# answers SMTP (sending mail, RFC 5321) and POP3 (collecting mail, RFC 1939). There are five:
#
# * **EIMS 1.2 and EIMS 2.1** (Eudora Internet Mail Server) and **SIMS** (Stalker Internet Mail
#   Server), the Macintosh servers of the thread. No copy of them runs here, so nothing checks
#   their words against the real thing: *what* they allow and refuse follows the thread and, for
#   EIMS, the vendor's notes (the EIMS author's support page "EIMS Relay Security" and Qualcomm's
#   knowledge-base article 2153, both about EIMS 2.1 to 3.1), but their wording - replies,
#   banners, most log lines - is simlab's modelling choice. Only the few log lines the thread
#   quotes (from an EIMS 1.2 server) are a real product's own words. Each lesson says which is
#   which.
# * **Postfix 3.7** and **Exim 4.96**, today's reference servers. These are checked reply for
#   reply against recordings of the real programs (Postfix 3.7.11 and Exim 4.96 as Debian 12
#   ships them; the recordings are in `tests/data/postfix_reference.json` and
#   `tests/data/exim_reference.json`), so for the cases recorded there, they answer what the real
#   daemon answered.
#
# Nothing touches a real network: every connection, reply and log line is simulated, so you can
# attack your own server as much as you like.
#
# **Source.** The lessons replay a thread of the web forum "Web Scripter's Meeting", a forum on
# running Macintosh servers that 田中求之 (Tanaka Motoyuki, Fukui Prefectural University) ran until
# January 2006: "EIMS2.1で不審者がPOP3サーバへ侵入?" ("An intruder in EIMS 2.1's POP3 server?"),
# May-June 1998. The thread is in Japanese; the lessons tell it in their own words, name each
# post by its author and date, and quote only log lines and SMTP/POP3 commands as written.
#
# ## The story, in our words
#
# In 1998 a group of administrators running mail servers on Macintoshes compared notes in a
# web forum; the forum's moderator, 田中求之, answered most questions. One thing led to another:
#
# 1. **A worrying log (S1).** An admin running EIMS 2.1 (みやむら, 22 May) found "Wrong password
#    for..." lines about the POP3 server in the mail log, and feared a stranger was connecting
#    and delivering mail. The moderator explained that the line records a *refused* login; a
#    real intruder would use a real user's name and password and leave no error line at all.
#    The moderator and another participant (kazu, 24 May) suggested restricting POP3, or any
#    service, by client address. → lesson **01 wrong password**.
# 2. **A bounce nobody expected (S2, S3).** An admin running EIMS 1.2 (cony, 15 June) had been
#    away for a week and found an error log full of delivery failures and POP3 "wrong password"
#    lines, and a returned message in postmaster's mailbox: a survey program had tested whether
#    the server would pass mail between two strangers - and it would. EIMS 1.2 relays for
#    anyone (whether EIMS 2.1 does too, as installed, you will find out in the exercise at the
#    end of this lesson). → lesson **02 open-relay probe**.
# 3. **The spoofed sender (S4, S6).** A participant (たまちゃん, 15 June) reported that a
#    message seemed to get through EIMS 2.x's relay rule when the client simply typed the
#    server's own domain as the sender, and asked how to avoid it; the moderator had no answer.
#    The same participant explained that SIMS decides by the client's address instead.
#    → lesson **03 spoofed postmaster**.
# 4. **The cure that hurt (S5).** The same participant noticed, and the moderator confirmed,
#    that an IP Range Restriction on SMTP also stops mail arriving from outside.
#    → lesson **04 strict IP range**.
# 5. **Chasing addresses.** The moderator once watched one person switch IP address at random
#    while logging in to relay spam, and kazu remarked that being knocked offline is scarier
#    than a break-in. → lessons **05 IP rotation** and **06 denial of service**.
#
# Then: **07 today** puts the same attacks against a modern setup, **08 sandbox** lets you
# build your own scenario, and **09 live lab** runs a simulated server on a real port so you
# can talk to it with `telnet`, `swaks` or Python's `smtplib`.
#
# The thread's own addresses and names appear only in the tables of the lessons; simlab uses
# documentation addresses (RFC 5737) and example domains (RFC 2606, RFC 6761) everywhere, and
# each lesson's table says which stands for which.

# %%
# %matplotlib inline
import simlab
from simlab.scenarios.site import site_server
from simlab.ui.start import network_picture, run_dialogue, session_lab

# %% [markdown]
# ## The network
#
# Every day-long scenario runs on the same small network: the site's LAN behind a router,
# and the Internet with a roaming member of staff, two correspondents' mail servers, the
# upstream provider and the attackers. The picture comes from a run of lesson 02's scenario:

# %%
day = simlab.run(simlab.scenarios.relay_probe(), seed=1)
network_picture(day.world.network, title="The simulated site (orange: the mail server under study)")

# %% [markdown]
# | here | stands for, in the thread | role |
# |---|---|---|
# | `example.com` | the admin's domain (example name: mycompany.co.jp) | the site's mail domain |
# | `mail.example.com`, 192.0.2.25 | the admin's Mac server (210.163.xxx.34) | the server under study |
# | 192.0.2.0/24 (`router` 192.0.2.1, `lan` switch 192.0.2.2) | the site's own network | trusted |
# | `internet` 198.51.100.1 | the Internet between the sites | - |
# | 192.0.2.101 `pc-bob`, 192.0.2.102 `pc-webmaster` | staff PCs | legitimate users |
# | 192.0.2.53 `dns` | the name server (see below) | DNS resolver |
# | 198.51.100.77 `roaming` | a member of staff reading mail from outside (alice) | legitimate, but outside |
# | 198.51.100.25 `mx.provider.test` | the upstream provider's mail host | MX at the provider (lesson 04) |
# | `yourcompany.test`, 198.51.100.80 | yourcompany.co.jp | a foreign domain (lesson 03) |
# | `remote.test`, 198.51.100.90 | any correspondent | legitimate mail both ways |
# | `survey.test`, 203.0.113.111 | simkin.com, 199.175.137.111 | the relay survey (lesson 02; not drawn) |
# | 203.0.113.226 | 203.216.11.226, from the EIMS 1.2 admin's log | the password guesser (lesson 01; not drawn) |
# | 203.0.113.0/24 (`attacker` 203.0.113.2 in the picture) | everyone else outside | attackers |
#
# The picture draws one `attacker` for all the outside machines that misbehave: the survey's
# mail host and the password guesser are not drawn on their own.
#
# An **MX record** is the entry in DNS, the Internet's name directory, that names the host
# which receives mail for a domain: to deliver to `bob@example.com`, a server looks up the MX
# of example.com and connects to the host it names. Lesson 04 points the site's MX at the
# provider.
#
# The name server: in the thread, the log line `DNR timed out to 210.163.xxx.34 for simkin.com`
# (DNR: the classic Mac OS name for the DNS resolver) named the admin's own server, which was its
# own name server as well. simlab puts the resolver on a separate machine, 192.0.2.53 - a
# modelling choice, so that a slow name server and a slow mail server show up as different
# lines.
#
# Lessons 03 and 09 use the thread's own site name instead of example.com: `mycompany.test` for
# mail.mycompany.co.jp.

# %% [markdown]
# ## Talking to a server
#
# A mail client and a server take turns: the client sends one line, the server answers with a
# three-digit code and some text. The first digit is what matters: **2** means yes, **3** "go
# on" (after `DATA`), **4** "not now, try later", **5** "no". `MAIL FROM` says who the message
# is from, `RCPT TO` who should get it - and the answer to `RCPT TO` is where a server decides
# whether it will take the message.
#
# **Predict**, then run: a stranger at 203.0.113.7 sends a message *to* bob, a local user.
# Which of the five servers accept it at `RCPT`? All, some, or none?

# %%
to_bob = "HELO client.remote.test\nMAIL FROM:<carol@remote.test>\nRCPT TO:<bob@example.com>\nQUIT"
for preset in ("eims-1.2", "eims-2.1", "sims", "postfix", "exim"):
    server = site_server(preset)
    session, _ = run_dialogue(server, "203.0.113.7", to_bob)
    print(f"{preset:9}", session.transcript[session.transcript.index("C: RCPT TO:<bob@example.com>") + 1])

# %% [markdown]
# All five say yes - as they must: a mail server exists to receive mail for its users from
# anyone on the Internet. (The Postfix and Exim lines are what the real programs answered in
# their recordings; the EIMS and SIMS wording is modelled.) The interesting question, for most
# of this course, is what a server answers when the recipient is *not* one of its users.
#
# ## How the panels work
#
# Every lesson has a panel like the one below. The controls at the top are the settings you
# can change: a server from a dropdown, addresses in text fields, defences as checkboxes, rates
# and pool sizes as sliders. Each change reruns the simulation at once; the tabs underneath
# show what happened. A setting the simulator cannot use (try `203.0.113.300` as the client
# address) shows a red message and keeps what you typed; the last good result stays on screen.
#
# This panel opens one SMTP session. Pick a server and a client address, edit the lines in the
# box (one command per line; after `DATA` come the message's lines, ended by a line holding
# only `.`), and read the tabs:
#
# * **the dialogue** - both sides, `C:` what the client sent, `S:` what the server answered;
#   refusals in red;
# * **server log** - what the server's admin would have found in the log the next morning;
# * **what the server kept** - messages for local users, and messages waiting in the *relay
#   queue* to be passed on to another site.
#
# Things to try: the five servers with the lines as they are; then the client address
# `192.0.2.101` (a PC on the LAN) with Postfix; then delete the `HELO` line - the thread's
# dialogue in lesson 03 had none: does any server mind? (RFC 5321 §4.1.4 says a session that
# carries mail must begin with `EHLO` or `HELO`, but servers differ in what they do without one.
# Postfix, as installed, takes the mail anyway - its recording shows it; Exim as Debian
# configures it answers `503 HELO or EHLO required` - its recording shows that too; the
# simulated EIMS and SIMS take the mail, a modelling choice. Either way, a greeting proves
# nothing: the client can write any name in it.)

# %%
session_lab()

# %% [markdown]
# ## Exercise
#
# Use the panel to find the reply code that **EIMS 2.1, as installed,** gives to
# `RCPT TO:<dave@remote.test>` - a recipient at another site - when the client is outside
# (203.0.113.7). The box does not have that line yet: add it under `RCPT TO:<bob@example.com>`.
# Put the three digits into the checker below and run the cell.

# %%
from simlab.ui.start import SOLUTION, check_rcpt_reply  # noqa: E402

check_rcpt_reply(550)  # replace 550 by the code you found

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## The same in code
#
# The panels are thin: everything they do is a few lines of Python you can type yourself.
# A server comes from `simlab.presets`, a session from the server, and each `send` returns the
# reply. The same lines as the panel, against SIMS:

# %%
sims = simlab.presets.sims(client_hosts=["192.0.2.0/24"])
s = sims.smtp_session(client_ip="203.0.113.7")
for line in ["HELO client.remote.test", "MAIL FROM:<carol@remote.test>", "RCPT TO:<dave@remote.test>", "QUIT"]:
    print(f"C: {line:34} S: {s.send(line)}")
print("\n".join(sims.log))

# %% [markdown]
# ## What carries over to today
#
# * A mail server must accept mail *for its own users* from anyone, and must refuse to pass
#   mail between two outsiders. Everything in this course is about drawing that line well.
# * The answer to `RCPT TO` is where the line is drawn: a 2xx to a foreign recipient from a
#   stranger means the server will relay.
# * Read the first digit of every reply, and read your server's log: it is the only record of
#   what strangers asked it to do.
# * Next: **01 wrong password** - what a log line does and does not tell you.
