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
# # 04 · An SMTP IP Range Restriction that is too strict (S5)
#
# **Learning goals**
#
# * Explain why a restriction on *who may connect* to port 25 also stops mail *to* the site:
#   the server refuses at connect, before it knows what the client wants.
# * Read the refusal (`554 ... Access denied`) in a dialogue and in the server log, and count
#   what a day of it costs.
# * Make the restriction work the only way it can: have an upstream provider receive the
#   site's mail first, and let in just the provider's address (both ideas are explained below).
#
# **Two terms first.**
#
# * An **MX record** ("mail exchanger", RFC 5321 §5.1) is the entry in the DNS that tells
#   other mail servers where to deliver mail for a domain. A server with a message for
#   `bob@example.com` looks up the MX record of `example.com` and connects to the server it names.
# * **Spooling by an upstream provider**: the MX record names the provider's mail server
#   instead of the site's own. The provider accepts the mail, keeps it in its queue (its
#   *spool*) and passes it on to the site's server. Every message then reaches the site from
#   one address, the provider's.
#
# **The story, in our words.** On 15 June 1998 (14:35) a participant, *Tamachan*, reported
# what they had seen on EIMS 2.x: with an *IP Range Restriction* on SMTP, nobody outside the
# range could send through the server - fine - but the server also seemed to receive no
# mail from addresses outside the range. The manual described the setting as a limit on
# mail sent through the server, so they had taken it for a limit on the sending side only. The thread's moderator,
# Motoyuki Tanaka, answered an hour later (15:39): yes, that is what a range on SMTP does. He
# used one himself: his mail came to him from his university's mail server, which forwards it
# to the server that holds his mailbox, so that one address was all his range had to allow.
# For a site's main mail server, he wrote, a range on SMTP makes the server useless - unless
# an upstream provider spools the mail: then the domain's MX record can name the provider's
# mail server, and the range can let in that server's address. The thread says EIMS "2.x";
# the lessons model EIMS 2.1, the version the thread's other admins ran.
#
# **Addresses used here** (documentation addresses stand in for the thread's):
#
# | here | in the thread |
# |---|---|
# | `example.com` | the site's domain (mail.mycompany.co.jp) |
# | `mail.example.com`, 192.0.2.25 | the site's EIMS 2.1 server |
# | 192.0.2.1-192.0.2.254 | the site's own network: the range the admin allowed |
# | `mx.provider.test`, 198.51.100.25 | the upstream provider's mail server (for the moderator: his university's) |
# | `mail.remote.test`, 198.51.100.90 | a correspondent's (carol's) mail server; the thread names none |
# | `mail.yourcompany.test`, 198.51.100.80 | another correspondent's mail server (mail.yourcompany.co.jp) |
# | 203.0.113.50 | an outsider sending with `MAIL FROM:<Postmaster@example.com>` (the S4 trick) |

# %%
# %matplotlib inline
import simlab
from simlab import plots
from simlab.exercises.iprange import ip_range_day, refused_at_connect
from simlab.ui.iprange import ip_range_lab, mail_paths_figure

# %% [markdown]
# ## One refused session
#
# Here is EIMS 2.1 with Relay Restriction on and an IP Range Restriction on SMTP that allows
# the site's network. First a member of staff on the LAN connects, then a correspondent's
# mail server with a message *for a local user*. **Predict** before you run the cell: what
# does the server answer the correspondent, and at which command?

# %%
eims = simlab.presets.eims_2_1(local_domains=["example.com"], accounts={"bob": "Tr0ub4dor&3"},
                               relay_restriction=True, ip_range_restriction={"smtp": ["192.0.2.1-192.0.2.254"]})
staff = eims.smtp_session(client_ip="192.0.2.101")
print("staff:        ", staff.greeting)
correspondent = eims.smtp_session(client_ip="198.51.100.90")
print("correspondent:", correspondent.greeting)
print("closed by the server:", correspondent.closed)
print()
print("\n".join(eims.log))

# %% [markdown]
# The refusal comes in the greeting, before `HELO`: the correspondent never gets to say
# `RCPT TO:<bob@example.com>`. A restriction applied at connect cannot tell a server
# delivering *to* bob from a spammer relaying *through* the site - it has only the address to
# go by. The manual's description (mail sent through the server) says what the admin wanted
# the setting for, not what it checks.
#
# Where this comes from: that the range refuses every outside connection is the thread's
# finding (Tamachan's report, confirmed by the moderator, 15 June 1998). The words of the
# refusal are simlab's modelling choice, because the thread says only that connections were
# refused: EIMS's real wording was not recorded. simlab answers `554`, the code RFC 5321
# (§3.1, §4.2.3) gives a server that greets with "no SMTP service here".
#
# ## A day with the range
#
# Now a whole day: bob sends and reads mail on the LAN, alice reads hers from outside (POP3 is
# not restricted here), carol's server and yourcompany's server deliver mail for the staff
# (the output calls them "carol's MTA" and "yourcompany's MTA": an MTA, *mail transfer agent*,
# is the server program that passes mail from one site to another, as EIMS and Postfix do),
# and a spammer tries the spoofed-Postmaster trick of lesson 03 ten times. **Predict:** of the
# messages the two correspondents send today, how many arrive?

# %%
strict = simlab.run(ip_range_day(["192.0.2.1-192.0.2.254"]), seed=1)
print({k: strict.summary[k] for k in ("legit_delivered", "legit_refused", "spam_relayed", "spam_refused")})
for who, address, n in refused_at_connect(strict):
    print(f"refused at connect: {who:20} {address:15} {n} times")
print()
print("\n".join([line for line in strict.log if "refused" in line][:6]))

# %% [markdown]
# None of them: every one of carol's 21 messages and yourcompany's 14 met `554`, and their
# servers gave the mail back to its senders at once - one refused connection per message. In
# this model a correspondent's MTA takes a `554` greeting as final (simlab's choice, following
# RFC 5321's meaning of it: "no SMTP service here", so there is no point in trying again; a
# real Postfix would skip the server and keep the mail queued instead, as the provider below
# does). The 13 messages delivered are bob's mail to the outside: the range lets him in.
# The 10 spams were refused too - the restriction does stop the spammer, at the price of the
# site's incoming mail.
#
# The picture shows the day's SMTP connections: each correspondent's server connects to the
# site from its own address, and each is turned away at the greeting.

# %%
mail_paths_figure(strict)

# %% [markdown]
# ## The fix: MX at the provider
#
# This is the moderator's way out. The domain's MX record names the provider's server
# `mx.provider.test`, so correspondents hand their mail to the provider, which spools it and
# passes it on to the site from *one* address. **Predict:** you point the MX at the provider
# but leave the range as it was. What happens to the incoming mail?

# %%
forgot = simlab.run(ip_range_day(["192.0.2.1-192.0.2.254"], mx_via_provider=True), seed=1)
print("MX:", forgot.world.dns.mx["example.com"])
print({k: forgot.summary[k] for k in ("legit_delivered", "legit_refused", "spam_relayed")})
for who, address, n in refused_at_connect(forgot):
    print(f"refused at connect: {who:26} {address:15} {n} times")

# %% [markdown]
# The correspondents now deliver to the provider without trouble, but the provider is refused
# in its turn - and, unlike the correspondents' servers above, it does *not* give up at the
# first `554`. The provider runs Postfix, and a real Postfix treats a server that greets with
# 5xx as one to skip for now (`smtp_skip_5xx_greeting = yes`, postconf(5)): the mail stays
# queued and is tried again later. simlab's provider follows Postfix's own queue defaults
# (postconf(5) and qmgr(8)): the first retry after `minimal_backoff_time` (300 s), each wait
# twice the one before up to `maximal_backoff_time` (4000 s, about 67 minutes), and the message
# kept for `maximal_queue_lifetime` (5 days) before it goes back to its sender. The two
# behaviours side by side, and what became of the mail:

# %%
schedule = forgot.world.queue_managers["mx.provider.test"].schedule
correspondents = sum(n for who, _ip, n in refused_at_connect(strict) if who.endswith("MTA"))
provider = sum(n for who, _ip, n in refused_at_connect(forgot) if who.endswith("(relay)"))
incoming = forgot.summary["legit_sent"] - forgot.summary["legit_delivered"]
print(f"strict range, MX at the site:   correspondents' MTAs refused {correspondents:5} times "
      f"for {strict.summary['legit_refused']} messages - they give up at once")
print(f"strict range, MX at provider:   the provider refused         {provider:5} times "
      f"for {incoming} messages - it retries after {schedule.min_interval / 60:.0f} min, doubling the wait up to "
      f"{schedule.max_interval / 60:.0f} min, for up to {schedule.lifetime / 86400:.0f} days")
print("  the provider's queue settings:", schedule.describe())
print(f"  of those {incoming}: {forgot.summary['legit_refused']} returned to their senders, "
      f"{forgot.summary['legit_pending']} still waiting in the provider's queue when the day ended")

# %% [markdown]
# None of the 35 came back to its sender today: five days is far longer than the day
# simulated, so when the day ends all 35 are still in the provider's queue, tried again and
# again - 487 refused connections in all. That is why this run counts no legitimate mail
# lost (0) where the strict range alone lost 35: the mail is not delivered either (the only
# 13 delivered are bob's, as before), it is only not given back yet. Left like this, the
# provider would keep trying for five days and then return every message. The correspondents
# see nothing wrong meanwhile; their mail simply does not arrive.
#
# The same 35, because every run in this lesson uses `seed=1` and simlab draws each actor's
# choices from a random stream of its own: changing the server's settings leaves the
# correspondents' day - who writes, when, to whom - exactly as it was. Only the server's
# answers differ.
#
# ## Exercise
#
# You have seen the range refuse the correspondents, and then refuse the provider. Choose the
# ranges and the MX so that **no legitimate mail is lost and no spam is relayed**. Call the
# checker with the ranges as you would type them in EIMS's from-to form, several separated by
# commas, for example `check_ip_range("192.0.2.1-192.0.2.254", mx_via_provider=False)`. It
# names every correspondent refused at connect, by address and count, and any spam that got
# through. Try it before you read on: the next section runs the answer.

# %%
from simlab.exercises.iprange import SOLUTION, check_ip_range  # noqa: E402

check_ip_range("192.0.2.1-192.0.2.254", mx_via_provider=False)  # the admin's first try: make this pass

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## The answer, run in full
#
# The range must let the provider in, next to the site's own network:

# %%
fixed = simlab.run(ip_range_day(["192.0.2.1-192.0.2.254", "198.51.100.25-198.51.100.25"], mx_via_provider=True),
                   seed=1)
print({k: fixed.summary[k] for k in ("legit_delivered", "legit_refused", "spam_relayed", "spam_refused")})
print("\n".join(fixed.transcript("mx.provider.test (relay)")[:7]))

# %% [markdown]
# All 48 of the day's legitimate messages arrive - bob's 13 and the correspondents' 35, now by
# way of the provider - and the 10 spams are still refused at connect:

# %%
mail_paths_figure(fixed)

# %% [markdown]
# The three settings side by side. "No IP range" is Relay Restriction alone, which the
# spoofed `Postmaster@example.com` sender walks through (S4, lesson 03): all 10 of its spams
# are relayed. The strict range loses the 35 incoming messages, and the range with the
# provider's MX loses nothing and relays nothing.

# %%
open_day = simlab.run(ip_range_day([]), seed=1)
plots.compare_bars({"no IP range": open_day.summary, "strict range": strict.summary,
                    "strict range + provider MX": fixed.summary},
                   keys=("spam_relayed", "legit_refused"), title="Spam relayed vs legitimate mail lost, one day")

# %% [markdown]
# ## Try it: the IP range lab
#
# Type the allowed ranges in EIMS's from-to form (several separated by commas; an empty field
# turns the restriction off), choose where the MX points and whether Relay Restriction is on.
# Once you change a setting, the panel adds a line "Against the starting settings (...), on the
# same traffic: ..." that names what you changed and what it changed. The starting settings are
# the strict range with the MX at the site, and the day's traffic is the same in both runs (same
# seed, each actor with its own random stream), so the differences are your setting's doing.
# Things to try:
#
# 1. Allow everything: `0.0.0.0-255.255.255.255`. Where does the spam come back?
# 2. Tick the MX box without changing the range, and read the "DNS MX answer" tab. The line
#    says fewer messages lost: where are they?
# 3. Allow only the provider (`198.51.100.25-198.51.100.25`): who is refused now?
# 4. Type the range backwards (`192.0.2.254-192.0.2.1`) or mistype an address, and read the message.

# %%
ip_range_lab()

# %% [markdown]
# ## What carries over to today
#
# * A filter on *who may connect* to port 25 cannot tell inbound mail from relaying: the
#   server decides before it sees a single recipient. Relaying is stopped at `RCPT` by the
#   client's address or login (Postfix `mynetworks`, `permit_sasl_authenticated`,
#   `reject_unauth_destination`: Postfix's postconf(5); RFC 2505 §2.1 gives the same order),
#   not by closing the door.
# * The server named in your MX record must accept connections from the whole Internet.
#   Restricting port 25 to a few addresses is right only behind an inbound gateway - a
#   provider or filtering service that receives the mail and passes it on - and then the
#   allow-list is exactly that gateway's addresses.
# * Staff who send from outside belong on the submission port 587 with SMTP AUTH (RFC 6409),
#   so that port 25 never needs a list of "our" addresses at all.
