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
# # 03 · The spoofed Postmaster (S4)
#
# **Learning goals**
#
# * Type the thread's five-line dialogue into EIMS 2.1 with Relay Restriction on, and see what
#   a relay rule does with a sender the client simply writes.
# * Explain why: a relay rule that trusts the sender's domain trusts what the client writes.
# * Compare the three kinds of relay rule - by sender domain, by client address, by login
#   (SMTP AUTH) - and see where each refuses.
# * Use today's tools: the submission port 587 (`530 5.7.0 Authentication required`) and
#   sender login maps (`reject_sender_login_mismatch`), which stop a logged-in user from
#   writing as someone else.
#
# **The story, in our words.** After lesson 02's advice - turn on Relay Restriction - the
# thread's admins felt safe. Then a participant tried something from a machine outside his
# domain. He connected to port 25 of an EIMS 2.x server and typed five lines by hand: a sender
# at the *server's own* domain (its postmaster), a recipient at another company, `data`, a
# lone `.`, and `quit`. The message went through to the other company. EIMS's rule asks
# "is the sender one of ours?", and the sender is whatever the client types - SMTP at that
# point has no way to check it, on any server. A SIMS user answered that SIMS decides by the
# *address of the connecting client* (its "Client Hosts" list): an outsider who knows an
# account name, or writes a local sender, still cannot relay, while mail *to* local users is
# accepted from anyone.
#
# **Addresses used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `mycompany.test`, `mail.mycompany.test` 192.0.2.25 | mail.mycompany.co.jp, the EIMS server |
# | `yourcompany.test` | mail.yourcompany.co.jp, the other company |
# | 203.0.113.50 | the participant's machine outside the domain |
# | 192.0.2.0/24, bob at 192.0.2.101 | the site's LAN and a member of staff on it |
# | 198.51.100.77, alice | a member of staff sending from outside (not in the thread) |
# | `example.com` | the same site in the day-long runs, which share lesson 02's network |

# %%
# %matplotlib inline
import simlab
from simlab import plots
from simlab.exercises.spoof import THREAD_DIALOGUE, mycompany_server, replay, reply_to, sender_login_map, spoof_day
from simlab.ui.spoof import BOB_LOGIN_LINES, auth_plain, spoof_lab

# %% [markdown]
# ## The five lines
#
# Here is the dialogue, as typed in the thread (the lower-case `data` and `quit` too - SMTP
# commands are case-insensitive). The server is EIMS 2.1 **with Relay Restriction on**: "only
# route for local domains and the following domains".
#
# **Predict** before you run the cell: at `RCPT TO:<user_name@yourcompany.test>`, does the
# server answer 250 or 550?

# %%
eims = mycompany_server("eims-2.1", relay_restriction=True)
session = replay(eims, "203.0.113.50", THREAD_DIALOGUE)
print("\n".join(session.transcript))
print()
print("\n".join(eims.log))
print("waiting to be relayed:", [(m.sender, m.recipients, m.client_ip) for m in eims.queue])

# %%
plots.sequence_diagram(session.transcript, client="203.0.113.50", server="EIMS 2.1",
                       title="Relay Restriction on: 250 at RCPT, queued for yourcompany.test")

# %% [markdown]
# 250 at `RCPT`, 250 after the `.`, and a message in the queue that our server will now
# deliver to yourcompany.test - from our address, in our name, with postmaster as the sender.
# The log shows a message "received"; nothing marks it as relayed for a stranger.
#
# Notice what the client did *not* do: no `HELO`, no login, nothing but a claim. Change only the
# sender to a domain that is not ours and the same rule refuses. EIMS relays when the
# *recipient* is local or listed, or when the *sender* is - and the sender is a line of text:

# %%
other = replay(mycompany_server("eims-2.1", relay_restriction=True), "203.0.113.50",
               ["MAIL FROM:<someone@elsewhere.test>", "RCPT TO:<user_name@yourcompany.test>", "quit"])
print(reply_to(other, "RCPT"))

# %% [markdown]
# ## Three servers, the same five lines
#
# SIMS lets the clients in "Client Hosts" relay (here the LAN, 192.0.2.0/24), Postfix the
# clients in `mynetworks` (the LAN too) and anyone logged in. **Predict:** what do they answer
# at `RCPT`, and what happens to the `data` and `.` lines after a refused recipient?

# %%
servers = {
    "EIMS 2.1, Relay Restriction": mycompany_server("eims-2.1", relay_restriction=True),
    "SIMS, Client Hosts = LAN": mycompany_server("sims", client_hosts=["192.0.2.0/24"]),
    "Postfix 3.7, mynetworks = LAN": mycompany_server("postfix", mynetworks=["192.0.2.0/24"]),
}
for name, server in servers.items():
    s = replay(server, "203.0.113.50", THREAD_DIALOGUE)
    print(f"--- {name}")
    print("\n".join(s.transcript))

# %% [markdown]
# SIMS and Postfix refuse at `RCPT`: the client's address is not on their list, and that is
# something a client cannot type its way around (a TCP connection needs a reply to reach the
# real address). Postfix says `454 4.7.1 ... Relay access denied`: by default it *defers*
# (`defer_unauth_destination`), a 4xx, so a misconfiguration costs a delay instead of lost
# mail. After the refused recipient, `data` gets "no valid recipients" - and Postfix reads the
# lone `.` as a command that is not SMTP at all, and hangs up ("I can break rules, too").
#
# RFC 2505 (February 1999), the anti-spam best-practice note published a few months later,
# says it plainly: `HELO` and `MAIL FROM` are easily forged; decide relaying by the caller's IP
# address (or, as came later, by a login); never by what the client claims.

# %% [markdown]
# ## The third kind of rule: log in first
#
# The address rule has a cost: staff outside the LAN (alice, roaming) cannot send either. The
# answer is SMTP AUTH (RFC 4954): the client logs in, and a logged-in client may relay. EIMS 2.1
# already offered it (`smtp_auth=True`). **Predict:** with SMTP AUTH turned on, does the
# thread's dialogue still get through on port 25?

# %%
eims_auth = mycompany_server("eims-2.1", relay_restriction=True, smtp_auth=True)
print(reply_to(replay(eims_auth, "203.0.113.50", THREAD_DIALOGUE), "RCPT"))

# %% [markdown]
# It does. Offering a login does not help while the old rule still lets anybody through who
# *claims* a local sender: the spoofer simply does not log in. AUTH only closes the hole
# together with a rule that stops trusting the sender's domain: one that asks something the
# client cannot simply type. Postfix's default rules are like that; what EIMS 2.1 offers is for
# you to find in the exercise.
#
# (A modelling note: SMTP AUTH was brand new in 1998 - RFC 2554 came out in 1999, the
# submission port 587 in RFC 2476 in December 1998. The vendor's notes say EIMS 2.1 and later
# offered SMTP AUTH; whether its users sent on 587 that year is our modelling choice.)
#
# Today's setup separates the two jobs by port: port 25 receives mail for our users from the
# whole Internet (and relays for nobody outside), port **587** (submission, RFC 6409) is where
# our own users send, and it requires a login before `MAIL`:

# %%
postfix = mycompany_server("postfix")
stranger = replay(postfix, "203.0.113.50", ["EHLO outside.test", *THREAD_DIALOGUE], port=587)
print(reply_to(stranger, "MAIL"))
bob = replay(postfix, "198.51.100.77", ["EHLO roaming.test", auth_plain("bob", "Tr0ub4dor&3"), *THREAD_DIALOGUE],
             port=587)
print(reply_to(bob, "AUTH"), "|", reply_to(bob, "RCPT"))

# %% [markdown]
# The stranger gets `530 5.7.0 Authentication required` before it can even name a sender. Bob,
# travelling and connected from outside (198.51.100.77, the roaming address), logs in and may
# relay - and nothing stops *him* from writing `MAIL FROM:<Postmaster@...>`.
# A login proves who the client is, not that the sender address is theirs. Postfix closes that
# too: `smtpd_sender_login_maps` says which login owns which address, and
# `reject_sender_login_mismatch` refuses a sender the login does not own.

# %%
owners = sender_login_map()
print(owners)
checked = mycompany_server("postfix", smtpd_sender_login_maps=owners,
                           smtpd_sender_restrictions=["reject_sender_login_mismatch"])
bob = replay(checked, "198.51.100.77", ["EHLO roaming.test", auth_plain("bob", "Tr0ub4dor&3"), *THREAD_DIALOGUE],
             port=587)
print(reply_to(bob, "RCPT"))
print([line for line in checked.log if "reject" in line])

# %% [markdown]
# One caution the day-long run below makes visible: set in `main.cf`, this restriction applies
# on port 25 too, where bob's LAN mail client sends *without* logging in - and is then refused
# ("not logged in"). Real sites put it on the submission port only, or use
# `reject_authenticated_sender_login_mismatch`, which checks logged-in clients and leaves the
# others to the relay rules.
#
# ## A day of it
#
# The same trick, ten times over a day, at the simlab site, while staff and correspondents
# send their usual mail. **Predict** for each setting: how much spam goes out through our
# server, and how much legitimate mail is lost?

# %%
settings = {
    "EIMS 2.1 Relay Restr.": ("eims-2.1", {}),
    "+ valid IP (LAN)": ("eims-2.1", {"require_valid_ip": True}),
    "+ valid IP + AUTH": ("eims-2.1", {"require_valid_ip": True, "smtp_auth": True}),
    "SIMS Client Hosts": ("sims", {}),
    "Postfix": ("postfix", {}),
    "Postfix + login check": ("postfix", {"sender_login_check": "reject_sender_login_mismatch"}),
}
days = {name: simlab.run(spoof_day(preset, **kw), seed=1).summary for name, (preset, kw) in settings.items()}
plots.compare_bars(days, keys=("spam_relayed", "legit_refused"), title="Spam relayed vs legitimate mail lost")

# %% [markdown]
# * Relay Restriction alone relays every one of the spams.
# * Adding "AND if from a valid IP" (with the LAN as the valid addresses) stops them - and
#   alice's messages from outside are lost, because her address is not valid. With SMTP AUTH
#   as well, she logs in on 587 and nothing is lost (587 and AUTH in 1998: see the modelling
#   note above).
# * SIMS has the same cost as the valid-IP rule: the simulated SIMS offers no login for
#   sending, so alice's address decides, and it is not on the list.
# * Postfix, as configured here, relays for the LAN and for logged-in users: no spam, nothing
#   lost. With the login check in `main.cf`, bob's unauthenticated mail from the LAN is lost.
#
# ## Try it: the spoof lab
#
# The box holds the thread's five lines. Change the server, the client's address, the port and
# the settings, and watch the reply at `RCPT`, the sequence diagram, the log, the queue and the
# day-long count on the right. Things to try:
#
# 1. EIMS 2.1 as it starts; then untick Relay Restriction; then tick "AND if from a valid IP".
# 2. Client address `192.0.2.101` (on the LAN) with each server.
# 3. SIMS: empty the Client Hosts field. Who can still relay?
# 4. Postfix on port 587. Then paste the two login lines printed below (`EHLO`, and an
#    `AUTH PLAIN ...` line that logs in as bob) *above* the thread's lines - keep the thread's
#    `MAIL FROM:<Postmaster@...>` as the only `MAIL` line - and switch the sender login check on.
# 5. Type `192.0.2.0/33` as the valid IPs and read the message.

# %%
print(BOB_LOGIN_LINES)

# %%
spoof_lab()

# %% [markdown]
# ## Exercise
#
# Configure **EIMS 2.1** so that the thread's dialogue from outside (203.0.113.50) is refused,
# while staff on the LAN (bob at 192.0.2.101) can still send mail out, and correspondents can
# still deliver mail to your users. Call the checker with EIMS 2.1's own settings
# (`relay_restriction`, `relay_domains`, `require_valid_ip`, `valid_ips`, `smtp_auth`,
# `ip_range_restriction`); it replays the sessions and tells you what each got at `RCPT`,
# marking each "ok" or "problem". Like the panel, it takes the LAN (192.0.2.0/24) as the valid
# addresses if you switch `require_valid_ip` on without giving `valid_ips`.

# %%
from simlab.exercises.spoof import SOLUTION, check_spoof_refused  # noqa: E402

check_spoof_refused("eims-2.1", relay_restriction=True)  # add settings until it passes

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## What carries over to today
#
# * Never decide relaying on what the client *says* (`HELO`, `MAIL FROM`): decide on what it
#   cannot fake cheaply - its address (`mynetworks`) or its login (SMTP AUTH). RFC 2505 §2.1.
# * Port 25 receives mail for your users from everyone and relays for no outsider; your users
#   send on 587 after logging in (RFC 6409), which answers `530 5.7.0 Authentication required`
#   to anyone who has not.
# * A login proves who is sending, not which address they may use: bind senders to logins
#   (`smtpd_sender_login_maps` with `reject_authenticated_sender_login_mismatch` or, on 587,
#   `reject_sender_login_mismatch`).
# * Forged senders on mail *to* you are a separate problem, which SPF, DKIM and DMARC tackle
#   (beyond this course).
# * Lesson **09 live lab** lets you type this same dialogue with `telnet` or Python's `smtplib`
#   against a simulated server listening on a real port.
