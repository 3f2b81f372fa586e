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
# # 07 · 1998 年から現在へ: 同じ問題を Postfix と Exim の設定で
#
# **学習目標**
#
# * スレッドでたどり着いた対策の一つひとつを、現在広く使われている二つのメールサーバーで同じ役目を果たす設定に対応づけられる。Postfix では `mynetworks`、`reject_unauth_destination`、master.cf の submission エントリーと SMTP 認証 (SMTP AUTH)、`smtpd_sender_login_maps`、`reject_rbl_client`。Debian が設定する Exim では `dc_relay_nets` → `relay_from_hosts`、`dc_other_hostnames` → `local_domains`、`dc_relay_domains` → `relay_to_domains`。あわせて、Debian の Exim の初期設定にはそもそもその機能がない箇所を指摘できる。
# * 現在のサーバーの拒否応答とログ行を読める。Postfix の `454` と `554` の違い、サブミッションポートの `554 5.7.1 ... Recipient address rejected: Access denied`、`553 5.7.1 ... not logged in`、`NOQUEUE: reject: RCPT from ...`。Exim の `550 relay not permitted`、`550 Unrouteable address`、`501 ...: domain literals not allowed` (拡張ステータスコードは付かない) と、`H=... rejected RCPT ...` という形のログ行。
# * nmap の 16 種類の不正中継 (open relay) テストを 5 台のサーバーすべてに対して実行し、それぞれの応答を、製品ごとのアドレスの読み方から説明できる。Exim が `MAIL` の段階で終わらせるテストも含む。
# * 自分の利用者には中継 (relay) を許し、それ以外の相手は恒久的に拒否する中継ポリシーを書ける。
#
# **これまでのあらすじ** スレッドの管理者たちは、1998 年に Macintosh でメールサーバーを運用していました。POP3 のログに拒否されたログインが並んでいるのを見て侵入を疑い (S1)、調査プログラムに EIMS 1.2 を中継に使われていたことに気づき (S2)、EIMS 2.1 の中継制限は自分で設定するまで働かないこと (S3)、しかもその中継の規則は、誰でも自由に書ける送信者のドメインを信用していること (S4) を知りました。厳しすぎる IP 制限でインターネットからのメールを締め出してしまい (S5)、アドレスを次々に変える迷惑メール送信者 (spammer) も目の当たりにしました。会議室でたどり着いた結論は、当時も今も正しいものです。判断は相手が偽れないものに基づいて行うこと、そして不正な相手を一人ずつ追いかけるのではなく、正当なものを許可することです。このレッスンでは同じサイトを使い、Mac のサーバーがあった場所に現在のサーバーを置きます。Postfix 3.7 (POP3 には Dovecot を併用) と、Debian 12 が配布するままの Exim 4.96 です。Exim は Debian の標準のメールサーバーなので、管理者が出会う機会は Postfix と同じくらいあります。各節では、問題に答える設定を、両製品それぞれの名前で示します。
#
# **事実の出典** Postfix の用語はその文書 (`postconf(5)`) とソースコードによります。応答は、Debian 12 のパッケージで動く実際の Postfix 3.7.11 と、ポート 587 も含めて照合しました (ファイル `tests/data/postfix_reference.json`)。Exim の応答とログ行は、Debian が生成した設定で動く実際の Exim 4.96 を `exim4 -bh` (指定したアドレスからの SMTP セッションを試すモード) で操作して記録したものです (ファイル `tests/data/exim_reference.json`。以下「Exim の記録」と呼びます)。Exim の既定値はその仕様書 (4.96 の `spec.txt`)、ACL と `update-exim4.conf.conf` の設定名は Debian の `exim4-config` パッケージによります。シミュレーションの Exim は、simlab がモデル化していないもの (たとえば TLS) を省いています。
#
# **このレッスンで使うアドレス** (スレッドに出てくるアドレスの代わりに、文書用のアドレスを使います)
#
# | ここでの名前 | スレッドでは |
# |---|---|
# | `mail.example.com`、192.0.2.25 | 管理者のメールサーバー (Postfix か Exim のどちらか一方) |
# | `example.com` | 管理者のドメイン (mycompany.co.jp) |
# | 192.0.2.0/24、bob の PC 192.0.2.101 | サイト内のネットワーク |
# | 198.51.100.77 | alice。外出先からメールを読み書きする職員 |
# | `yourcompany.test`、`remote.test` (198.51.100.90) | 外部のドメイン (yourcompany.co.jp) と、メールをやり取りする相手 |
# | 203.0.113.50 | なりすまし (spoofing) で `Postmaster@` を名乗ったメッセージを送ったホスト |
# | 203.0.113.226 | パスワード推測者 (203.216.11.226) |
# | 203.0.113.7 | nmap の中継テストを実行する、サイト外のホスト |
# | `nmap.scanme.test` | nmap の中継テストが狙う外部のドメイン |

# %%
# %matplotlib inline
import simlab
from simlab import plots
from simlab.scenarios.site import site_server

postfix = site_server("postfix")  # the site's settings: mydestination, mynetworks, the accounts
print("mynetworks =", postfix.settings["mynetworks"])
print("smtpd_relay_restrictions =", ", ".join(postfix.settings["smtpd_relay_restrictions"]))

# %% [markdown]
# 同じサイトを Exim でも用意します。Debian の管理者は Exim の設定ファイルを直接は編集しません。`dpkg-reconfigure exim4-config` の質問への答えが `/etc/exim4/update-exim4.conf.conf` に書き込まれ、`update-exim4.conf` がそこから Exim のリストを生成します。次に示すのは、このサイトのためのそのファイルと、そこから生成されるリストです。

# %%
from simlab.exercises.today import exim_settings, update_exim4_conf  # noqa: E402

print(update_exim4_conf(relay_nets="192.0.2.0/24", other_hostnames="example.com"))
exim = site_server("exim", exim_settings(relay_nets="192.0.2.0/24"))
print()
print("the simulated Exim: relay_from_hosts =", exim.settings["relay_from_hosts"])

# %% [markdown]
# ## 1. 誰に中継を許すか: `mynetworks` と `permit_mynetworks`
#
# SIMS は「接続してきたクライアントのアドレスは Client Hosts (中継を許すクライアントのアドレスの一覧) にあるか」と問いました。Postfix は同じことを `mynetworks` (信頼するネットワークの一覧) について問います。中継するかどうかは `RCPT TO` の時点で、`smtpd_relay_restrictions` によって決まります。この設定は `permit_mynetworks` のような制限の語を並べたリスト (制限リスト) で、左から順に読まれ、最初に当てはまった語で結果が決まります。既定値は `permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination` です。
#
# **予想してから実行しましょう。** LAN 上の bob の PC と外部のホストから、同じ 3 行のコマンド (`EHLO`、`MAIL FROM`、`RCPT TO`) を送ります。外部のホストからは、外部のドメイン宛てと bob 宛ての 2 通りを試します。それぞれ `RCPT` で何が返ってくるでしょうか。

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
# 送信者を `Postmaster@example.com` にしても、結果は変わりませんでした。Postfix では送信者アドレスによって中継が許されることはないので、スレッドのなりすましの手口 (S4) は通用しません。また、外部のホストからでも bob *宛て*には送れます。メールサーバーは、自分のドメイン宛てのメールを誰からでも受け取らなければならないからです。
#
# **Exim も同じことを** `relay_from_hosts` について問います。Debian はこの一覧を `dc_relay_nets` から作ります。Debian の宛先 (recipient) の検査 (`acl_check_rcpt`) は、クライアントがこの一覧にない限り、外部の宛先を拒否します。3 つの応答を**予想してから**、同じコマンドを Exim に送ってみましょう。

# %%
print("bob (LAN):      ", rcpt_reply(exim, "192.0.2.101", "bob@example.com", "carol@remote.test"))
print("outside host:   ", rcpt_reply(exim, "203.0.113.50", "Postmaster@example.com", "user_name@yourcompany.test"))
print("to one of ours: ", rcpt_reply(exim, "203.0.113.50", "carol@remote.test", "bob@example.com"))
print(next(line for line in exim.log if "rejected RCPT" in line))

# %% [markdown]
# Exim でも判断は同じで、応答が Exim の文言 (`250 Accepted` と `550 relay not permitted`) になるだけです。Exim は設定しない限り拡張ステータスコード (`5.7.1` のような、点で区切った詳しいコード) を付けないので、3 桁のコードだけが返ります (Exim の仕様書)。ログ行ではクライアントを `H=(helo) [address]` と書き、続いて送信者 `F=<...>` と、拒否した宛先を記録します。ここでも送信者は結果に影響しませんでした。
#
# ## 2. 恒久的に拒否するか、一時的に拒否するか: `reject_unauth_destination` と `defer_unauth_destination`
#
# 上の外部ホストが受け取ったのは `454 4.7.1`、つまり*一時的な*拒否でした。これは Postfix の既定の動作で、安全網の役目を果たします。`mynetworks` の設定を誤っても、自分の利用者のメールはエラーメール (bounce) として送り返されることなく、送信側で待たされて再送されるからです。既定のリストの語を左から順に読むと、次のとおりです。
#
# | 語 | 意味 |
# |---|---|
# | `permit_mynetworks` | クライアントのアドレスが `mynetworks` にある: 許可し、そこで読むのをやめる |
# | `permit_sasl_authenticated` | クライアントが SMTP 認証でログインした: 許可し、そこで読むのをやめる |
# | `defer_unauth_destination` | 宛先のドメインが自分のものではない: *今は*拒否する (`454`) |
# | `reject_unauth_destination` | 同じ判定だが、*恒久的に*拒否する (`554`) |
#
# 次は、リストを `reject_unauth_destination` の 1 語だけにした場合です。**予想してみましょう。** 外部のホストと LAN 上の bob は、今度は何を受け取るでしょうか。

# %%
alone = site_server("postfix", {"smtpd_relay_restrictions": "reject_unauth_destination"})
print("outside host:", rcpt_reply(alone, "203.0.113.50", "Postmaster@example.com", "user_name@yourcompany.test"))
print("bob (LAN):   ", rcpt_reply(alone, "192.0.2.101", "bob@example.com", "carol@remote.test"))
print(next(line for line in alone.log if "NOQUEUE: reject" in line))

# %% [markdown]
# 恒久的な `554 5.7.1` が返りました。ただし、bob に対してもです。この語を単独で使うと、外部のドメイン宛てに送る人を全員拒否してしまいます。どの語をその前に、どの順で置くべきかは、このレッスンの最後の演習で考えます。
#
# **Debian が配布するままの Exim は、恒久的に拒否します。** 上の `550 relay not permitted` は恒久的な拒否で、`update-exim4.conf.conf` には一時的な拒否に切り替える項目がありません (一時的に拒否したい管理者は ACL を編集して、拒否を `defer` に変えます。`defer` は Exim で「あとで再試行してください」を意味する語です)。Debian の宛先の検査も順序のあるリストです。その中身は演習のあとで読みます。ただし違いの一つ、このサーバーに存在しない宛先の扱いは、この段階でもう確かめられます。
#
# **予想してみましょう。** `nosuch@example.com` 宛てに bob の PC から送った場合と、外部から送った場合、それぞれのサーバーは何を返すでしょうか。

# %%
for name, server in (("Postfix", postfix), ("Exim", exim)):
    print(f"{name:8} bob (LAN):", rcpt_reply(server, "192.0.2.101", "bob@example.com", "nosuch@example.com"))
    print(f"{name:8} outside:  ", rcpt_reply(server, "203.0.113.50", "carol@remote.test", "nosuch@example.com"))

# %% [markdown]
# Postfix は、存在しない名前をどちらから送られても拒否します (`550 5.1.1 ... User unknown`)。Exim は、外部からなら `550 Unrouteable address` で拒否しますが、LAN からなら受け付けます。Debian の設定は、宛先が存在するかを確かめる*前に*、中継を許すホストを通してしまうからです (Exim の記録にも、この両方の応答があります)。LAN から受け付けたこのメッセージは、あとで配送 (delivery) するときにエラーメールになって戻ってきます。
#
# ## 3. 外出先の利用者: ポート 587 のサブミッションと SMTP 認証
#
# 1998 年、外出先の alice が EIMS 経由で送信できたのは、送信者アドレスがローカルのものだったからにすぎません。迷惑メール送信者が使ったのと同じ抜け穴です。SIMS では、alice は拒否されました。現在なら alice は、サブミッションポート (submission port、587 番。RFC 6409) に接続し、SMTP 認証 (RFC 4954) でログインしてから送信します。このポートは、インターネットからのメールが届くポート 25 とは別に設けられています。
#
# **ポート 587 を開く設定: master.cf** `main.cf` には Postfix の設定が書かれ、`master.cf` には Postfix が動かすサービスが 1 行に 1 エントリーずつ並んでいます。その中の `smtp inet ... smtpd` エントリーがポート 25 で、`main.cf` の設定をそのまま使います。Debian 12 の `master.cf` には `submission inet ... smtpd` エントリーも入っていますが、*コメントアウト*されています。ポート 587 を開くには、管理者がその行と、その下に続く `-o` の行から `#` を外し、Postfix を再読み込み (reload) します。`-o name=value` の各行は、`main.cf` の設定を一つ、*そのサービスに限って*上書きします。次に示すのは、Debian が配布するエントリーのコメントを外したものです (TLS の行は省いています。simlab は TLS をシミュレートしません)。

# %%
from simlab.exercises.today import submission_entry  # noqa: E402

print(*submission_entry(), sep="\n")

# %% [markdown]
# ポート 587 では、このエントリーが AUTH を有効にし (`smtpd_sasl_auth_enable=yes`)、ログ行に `postfix/submission/smtpd` という名前を付け、`main.cf` のクライアント、HELO、送信者、中継の各リストを*空に*します (`name=` とだけ書くと空のリストになります)。そして `RCPT` の時点で、エントリー独自の `smtpd_recipient_restrictions=permit_sasl_authenticated,reject` によって判断します。ログインしたクライアントはどこへでも送れ、それ以外は拒否されます。`main.cf` のクライアント、HELO、送信者、中継、宛先のどのリストも、ポート 587 には及びません。
#
# **予想してみましょう。** alice が `AUTH` より*前に* `MAIL FROM` と `RCPT TO` を送ります。どのコマンドで、どのコードで拒否されるでしょうか (RFC 6409 §4.3 に答えがあります。Postfix はそれに従っているでしょうか)。そのあと alice はやり直し (`RSET`)、ログインしてから同じコマンドを繰り返します。`AUTH PLAIN` の引数は、`\0alice\0wonderland42` を base64 で符号化したものです。

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
# `250-AUTH PLAIN LOGIN` の行は、サーバーが SMTP 認証を提供していることを示します。下の図では、10 行からなる応答を 1 本の矢印で描き、その最初の行、`AUTH` の行、最後の行を示しています。

# %%
from simlab.ui.today import join_multiline_replies  # noqa: E402

plots.sequence_diagram(join_multiline_replies(s.transcript, keep="AUTH"),
                       client="alice (198.51.100.77)", server="mail.example.com:587",
                       title="Submission: refused at RCPT until AUTH")

# %% [markdown]
# `AUTH` の前は、`MAIL` に `250 2.1.0 Ok`、`RCPT` に `554 5.7.1 <carol@remote.test>: Recipient address rejected: Access denied` が返ります。エントリーの宛先のリストが働いた結果です。`AUTH` が成功した (`235 2.7.0 Authentication successful`) あとは、同じ `RCPT` に `250 2.1.5 Ok` が返ります。RFC 6409 §4.3 は、クライアントがログインするまで、サブミッション用のサーバーは `MAIL` を `530 5.7.0 Authentication required` で拒否するよう求めています。しかしそれは RFC の求めであって、Debian の Postfix の動作ではありません (このエントリーを設定した実際の Postfix 3.7.11 は、上のとおりに応答しました)。ログにはサービス名とログイン名が記録されます。`postfix/submission/smtpd` と `sasl_username` を探してみましょう。

# %%
for line in postfix.log:
    if "198.51.100.77" in line and ("reject" in line or "sasl_username" in line):
        print(line)

# %% [markdown]
# **Debian が配布するままの Exim には、SMTP 認証もポート 587 もありません。** 認証モジュール (authenticator) が一つも有効になっていないので、`EHLO` への応答に `AUTH` がありません (Exim の記録でも、応答にその行はありません)。また、SMTP を待ち受けるのはポート 25 だけです (Exim の `daemon_smtp_ports` の既定値は `smtp` で、サブミッション用のサービスはありません)。ですからポート 587 についてはシミュレートするものがありません。ここでは、ポート 25 で alice が目にするものを示します。

# %%
s = exim.smtp_session(client_ip="198.51.100.77")
s.send("EHLO alice-laptop.example.com")
print(*s.transcript, sep="\n")
print(rcpt_reply(exim, "198.51.100.77", "alice@example.com", "carol@remote.test"))

# %% [markdown]
# 外出先の alice は、この Exim から見れば外部の人です。返るのは `550 relay not permitted` です (シミュレーションの応答には、実際の Exim 4.96 が提示する `STARTTLS`、`CHUNKING`、`PRDR`、`PIPECONNECT` の行もありません。simlab がこれらをモデル化していないためです)。外出先の利用者を受け入れたい Debian の管理者がすべきことを、手順だけ述べておきます。Debian の設定にコメントアウトされた状態で入っている認証モジュールの一つを有効にし (パスワードの確認には Dovecot か saslauthd を使います)、パスワードを送る前に TLS を必須とし、Exim が待ち受けるポートに 587 を加えます。Debian の宛先の検査には、ログインしたクライアントを受け付ける規則がもともとあるので、これで中継もできるようになります。
#
# ## 4. なりすました送信者: `smtpd_sender_login_maps` と `reject_sender_login_mismatch`
#
# Postfix は、なりすましをする相手のための*中継*はすでに拒否しています。しかしその相手は、`Postmaster@example.com` を名乗って、サイト内の利用者にメールを送ることはまだできます。いかにも本物らしく見えるメッセージです。`smtpd_sender_login_maps` は、どのログインがどのアドレスを所有するかを定めます。`reject_sender_login_mismatch` は、その所有者としてログインしていないクライアントが使うローカルの送信者アドレスを拒否します。まず、両方の設定を `main.cf` に書いた場合です。

# %%
from simlab.ui.today import SENDER_LOGIN_MAPS  # noqa: E402

checked = site_server("postfix", {"smtpd_sender_login_maps": SENDER_LOGIN_MAPS,
                                  "smtpd_sender_restrictions": "reject_sender_login_mismatch"})
print("spoofer -> bob:  ", rcpt_reply(checked, "203.0.113.50", "Postmaster@example.com", "bob@example.com"))
print("bob on the LAN:  ", rcpt_reply(checked, "192.0.2.101", "bob@example.com", "carol@remote.test"))

# %% [markdown]
# 2 行目が落とし穴です。LAN 上の bob はログインしないので、bob まで拒否されます。対処は、全員が AUTH を使って送信するようにするか、リストの最初で LAN を信頼する (`permit_mynetworks, reject_sender_login_mismatch`) かのどちらかです。RFC 2505 (§2.6.2) は、より広い問題にも注意を促しています。ローカルの送信者を名乗る外部からのメールを拒否すると、転送されたメールやメーリングリストのメールまで受け取れなくなるのです。これらの検査が見るのはエンベロープ送信者 (envelope sender、`MAIL FROM`) だけで、`From:` ヘッダーは見ません。
#
# **予想してみましょう。** alice がポート 587 でログインし、`bob@example.com` を名乗って送信します。`main.cf` の検査は alice を拒否するでしょうか (3 節の submission エントリーを読み返してください)。続いて、プリセットの `sender_login_check` を使い、同じ検査をエントリーにも加えます。

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
# 検査を `main.cf` にだけ書いた場合、alice の `MAIL` と `RCPT` には `250 2.1.0 Ok` と `250 2.1.5 Ok` が返ります。エントリーの `-o smtpd_sender_restrictions=` がポート 587 で `main.cf` のリストを空にするので、そこでは検査が一度も実行されないのです (Debian のエントリーを使った実際の Postfix でも、ログインした利用者が同じように `Postmaster@example.com` を名乗って送信できました)。ログインした利用者に対する検査は、submission エントリーに書くべきものです。管理者が編集するファイルでは、次のようになります。
#
# ```
# # main.cf (ここの設定はポート 25 に効きます。コメントは独立した行に書きます)
# smtpd_sender_login_maps = hash:/etc/postfix/sender_login
# smtpd_sender_restrictions = reject_sender_login_mismatch
#
# # master.cf の submission エントリー内 (空の値の行を置き換える)
#   -o smtpd_sender_restrictions=reject_sender_login_mismatch
# ```
#
# こうすると、alice の `RCPT` には `553 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice` が返ります (`smtpd_delay_reject = yes` なので Postfix は送信者のリストを `RCPT` の時点で検査し、`MAIL` にはそれまでどおり `250 2.1.0 Ok` が返ります)。`smtpd_sender_login_maps` は `main.cf` に置いたままにします。エントリーはこの設定を上書きしないからです。
#
# **Debian が配布するままの Exim には、この種の送信者の検査がありません。** 中継の判断は送信者を見ませんが (1 節)、`Postmaster@example.com` から来たと称する bob *宛て*のメールは、誰からでも受け取ります。

# %%
print("spoofer -> bob:  ", rcpt_reply(exim, "203.0.113.50", "Postmaster@example.com", "bob@example.com"))
print("bob on the LAN:  ", rcpt_reply(exim, "192.0.2.101", "bob@example.com", "carol@remote.test"))

# %% [markdown]
# この検査を行いたい Debian の管理者は、ACL に規則を書きます。送信者 (`$sender_address`) とログイン名 (`$authenticated_id`。どちらも Exim の変数) を比べ、クライアントがそのアドレスの所有者としてログインしていなければ、ローカルの送信者アドレスを拒否する規則です。そのためにはまず SMTP 認証が必要で (3 節)、Postfix と同じ代償も伴います。ログインしない LAN 上の bob を、この規則より前で通しておかなければなりません。
#
# ## 5. パスワード推測: fail2ban と Dovecot の失敗時の遅延
#
# スレッドに出てくるパスワード推測 (password guessing) の攻撃者 (以下、推測者) は、各アカウントの名前そのものをパスワードとして試しました。Dovecot は、認証に失敗するたびに応答を遅らせます (2 秒から始まり、アドレスごとに倍々に延びて最大 15 秒)。fail2ban の `dovecot` ジェイル (jail: fail2ban が監視と遮断を行う単位。SMTP 認証には `postfix-sasl`) は、10 分間に 5 回失敗したアドレスを遮断 (BAN) します。
#
# **予想してみましょう。** fail2ban の既定値 (10 分間の BAN) のもとで、アドレスを一つだけ使う推測者は、弱い二つのアカウント (`webmaster`、`info`) のうちいくつに 1 日で侵入できるでしょうか。BAN を 1 日にしたらどうでしょう。さらに、20 個のアドレスを使う推測者が相手なら、1 日の BAN でどうなるでしょうか。

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
# レッスン 01 では、同じ推測者を EIMS に向かわせ、10 分間の BAN で *2 回* BAN されるのを見ました。ここでは 1 回です。違いを生むのは Dovecot の失敗時の遅延です。誤ったパスワードへの応答が前回より少しずつ遅くなるので、推測者の一歩一歩の間隔が延びていきます。次に示すのは、10 分間の BAN を設定した日の推測者の失敗と、それぞれの前回からの経過時間です。

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
# BAN が明けたあと、推測者の 5 回の失敗は、10 分をわずかに超える時間 (上の出力では 601 秒) に広がります。そのため fail2ban (10 分*以内に*5 回失敗すると BAN) は、自分の時間窓 (findtime) の中に 5 回の失敗を二度と見ることがなく、推測者は侵入に成功します。すぐに応答する EIMS に対しては、同じ 5 回が時間窓に収まっていました。短い BAN は推測者を遅らせるだけです。長い BAN は一つのアドレスなら止めますが、アドレスのプールを使う相手は閾値を下回ったままです。fail2ban 自身の README もそう述べています。推測の頻度は下げられても、弱いパスワードの危険は取り除けない、と。本当の対策は、アカウント名をそのままパスワードにしているアカウントを一つも残さないことです。
#
# **Exim の場合**も、ここでは何も変わりません。Exim はメール転送エージェント (MTA) で、POP3 はまったく提供しません (Exim の仕様書)。Exim を使う Debian のホストでは、POP3 は別のサーバー (ここと同じく Dovecot) が担うので、その失敗時の遅延も fail2ban の `dovecot` ジェイルも変わりません (fail2ban には `exim` フィルターもあり、Exim のメインログに記録された拒否を読み取ります)。
#
# ## 6. DNS ブロックリスト (RFC 5782) と自己テスト (self-test)
#
# SIMS 1.6 は DNS ブロックリストを参照できました。Postfix では `reject_rbl_client` で参照します。クライアント 203.0.113.121 は `121.113.0.203.bl.example.test` として問い合わせられ、何らかの応答があれば「載っている」という意味になります。RFC 5782 は、利用者がテストできるように、どのリストも 127.0.0.2 を載せ、127.0.0.1 は決して載せないよう求めています。これを確かめるのが自己テストです。あなたのリゾルバーからの問い合わせを断っているリストは、*あらゆる*アドレスについて「載っている」と答えることがあります。

# %%
from simlab.restrictions import BlocklistZone, Dns, reversed_query  # noqa: E402

good = BlocklistZone("bl.example.test", listed=["203.0.113.121"])
broken = BlocklistZone("bl.example.test", answers_everything=True)
print(reversed_query("203.0.113.121", "bl.example.test"))
print(good.self_test())
print(broken.self_test())

# %% [markdown]
# **予想してみましょう。** Postfix はこの自己テストを行いません。壊れたリストを使っていると、bob 宛てに配送してきた carol のメールサーバー (198.51.100.90) は何を受け取るでしょうか。

# %%
rbl = {"smtpd_recipient_restrictions": "permit_mynetworks, permit_sasl_authenticated, "
                                       "reject_rbl_client bl.example.test"}
for name, zone in (("good list", good), ("broken list", broken)):
    server = site_server("postfix", rbl | {"dns": Dns([zone])})
    print(f"{name:12}", rcpt_reply(server, "198.51.100.90", "carol@remote.test", "bob@example.com"))

# %% [markdown]
# 壊れたリストを使うと、carol のサーバーが運んできた正規のメール (legitimate mail) まで `554 5.7.1 ... blocked using bl.example.test` で拒否されます。
#
# **Exim の場合**、ブロックリストは ACL の条件として書きます。宛先の検査の `deny` 文に `dnslists = bl.example.test` と書けば、`reject_rbl_client` と同じ働きをします (Exim の仕様書)。Debian の初期設定はブロックリストを参照しないので、ここで実行するものはありません。自己テストについての助言は、そのまま当てはまります。
#
# ## 7. nmap の 16 種類の中継テストをすべてのサーバーに
#
# nmap の `smtp-open-relay` スクリプトは、`MAIL FROM` と `RCPT TO` の組を 16 通り試します。外部のドメイン `D` を、パーセントハック (percent hack、`to%D@S`)、引用符 (`"to@D"`)、2 つ目の `@`、ソースルート (source route、`@S:to@D`)、UUCP のバンパス (bang path、`D!to`) の陰に隠すのです。`S` はサーバーの名前、`IP` はそのアドレスです。`RCPT` に 2xx が返れば、不正中継の*疑い*があります (受け付けたあとで捨てるサーバーもあるので、断定はできません)。テスト 3 の `from@S → to@D` は、スレッドの Postmaster なりすましの手口そのものです。テストはサイト外のホスト 203.0.113.7 から送ります。
#
# **予想してみましょう。** 外部からテストすると、EIMS 1.2 は 16 のうちいくつを受け付けるでしょうか。Relay Restriction (EIMS 2.1 の中継制限の設定) を有効にした EIMS 2.1 では、どのテストが通り抜けるでしょうか。Exim の仕様書によれば、Exim は設定で許さない限り、アドレス中の `[192.0.2.25]` のようなドメインリテラル (domain literal: 角括弧で囲んだ IP アドレス) を拒否します。それはどのテストに影響するでしょうか。

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
# EIMS は、*最後の*ドメインが外部のものである形式をすべて受け付けます。1.2 には中継の制御がなく、2.1 はインストールしたままでは制御が有効になっていないからです。経路を埋め込んだ形式を「拒否」しているのは、偶然にすぎません。`explain` は一つの応答のいきさつをすべて説明します。ここでは EIMS 1.2 に対するテスト 5 です。

# %%
print(explain("eims-1.2", 5))

# %% [markdown]
# 同じいきさつを、特徴的な 4 つのテストについて、サーバーごとに短くまとめたのが次の表です (`explain(preset, number)` を使えば、どのセルについても詳しい説明が得られます)。

# %%
reason_table([5, 3, 13, 14], ["eims-1.2", ("eims-2.1 + Relay Restriction", "eims-2.1", {"relay_restriction": True}),
                              "sims", "postfix", "exim"])

# %% [markdown]
# アドレスの読み方は 2 通りあります。EIMS と SIMS は最後の `@` の後ろのドメインだけを見るので、`relaytest%nmap.scanme.test@[192.0.2.25]` は「変わった名前のローカルユーザー」になります。拒否はされますが、それはそういうメールボックスが存在しないからにすぎません。Postfix はパーセントハック、バンパス、ソースルートを解きほぐし、外部のドメインを見つけ出して、中継として拒否します。どちらの場合も外には何も出ていきません。しかし、手口を見抜いた*うえで*拒否しているのは Postfix だけです。
#
# **Exim の列**は、性質が違います。テスト 1〜3 は `RCPT` まで進み、`550 relay not permitted` を受け取ります。テスト 4〜16 はどれも `MAIL FROM:<antispam@[192.0.2.25]>` を送ります。ドメインの部分が角括弧に入ったアドレスそのもの (ドメインリテラル) である送信者で、Exim のアドレス解析器は ACL を見る前にこれを拒否します (`501 ...: domain literals not allowed`)。nmap のスクリプトは `MAIL` に `250` が返ったときにしか `RCPT` を送らないので、この 13 のテストは Exim に一度も中継を求めていません。表のセルには `MAIL` への `501` が示されています。

# %%
print(explain("exim", 4))

# %% [markdown]
# では、nmap そのものを実行するとどうなるでしょうか。このスクリプトは 16 のテストをすべて*1 本の*接続で行い、テストの合間に `RSET` を送ります (スクリプトがそう書かれています)。Exim は拒否した `MAIL` を一つずつ構文エラーとして数え、4 回目でクライアントを切断します (`smtp_max_synprot_errors = 3`、Exim の仕様書。Exim の記録にもこの切断が残っています)。次に、このスクリプトを各サーバーに対して再生し、nmap が表示するはずの行を示します。

# %%
for preset in DEFAULT_PRESETS:
    run = run_nmap_script(preset)
    stop = f", connection closed before test {run.ended_early}" if run.ended_early else ""
    print(f"{preset:9} {len(run.steps):2} tests run{stop}: {run.output}")
print(*run_nmap_script("exim").log[-2:], sep="\n")

# %% [markdown]
# Exim に対しては、nmap は判定ではなくエラーを表示します。ドメインリテラルを使う 4 つのテスト (4〜7) でセッションが終わり、次の `RSET` で接続が閉じていることに気づいてスクリプトが止まるのです (これはスクリプトのソースと、Exim の記録にあるエラーの数え方から導いたもので、nmap の実行を記録したものではありません)。Exim は不正中継ではありませんが、この走査ではテスト 8〜16 が試されないままです。Exim がこれらの宛先の形式をどう読むかを見るには、手作業で確かめる管理者のように、普通の送信者を使って送ってみます。

# %%
from simlab.relaytests import RELAY_TESTS  # noqa: E402

for test in RELAY_TESTS[4:]:
    rcpt = test.addresses("nmap.scanme.test")[1]
    print(f"{test.number:2} {rcpt:46} {rcpt_reply(exim, '203.0.113.7', 'antispam@nmap.scanme.test', rcpt[1:-1])}")

# %% [markdown]
# どの形式も拒否され、Exim はそれぞれに理由を述べています。
#
# * ドメインリテラル (テスト 5、10、12、15)。ここでも `domain literals not allowed` です。
# * 自分のドメインのローカル部 (local part: アドレスの `@` より前の部分) にある `%` や `!` (テスト 6、16。「restricted characters」。Debian の ACL の規則です。Exim は設定しない限りパーセントハックを解釈しません)。
# * ドメインのない、引用符付きのアドレスやバンパス (テスト 7、8、14)。
# * 解析できない 2 つ目の `@` (テスト 9、11)。
# * ソースルート `@mail.example.com:` (テスト 13)。Exim はこれを取り除いたうえで外部のドメインを見つけ、中継として拒否します。
#
# これらの応答は Exim の記録そのままで、記録したサーバーのアドレスだけを 192.0.2.25 に置き換えてあります。
#
# ## 試してみよう: 1998 年から現在へ
#
# このパネル (panel) は Postfix 用です (Debian の初期設定の Exim には、ここで扱う設定のほとんどがありません。Exim の応答は上の各節で示しました)。メニューからスレッドの問題を一つ選ぶと、それに答える Postfix の設定だけが表示されます (それ以外は Postfix の既定値のままです)。設定を変えるたびに、Postfix での 1 日と、その問題に関わるやり取りが実行し直されます。**main.cf** のタブには、あなたが選んだ設定が、管理者が書くとおりの形で `main.cf` と master.cf の submission エントリーに示されます。試してほしいこと:
#
# 1. **不正中継:** `mynetworks` に `0.0.0.0/0` (「全員を信頼する」) を入れ、次に空にしてみる。
# 2. **中継の拒否:** `defer` と `reject` を切り替え、「対話の記録」のタブで応答コードを見る。
# 3. **外出先の利用者:** (main.cf の中継のリストにある) `permit_sasl_authenticated` のチェックを外す。ポート 587 の alice に影響はあるでしょうか。次に、master.cf の submission エントリーのチェックを外して、サブミッションポートを閉じてみる。
# 4. **なりすました送信者:** main.cf の `smtpd_sender_restrictions` の選択肢を一つずつ試す。誰がメールを失うでしょうか。次に submission エントリーの `-o smtpd_sender_restrictions=` を設定し、bob を名乗って送る alice がどうなるかを見る。
# 5. **パスワード推測:** fail2ban を有効にし、BAN を長くし、さらに推測者に 20 個のアドレスを与える。
# 6. **ブロックリスト:** まず正常なリスト、次に壊れたリストを使う。
# 7. 「自分の対話 (1 行に 1 コマンド)」の欄に入力する。たとえばポート 110 で `USER info` / `PASS info` と入力し、「Postfix のログ」のタブを読む。`mynetworks` に正しくない範囲も入力してみる。

# %%
from simlab.ui.today import today_lab  # noqa: E402

lab = today_lab()
lab

# %% [markdown]
# ## 演習: 現在の中継ポリシー
#
# このサイト (ポート 25) のために、`main.cf` の `smtpd_relay_restrictions` を書いてください。条件は次のとおりです。
#
# * bob のいる LAN は中継できる。
# * carol のメールサーバーは、これまでどおり bob 宛てに配送できる。
# * それ以外で外部のドメイン宛てに送る相手は、全員 `RCPT` で**恒久的な** `5xx` を受け取る。
# * そのうえで、ポート 587 でログインした alice は引き続き中継でき、そこでログインしていないクライアントは引き続き拒否される。
#
# チェッカーは 6 つのクライアントから送信し、それぞれが何を受け取ったかを示します。設定を置くファイル (`main.cf` か、master.cf の submission エントリーの `-o` 行か) を間違えると、その設定をどちらのファイルに書くべきかも教えてくれます。この演習は Postfix だけが対象です。Debian が配布するままの Exim には SMTP 認証がないので (3 節)、どんな Exim の設定をしても alice に中継を許すことはできません。

# %%
from simlab.exercises.today import SOLUTION, check_relay_restrictions  # noqa: E402

check_relay_restrictions("permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination")  # the default

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# **同じ演習への Exim の答え**は、Debian の設定にすでに書き込まれています。その宛先の検査、Debian の `exim4.conf.template` にある `acl_check_rcpt` は、`RCPT TO` の時点で上から順に読まれ、`smtpd_relay_restrictions` と同じく最初に当てはまったものが採用されます。その順序は次のとおりです。
#
# 1. 制限された文字を含むローカル部を拒否する。
# 2. 自分のドメインの `postmaster` を受け付ける。
# 3. `relay_from_hosts` にあるクライアント (LAN。Postfix の `permit_mynetworks` にあたる) を受け付ける。
# 4. ログインしたクライアントを受け付ける (`permit_sasl_authenticated` にあたる。ただし AUTH を設定するまでは誰もログインできない)。
# 5. `local_domains` にも `relay_to_domains` にもない宛先を、恒久的に拒否する (「relay not permitted」。Postfix の `reject_unauth_destination` にあたる)。
# 6. 最後に、宛先が存在するかを確かめる (「Unrouteable address」)。
#
# 2 節で、bob が LAN から送った存在しない宛先に `250` が返ったのは、この順序のためです。
#
# ## 今日に活かせること
#
# | 1998 年の問題 | スレッドでの対策 | 現在: Postfix 3.7 | 現在: Exim 4.96 (Debian 12) |
# |---|---|---|---|
# | 誰に中継を許すか (S2、S4) | SIMS の Client Hosts | `mynetworks` + `permit_mynetworks` | `dc_relay_nets` → `relay_from_hosts` |
# | 中継の制限が初期状態で無効 (S3、S6) | EIMS 2.1 の Relay Restriction | `reject_unauth_destination` (554) ／既定の `defer_unauth_destination` (454) | インストール直後から有効。`550 relay not permitted` で恒久的に拒否 |
# | 外部から送信する職員 | 送信者のドメインを信用した | ポート 587: master.cf の submission エントリーのコメントを外す。SMTP 認証、`permit_sasl_authenticated,reject` | Debian の初期設定にはない: 認証モジュールとポート 587 を有効にする |
# | なりすました Postmaster (S4) | クライアントのアドレスで判断 | 送信者で中継が許されることはない。`smtpd_sender_login_maps` + `reject_sender_login_mismatch` を main.cf (ポート 25) と submission エントリー (587) に | 送信者で中継が許されることはない。送信者とログインの照合は、自分で書く ACL の規則 |
# | パスワード推測 (S1) | POP3 をアドレスで制限 | fail2ban のジェイル、Dovecot の失敗時の遅延、そして強いパスワード | 同じ: POP3 は Exim ではなく Dovecot が提供する |
# | 迷惑メールの送信元 | ログを読み、手作業で遮断 | `reject_rbl_client` (RFC 5782)。自己テストに合格するリストで | ACL の `dnslists` 条件。Debian の初期設定にはない |
# | 変わったアドレス形式 (nmap) | ― | `%`、`!`、ソースルートを解きほぐしてから中継を拒否 | ドメインリテラルは `MAIL`/`RCPT` で拒否、`%` と `!` は Debian の ACL で拒否、ソースルートは取り除く |
#
# * 判断は、クライアントが偽れないもの (そのアドレスかログイン) に基づいて行い、クライアントが入力するもの (`HELO`、`MAIL FROM`) には決して基づかせないこと。RFC 2505 は 1999 年にそう述べており、Postfix も Debian の Exim も、そのように作られています。
# * nmap のように外部からテストすること。16 の形式のどれかに 2xx が返ったら、調べる価値があります。走査がどう終わったかも読みましょう。走査側を切断するサーバー (構文エラー 4 回で切断する Exim) では、試されないまま残る形式があるからです。
# * どの防御にも、確かめるべき代償があります。ほかに誰を拒否してしまったか (LAN 上の bob、転送されたメッセージ、1 つのアドレスの背後にあるネットワーク全体) を確かめましょう。
