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
# # 04 · 厳しすぎる SMTP の IP Range Restriction (S5)
#
# **学習目標**
#
# * 25 番ポートに「誰が接続してよいか」を絞る制限が、なぜサイト*宛て*のメールまで止めてしまうのかを説明できる。サーバーは接続の時点で、相手が何をしたいのかを知る前に拒否してしまうからです。
# * 拒否の応答 (`554 ... Access denied`) を SMTP の対話とサーバーのログから読み取り、それが 1 日続くと何が失われるかを数えられる。
# * この制限を正しく働かせる唯一の方法を実際に試せる。上流のプロバイダーにサイトのメールをまず受け取ってもらい、そのプロバイダーのアドレスだけを通す、という方法です (どちらの考え方もすぐ下で説明します)。
#
# **まず用語を 2 つ説明します。**
#
# * **MX レコード** (mail exchanger、RFC 5321 §5.1) は、あるドメイン宛てのメールをどこへ配送 (delivery) すればよいかを、ほかのメールサーバーに教える DNS の登録情報です。`bob@example.com` 宛てのメールを送ろうとするサーバーは、`example.com` の MX レコードを引き、そこに書かれたサーバーへ接続します。
# * **上流プロバイダーによるスプール**: MX レコードに、サイト自身のサーバーではなくプロバイダーのメールサーバーを書いておく方法です。プロバイダーはメールを受け取ると、いったん自分のキュー (queue: 送信待ちのメールの置き場。スプール (spool) とも呼びます) に保管し、それからサイトのサーバーへ転送します。こうすると、どのメールもただ 1 つのアドレス、つまりプロバイダーのアドレスからサイトに届くようになります。
#
# **スレッドのあらすじ** 1998 年 6 月 15 日 (14:35)、参加者のたまちゃんさんが EIMS 2.x で気づいたことを報告しました。SMTP に *IP Range Restriction* (接続を許す IP アドレスの範囲を指定する EIMS の設定) をかけると、範囲外からはサーバー経由でメールを送れなくなる。それはよいとしても、範囲外のアドレスからはメールを受け取ることもできなくなっているようだ、というのです。マニュアルではこの設定がサーバーを通して送るメールの制限として説明されていたので、たまちゃんさんは送信側だけにかかる制限だと受け取っていました。1 時間ほど後 (15:39)、この会議室を主宰する田中求之さんが、SMTP に IP Range Restriction を設定するとそのとおりになる、と答えました。田中さん自身もこの制限を使っていました。田中さん宛てのメールは大学のメールサーバーから、田中さんのメールボックスを置いたサーバーへ転送される仕組みなので、範囲に入れておくべきアドレスはその 1 つだけで足りたのです。けれどもサイトのメインのメールサーバーで SMTP に範囲の制限をかけたら、サーバーとして役に立たなくなる、と田中さんは続けます。例外は上流のプロバイダーがメールをスプールしてくれる場合で、それなら DNS の MX レコードでプロバイダーのメールサーバーを指定し、範囲ではそのサーバーのアドレスだけを通せばよい、というのが田中さんの説明です。なお、スレッドには「EIMS 2.x」とありますが、この教材ではスレッドのほかの管理者たちが使っていた EIMS 2.1 をモデルにしています。
#
# **ここで使うアドレス** (スレッドに出てくるものの代わりに、文書用のアドレスを使います):
#
# | ここでは | スレッドでは |
# |---|---|
# | `example.com` | サイトのドメイン (mail.mycompany.co.jp) |
# | `mail.example.com`、192.0.2.25 | サイトの EIMS 2.1 サーバー |
# | 192.0.2.1-192.0.2.254 | サイト自身のネットワーク。管理者が許可した範囲 |
# | `mx.provider.test`、198.51.100.25 | 上流プロバイダーのメールサーバー (田中さんの場合は大学のサーバー) |
# | `mail.remote.test`、198.51.100.90 | 取引先 carol のメールサーバー (スレッドには出てこない) |
# | `mail.yourcompany.test`、198.51.100.80 | もう 1 つの取引先のメールサーバー (mail.yourcompany.co.jp) |
# | 203.0.113.50 | `MAIL FROM:<Postmaster@example.com>` と名乗って送ってくる部外者 (S4 の手口) |

# %%
# %matplotlib inline
import simlab
from simlab import plots
from simlab.exercises.iprange import ip_range_day, refused_at_connect
from simlab.ui.iprange import ip_range_lab, mail_paths_figure

# %% [markdown]
# ## 拒否される接続
#
# ここで使う EIMS 2.1 は、Relay Restriction をオンにし、SMTP にはサイトのネットワークだけを許す IP Range Restriction をかけています。Relay Restriction は、どのドメインのメールなら中継 (relay: よそのドメイン宛てのメールを受け取って先へ送ること) するかを決める EIMS の設定です。まず LAN にいる職員 (出力では `staff`) が接続し、次に取引先のメールサーバー (`correspondent`) が*ローカルユーザー宛て*のメールを持って接続します。`closed by the server` は、サーバーの側で接続を切ったかどうかです。セルを実行する前に**予想してください**: サーバーは取引先に何と答えるでしょうか。それはどのコマンドの時点でしょうか。

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
# 拒否は挨拶 (greeting: 接続した直後にサーバーが送る最初の応答) の時点、つまり `HELO` より前に返ってきます。取引先は `RCPT TO:<bob@example.com>` を送るところまで進めません。接続の時点で働く制限には、bob *宛て*に配送してくるサーバーと、サイトを*経由して*中継しようとする迷惑メール (スパム、spam) の送信者とを見分けようがありません。判断の手がかりは接続元のアドレスしかないからです。マニュアルの説明 (サーバーを通して送るメール) が表しているのは、管理者がこの設定で何をしたかったかであって、設定が実際に何を調べるかではありません。
#
# 根拠について: 範囲外からの接続がすべて拒否されるという点は、スレッドで明らかになったことです (たまちゃんさんの報告と、それを認めた田中さんの回答。1998 年 6 月 15 日)。拒否の文言は simlab のモデル化による選択です。スレッドには接続が拒否されたことしか書かれておらず、EIMS が実際に返した文言は記録に残っていません。simlab は `554` を返します。RFC 5321 (§3.1、§4.2.3) が、挨拶で「ここでは SMTP サービスを提供しない」と伝えるサーバーに割り当てているコードです。
#
# ## 範囲制限をかけた 1 日
#
# 今度は 1 日をまるごとシミュレーションします。bob は LAN でメールを送受信し、alice は外部から自分のメールを読みます (ここでは POP3 は制限していません)。carol のサーバーと yourcompany のサーバーは職員宛てのメールを配送してきます。出力ではそれぞれ `carol's MTA`、`yourcompany's MTA` と表示されます。MTA (mail transfer agent、メール転送エージェント) とは、EIMS や Postfix のように、サイトからサイトへメールを受け渡すサーバープログラムのことです。さらに迷惑メール送信者が、レッスン 03 で見た Postmaster へのなりすまし (spoofing) の手口を 10 回試みます。
#
# 出力の `legit_delivered` は届いた正規のメール (legitimate mail) の数、`legit_refused` は失われた正規のメールの数、`spam_relayed` と `spam_refused` は中継された迷惑メールと拒否された迷惑メールの数です。`refused at connect` の行は、接続の時点で拒否された相手とその回数です。**予想してください**: 2 つの取引先が今日送るメールのうち、何通が届くでしょうか。

# %%
strict = simlab.run(ip_range_day(["192.0.2.1-192.0.2.254"]), seed=1)
print({k: strict.summary[k] for k in ("legit_delivered", "legit_refused", "spam_relayed", "spam_refused")})
for who, address, n in refused_at_connect(strict):
    print(f"refused at connect: {who:20} {address:15} {n} times")
print()
print("\n".join([line for line in strict.log if "refused" in line][:6]))

# %% [markdown]
# 1 通も届きません。carol の 21 通も yourcompany の 14 通もすべて `554` を受け、どちらのサーバーもただちにメールを送信者に差し戻しました (送信者にはエラーメール (bounce) が届きます)。メール 1 通につき、拒否された接続が 1 回です。このモデルでは、取引先の MTA は挨拶での `554` を最終的な拒否として扱います。これは RFC 5321 での `554` の意味 (「ここでは SMTP サービスを提供しない」、つまり再試行しても無駄) に従った simlab の選択です。実際の Postfix なら、このサーバーをいったん飛ばしてメールをキューに残し、後で再送します。このあと登場するプロバイダーがそうです。届いた 13 通は bob が外部へ送ったメールです。範囲制限は bob を通すからです。10 通の迷惑メールも拒否されました。この制限は確かに迷惑メール送信者を止めますが、その代わりにサイトに届くはずのメールを犠牲にしているのです。
#
# 図はこの日の SMTP 接続を表しています。取引先のサーバーはそれぞれ自分のアドレスからサイトに接続し、どれも挨拶の時点で追い返されています。図の `220` は受け入れの挨拶、`554` は拒否の応答で、矢印の上の数字は接続の回数です。

# %%
mail_paths_figure(strict)

# %% [markdown]
# ## 解決策: MX をプロバイダーに向ける
#
# 田中さんが示した抜け道がこれです。ドメインの MX レコードにプロバイダーのサーバー `mx.provider.test` を書いておくと、取引先はメールをプロバイダーに渡し、プロバイダーはそれをスプールしてから、*ただ 1 つの*アドレスでサイトへ転送します。**予想してください**: MX はプロバイダーに向けたものの、範囲制限は元のままにしておいたとします。サイトに届くはずのメールはどうなるでしょうか。

# %%
forgot = simlab.run(ip_range_day(["192.0.2.1-192.0.2.254"], mx_via_provider=True), seed=1)
print("MX:", forgot.world.dns.mx["example.com"])
print({k: forgot.summary[k] for k in ("legit_delivered", "legit_refused", "spam_relayed")})
for who, address, n in refused_at_connect(forgot):
    print(f"refused at connect: {who:26} {address:15} {n} times")

# %% [markdown]
# 取引先はプロバイダーへ問題なく配送できるようになりましたが、今度はそのプロバイダーが拒否されます。しかも上で見た取引先のサーバーと違って、プロバイダーは最初の `554` では*諦めません*。プロバイダーは Postfix を使っており、実際の Postfix は、挨拶で 5xx を返すサーバーを「今は飛ばしておく」相手として扱います (`smtp_skip_5xx_greeting = yes`、postconf(5))。メールはキューに残り、後で再送されます。simlab のプロバイダーは、Postfix 自身のキューの既定値 (postconf(5) と qmgr(8)) に従います。最初の再送は `minimal_backoff_time` (300 秒) 後で、待ち時間は前回の 2 倍ずつ延び、`maximal_backoff_time` (4000 秒、約 67 分) で頭打ちになります。メッセージは `maximal_queue_lifetime` (5 日) の間保管され、その後で送信者に返されます。2 つのふるまいを並べて、メールがどうなったかを見てみましょう。出力の 1 行目は MX がサイトを指す厳しい範囲制限 (取引先の MTA が拒否された回数と、そのメールの通数)、2 行目は MX をプロバイダーに向けた場合 (プロバイダーが拒否された回数と、再送の間隔と期間) です。続く 2 行は、プロバイダーのキューの設定と、35 通のその後 (送信者に返された数と、1 日の終わりにまだキューにある数) を示します。

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
# 35 通のうち、今日のうちに送信者へ返されたものは 1 通もありません。5 日はシミュレーションの 1 日よりずっと長いので、1 日が終わった時点で 35 通すべてがまだプロバイダーのキューにあり、何度も再送されています。拒否された接続は全部で 487 回です。厳しい範囲制限だけのときは 35 通が失われたのに、この実行で失われた正規のメールが 0 通と数えられるのはこのためです。といっても、メールが届いたわけではありません (届いた 13 通は、前と同じく bob のものだけです)。まだ送信者に返されていないだけです。このまま放っておけば、プロバイダーは 5 日間再送を続けたあげく、すべてのメールを返送します。その間、取引先には何の異常も見えません。メールがただ届かないだけです。
#
# どちらも同じ 35 通なのは、このレッスンの実行がすべて `seed=1` を使い、simlab が各アクター (actor: シミュレーションに登場する人やサーバー) の選択をそれぞれ専用の乱数列から引いているからです。シード (seed: 乱数の出発点となる値) が同じなら、サーバーの設定を変えても、取引先の 1 日 (誰が、いつ、誰に送るか) はそっくりそのままです。違うのはサーバーの応答だけです。
#
# ## 演習
#
# 範囲制限が取引先を拒否し、次にプロバイダーを拒否するところを見てきました。**正規のメールを 1 通も失わず、迷惑メールを 1 通も中継しない**ように、範囲と MX を選んでください。チェッカーには、EIMS の from-to 形式の入力欄に打ち込むのと同じ書き方で範囲を渡します。複数の範囲はカンマで区切ります。例: `check_ip_range("192.0.2.1-192.0.2.254", mx_via_provider=False)`。チェッカーは、接続の時点で拒否された取引先をアドレスと回数つきで一つひとつ挙げ、通り抜けた迷惑メールがあればそれも知らせます。下のセルに書いてあるのは管理者の最初の試みです。これが合格するように書き換えてください。続きを読む前に試しましょう。次の節では答えを実行します。

# %%
from simlab.exercises.iprange import SOLUTION, check_ip_range  # noqa: E402

check_ip_range("192.0.2.1-192.0.2.254", mx_via_provider=False)  # the admin's first try: make this pass

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## 答えを 1 日通して実行する
#
# 範囲には、サイト自身のネットワークに加えて、プロバイダーも入れなければなりません。

# %%
fixed = simlab.run(ip_range_day(["192.0.2.1-192.0.2.254", "198.51.100.25-198.51.100.25"], mx_via_provider=True),
                   seed=1)
print({k: fixed.summary[k] for k in ("legit_delivered", "legit_refused", "spam_relayed", "spam_refused")})
print("\n".join(fixed.transcript("mx.provider.test (relay)")[:7]))

# %% [markdown]
# この日の正規のメール 48 通がすべて届きます。bob の 13 通と、今度はプロバイダーを経由して届く取引先の 35 通です。10 通の迷惑メールは相変わらず接続の時点で拒否されています。

# %%
mail_paths_figure(fixed)

# %% [markdown]
# 3 つの設定を並べてみましょう。`no IP range` (範囲制限なし) は Relay Restriction だけの状態で、なりすました送信者 `Postmaster@example.com` はこれを素通りします (S4、レッスン 03)。その迷惑メール 10 通はすべて中継されます。`strict range` (厳しい範囲制限) は届くはずの 35 通を失い、`strict range + provider MX` (厳しい範囲制限と、プロバイダーを指す MX) は何も失わず、何も中継しません。

# %%
open_day = simlab.run(ip_range_day([]), seed=1)
plots.compare_bars({"no IP range": open_day.summary, "strict range": strict.summary,
                    "strict range + provider MX": fixed.summary},
                   keys=("spam_relayed", "legit_refused"), title="Spam relayed vs legitimate mail lost, one day")

# %% [markdown]
# ## 試してみよう: IP 範囲の実験パネル
#
# 許可する範囲を EIMS の from-to 形式で入力し (複数ならカンマで区切ります。欄を空にすると制限がオフになります)、MX の向け先と、Relay Restriction をオンにするかどうかを選びます。設定を 1 つ変えると、パネル (panel) に、最初の設定と比べて何を変え、それで何が変わったかを述べる 1 行が加わります。最初の設定は、厳しい範囲制限で MX がサイトを指している状態です。1 日のトラフィックは両方の実行で同じです (同じシードを使い、アクターごとに専用の乱数列から選択を引くため)。ですから、差はすべてあなたの設定によるものです。試してみること:
#
# 1. すべてを許可する: `0.0.0.0-255.255.255.255`。迷惑メールはどこでまた入り込むでしょうか。
# 2. 範囲は変えずに MX をプロバイダーに向けるチェックだけを入れ、「DNS の MX 応答」のタブを読みましょう。比較の行には、失われたメールが減ったと表示されます。そのメールはどこにあるのでしょうか。
# 3. プロバイダーだけを許可する (`198.51.100.25-198.51.100.25`): 今度は誰が拒否されるでしょうか。
# 4. 範囲を逆向きに入力する (`192.0.2.254-192.0.2.1`) か、アドレスを打ち間違えて、表示されるメッセージを読みましょう。

# %%
ip_range_lab()

# %% [markdown]
# ## 今日に通じること
#
# * 25 番ポートに*誰が接続してよいか*を絞るフィルターには、届くメールと中継とを見分けられません。サーバーは宛先 (recipient) を 1 つも見ないうちに判断するからです。中継は、入口を閉ざして止めるのではなく、`RCPT` の段階でクライアントのアドレスかログインを確かめて止めます。Postfix なら `mynetworks` (中継を許すクライアントのネットワーク)、`permit_sasl_authenticated` (SMTP 認証に成功したクライアントを許す)、`reject_unauth_destination` (自分の宛先でなければ拒否する) がそれにあたります (Postfix の postconf(5)。RFC 2505 §2.1 も同じ順序を示しています)。
# * MX レコードに書いたサーバーは、インターネット全体からの接続を受け付けなければなりません。25 番ポートを少数のアドレスに限ってよいのは、受信用のゲートウェイ (メールを受け取って転送してくれるプロバイダーやフィルタリングサービス) の後ろにある場合だけです。そのときの許可リスト (allow-list) は、まさにそのゲートウェイのアドレスです。
# * 外部から送信する職員には、サブミッションポート (submission port、587 番) で SMTP 認証 (SMTP AUTH) を使ってもらいます (RFC 6409)。そうすれば、25 番ポートに「自分たちの」アドレスの一覧はまったく要らなくなります。
