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
# # 03 · Postmaster を名乗るなりすまし (S4)
#
# **学習目標**
#
# * Relay Restriction を有効にした EIMS 2.1 に、スレッドに出てくる 5 行の対話を打ち込み、クライアントが書いただけの送信者、つまりなりすまし (spoofing) を、中継 (relay) の規則がどう扱うかを見る。
# * 送信者のドメインを信用する中継の規則は、結局はクライアントが書いた内容を信用していることになる、という理由を説明できる。
# * 中継の規則の 3 つの種類 (送信者のドメインによる規則、クライアントのアドレスによる規則、ログイン (SMTP 認証、SMTP AUTH) による規則) を比べ、それぞれがどこで拒否するかを見る。
# * 今日の道具として、ログインした利用者だけが送信できるサブミッションポート (submission port、587) と、ログインした利用者が他人のアドレスで送信するのを防ぐ、送信者とログインの対応表 (sender login maps、`reject_sender_login_mismatch`) を使ってみる。
#
# **スレッドのあらすじ** 1998 年 6 月 15 日、レッスン 02 の投稿と同じ日に、たまちゃんさんが、引っかかる点があるので確認してほしい、とほかの参加者に呼びかけました。中継を禁止するよう設定した EIMS 2.x のサーバーに、そのローカルドメインの外から SMTP のポートで接続し、サーバーにあるアカウント (たとえば Postmaster) で「ログイン」した、というのです。「ログイン」は本人の言葉ですが、打ち込んだ 5 行を見ると、そのアカウントをエンベロープ送信者 (envelope sender、`MAIL FROM` に書く送信者) として書いたという意味だとわかります。送信者は*サーバー自身の*ドメイン、宛先 (recipient) は別の会社、そして `data`、`.` だけの行、`quit` です。すると、どうやらメールが通ってしまうらしい、というのです。これは EIMS の仕様だと考えてよいのか。もしそうなら、どうすれば避けられるのか、という質問でした。
#
# 会議室を主宰する田中求之さんは、本物のアカウントでログインしたのなら、送れてしまうのは当たり前だと答えました。どうすれば避けられるかという問いには、考え込んでしまい、答えは出ませんでした。たまちゃんさんはそこで、選択肢の 1 つとして SIMS への乗り換えを挙げました (よほど気になるなら Glenn さん (EIMS の作者と思われます) に伝える、とも書いています)。田中求之さんは、SIMS だと何か違うのか、仕組みは変わらないはずではないか、と首をかしげます。たまちゃんさんの説明はこうです。自分の意図は、*他人の名義で*メールを出されるのを食い止めることにあった。そもそも SMTP には送信の際に相手を認証する仕組みがなく、それは EIMS だけの問題ではない。しかし SIMS は、SIMS を通して送ってくる*クライアントの IP アドレス*で中継を許すかどうかを決められる (「Client Hosts」の一覧)。だから、アカウント名を知っている人でも、接続元のアドレスが一覧に載っていなければ中継を断られる。自分宛てのメールを受け取る分には、ブラックリストや RBL サーバー (迷惑メールの送信元のアドレスを DNS で公開するブラックリスト) で拒否するよう指定していない限り、影響はない。そして最後に、説明がまだわかりにくいと、照れ隠しのように付け加えています。
#
# **ここで使うアドレス** (スレッドのアドレスの代わりに文書用アドレスを使います)
#
# | ここでの名前 | スレッドでは |
# |---|---|
# | `mycompany.test`、`mail.mycompany.test` 192.0.2.25 | mail.mycompany.co.jp、EIMS のサーバー |
# | `yourcompany.test` | mail.yourcompany.co.jp、別の会社 |
# | 203.0.113.50 | ドメインの外にある、たまちゃんさんのマシン |
# | 192.0.2.0/24、192.0.2.101 の bob | サイトの LAN と、そこにいる職員 |
# | 198.51.100.77、alice | 外から送信する職員 (スレッドにはない) |
# | `example.com` | 1 日分のシミュレーションでの同じサイト (レッスン 02 のネットワークを共有するため) |
#
# SMTP の行はスレッドのもので、ドメインだけを置き換えています。EIMS と SIMS の応答とログ行は simlab の文言です (モデル化したもの。`simlab/products/eims.py` と `sims.py` のドキュメンテーション文字列を参照)。同じ対話に対する Postfix と Exim の応答は、本物のサーバーの記録 (`tests/data/postfix_reference.json`、`tests/data/exim_reference.json`) に含まれています。記録の中での名前は、先に `EHLO` を送る場面が `spoof/outside`、挨拶なしで `MAIL` を送る場面が `seq/mail-without-ehlo` と `seq/mail-without-helo` です。

# %%
# %matplotlib inline
import simlab
from simlab import plots
from simlab.exercises.spoof import THREAD_DIALOGUE, mycompany_server, replay, reply_to, sender_login_map, spoof_day
from simlab.ui.spoof import BOB_LOGIN_LINES, auth_plain, spoof_lab

# %% [markdown]
# ## 5 行の対話
#
# これが、スレッドに書かれたとおりの対話です (小文字の `data` と `quit` もそのままです。SMTP のコマンドは大文字と小文字を区別しません)。サーバーは **Relay Restriction を有効にした** EIMS 2.1 です。Relay Restriction は、中継をローカルドメインと一覧に挙げたドメインに限る EIMS の設定です。有効にするチェックボックスの文言は、田中求之さんがあとの投稿 (6 月 17 日) で引用しているとおり、「only Route for local domains and the following domains」 (ローカルドメインと次のドメインについてだけ配送する) です。
#
# セルを実行する前に**予想してみましょう**。`RCPT TO:<user_name@yourcompany.test>` に対して、サーバーは 250 と 550 のどちらを返すでしょうか。

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
# simlab では、`RCPT` に 250、`.` のあとにも 250 が返り、メールがキュー (queue) に入りました。このサーバーはこれから、このメールを yourcompany.test に配送 (delivery) します。しかも、私たちのサーバーから、私たちの名前で、postmaster を送信者として送るのです。ログにはメールを「received」 (受信した) と書かれているだけで、見知らぬ相手のために中継したという印はどこにもありません (出力の最後の行 `waiting to be relayed` が、中継を待つキューの中身です。シーケンス図のタイトルも「Relay Restriction が有効でも RCPT に 250、yourcompany.test 宛てにキューへ」という意味です)。(たまちゃんさんは、通ってしまう*らしい*と書いただけです。simlab の EIMS がこれを中継するのは、スレッドでの規則の説明に従ったものです。6 月 17 日の田中求之さんの説明では、このチェックボックスを有効にすると、他のドメインから自分のドメインへのメールと、自分のドメインから他のドメインへのメールだけが通るようになります。)
#
# クライアントが*しなかった*ことに注目してください。`HELO` もなく、ログインもなく、あるのは名乗りだけです。送信者をこのサーバーのドメインではないもの (`elsewhere.test`) に変えるだけで、同じ規則が拒否します。EIMS は、*宛先*がローカルまたは一覧にあるとき、あるいは*送信者*がそうであるときに中継します。そして送信者とは、ただの 1 行の文字列なのです。

# %%
other = replay(mycompany_server("eims-2.1", relay_restriction=True), "203.0.113.50",
               ["MAIL FROM:<someone@elsewhere.test>", "RCPT TO:<user_name@yourcompany.test>", "quit"])
print(reply_to(other, "RCPT"))

# %% [markdown]
# **話し合ってみましょう** 先を読む前に考えてください。スレッドでは、EIMS でこれをどう防ぐかというたまちゃんさんの問いに、答えが出ないままでした。田中求之さんも考え込むばかりでした。クライアントがただ打ち込むだけでは用意できないもので、サーバーが確かめられるものは何でしょうか。それぞれの答えは、自宅や出張先にいるサイトの利用者にどんな負担をかけるでしょうか。
#
# ## 4 つのサーバーに同じ 5 行を送る
#
# SIMS は「Client Hosts」にあるクライアント (ここでは LAN、192.0.2.0/24) に、Postfix は `mynetworks` にあるクライアント (これも LAN) とログインした人に、Exim (Debian が設定したもの) は `relay_from_hosts` にあるクライアント (LAN) に中継を許します。**予想してみましょう** 各サーバーは `RCPT` に何と答えるでしょうか。また、宛先が拒否されたあと、`data` と `.` の行はどうなるでしょうか。

# %%
servers = {
    "EIMS 2.1, Relay Restriction": mycompany_server("eims-2.1", relay_restriction=True),
    "SIMS, Client Hosts = LAN": mycompany_server("sims", client_hosts=["192.0.2.0/24"]),
    "Postfix 3.7, mynetworks = LAN": mycompany_server("postfix", mynetworks=["192.0.2.0/24"]),
    "Exim 4.96, relay_from_hosts = LAN": mycompany_server("exim"),
}
for name, server in servers.items():
    s = replay(server, "203.0.113.50", THREAD_DIALOGUE)
    print(f"--- {name}")
    print("\n".join(s.transcript))

# %% [markdown]
# SIMS と Postfix は `RCPT` で断ります。クライアントのアドレスが一覧にないからで、これはクライアントが何を打ち込んでもごまかせません (TCP の接続は、応答が本当のアドレスに届かなければ成り立たないからです)。Postfix の応答は `454 4.7.1 ... Relay access denied` です。既定では*保留*にする (`defer_unauth_destination`。レッスン 02) ので 4xx になります。宛先が拒否されたあとの `data` には「no valid recipients」 (有効な宛先がない) と返ります。さらに Postfix は、`.` だけの行を SMTP にはないコマンドと読み取って、接続を切ります (「I can break rules, too」)。これらの Postfix の応答は、どれも本物の Postfix の記録にあるとおりです。
#
# Exim はさらに手前で止めます。Debian の設定では `MAIL` の前に `HELO` か `EHLO` を求めるのに、スレッドの対話にはどちらもないからです (これも記録にあります)。挨拶を加えると、Exim もほかのサーバーと同じく `RCPT` で、記録にあるとおりの応答で断ります。

# %%
greeted = replay(mycompany_server("exim"), "203.0.113.50", ["HELO outside.test", *THREAD_DIALOGUE])
print(reply_to(greeted, "RCPT"))

# %% [markdown]
# スレッドの数か月後 (1999 年 2 月) に出た迷惑メール (スパム、spam) 対策のベストプラクティスをまとめた RFC 2505 は、このことをはっきり書いています (§2.1)。`HELO` と `MAIL FROM` は簡単に、しかも頻繁に偽られる。中継するかどうかは接続してきた相手の IP アドレスで (のちにはログインでも) 決めるべきで、クライアントの名乗る内容で決めてはならない。

# %% [markdown]
# ## 3 つ目の規則: まずログインする
#
# アドレスによる規則には代償があります。LAN の外にいる職員 (外出先の alice) も送信できなくなるのです。答えの 1 つが SMTP 認証 (SMTP AUTH、RFC 4954) です。クライアントは `AUTH` コマンドでログインし、ログインしたクライアントには中継が許されます。スレッドには出てきませんが、EIMS の作者のページ (「EIMS Relay Security」) は EIMS がバージョン 2.1 から SMTP 認証 に対応していると述べており、Qualcomm のナレッジベース記事 2153 (EIMS 2.1〜3.1) は、外から送信する利用者にはこれを勧めています。simlab では、EIMS 2.1 の `smtp_auth=True` がこれにあたります。**予想してみましょう** SMTP 認証 を有効にしても、スレッドの対話は 25 番ポートを通り抜けるでしょうか。

# %%
eims_auth = mycompany_server("eims-2.1", relay_restriction=True, smtp_auth=True)
print(reply_to(replay(eims_auth, "203.0.113.50", THREAD_DIALOGUE), "RCPT"))

# %% [markdown]
# 通り抜けます。古い規則が、ローカルの送信者を*名乗る*人なら誰でも通してしまう限り、ログインの手段を用意しても役に立ちません。なりすます側は、単にログインしなければよいのです。AUTH が穴をふさぐのは、送信者のドメインを信用するのをやめる規則、つまりクライアントがただ打ち込むだけでは用意できないものを求める規則と組み合わせたときだけです。Postfix の既定の規則はそうなっています。演習では、そのような規則を EIMS 2.1 の設定の中から見つけてもらいます。
#
# (モデル化についての注: 1998 年当時、SMTP 認証は生まれたばかりでした。最初の標準である RFC 2554 が出たのは 1999 年 3 月、サブミッションポート 587 を定めた RFC 2476 は 1998 年 12 月です。1998 年に EIMS 2.1 がどのように AUTH を提供していたか、その年に利用者が 587 番で送信していたかどうかは、史実ではなく私たちのモデル化上の選択です。)
#
# 今日の構成では、2 つの役目をポートで分けます。25 番ポートはインターネット全体から自分の利用者宛てのメールを受け取り (外部の誰のためにも中継しません)、**587** 番ポート (サブミッション、RFC 6409) は、自分の利用者がログインしてから送信する場所です。RFC 6409 §4.3 は、サブミッションポートでは、クライアントがログインするまで `MAIL` を `530 5.7.0 Authentication required` で拒否しなければならないと定めています。Postfix には、この応答を返すための設定項目はありません。simlab の Postfix は、Debian 12 の `master.cf` (Postfix のサービスをポートごとに定めるファイル) で `submission` の項目を有効にしたときと同じように 587 番ポートを扱います。`MAIL` は受け付け、ログインしていないクライアントの宛先を 1 つずつ拒否します (`smtpd_recipient_restrictions=permit_sasl_authenticated,reject`。宛先に対して順に適用される規則のリストです)。応答は、本物の Postfix 3.7 が記録の中で返したものです。
#
# 下のログインの行は、`AUTH PLAIN` のあとに文字の塊が続いたものです。この塊は、ユーザー名とパスワードを値が 0 のバイト (NUL) で区切ってつなぎ、base64 で書き表したものです (RFC 4616)。base64 は*符号化*であって、暗号化ではありません。この行を見た人なら誰でも、ひと手間でパスワードに戻せます。今日のサーバーがこれを TLS の中でしか受け付けないのはそのためです。

# %%
postfix = mycompany_server("postfix")
stranger = replay(postfix, "203.0.113.50", ["EHLO outside.test", *THREAD_DIALOGUE], port=587)
print(reply_to(stranger, "MAIL"), "|", reply_to(stranger, "RCPT"))
bob = replay(postfix, "198.51.100.77", ["EHLO roaming.test", auth_plain("bob", "Tr0ub4dor&3"), *THREAD_DIALOGUE],
             port=587)
print(reply_to(bob, "AUTH"), "|", reply_to(bob, "RCPT"))

# %% [markdown]
# 出力の 1 行目は見知らぬ相手、2 行目は bob の結果で、`|` の左がそれぞれ `MAIL` と `AUTH` への応答、右が `RCPT` への応答です。見知らぬ相手の `MAIL` は受け付けられ、宛先が拒否されます (`554 5.7.1 ... Recipient address rejected: Access denied`)。出張中で外から接続している bob (ここでは alice と同じ外出先のアドレス 198.51.100.77 を使います) はログインし、送信できます (`permit_sasl_authenticated`: SMTP 認証 でログインしたクライアントを許す規則です)。そして、その bob が `MAIL FROM:<Postmaster@...>` と書くことを止めるものは何もありません。
#
# ログインが証明するのはクライアントが誰かということで、送信者のアドレスがその人のものだということではありません。Postfix はここもふさげます。`smtpd_sender_login_maps` は、どのログインがどのアドレスを持つかを定め、`reject_sender_login_mismatch` は、ログインが持っていない送信者のアドレスを拒否します (このときの Postfix の文言 `Sender address rejected: not owned by user ...` は、ソースの `smtpd_check.c` に従っています)。ただし、この検査を `main.cf` (Postfix 全体の設定ファイル) に書いても 587 番ポートには効きません。Debian の `submission` の項目は、このポートについて `smtpd_sender_restrictions` (`MAIL FROM` の送信者に適用する規則のリスト) を空にしてしまうからです。効かせるには検査を項目そのものに書く必要がありますが、simlab の Postfix はそこまではモデル化していません。そこで下のセルでは、代わりに bob を 25 番ポートでログインさせます (`smtpd_sasl_auth_enable` で 25 番ポートの SMTP 認証 を有効にします)。ここなら `main.cf` の検査が効きます。最初に表示されるのは、どのアドレスをどのログインが持つかの対応表です (`postmaster@mycompany.test` を持つのは webmaster のログインです)。

# %%
owners = sender_login_map()
print(owners)
checked = mycompany_server("postfix", smtpd_sasl_auth_enable=True, smtpd_sender_login_maps=owners,
                           smtpd_sender_restrictions=["reject_sender_login_mismatch"])
bob = replay(checked, "198.51.100.77", ["EHLO roaming.test", auth_plain("bob", "Tr0ub4dor&3"), *THREAD_DIALOGUE],
             port=25)
print(reply_to(bob, "RCPT"))
print([line for line in checked.log if "reject" in line])

# %% [markdown]
# 1 つ注意があります。下の 1 日分のシミュレーションで結果に表れますが、`main.cf` に書いたこの制限は、25 番ポートのすべてのクライアントにかかります。ログインせずに送信する、LAN 上の bob のメールクライアントも例外ではなく、拒否されてしまいます (「not logged in」)。実際のサイトでは、この制限をサブミッションポートだけにかけるか、`reject_authenticated_sender_login_mismatch` を使います。こちらはログインしたクライアントだけを検査し、それ以外は中継の規則に任せます。
#
# ## 1 日を通して見る
#
# 同じ手口を、simlab のサイトで 1 日に 10 回繰り返します。その間、職員と取引先はいつものメールを送ります (合わせて 54 通。bob が LAN から 13 通、alice が外から 6 通、残りは取引先のサーバーから)。**予想してみましょう** 設定ごとに、私たちのサーバーを通って出ていく迷惑メールは何通で、失われる正規のメール (legitimate mail) は何通でしょうか。

# %%
settings = {
    "EIMS 2.1 Relay Restr.": ("eims-2.1", {}),
    "SIMS Client Hosts": ("sims", {}),
    "Postfix": ("postfix", {}),
    "Postfix + login check": ("postfix", {"sender_login_check": "reject_sender_login_mismatch"}),
    "Exim": ("exim", {}),
}
days = {name: simlab.run(spoof_day(preset, **kw), seed=1).summary for name, (preset, kw) in settings.items()}
plots.compare_bars(days, keys=("spam_relayed", "legit_refused"), title="Spam relayed vs legitimate mail lost")

# %% [markdown]
# グラフでは、オレンジ (凡例「中継された迷惑メール」) が中継された迷惑メール、赤 (「失われた正規のメール」) が失われた正規のメールです。
#
# * Relay Restriction だけでは、10 通の迷惑メールがすべて中継されます。
# * SIMS はすべて止めますが、外から送った alice の 6 通が失われます。シミュレーションの SIMS には送信のためのログインがないので、alice のアドレスで判断され、そのアドレスは一覧にないからです。
# * ここで設定した Postfix は、LAN とログインした利用者のために中継します。迷惑メールはなく、失われるメールもありません。`main.cf` にログインの検査を加えると、LAN からログインせずに送った bob の 13 通が失われます。
# * Debian が設定した Exim の代償は SIMS と同じです。Debian の既定の設定ではログイン (AUTH) が有効になっていないので、外から送った alice の 6 通が拒否されます。
#
# ## 試してみよう: なりすまし実験パネル (panel)
#
# 入力欄には、スレッドの 5 行が入っています。サーバー、クライアントのアドレス、ポート、設定を変えて、`RCPT` への応答、シーケンス図、ログ、キュー、1 日分の集計がどう変わるかを見てください (1 日分の集計は、最初のタブの右側と最後のタブにあります)。試してみること:
#
# 1. まず、パネルを開いたときの状態 (EIMS 2.1、Relay Restriction が有効) を見ます。次に Relay Restriction のチェックを外します。
# 2. クライアントのアドレスを `192.0.2.101` (LAN 上) にして、各サーバーで試します。
# 3. SIMS で Client Hosts の欄を空にします。まだ中継できるのは誰でしょうか。
# 4. Postfix を選び、ポートを 587 番にします。次に、下に表示されるログインの 2 行 (`EHLO` と、bob としてログインする `AUTH PLAIN ...` の行) を、スレッドの行の*上に*貼り付けます。`MAIL` の行は、スレッドの `MAIL FROM:<Postmaster@...>` だけにしておきます。それからポートを 25 番に切り替え、「SMTP 認証」のチェックを入れ (これで Postfix は 25 番ポートでも SMTP 認証 を受け付けます)、送信者とログインの検査のメニューで `reject_sender_login_mismatch` を選びます。
# 5. Exim で、スレッドの行をそのまま送ります。次に、先頭に `HELO` の行を加えます。
# 6. SIMS の Client Hosts の欄に `192.0.2.0/33` と入力し、表示されるメッセージを読みます。

# %%
print(BOB_LOGIN_LINES)

# %%
spoof_lab()

# %% [markdown]
# ## 演習
#
# 外部 (203.0.113.50) からのスレッドの対話が拒否され、しかも LAN 上の職員 (192.0.2.101 の bob) は外へメールを送れ、取引先のサーバーはこちらの利用者宛てのメールを配送できるように、**EIMS 2.1** を設定してください。チェッカーには、EIMS 2.1 自身の設定名 (`relay_restriction`、`relay_domains`、`require_valid_ip`、`valid_ips`、`smtp_auth`、`ip_range_restriction`) をキーワード引数として渡します。下のセルの `check_spoof_refused("eims-2.1", relay_restriction=True)` に、合格するまで設定を書き足してください。チェッカーはセッションを再現し、それぞれが `RCPT` で何を受け取ったかを、問題がないか (OK) 問題があるかの印を付けて示します。パネルと同じく、`valid_ips` を指定せずに `require_valid_ip` を有効にすると、LAN (192.0.2.0/24) を有効なアドレスとして扱います。
#
# これらの設定の出どころ: Relay Restriction、そのドメインの一覧、IP Range Restriction はスレッドに出てきます。`smtp_auth` と `require_valid_ip` / `valid_ips` は出てきません。これらは EIMS 2.1〜3.1 についてのベンダーの資料によるものです。SMTP 認証 は、作者のページ「EIMS Relay Security」の、2.1 から対応しているという記述によります。Relay restrictions の選択肢「... AND if from a valid IP」 (かつ有効な IP からの場合) は、Qualcomm のナレッジベース記事 2153 がこれらのバージョンについて説明しているものです。こちらは、スレッドの時点の 2.1 より新しいリリースでの話かもしれません。この演習はそれらに頼っています。スレッド自体では、EIMS での答えは見つかりませんでした。

# %%
from simlab.exercises.spoof import SOLUTION, check_spoof_refused  # noqa: E402

check_spoof_refused("eims-2.1", relay_restriction=True)  # add settings until it passes

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## 演習のあとで: EIMS の設定で 1 日を通して見る
#
# もう一度、1 日分をシミュレーションします。Relay Restriction だけの場合、それに EIMS の「AND if from a valid IP」 (LAN を有効なアドレスとする) を加えた場合、さらに SMTP 認証 も加えた場合を並べます (グラフの横軸では、順に EIMS 2.1 Relay Restr.、+ valid IP (LAN)、+ valid IP + AUTH と表示されます)。

# %%
eims_settings = {
    "EIMS 2.1 Relay Restr.": ("eims-2.1", {}),
    "+ valid IP (LAN)": ("eims-2.1", {"require_valid_ip": True}),
    "+ valid IP + AUTH": ("eims-2.1", {"require_valid_ip": True, "smtp_auth": True}),
}
eims_days = {name: simlab.run(spoof_day(preset, **kw), seed=1).summary
             for name, (preset, kw) in eims_settings.items()}
plots.compare_bars(eims_days, keys=("spam_relayed", "legit_refused"),
                   title="EIMS 2.1: spam relayed vs legitimate mail lost")

# %% [markdown]
# * 「AND if from a valid IP」は 10 通の迷惑メールをすべて止めますが、外から送った alice の 6 通が失われます。alice のアドレスは有効なアドレスに含まれていないからです。上で見た SIMS や Exim と同じ代償です。
# * SMTP 認証 も加えると、alice は 587 番でログインでき、何も失われません (1998 年当時の 587 番と AUTH については、上のモデル化についての注を参照)。Qualcomm の記事 2153 も、外出先の利用者について同じことを勧めています。
#
# ## 今日に通じること
#
# * 中継するかどうかを、クライアントが*名乗る*内容 (`HELO`、`MAIL FROM`) で決めてはいけません。簡単には偽れないもの、つまりアドレス (`mynetworks`) かログイン (SMTP 認証) で決めます (RFC 2505 §2.1)。
# * 25 番ポートは、誰からであれ自分の利用者宛てのメールを受け取り、外部の誰のためにも中継しません。自分の利用者は、ログインしてから 587 番で送信します (RFC 6409)。587 番はログインしていない相手を拒否します (RFC 6409 §4.3 は `MAIL` の時点で `530 5.7.0 Authentication required` と答えるよう求めていますが、Debian の `master.cf` の設定の Postfix は `RCPT` の時点で拒否します)。
# * ログインが証明するのは誰が送っているかで、どのアドレスを使ってよいかではありません。送信者をログインに結び付けましょう (`main.cf` では `smtpd_sender_login_maps` と `reject_authenticated_sender_login_mismatch`、`master.cf` のサブミッションの項目では `reject_sender_login_mismatch`)。
# * 自分宛てのメールの送信者が偽られている問題は別の話で、SPF、DKIM、DMARC が取り組んでいます (このコースの範囲外です)。
# * レッスン **09 live lab** では、本物のポートで待ち受けるシミュレーションのサーバーに、この同じ対話を `telnet` や Python の `smtplib` で打ち込めます。
