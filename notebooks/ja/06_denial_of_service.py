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
# # 06 · サーバーを落とされる: 接続フラッド
#
# **学習目標**
#
# * 何も送ってこない接続を大量に張る攻撃 (接続フラッド、connection flood。「フラッド」とも言います) が、どこにも侵入せずにメールサーバーを使えなくしてしまう仕組みを説明できる。このようなサービス拒否攻撃 (denial of service、DoS) は、サーバーが同時に相手をできるクライアントの数、つまり*プロセス数の上限* (process limit) を埋め尽くします。
# * それがサーバー本来の利用者に何をもたらすか (失われるメール、拒否されるログイン) を数え、SMTP と POP3 が 1 つの上限を共有しているかどうかがなぜ重要なのかを理解できる。
# * Postfix のクライアントごとの上限 (`smtpd_client_connection_count_limit`) を使い、それにできないこと (多数のアドレスからの攻撃) と、低くしすぎたときの代償 (1 つのアドレスの後ろにいる忙しい送信者) を説明できる。
#
# **スレッドのあらすじ** スレッドは 1998 年 5 月 22 日、EIMS 2.1 の管理者みやむらさんの書き込みで始まりました。ログに `wrong password` の行があるのは、誰かが POP3 サーバーに入り込んだということではないか、と心配したのです。その日の午後のうちに、会議室を主宰する田中求之さんが、この行はサーバーがログインを*拒否した*記録だと答えました (レッスン 01)。2 日後 (1998 年 5 月 24 日 00:47)、kazu さんが実践的な助言を付け加えました。アカウント名と同じパスワードを、アカウントを次々に替えて試していく手口もある。だから POP に限らず、サーバーに用のないネットワークからのアクセスは制限したほうがよい。メールサーバーでできなければルーターで絞ればよい、というものです。そして kazu さんは、このレッスンが取り上げる一言で書き込みを結んでいます。本当に怖いのは、侵入されることよりもサーバーを落とされることのほうだ、と。スレッドではこの話はそれ以上進みませんでした。ここでは、その攻撃を 1998 年当時のサーバーと Postfix の上で実際に再現してみます。
#
# **このレッスンで使う言葉**
#
# * **プロセス数の上限** (process limit): サーバープログラムが同時に相手をできるクライアントの数です。これを超えると、どれかの接続が終わるまで、新しい接続は拒否されます。Postfix の `smtpd` プロセスは 1 つで 1 つの SMTP クライアントを相手にし、Postfix はこのプロセスを最大 `default_process_limit` = 100 個まで動かします (postconf(5))。Postfix と並んで動く POP3 サーバー Dovecot には別の上限があり、その `pop3-login` サービスも同時に相手をするのは最大 100 までです (Dovecot 2.3 の既定値、`doveconf -d`)。
# * **anvil**: Postfix に含まれる小さなサーバー anvil(8) です。クライアントごとのカウンター (各クライアントアドレスが開いている接続の数、直近 1 分間に開いた接続の数) を管理し、`smtpd` が下に挙げる上限と照らし合わせられるようにします。
# * **`smtpd_client_connection_count_limit`**: *1 つのクライアントアドレス*が同時に開いておける接続の数です (postconf(5)。既定値 50)。これを超えたクライアントには `421 4.7.0 <host> Error: too many connections from <address>` が返され、接続が切られます。`smtpd_client_event_limit_exceptions` (既定値は `$mynetworks`、つまりサイト自身のネットワーク) には、この上限をかけないクライアントを並べます。
#
# **ここで使うアドレス** (文書用のアドレスです。スレッドには攻撃者は出てきません):
#
# | ここでは | 何を表すか |
# |---|---|
# | `mail.example.com`、192.0.2.25 | サイトのメールサーバー (スレッドではみやむらさんの EIMS 2.1。ホスト名の記載なし) |
# | 203.0.113.200 - 203.0.113.249 | 攻撃者 (フラッドを仕掛ける者) のアドレス (kazu さんは危険を指摘しただけ) |
# | 192.0.2.101、198.51.100.77 | LAN にいる bob と、外部から自分のメールを読む alice |
# | `mail.remote.test`、198.51.100.90 | 取引先 (carol) のメールサーバー (スレッドには出てこない) |
# | `mail.yourcompany.test`、198.51.100.80 | もう 1 つの取引先のメールサーバー (スレッドの mail.yourcompany.co.jp) |
# | `mx.provider.test`、198.51.100.25 | 上流プロバイダーのメールサーバー (10 本の同時接続でニュースレターを送る) |

# %%
# %matplotlib inline
from datetime import timedelta

import simlab
from simlab import products
from simlab.exercises.flood import ATTACK_START, FLOODER, burst_delivery, flood_day
from simlab.ui.flood import costs_figure, flood_lab, flood_timeline, outcome_line

# %% [markdown]
# ## クライアントごとの上限を手で試す
#
# ここで使うのは、クライアントアドレス 1 つにつき同時に 3 本までしか接続を許さない Postfix サーバーです (`smtpd_client_connection_count_limit = 3`。既定値は 50)。攻撃者は接続を次々に開き、何も送りません。セルを実行する前に**予想してください**: 4 本目の接続には何が返ってくるでしょうか。同じ瞬間に別のアドレスから来た接続にはどうでしょうか。

# %%
pf = simlab.presets.postfix(mydestination=["example.com"], mynetworks=["192.0.2.0/24"],
                            smtpd_client_connection_count_limit=3)
held = [pf.smtp_session(client_ip="203.0.113.200") for _ in range(3)]
fourth = pf.smtp_session(client_ip="203.0.113.200")
other = pf.smtp_session(client_ip="198.51.100.90")
print("connections 1-3:", held[0].greeting)
print("connection 4:   ", fourth.greeting)
print("another address:", other.greeting)
print("\n".join(line for line in pf.log if "limit" in line or "reject: CONNECT" in line))

# %% [markdown]
# この上限は*クライアントアドレスごとに*接続を数え、ほかの誰にも手を出しません。この性質は、攻撃者が 1 つのアドレスから来るときには強みに、多数のアドレスを持つ攻撃者に対しては弱みになります。(応答とログ行は Postfix の `smtpd` のソースに従っています。simlab の Postfix は `warning: Connection concurrency limit exceeded` の行も Postfix と同じように書きます。)
#
# 1998 年の Mac のサーバーには、このような設定はありませんでした。あったのは、同時に相手をできる接続の数の小さな上限だけで、それを超えた新しい接続はただ拒否されます。以下は、プログラムごとの simlab の上限です。Postfix の値は実際の `default_process_limit`、Dovecot の値は実際の `pop3-login` の既定値、Exim の値は実際の `smtp_accept_max` (Exim の仕様書) です。Mac のサーバーの値は、simlab のモデル化による選択です。表にはもう 1 つ、モデル化による選択が表れています。EIMS と SIMS は SMTP と POP3 を**1 つの**接続の枠 (プール) でまかないます (1 台の Mac の上の 1 つのプログラムだからです)。一方 Postfix と Exim では、POP3 は Dovecot が受け持ち、別の上限を持っています。出力の `one pool for SMTP and POP3` は「SMTP と POP3 で 1 つの枠」、`connections at once` は「同時に相手をできる接続の数」の意味です。

# %%
for product in products.PRODUCTS.values():
    pools = product.service_limits
    if len(pools) == 1:
        print(f"{product.label:12} one pool for SMTP and POP3: {pools[0].limit:3} connections at once")
    else:
        print(f"{product.label:12} " + ", ".join(f"{'+'.join(pool.services).upper()} ({pool.program}) {pool.limit}"
                                                   for pool in pools) + " connections at once")

# %% [markdown]
# ## フラッドを受ける 4 時間
#
# このレッスンの 1 日は 4 時間です。bob と alice はメールを読み書きし、2 つの取引先がおよそ 10 分ごとに配送 (delivery) してきます。開始から 30 分たつと、プロバイダーが 10 本の接続を同時に使ってニュースレターを届けます。開始 1 時間後から 3 時間後まで、1 つのアドレスが、何も送ってこない接続を 150 本開いたままにしようとします。サーバーは 5 分間何も送ってこない接続を閉じます (Postfix の `smtpd_timeout` の既定値 300 秒。simlab はどの製品にも同じ値を使います。これはモデル化による選択です)。すると攻撃者はすぐに新しい接続を開きます。サーバーに拒否された接続は、10 分後にもう一度試みます。(下の出力の 1 行目は、実行の開始、フラッドの始まりと終わり、実行の終わりの時刻です。グラフやログの時刻もこれに対応しています。)
#
# 続く行には製品ごとに、届いたメール (`mail delivered`)、失われたメール (`lost`)、拒否された職員のログイン (`staff logins refused`)、拒否された正規の接続 (`legitimate connections refused`) と、拒否された攻撃者の接続 (`the flooder's`) の数が並びます。ここで「正規の」 (legitimate) とは、攻撃者以外の利用者や取引先によるものを指します。
#
# **予想してください**: EIMS 2.1、SIMS、Postfix (クライアントごとの上限 50) のうち、メールを失うのはどれでしょうか。また、職員が自分のメールを読めなくなるのはどれでしょうか。

# %%
one_address = {preset: simlab.run(flood_day(preset, connections=150, flooder_ips=1), seed=1)
               for preset in ("eims-2.1", "sims", "postfix")}
day = one_address["eims-2.1"]
flood_times = day.events[day.events.actor == FLOODER].time
print(f"the run starts at {day.start:%H:%M}, the flood lasts from {day.start + timedelta(seconds=ATTACK_START):%H:%M}"
      f" to {flood_times.max():%H:%M}, the run ends at {day.start + timedelta(seconds=day.world.loop.now):%H:%M}")
for preset, day in one_address.items():
    print(f"{preset:9}", outcome_line(day))

# %%
costs_figure(one_address, title="A one-address flood of 150 connections, two hours")

# %% [markdown]
# EIMS 2.1 と SIMS が同時に相手をできるクライアントは、それぞれ 20 と 30 です。フラッドがその枠をすべて占め、次に来た者は誰であれ拒否されます。どちらでも、正規の接続が 111 回拒否されました。1 つの枠で SMTP だけでなく POP3 もまかなっているので、メールを読もうとした職員もほかの接続と一緒に拒否されます。どちらでも 6 回のログイン (bob と alice のもの) が拒否され、取引先のメールが 10 通ずつ失われました。(SIMS では 11 通と数えられます。11 通目は alice のもので、フラッドがあってもなくても拒否されます。SIMS は Client Hosts (中継を許すクライアントの一覧) にあるクライアントにしか中継 (relay) せず、alice は外部から送っているからです。レッスン 05 を参照。) Postfix は 1 つのアドレスに、100 個ある `smtpd` の枠のうち 50 個までを使わせ、攻撃者の残り 100 本の接続には `421 4.7.0 ... Error: too many connections` と答えます。攻撃者が何度も接続し直すので、その数は 2 時間で 1200 回になります。残りの 50 個の枠は空いたままで、ほかの誰も拒否されません。
#
# 次は EIMS の 1 日のタイムラインで、棒 1 本が 10 分を表します。オレンジの棒は拒否された正規の接続 (大半は取引先の再送)、赤い棒は失われたメール、濃い赤の棒は拒否された職員のログインです。破線は攻撃者自身の拒否された接続を数えています (右側の目盛り)。simlab の取引先は、拒否された配送を 10 分ごとに再送し、6 回再送したら、つまり最初の拒否から 1 時間たったらあきらめます。だから赤い棒は、フラッドが始まって 1 時間たってから現れます。このせっかちさはモデル化による選択で、4 時間のうちに損失が見えるようにするためのものです。実際の Postfix はメッセージを最大 5 日間キュー (queue) に保管する (`maximal_queue_lifetime`、postconf(5)) ので、現実には、このメールの多くは失われるのではなく遅れて届くことになるでしょう。bob と alice のメールソフトには、そうして待つ仕組みもありません。ただエラーを表示しただけです。

# %%
flood_timeline(one_address["eims-2.1"], title="EIMS 2.1 under a one-address flood")

# %% [markdown]
# その 2 時間の間に、EIMS の管理者にはログに何が見えたでしょうか。**予想して**から数えてみましょう。

# %%
for preset, day in one_address.items():
    flood_end = (day.events[day.events.actor == FLOODER].time.max() - day.start).total_seconds()
    during = [line for t, line in day.server.log_records if ATTACK_START <= t <= flood_end]
    print(f"{preset:9} {len(during):6} log lines during the flood", during[:1])

# %% [markdown]
# EIMS と SIMS では何もありません。何も送ってこない接続は、これらのログに行を残しません (スレッドに出てくるログのスタイルに合わせた、simlab のモデル化です)。プロセス数の上限で拒否された接続は、そもそもメールサーバーまで届きません。管理者は、攻撃のことを利用者から聞いて初めて知ることになります。Postfix はすべての接続を記録します。上で数えたとおり、2 時間で 8538 行です。そして `too many connections from 203.0.113.200` とはっきり書きます。

# %% [markdown]
# ## 多数のアドレスから
#
# クライアントごとの上限 50 は、枠が 100 個のサーバーを 1 つのアドレスから守ります。**予想してください**: 同じ 150 本の接続を 3 個、10 個、50 個のアドレスに分けたらどうなるでしょうか。bob と alice は、それでも自分のメールを読めるでしょうか。

# %%
spread = {f"{n} address{'es' if n > 1 else ''}": simlab.run(flood_day("postfix", 150, n), seed=1)
          for n in (1, 3, 10, 50)}
for label, day in spread.items():
    print(f"{label:12}", outcome_line(day))
costs_figure(spread, title="Postfix (limit 50 per client, 100 at once) against 150 connections")

# %% [markdown]
# アドレスが 3 個以上になると、どのアドレスもクライアントごとの上限を下回ったまま、合わせてサーバーの 100 個の `smtpd` の枠を埋めてしまいます。取引先の接続は 105 回拒否され、メールは 10 通失われます。どちらも EIMS と同じ数です。けれどもログインは 1 回も拒否されません。Dovecot の `pop3-login` には別に 100 個の枠があり、SMTP のフラッドはそこには手を出さないので、bob と alice はその間もずっとメールを読めます。多数のアドレスからのフラッドには、アドレスごとのルールはどれも役に立ちません (今日のボットネット (botnet) は何千ものアドレスを持っています)。必要なのは、処理能力、上流でのフィルタリング、あるいはプロバイダーの助けです。
#
# プロセス数の上限を大きくすれば、EIMS を救えるでしょうか。枠を 200 個にしてみます。

# %%
for connections in (150, 400):
    day = simlab.run(flood_day("eims-2.1", connections, 1, process_limit=200), seed=1)
    print(f"EIMS 2.1 with 200 slots, flood of {connections}:", outcome_line(day))

# %% [markdown]
# サーバーを大きくすれば、攻撃のハードルは上がります。150 本のフラッドでは、今度は何も失われません。しかし攻撃者は、接続をもっと開くだけで済みます。400 本になると、損失が戻ってきます。
#
# ## 低すぎる上限
#
# クライアントごとに 50 がよいのなら、1 ならもっとよいのでしょうか。1 でも攻撃者は止められます。**予想してください**: ほかに誰が止められてしまうでしょうか。

# %%
for limit in (50, 5, 1):
    day = simlab.run(flood_day("postfix", 150, 1, connection_limit=limit), seed=1)
    refused, minutes = burst_delivery(day)
    late = f"its last part {minutes:.0f} min late" if refused else "all at once"
    print(f"limit {limit:2}: mail lost {day.summary['legit_refused']}, provider refused {refused:2} times, "
          f"newsletter delivered {late}")
print(next(line for line in day.log if "198.51.100.25" in line and "limit exceeded" in line))
print(next(line for line in day.log if "198.51.100.25" in line and "reject: CONNECT" in line))

# %% [markdown]
# プロバイダーのサーバーは、忙しいメールサーバーがそうするように、10 本の接続を同時に使ってニュースレターを配送します (Postfix 自身の `smtp` クライアントは、1 つの宛先サイトに最大 `default_destination_concurrency_limit` = 20 本の接続を開きます。postconf(5))。上限が 1 だと、10 回のうち 9 回は `421` を受け、何度も出直さなければなりません (simlab のプロバイダーは 5 分ごとに再送します)。拒否は 45 回に及び、ニュースレターの最後の部分は 45 分遅れて届きます。ここでの代償は、損失ではなく遅延です。1 つの NAT アドレス (オフィス全体で共有する 1 つの公開アドレス) の後ろにいる 30 人のオフィスが、朝 9 時にいっせいにメールを送ると、同じ壁にぶつかります。しかもこちらは再送してくれるサーバーではないので、メールソフトが利用者にエラーを表示してしまいます。
#
# ## 試してみよう: 接続フラッドの実験パネル
#
# 設定を変えると、パネル (panel) に 1 行が加わり、あなたの実行を、同じサーバー、同じプロセス数の上限、同じシード (seed) でのパネルの最初の攻撃 (1 つのアドレスから 150 本の接続、クライアントごとの上限 50) と比べてくれます。ほかの全員の 1 日は両方の実行で同じなので、その行が示すのは、あなたの変更が引き起こしたことだけです。試してみること:
#
# 1. EIMS 2.1: フラッドの接続が何本になると、メールが失われるでしょうか (プロセス数の上限は 20 です)。
# 2. Postfix: クライアントごとの上限を 0 (上限なし) に、次に 100 にしてみる。
# 3. 攻撃者のアドレスを 10 個にした Postfix: 今度はどの上限が役に立つでしょうか。職員のログインに影響は出るでしょうか。
# 4. EIMS 2.1 でプロセス数の上限を上げてから、製品を切り替えてみる。プロセス数の上限は製品に合わせて変わります。
#
# 攻撃を時間を追って見るには、「タイムライン」のタブを開きます。

# %%
flood_lab()

# %% [markdown]
# ## 演習
#
# Postfix で、`smtpd_client_connection_count_limit` とプロセス数の上限を選んでください。条件は、フラッドを仕掛けるアドレスが 1 つのとき、**攻撃者がいくつ接続を開いても、正規のメールを 1 通も失わず、正規の接続を 1 回も拒否させない**ことです。しかも、プロバイダーのニュースレターは待たされずにそのまま入らなければなりません。チェッカーは 150 本のフラッドを実行します。1 つのアドレスがすべての枠を奪うのを止めるものが何もない場合は、そのアドレスから (プロセス数の上限 + 50) 本のフラッドも実行します。攻撃者はいつでも接続を増やせるからです。チェッカーは、シミュレーションの 1 日だけでなく、上限そのものも判定します。1 つのアドレスに、ほかの全員のために残しておく枠より多くの枠を握らせる上限は、シミュレーションの 1 日でたまたま何も失われなくても不合格です。静かな 1 日は、残った枠でサイトの忙しい時間帯をまかなえることの証明にはならないからです。
#
# 同僚の 1 人は、プロバイダーが決して拒否されないようにと、すでに「上限なし」を試しました。もう 1 人は「上限なし」のまま、枠が 300 個のサーバーを買いたいと言っています (`check_flood_limits(connection_limit=0, process_limit=300)`)。こちらも試してみましょう。下のセルはクライアントごとの上限なしの状態です。これが合格するように値を変えてください。

# %%
from simlab.exercises.flood import SOLUTION, check_flood_limits  # noqa: E402

check_flood_limits(connection_limit=0, process_limit=100)  # no per-client limit: make this pass

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## 今日に通じること
#
# * 可用性 (availability) もセキュリティの一部です。kazu さんが指摘したのはそこです。何も送ってこない接続で埋め尽くせるサーバーは、パスワードがなくても、誰にでも落とされてしまいます。
# * サービスごとに別々の上限を持たせましょう。Postfix と Dovecot なら、SMTP のフラッドは `smtpd` の枠を埋めても `pop3-login` の枠には手を出しません。1 つの枠ですべてをまかなっていると、1 つのフラッドがすべてを奪います。
# * Postfix は anvil を通して、クライアントごとに制限をかけます。`smtpd_client_connection_count_limit` (同時接続数。既定値 50) と、レート制限 (rate limit) の `smtpd_client_connection_rate_limit` (1 分あたりの新しい接続の数。既定値 0 で上限なし) があり、`smtpd_client_event_limit_exceptions` (既定値 `$mynetworks`) で自分たちのネットワークを対象から外します (postconf(5))。負荷が高いときは、タイムアウトを短くすると枠が早く空きます (`smtpd_timeout` をはじめ、プロセス数の上限に達したときに Postfix が短くする設定。STRESS_README)。また `postscreen(8)` は、外から来る SMTP 接続をすべて最初に受け取り、検査に通ったクライアントだけを `smtpd` プロセスに渡せる単一の Postfix プロセスです。これを使うと「ゾンビ」クライアントを `smtpd` の枠から遠ざけられます。何も送ってこないクライアントが使うのは postscreen の安上がりな接続 1 本で、`smtpd` プロセス 1 つ分ではありません (POSTSCREEN_README)。simlab は、負荷が高いときの設定も postscreen もモデル化していません。
# * アドレスごとの上限は多数のアドレスには効かず、低すぎれば忙しい正規の送信者 (プロバイダーのサーバー、NAT の背後のオフィス) まで拒否してしまいます。大規模なフラッドは、手元に届く前に止めるものです。処理能力、上流でのフィルタリング、プロバイダーの助けがそのための手段です。
