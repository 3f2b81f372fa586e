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
# # 11 · なりすましの Postmaster に対する SPF、DKIM、DMARC
#
# **学習目標**
#
# * SPF、DKIM、DMARC がそれぞれ何を確かめるのかを説明できる。SPF はメールを手渡してくる*サーバー*を、DKIM は送信者のドメインが付けた*電子署名* (DKIM signature) を、DMARC はそのどちらかが、読み手の目に入る `From:` 行のアドレスと一致するかを確かめます。
# * これらの仕組みでは、自サイトの不正中継 (open relay) の穴を埋め合わせられないことを示せる。サイト自身のサーバーが中継したメールはサイト自身のアドレスから送り出されるので、どの検査にも合格してしまいます。
# * 受信側が書くもの、つまり応答、ログ行、メールに追加する `Authentication-Results` ヘッダーを読み取れる。
# * 転送 (forwarding) と送信者の検査の間にある古くからの緊張関係と、DKIM の電子署名がそれをどう和らげるかを説明できる。
#
# **スレッドのあらすじ (ここでは私たちの言葉で)** 1998 年 6 月 15 日、たまちゃんさんは、中継 (relay) を禁止した EIMS 2.x のサーバーが、外部から `MAIL FROM:<Postmaster@...>` とサーバー自身のドメインを名乗って送られたメールをなぜ通してしまうのか (レッスン 03)、どうすれば避けられるのかを会議室に尋ねました。会議室を主宰する田中求之さんは、正規のアカウントでログインしているのだから送れて当然だと答え、避ける方法については「う〜む」と考え込むだけでした。たまちゃんさんはその後、SMTP は送信の際に送信者を認証しないのであって、これは EIMS に限った話ではないこと、そして SIMS は*クライアントのアドレス*で中継を許すかどうかを決めるのでこの手口を防げることを説明しました。これは送信側の答えです。今日では*受信側*も送信者を確かめます。これを送信ドメイン認証 (sender authentication) といいます。ドメインの持ち主は、自分のメールを送るサーバーを DNS で公開し (SPF)、メールに署名し (DKIM)、検査に失敗したメールを拒否するよう受信側に求めます (DMARC)。このレッスンでは、これらの検査がたまちゃんさんのメールをどう扱ったかを考えます。検査は今日のもので、スレッドの時代のものではありません。SPF、DKIM、DMARC が登場したのは、スレッドから 8 年から 17 年あとのことです (2006 年の RFC 4408、2007 年の RFC 4871、2015 年の RFC 7489)。
#
# **このレッスンで使う言葉**
#
# * **エンベロープ送信者** (envelope sender): `MAIL FROM` に書くアドレスで、エラーメール (bounce) の返送先です。**`From:`** は、読み手のメールソフトが表示するヘッダー行です。SMTP には、この 2 つを結び付ける仕組みが何もありません。
# * **SPF** (RFC 7208): エンベロープ送信者のドメインが、自分のメールを送ってよいサーバーを並べた TXT レコードを公開します。`v=spf1 mx -all` は「私たちの MX ホストだけで、ほかは誰もいない」という意味です (`-all`: それ以外は fail)。受信側は*クライアントのアドレス*をこのレコードと照らし合わせ、`pass`、`fail`、`none` などの結果を出します。
# * **DKIM** (RFC 6376): 送信側のサーバーがヘッダーと本文に電子署名します。公開鍵は `<selector>._domainkey.<domain>` の TXT レコードに置きます。署名された部分が少しでも変わると、署名は壊れます。
# * **DMARC** (RFC 7489): `_dmarc.<domain>` の TXT レコードで、受信側に求める扱いを宣言します。`From:` のドメインが、SPF の pass によっても、*同じドメイン*の DKIM 署名によっても裏付けられないメール (これを整合 (alignment) が取れないといいます) を、`none` (報告のみ)、`quarantine` (隔離)、`reject` (拒否) のどれで扱うかを指定し、`pct` で、失敗したメールのうち何パーセントに適用するかを指定します。
# * **Authentication-Results** (RFC 8601): 検査の結果を記録するために受信側が追加するヘッダーです。OpenDMARC が書くものは `dmarc=pass (p=reject dis=none)` のようになります。`p` は example.com が公開したポリシー、`dis` (disposition、処置) はこのメールについて受信側が実際にどうしたかです (OpenDMARC のコメント、`opendmarc/opendmarc.c`)。**Received-SPF** (RFC 7208 §9.1) は、policyd-spf が SPF の結果を記録する、より古いヘッダーです。
# * ここでの受信側は、Debian 12 がこれらの検査をパッケージにしたとおりの Postfix です。**policyd-spf** (`RCPT` の時点で SPF を検査)、**OpenDKIM** と **OpenDMARC** (メールフィルター、*milter* で、`DATA` の終わりに検査) が動きます。応答とログ行は各プログラムが実際に書くものです (`simlab/products/` の製品モジュールがそれぞれの出典を示しています)。
#
# **ここで使うアドレス** (スレッドに出てくるものの代わりに、文書用のアドレスを使います):
#
# | ここでは | スレッドでは |
# |---|---|
# | `example.com`、`mail.example.com` (192.0.2.25) | 管理者のドメイン `mycompany.co.jp` とそのサーバー |
# | `yourcompany.test`、`mail.yourcompany.test` (198.51.100.80) | メールが送られた先の他社のドメイン |
# | 203.0.113.50 | たまちゃんさんが打ち込んだ外部のマシン。ここでは、なりすまし (spoofing) のメールをサイト経由で中継させ、remote.test の転送用アドレスにも送る迷惑メール送信者 (spammer。私たちの設定) |
# | 203.0.113.51 | 同じなりすましメールを yourcompany.test へ直接送る迷惑メール送信者 (私たちの設定) |
# | `remote.test`、198.51.100.90 | `sales@remote.test` 宛てのメールをサーバーで転送している取引先 (私たちの設定) |

# %%
# %matplotlib inline
import simlab
from simlab.auth import dkim, dmarc, results, spf
from simlab.exercises.sender_auth import flow_table
from simlab.plots.sender_auth import flows_figure, setups_figure
from simlab.ui.sender_auth import sender_auth_lab

S = simlab.scenarios

# %% [markdown]
# ## example.com が公開するもの
#
# シナリオの出発点は、一見厳しそうなレコードです。SPF は `v=spf1 mx -all`、DMARC は `p=reject` です。サイトのサーバーはレッスン 03 と同じく、Relay Restriction (送信者のドメインで中継を許すかを決める EIMS の設定) をオンにした EIMS 2.1 のままです。以下に TXT レコードと、`Postmaster@example.com` を名乗るメールを手渡してきそうな 3 つのクライアント、つまりサイト自身のサーバー、迷惑メール送信者、remote.test の転送サーバーについての SPF の判定を示します。

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
# ## 予想してから実行する
#
# EIMS 2.1 は、たまちゃんさんの `Postmaster@example.com` のメールを yourcompany.test へ中継します。example.com は SPF の `-all` と DMARC の `p=reject` を公開しており、yourcompany.test はその両方を検査します。**予想してください**: yourcompany.test はこのメールを拒否するでしょうか。次のセルを実行する前に、答えを書き留めてください。

# %%
table = flow_table(day)
for (kind, path), counts in table.items():
    print(f"{kind:7} {path:10} {counts}")
flows_figure(table, title="EIMS 2.1 relaying, SPF -all and DMARC p=reject: one day at yourcompany.test")

# %% [markdown]
# 各行は、yourcompany.test に向かう 1 つの経路を通る 1 種類のメール (`forged` は偽造、`legit` は正規のメール (legitimate mail)) です。`via_site` は example.com 自身のサーバーを経由したもの、`direct` は迷惑メール送信者から直接送られたもの、`forwarded` は remote.test の転送用アドレスを通ったものです (後の「転送」の節を参照)。`legit` のメールは職員のもので、bob と alice のふだんのメールと、bob が転送用アドレスに送ったメールです。数字は、1 日の終わりに各メールがどうなったかを示します。
#
# 最初の行がすべてを語っています。サイトのサーバーが中継した偽造メール 8 通は、すべて**配送** (delivered) されました。メールは example.com 自身のサーバーである 192.0.2.25 から送り出されました。これはまさに SPF レコードが名指ししているホストです。SPF は合格し、エンベロープ送信者のドメインが `From:` のドメインと同じなので、DMARC も合格しました。SPF と DMARC が認証するのは*サーバー*であって、人ではありません。サイト自身のサーバーが迷惑メール送信者にも bob にも中継を引き受けてしまえば、両者を見分けることはできません。次のセルは、そのメールが yourcompany.test でどう扱われたかを示します。対話、受信側のログ行、検査が追加したヘッダーフィールドです。

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
# ヘッダーは上から読みます。各プログラムは、すでにあるフィールドの上に自分のフィールドを追加していきます。OpenDMARC の `Authentication-Results` は `dmarc=pass`、policyd-spf の `Received-SPF` は client-ip 192.0.2.25 について `Pass` と書いています。その下に yourcompany.test 自身の `Received:` 行 (mail.example.com、192.0.2.25 から受信) があり、さらにその下がサイトの `Received:` 行です。メールが本当はどこから来たのか (`from [203.0.113.50]`) を示しているのは、この最後の行だけです。そして、この行を読む検査はありません。
#
# つまり、「EIMS 2.1 が Postmaster@example.com のメールを中継しても、example.com が SPF と DMARC の p=reject を公開していれば、yourcompany.test はそれを拒否する」という文は**誤り**です。SPF と DMARC が止めるのは、同じなりすましメールが example.com のサーバーを*通らずに*来た場合です。
#
# ## 同じなりすましメールを直接送ると
#
# 203.0.113.51 にいる迷惑メール送信者が、同じ `Postmaster@example.com` のメールを mail.yourcompany.test へ直接送ります。policyd-spf は `RCPT` の時点で検査します。Debian の `policyd-spf.conf` は `Mail_From_reject = Fail` (SPF が fail なら拒否する設定) なので、SPF の `fail` はメール本体が送られる前に、その場で拒否されます。

# %%
direct = next(t for t in day.transcripts if t.actor == "direct spoofer")
print("\n".join(line for line in direct.lines if line.startswith(("C: MAIL", "C: RCPT", "S: 550"))))
print()
print(next(line for line in yourcompany.log if "ip=203.0.113.51" in line and "policyd-spf" in line))
print(next(line for line in yourcompany.log if "203.0.113.51" in line and "NOQUEUE" in line))

# %% [markdown]
# もし受信側が SPF の判断を DMARC に任せていたなら、メールは 1 つ後の段階、つまり `DATA` の終わりで拒否されていたはずです。OpenDMARC は `550 5.7.1 rejected by DMARC policy for example.com` と応答し (`opendmarc/opendmarc.c`)、Postfix の cleanup は `milter-reject: END-OF-MESSAGE` とログに書きます。実際の受信側は、上で見たように、検査ごとに別々のフィールドに結果を書きます。3 つの判定を並べて見るために、次のセルでは simlab 自身の SPF、DKIM、DMARC の検査をなりすましメールにかけ、`authres` パッケージ (RFC 8601) で 1 つの `Authentication-Results` フィールドにまとめます。`dkim=none` は、なりすましメールに署名がないことを示します。

# %%
forged = ["From: <Postmaster@example.com>", "To: <ceo@yourcompany.test>", "Subject: MAKE MONEY FAST", "",
          "Act now!"]
fail = spf.check_host("203.0.113.51", "Postmaster@example.com", "[203.0.113.51]", zone)
signatures = dkim.verify(forged, zone)
verdict = dmarc.evaluate("example.com", zone, spf_result=fail, spf_domain=fail.domain, dkim=signatures)
print(verdict.reason)
print(results.build("mail.yourcompany.test", spf=fail, spf_domain=fail.domain, dkim=signatures, dmarc=verdict))

# %% [markdown]
# ## まず中継をふさぐ
#
# レッスン 03 の解決策は、送信者のドメインではなく、クライアントのアドレスかログインで中継を許すサーバーでした。example.com のサーバーを Postfix にして、同じ 1 日を実行してみましょう。203.0.113.50 の迷惑メール送信者はサイトで拒否され (レッスン 03 と同じく `Relay access denied`)、なりすましメールが yourcompany.test に届く道は、直接送るか、remote.test の転送用アドレスを通すかだけになります。どちらの経路でも SPF と DMARC が拒否します。

# %%
closed = simlab.run(S.sender_authentication(preset="postfix"), seed=1)
for (kind, path), counts in flow_table(closed).items():
    print(f"{kind:7} {path:10} {counts}")

# %% [markdown]
# ## 転送: 古くからの緊張関係
#
# 最初の行が変わりました。中継されていた偽造メール 8 通は、いまは拒否されています。最後の行は変わっていません。bob のメール 10 通は、まだ失われています。転送の行を見てください。bob は `sales@remote.test` に宛ててメールを書きます。このアドレスの持ち主は yourcompany.test に移っており、remote.test の Postfix がメールを転送します (`virtual_alias_maps`、別のアドレスへ送り直すための対応表)。このときエンベロープ送信者 `bob@example.com` はそのまま残ります。yourcompany.test から見ると、メールは 198.51.100.90 から届きます。これは example.com の SPF レコードが名指ししていないホストなので SPF は失敗し、policyd-spf は迷惑メール送信者のメールを拒否するのと同じように、bob の本物のメールも拒否します (迷惑メール送信者も同じアドレスになりすましメールを送っています。`forged forwarded` の行です)。この緊張関係は SPF より古いものです。RFC 2505 (1999 年 2 月) の §2.6.2 はすでに、ローカルの送信者を名乗る外部からのメール (`MAIL From: <user@my.local.dom.ain>`) を拒否すると、転送やメーリングリストが動かなくなると警告していました。RFC 7960 (「間接的なメールの流れ」、3 節: エイリアス、メーリングリスト) は、DMARC について同じ問題を述べています。
#
# DKIM の電子署名は、この問題を和らげます。転送サーバーは自分の `Received:` 行を追加するだけなので、example.com が付けた署名は壊れずに残ります。受信側が SPF の失敗を DMARC に任せれば (RFC 7489 §10.1 は、DMARC より先に SPF で拒否すると、DMARC なら合格したはずのメールを失うことがあると警告しています)、DMARC は DKIM の整合によって合格します。下の 3 つの実行について**予想してください**: 転送された正規のメールは配送されるでしょうか、拒否されるでしょうか。

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
# DKIM がなければ、拒否するのが SPF の検査でも DMARC でも、`p=reject` は bob の転送されたメールを失わせます。DKIM があればメールは届き、同じエイリアスに送られた偽造メールは相変わらず拒否されます。迷惑メール送信者は鍵を持っていないからです。次のセルは、届いた転送メール 1 通のヘッダーです。SPF は `Fail` (転送サーバーのアドレスのため)、OpenDKIM のフィールドには `header.d=example.com` について `dkim=pass`、その上の OpenDMARC のフィールドには `dmarc=pass` とあります。(`unprotected` は、鍵の DNS レコードが DNSSEC で署名されていなかったことを示す OpenDKIM の注記です: `opendkim/opendkim.c`。)

# %%
signed_day = simlab.run(S.sender_authentication(preset="postfix", spf_reject=False, dkim=True), seed=1)
box = signed_day.world.network.host("mail.yourcompany.test").server.mailboxes["sales"]
forwarded = next(m for m in box if m.client_ip == "198.51.100.90")
print("\n".join(forwarded.lines[:5]))

# %% [markdown]
# 署名が壊れずに残るのは、行を追加するだけの転送サーバーの場合です。メールを書き換える転送では壊れます。件名にタグを付けるメーリングリストを通すと署名が壊れることを、同じメールの検査で確かめてみましょう。

# %%
tagged = [line.replace("Subject: Re: the order", "Subject: [sales] Re: the order") for line in forwarded.lines]
signed_zone = signed_day.world.dns.zone()
print("as delivered:  ", [(s.result, s.domain) for s in dkim.verify(forwarded.lines, signed_zone)])
print("subject tagged:", [(s.result, s.reason) for s in dkim.verify(tagged, signed_zone)])

# %% [markdown]
# ## 試してみる: 送信ドメイン認証のラボ
#
# example.com のサーバーと公開するもの、そして yourcompany.test が何を検査するかを選びます (パネル (panel) は 12 時間分を再現します)。設定を 1 つ変えると、パネルは同じトラフィックでの最初の設定との比較を表示します。次のことを試してみてください。
#
# 1. example.com のサーバーに Postfix 3.7 を選びます。中継されていたなりすましメールはどうなるでしょうか。それはなぜでしょうか。
# 2. 「SPF fail を policyd-spf が拒否 (Mail_From_reject = Fail)」のチェックを外し、次に「DKIM で署名」のチェックを入れます。転送の行に注目してください。
# 3. policyd-spf の拒否を外したまま、DMARC ポリシーを `p=quarantine` にし、次に `pct` を 50 にします。偽造メールはどこへ行くでしょうか。
# 4. 「OpenDMARC がポリシーに従う (RejectFailures)」のチェックを外します。これが Debian の出荷時の状態です (Debian の `/etc/opendmarc.conf` は OpenDMARC の既定値 `RejectFailures false` のままです)。
# 5. 「1 通のメール」タブで、サイトが中継したなりすましメール、直接送られた偽造メール、転送された bob のメールを順に見てみましょう。

# %%
sender_auth_lab()

# %% [markdown]
# ## 演習
#
# あなたは example.com の管理者です。yourcompany.test の管理者は慎重な人です。policyd-spf は SPF の失敗の判断を DMARC に任せ、OpenDMARC はあなたのポリシーに従うように設定されています。サーバーと公開する内容を選んで、**どの経路でも、偽造された `Postmaster@example.com` のメールが yourcompany.test に届かず (配送も保留もされず)、しかも転送されたものを含めて正規のメールが 1 通も失われない**ようにしてください。
#
# 呼び出し方は `check_sender_setup(preset, spf="v=spf1 mx -all", dkim=False, dmarc="reject", pct=100)` です。`preset` はサイトの製品 (`"eims-2.1"`、`"sims"`、`"postfix"` など)、`spf` は SPF レコードまたは `None`、`dkim` はサイトのサーバーが署名するかどうか (署名できる製品、つまり OpenDKIM を使う Postfix に限ります)、`dmarc` は `None`、`"none"`、`"quarantine"`、`"reject"` のいずれか、`pct` は 0 から 100 までの値です。

# %%
from simlab.exercises.sender_auth import SOLUTION, check_sender_setup  # noqa: E402

check_sender_setup("eims-2.1", spf="v=spf1 mx -all", dmarc="reject")  # the lesson's start: does it pass?

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## 今日に活かせること
#
# * まず自サイトの中継をふさぐこと。SPF、DKIM、DMARC が受信側に教えるのは、どの*サーバー*とどの*鍵*がそのドメインを代表しているかです。自分のサーバーが見知らぬ相手のために中継したメールは、あなたの名前で、すべての検査に合格した状態で届きます。
# * 3 つとも公開すること。SPF でサーバーを示し、DKIM で転送されたあとでもメールが認証されるようにし、DMARC で `reject` を求めます。ただし `reject` にするのは、しばらく `p=none` で運用してその報告を読み、自分の名前で送るサーバーをすべて把握してからです。
# * 受信側としては、SPF の失敗の判断を DMARC に任せること (RFC 7489 §10.1)。そして、メールを書き換えるメーリングリストは失敗するものと考えておくこと。ARC (RFC 8617) や、`From:` を書き換えるメーリングリストは、この問題を解決しようとするものです。
# * 検査が対象にするのは `From:` の*ドメイン*です。よく似た別のドメインや、表示名だけを偽ったもの ("Postmaster" <x@elsewhere.test>) は、すべての検査に合格してしまいます。
