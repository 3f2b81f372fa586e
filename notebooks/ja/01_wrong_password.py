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
# # 01 · POP3 のログに残る「wrong password」 (S1)
#
# **学習目標**
#
# * POP3 の「wrong password」のログ行を読み、それが何を示し (ログインを拒否したこと)、何を示さないかを説明できる。
# * 盗まれたパスワードや推測されたパスワードでのログインはエラーの行を*まったく*残さないことを確かめ、サーバーには侵入者と本来の持ち主を区別できないことを理解する。
# * アカウント名と同じパスワードが、なぜ最初に試される推測なのかを説明できる。
# * POP3 を接続元のアドレスで制限する方法 (サーバーでもルーターでも)、アカウントロックアウト、fail2ban、失敗時の遅延といった防御策を、それぞれ何を防ぎ、サイトの利用者にどんな負担をかけるかという観点で比較できる。
#
# **スレッドのあらすじ** スレッドは、EIMS 2.1 を運用していたみやむらさんの投稿 (1998 年 5 月 22 日) から始まります。メールのログを見ていたところ、POP3 サーバーについての「Wrong password for...」という項目があり、見ず知らずの誰かが接続してメールを配送しているらしい。そんなことがありうるのか、どう対処すればよいのか、という質問でした。(1 時間半ほどあと、みやむらさん自身が、勘違いかもしれないと書き込んでいます。) 会議室を主宰する田中求之さんは、その日の午後のうちに答えました。このエラーはパスワードが間違っていたので、サーバーが接続を*拒否した*ということ。POP には何も入り込めていないので、問題はない。本物の侵入者であれば、正規の利用者の名前とパスワードを騙ってログインするので、エラーの記録など残さない。もっとも、それはサーバーの側ではどうにも防ぎようがないことだ、とも付け加えています。外部から POP に不正にアクセスされるのが心配なら (たとえば、アカウント名とパスワードを記したメモを、誤って無関係の会社へファックスしてしまった、というような場合)、POP へのアクセスを接続元の IP アドレスで制限すればよい、という助言でした。5 月 24 日には kazu さんが、アカウント名と同じパスワードを、アカウントを次々に替えながら試す手口があることを指摘しました。続けて、アクセスの必要がないネットワークからの接続は POP に限らず制限すべきで、メールサーバー自体でできなければルーターでフィルタリングすればよい、と助言し、侵入されるよりもサーバーを停止に追い込まれるほうが実は恐ろしい、と結んでいます。この最後の点は、あとでアカウントロックアウトを扱うときに再び出てきます。
#
# **ここで使うアドレスと名前** (スレッドのアドレスの代わりに文書用アドレスを使います)
#
# | ここでの名前 | スレッドでは |
# |---|---|
# | `mail.example.com`、192.0.2.25 | みやむらさんの EIMS 2.1 サーバー (名前もアドレスも書かれていない) |
# | 203.0.113.226 | 203.216.11.226 を借用。みやむらさんはアドレスを書いていない (下を参照) |
# | `webmaster` | 同じ行から借りたアカウント名 (下を参照)。みやむらさんはアカウント名を書いていない |
# | 203.0.113.150 - 203.0.113.198 | 同じ推測者が複数のアドレス (アドレスプール) を使うときの追加のアドレス (スレッドにはない) |
# | 192.0.2.0/24、192.0.2.101 の bob | サイトの LAN と、そこにいる職員 |
# | 198.51.100.77、alice | 外からメールを読む職員 (スレッドのこの部分には出てこない) |
#
# アドレスとアカウントは、あとの投稿 (cony さん、6 月 15 日、EIMS 1.2。レッスン 02) のログ行から借りています。みやむらさんの投稿にはどちらも書かれていなかったからです。サイトのメールボックスは `bob`、`alice`、`webmaster`、`info` の 4 つです。あとの 2 つには、kazu さんが警告したとおりの、アカウント名と同じパスワードが設定されています。
#
# **記録に基づく部分とモデル化した部分** みやむらさんが引用したのは「Wrong password for...」という言葉だけです。スレッドに出てくる完全な POP3 のエラー行は、cony さんの EIMS 1.2 のログにある `POP3 wrong password for webmaster from 203.216.11.226` の 1 行だけです。simlab の EIMS 2.1 は、失敗をこれと同じ形で記録します。それ以外の行 (`POP3 connection from ... for ...`) と POP3 の応答は simlab の文言です。`simlab/products/eims.py` のドキュメンテーション文字列 (docstring) にあるとおり、モデル化上の選択です。

# %%
# %matplotlib inline
import simlab
from simlab import plots
from simlab.exercises.password import break_ins, guessing_day, staff_refusals
from simlab.scenarios.site import site_server
from simlab.ui.password import guessing_timeline, password_lab

# %% [markdown]
# ## 間違ったパスワードと正しいパスワード
#
# alice が 198.51.100.77 からメールを確認します。続いて、203.0.113.226 にいるパスワード推測者 (password guesser、以下 推測者) が `webmaster` に 2 回ログインを試みます。1 回目は `password`、2 回目は `webmaster` というパスワードです。`USER` と `PASS` の組の 1 つ 1 つが、ログインの試行にあたります (RFC 1939 §7)。パスワード推測 (password guessing) の攻撃とは、これを繰り返すことです。`USER` と `PASS` は平文のままネットワークを流れるので、経路上にいる人なら誰でもパスワードを読めます (下の記録では `PASS` のあとに打ち込んだ内容を伏せていますが、回線上では伏せられません)。サーバーの最初の行の末尾にある `<...>` は、APOP のタイムスタンプです (RFC 1939 §7)。APOP に対応したクライアントは、`USER`/`PASS` の代わりに `APOP name digest` を送ります。digest は、このタイムスタンプの後ろにパスワードをつなげたものの MD5 で、パスワードそのものは回線を流れません。(シミュレーションの EIMS が APOP を提供しているのは simlab のモデル化です。ここでは誰も使っていません。)
#
# セルを実行する前に**予想してみましょう**。サーバーのログには何行出るでしょうか。そのうち、webmaster のメールボックスを見知らぬ人が開けたことを管理者に知らせるのはどの行でしょうか。

# %%
eims = site_server("eims-2.1")
alice = eims.pop3_session(client_ip="198.51.100.77")
for line in ["USER alice", "PASS wonderland42", "QUIT"]:
    alice.send(line)
guesser = eims.pop3_session(client_ip="203.0.113.226")
for line in ["USER webmaster", "PASS password", "USER webmaster", "PASS webmaster", "STAT", "QUIT"]:
    guesser.send(line)
print("\n".join(guesser.transcript))
print()
print("\n".join(eims.log))

# %% [markdown]
# 3 行です。1 行目と最後の行は、どちらも「POP3 connection from ... for ...」で、見た目は同じです。エラーの行は、拒否された推測の 1 行だけです。*成功した*推測は、alice の普段のログインとまったく同じように記録されています。怪しいという印はどこにもありません。サーバーから見れば怪しくないからです。田中求之さんが指摘したのはこの点です。手がかりになるのはアドレスだけで、それも、利用者がそれぞれどこからログインするかを知っている管理者にしかわかりません。

# %% [markdown]
# ## 推測者のいる 1 日
#
# 今度はサイトの 1 日をまるごとシミュレーションします。bob と alice はいつもどおりメールを読み書きし、取引先 2 か所からメールが届きます。そして午前 2 時 25 分から、203.0.113.226 の推測者がアカウントを順番に試します。まずアカウント名と同じパスワード (kazu さんが挙げた手口)、次によく使われるパスワード 4 つを、2 分に 1 回のペースで試します。(この 1 日の流れ、利用者、推測者の試すパスワードの一覧は simlab が決めたものです。スレッドには時刻も回数も出てきません。)

# %%
day = simlab.run(simlab.scenarios.wrong_password(), seed=1)
print({key: day.summary[key] for key in ("login_failures", "accounts_compromised", "logins_ok")})
for line in day.log:
    if "203.0.113.226" in line or "wrong password" in line:
        print(line)

# %% [markdown]
# 一覧を上から読んでみましょう。午前 2 時 25 分から、bob と alice に対する推測が 10 回拒否されています。2 人のパスワードは推測できないものだからです。ところが 2 時 45 分と 2 時 47 分には、`POP3 connection from 203.0.113.226 for webmaster` と `... for info` が記録されています。どちらも最初の 1 回で当たったのです。エラーも警告もありません。最後の行 (午前 6 時 46 分) は、bob 自身の PC (192.0.2.101) からのものです。職員も打ち間違えますし、その行は攻撃の行とまったく同じに見えます。この日のログイン失敗は合わせて 11 回 (推測者が 10 回、bob が 1 回)、職員のログイン成功は 72 回でした。

# %%
[(b.account, b.client_ip, f"{b.time:%H:%M}") for b in break_ins(day)]

# %%
guessing_timeline(day, title="Failed logins per hour: the guesser's burst, a staff typo, two break-ins")

# %% [markdown]
# グラフは 1 時間ごとの回数です。青い線 (凡例「推測者: パスワード誤り」) が推測者のパスワード間違い、赤い線 (「職員: パスワード誤りまたは拒否」) が職員のパスワード間違いと拒否されたログインで、紫の×印 (「侵入」) が 2 件の侵入を示します。
#
# ## 防御策を並べて比べる
#
# スレッドで挙がった防御策は 2 つです。今日のサーバーにはさらに 3 つあります。
#
# * **POP3 への IP Range Restriction** (EIMS 2.1): IP Range Restriction は、接続を許すアドレスの範囲を指定する EIMS 2.1 の設定で、一覧にあるアドレスだけが接続できます。田中求之さんは POP を IP アドレスで制限するよう勧め、EIMS 2.1 の IP Range Restriction はスレッドのあとのほうで名前が出てきます。これを POP3 だけに設定できること、そしてクライアントが `USER` を送る前に `-ERR ... Access denied` と答えることは、simlab のモデル化です。
# * **ルーターでのフィルタリング** (router filter。kazu さんの助言): ルーターが外部からの POP3 のパケットを捨てます。推測者には何の応答も返りません。
# * **アカウントロックアウト** (account lockout): ログインに N 回失敗すると、そのアカウントを 30 分間ロックします (多くのサーバーにある一般的なロックアウトです。30 分という値は simlab が選んだものです)。
# * **fail2ban** (2004 年に登場したツールで、スレッドよりずっとあとのものです): サーバーのログを読み、同じアドレスから 10 分以内に 5 回失敗すると、そのアドレスをファイアウォールで 10 分間遮断 (BAN) します。これは fail2ban の既定値です (`jail.conf` の `maxretry`、`findtime`、`bantime`)。ここでは LAN を除外リストに入れています。EIMS のログの文言が simlab のものなので、fail2ban がそのログから探すパターンも simlab のものです。
# * **失敗時の遅延** (failure delay): 同じアドレスからのログインが失敗するたびに、応答を返すまでの待ち時間を長くします (2、4、8、15 秒)。これは Dovecot の文書にある認証のペナルティです。Dovecot は今日いちばん広く使われている POP3/IMAP サーバーで、Postfix のサイトでメールをメールクライアントに渡す役目を担うプログラムです。
#
# 下のコードで IP Range Restriction やルーターのフィルタリングに `True` を指定すると、「LAN のみ」 (192.0.2.0/24) という意味になります (グラフの横軸の名前も英語で、IP range: LAN、router: LAN、lockout after 3 などと表示されます)。演習では、代わりに範囲のリストを渡すこともできます。
#
# **予想してみましょう** このうち、2 件の侵入を両方とも防ぐのはどれでしょうか。また、外からメールを読む alice がメールを読めなくなるのはどれでしょうか。

# %%
defences = {
    "none": {},
    "IP range: LAN": {"ip_range_restriction": True},
    "router: LAN": {"router_filter": True},
    "lockout after 3": {"lockout": 3},
    "fail2ban 10 min": {"fail2ban": True},
    "failure delay": {"failure_delay": True},
}
outcomes = {name: simlab.run(guessing_day(**kw), seed=1).summary for name, kw in defences.items()}
plots.compare_bars(outcomes, keys=("accounts_compromised", "legit_logins_refused"),
                   title="What each defence stops, and what it costs")

# %% [markdown]
# 棒グラフからわかること (紫が「侵入されたアカウント」、オレンジが「拒否された職員のログイン」):
#
# * **POP3 を LAN に限る**と (サーバーでもルーターでも)、推測者は完全に締め出されます。しかし、alice はメールを確認するたびに拒否されます。オレンジの棒の 24 回のログイン拒否は、すべて alice のものです。スレッドの助言は、利用者が全員内側にいるサイトには合っていますが、alice は内側にいません。
# * **アカウントロックアウト**は、ここでは何も防げません。推測者が webmaster と info に試す*最初の* 1 回がもう正解で、どのカウンターも 3 に届く前だからです。それどころか、bob と alice に対する間違った推測のせいで、*2 人が*30 分間締め出されます。その 30 分の間にメールを確認すると拒否されます (ログイン拒否 2 回、1 人 1 回ずつ)。アカウント名を知っている人なら誰でも、持ち主をメールから締め出せるのです。kazu さんが侵入より怖いと言った、サービス拒否攻撃 (denial of service) です。
# * **fail2ban** は、既定の 10 分間の遮断 (BAN) では推測者を遅らせるだけです。bob に対する 5 回の失敗のあとで遮断され、戻ってきて、alice に対する失敗のあとでまた遮断されます。そして webmaster と info には、fail2ban がないときより 40 分遅れて (午前 3 時 25 分と 3 時 27 分に) 入り込みます。
# * **失敗時の遅延**は、間違った推測の 1 回 1 回を遅くします。正しい推測を遅くすることはできません。
#
# このうち 2 つを詳しく見ましょう。まずアカウントロックアウトです。推測者の失敗で bob と alice のアカウントがロックされ、推測者の次の試行は門前払いになります (`blocked`)。ロックが続いている間は、持ち主のログインも同じく拒否されます。それでも webmaster と info は破られます。下の出力の 1 行目は、拒否された職員のログイン (staff refused) と侵入されたアカウント (broken into) です。その下の行から、それぞれのロックがいつ誰を締め出したかがわかります。行末の「the guesser」は推測者、「the account's owner」はアカウントの持ち主です。

# %%
locked = simlab.run(guessing_day(lockout=3), seed=1)
print("staff refused:", dict(staff_refusals(locked)), "- broken into:", [b.account for b in break_ins(locked)])
for line in locked.log:
    if "blocked" in line:
        who = "the guesser" if "203.0.113.226" in line else "the account's owner"
        print(f"{line}   <- {who}")

# %% [markdown]
# ## 試してみよう: パスワード実験パネル
#
# パネルでは、チェックを入れた防御策で同じ 1 日を実行します。「POP3 を許可するアドレス」の欄は、IP Range Restriction とルーターのフィルタリングの両方が通すアドレスの一覧です。範囲 (`A-B`)、CIDR ブロック (`192.0.2.0/24` なら「192.0.2 で始まる 256 個のアドレス」)、個々のアドレスを、カンマで区切って書きます。サーバーのメニューには今日のサーバーもあります。POP3 に Dovecot が答える Postfix と Exim です (Exim は自前の POP3 サーバーを持たないので、Postfix と同じく Dovecot と組み合わせています)。試してみること:
#
# 1. IP Range Restriction にチェックを入れます。拒否されるのは誰で、なぜでしょうか。
# 2. fail2ban にチェックを入れ、「1 時間ごとのログイン失敗」のタブを開きます。推測者はいつ遮断され、いつ戻ってくるでしょうか。
# 3. アカウントロックアウトにチェックを入れ、ロックするまでの失敗回数を 1 にします。推測者はまだ入り込めるでしょうか。ほかに締め出されるのは誰でしょうか。
# 4. fail2ban を有効にしたまま、推測の間隔を 600 秒 (10 分に 1 回) に延ばします。どうなるでしょうか。
# 5. どのパスワードもアカウント名と同じにしない、という項目にチェックを入れ、ほかのチェックはすべて外します。
# 6. 制限のどちらかにチェックを入れた状態で、「POP3 を許可するアドレス」の欄に `192.0.2.0/33` と入力し、表示されるメッセージを読みます。
#
# タブは左から順に、結果 (侵入されたアカウントなどの集計)、1 時間ごとのログイン失敗、サーバーのログ、推測者の対話です。ログイン失敗のタブは 1 日をタイムラインとして描きます。サーバーのログのタブでは、拒否されたログインが赤で示されます。推測者の対話のタブには、拒否された推測の 1 つと、成功した推測があればその 1 つが表示されます。

# %%
password_lab()

# %% [markdown]
# ## 演習
#
# **EIMS 2.1 で**防御策を選び、どのアカウントも破られず、*しかも* bob (LAN 上) と alice (外出先の 198.51.100.77) の 2 人とも 1 日中メールを読めるようにしてください。パスワードは今のままです。webmaster のアカウントはスクリプトが使っていて、そのスクリプトを今日すぐに直せる人がいないからです。(POP3 への EIMS 2.1 の IP Range Restriction は、上で説明した simlab のモデルどおりに働きます。)
#
# 下のセルの `check_no_break_in(lockout=3)` の引数を、自分の選んだ防御策に書き換えて実行します。防御策はキーワード引数で渡します。名前は `guessing_day` と同じで、`ip_range_restriction=[...]`、`router_filter=[...]`、`lockout=N`、`fail2ban=True`、`bantime=秒数`、`failure_delay=True` です。チェッカーは、破られたアカウントとその接続元のアドレス、メールを読めなかった人を教えてくれます。合格したら、`guesser_ips=20` を付けてもう一度試してみましょう。その答えはまだ通用するでしょうか。

# %%
from simlab.exercises.password import SOLUTION, check_no_break_in  # noqa: E402

check_no_break_in(lockout=3)  # replace with your defences

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## 演習のあとで: アドレスをたくさん持つ推測者
#
# fail2ban は失敗を*アドレスごとに*数えます。多数のアドレスを使える推測者は、どのアドレスも 5 回に届かないように推測を分散させます。**予想してみましょう** 遮断を 1 日にして、推測者のアドレスが 20 個あるとき、破られるアカウントはいくつでしょうか。

# %%
pooled = simlab.run(guessing_day(fail2ban=True, bantime=86400, guesser_ips=20), seed=1)
print("bans:", pooled.summary["bans"], "- broken into:", [(b.account, b.client_ip) for b in break_ins(pooled)])

# %% [markdown]
# 5 回失敗したアドレスは 1 つもないので、どのアドレスも遮断されず (bans: 0)、推測者は 203.0.113.159 と 203.0.113.160 から入り込みました。fail2ban 自身の README にも同じことが書かれています。fail2ban は推測のペースを落とすものであって、弱いパスワードを安全にするものではありません。

# %% [markdown]
# ## 今日に通じること
#
# * 「wrong password」の行は、拒否されたログインの記録です。数える価値はありますが、侵入ではありません。侵入とは、その利用者が使うはずのないアドレスからの*成功した*ログインです。探すべきはそちらです。
# * 弱いパスワード、とりわけアカウント名そのもののパスワードこそが本当の穴です。サーバーの設定でそれを完全に補うことはできません。
# * ログインを受け付けるサービスには、そもそも誰が接続できるかを制限しましょう (VPN、ファイアウォール、`login_trusted_networks`)。そして、外にいる利用者のことも考えておきましょう。
# * アカウントロックアウトは、パスワード推測を自分の利用者へのサービス拒否攻撃に変えてしまいます。fail2ban は推測者を遅らせますが、多数のアドレスを使う推測者にはすり抜けられます。どちらも壁ではなく、減速帯として使いましょう。
# * POP3 の `USER`/`PASS` は、パスワードを平文で送ります。経路上にいる人なら誰でも読めます。
# * 今日では、POP3 と IMAP は TLS で保護した接続だけで使い、現代的な認証 (アプリパスワード、OAuth、クライアント証明書) を組み合わせ、普段と違う場所からのログインには警告を出すようにします。
