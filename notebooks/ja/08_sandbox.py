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
# # 08 · サンドボックス: 自分のサーバー、自分の攻撃者、自分の防御
#
# **学習目標**
#
# * 自分だけの 1 日をコードで組み立てられる。サーバーとその設定、その周りにいる人や攻撃者 (`simlab.engine.actors`)、そして防御を含む `Scenario` を作り、`simlab.run` で実行する。
# * 結果を読める。件数、イベントの表 (pandas)、ログ、タイムライン。
# * 一つの設定値を順に変えて試し (スイープ)、それが何を変えるかをグラフにできる。
# * 1998 年の製品で、スレッドに出てくる 3 種類の攻撃者を同時に相手にしても耐え、しかもサイト自身のメールを一通も失わない設定を見つけられる。
#
# **スレッドのあらすじ** スレッドでは、事例が一つずつ現れました。拒否された POP3 のログインが並ぶログ、中継 (relay) の調査、なりすまし (spoofing) で `Postmaster@` を名乗る送信者、アドレスを次々に変える迷惑メール送信者 (spammer)。しかし実際のサーバーは、これらすべてを同じ日に相手にします。しかもそのかたわらで、職員はメールを送ったり読んだりし続け、取引先からのメールも届き続けなければなりません。会議室での最後の結論は、不正な相手を一人ずつ手作業で登録するのではなく、正当なものを許可する、というものでした。会議室を主宰する田中求之さんは 1998 年 6 月 17 日 (17:18) に、EIMS の「only route for local domains and the following domains」にチェックを入れておけば、第三者による不正中継 (open relay) は防げるはずだと説明しました。翌日 (6 月 18 日 12:19)、みやむらさんは、ログを見て不審な相手を毎回確かめ、登録していくものだとばかり思っていた、と返しています。このレッスンでは、その助言を、スレッドの管理者たちが実際に使っていた製品の上で、すべての攻撃を同時に受けながら試します。
#
# **ここで使うアドレス** (スレッドに出てくるアドレスの代わりに、文書用のアドレスを使います)
#
# | ここでの名前 | スレッドでは |
# |---|---|
# | `mail.example.com`、192.0.2.25 | 管理者のメールサーバー (Mac 上の EIMS または SIMS) |
# | `example.com`、192.0.2.0/24 | 管理者のドメイン (mycompany.co.jp) とネットワーク |
# | bob (192.0.2.101)、alice (198.51.100.77) | 社内にいる職員と、外出先の職員 |
# | carol のサーバー 198.51.100.90、yourcompany のサーバー 198.51.100.80 | メールをやり取りする相手 (yourcompany.co.jp) |
# | 203.0.113.50 | なりすましをする迷惑メール送信者のホスト (S4) |
# | 203.0.113.1〜250 | アドレスを変え続ける迷惑メール送信者のアドレスのプール |
# | 203.0.113.226 | パスワード推測者 (203.216.11.226、S1) |

# %%
# %matplotlib inline
import simlab
from simlab import plots
from simlab.engine.actors import LocalUser, Pop3Guesser, RemoteMta, SpoofingSpammer
from simlab.restrictions import Fail2Ban
from simlab.scenarios import HOUR, Scenario

# %% [markdown]
# ## 1. 手で組み立てる 1 日
#
# シナリオ (scenario) は、ただの設定の集まりです。どの製品か、その製品自身の名前で書いた設定、誰がサーバーと通信するか、どれだけの時間か、そして製品の外にある防御です。アクター (actor: サーバーと通信する人や攻撃者) は小さなクラスで、そのドキュメンテーション文字列 (docstring) に、どんな実際の振る舞いをモデル化しているかが書かれています。乱数による選択はすべて実行時のシード (seed) から生まれるので、同じシードからは同じ 1 日が得られます。
#
# ここでは、Relay Restriction (EIMS 2.1 の中継制限の設定) を有効にした EIMS 2.1 に、bob と取引先、S4 のなりすましをする迷惑メール送信者、S1 のパスワード推測 (password guessing) の攻撃者 (以下、推測者) を置き、fail2ban に POP3 のログを監視させます。fail2ban (2004 年に登場したツールで、スレッドよりずっとあとのものです) は、失敗を示すログ行に何度も現れたアドレスを、ファイアウォールで遮断 (BAN) します。ここではその既定値、つまり 10 分以内に 5 回の失敗で 10 分間の BAN です。`ignoreip` には、決して BAN してはならないアドレスを並べます。ここではサイト自身のネットワーク 192.0.2.0/24 です。
#
# **予想してから実行しましょう。** 迷惑メール送信者の 10 通のメッセージのうち、EIMS 2.1 は何通を中継するでしょうか。

# %%
day = Scenario(
    name="by hand", title="EIMS 2.1, Relay Restriction on, a spoofer and a guesser", preset="eims-2.1",
    settings={"relay_restriction": True},
    actors=[
        LocalUser("bob (LAN)", "pc-bob", account="bob", password="Tr0ub4dor&3", send_every=2 * HOUR,
                  check_every=30 * 60, recipients=("carol@remote.test",)),
        RemoteMta("carol's MTA", "mail.remote.test", ip="198.51.100.90", domain="remote.test",
                  recipients=("bob", "alice"), send_every=HOUR),
        SpoofingSpammer("spoofing spammer", "attacker", ips=("203.0.113.50",), local_domain="example.com",
                        victims=("user_name@yourcompany.test",), messages=10, every=HOUR),
        Pop3Guesser("guesser", "attacker", ips=("203.0.113.226",), accounts=("bob", "webmaster", "info"),
                    dictionary=("password", "123456"), pace=120.0, at=HOUR),
    ],
    duration=12 * HOUR,
    restrictions=[Fail2Ban(jail="pop3", failregex="eims-pop3", maxretry=5, findtime=600, bantime=600,
                           ignoreip=["192.0.2.0/24"])],
)
result = simlab.run(day, seed=1)
{k: result.summary[k] for k in ("spam_relayed", "spam_refused", "accounts_compromised", "bans", "legit_delivered",
                                "legit_refused")}

# %% [markdown]
# 10 通すべてです。迷惑メール送信者は `MAIL FROM:<Postmaster@example.com>` と書き、Relay Restriction は送信者のドメインを信用するからです (スレッドの S4: たまちゃんさん、1998 年 6 月 15 日)。そして fail2ban は一度も働きませんでした (`bans` が 0)。推測者は bob に対して 3 回失敗したあと、`webmaster` と `info` では*最初の*1 回で正解しました。アカウント名そのもの、つまり kazu さんが 1998 年 5 月 24 日に注意を促した推測です。二つのアカウントが侵入され、正規のメール (legitimate mail) 16 通 (bob の 5 通、carol の 11 通) はすべて届きました。
#
# ## 2. 結果を読む
#
# `result.events` は pandas の表で、コマンドと応答の一組が 1 行になっています。各アクターは `RCPT` でどんな応答を受け取ったでしょうか (`mail.example.com (relay)` はサーバー自身で、受け付けたメールを先へ渡しています)。

# %%
events = result.events
events[events.command == "RCPT"].groupby(["actor", "reply_code"]).size()

# %%
print("\n".join(line for line in result.log if "203.0.113.226" in line))

# %% [markdown]
# 管理者が実際に目にするのと同じログです。`POP3 wrong password` の行が 3 つ、続いて普通の `POP3 connection ... for webmaster` / `for info` の行が 2 つ。侵入は、持ち主のログインとまったく同じように見えます (S1)。1 時間ごとに見ると、次のとおりです。

# %%
from simlab.ui.sandbox import readable_timeline  # noqa: E402

readable_timeline(result, what=("spam_relayed", "guess_succeeded", "log_lines"), title="The day, per hour")

# %% [markdown]
# ## 3. 同じことを、このレッスンの組み立て関数で
#
# `sandbox_scenario` は、サイトのいつもの 1 日全体 (bob、外出先の alice、2 つの取引先) と、任意の攻撃者を、単純な数値 (1 日あたりの件数、アドレスのプールの大きさ) から組み立てます。下のパネルと同じやり方です。ここでは、なりすましをする迷惑メール送信者を*1 日*20 通の割合で置き、1 日を 12 時間に縮め、推測者も加えます。
#
# **予想してみましょう。** この 12 時間で、なりすましのメッセージは何通通り抜けるでしょうか。

# %%
from simlab.exercises.sandbox import sandbox_scenario  # noqa: E402

scenario = sandbox_scenario("eims-2.1", {"relay_restriction": True}, defences={"fail2ban": 600},
                            duration_hours=12, spoofing_spammer=20, guesser=True)
print([actor.name for actor in scenario.actors])
summary = simlab.run(scenario, seed=1).summary
{k: summary[k] for k in ("spam_relayed", "spam_refused", "accounts_compromised", "bans", "legit_delivered",
                          "legit_refused")}

# %% [markdown]
# 1 日 20 通というのは割合なので、12 時間なら約 10 通と見込まれます。迷惑メール送信者のメッセージはランダムな時刻に届くので、半日の間に少し多くなったり少なくなったりすることもあります (別の `seed` にすれば別の件数になります)。今回はちょうど 10 通で、そのすべてが中継されました。外出先からポート 25 で送信する alice は、何も失いません (`legit_refused` が 0)。Relay Restriction は、ローカルの送信者アドレスを名乗る alice を通します。迷惑メール送信者を通すのとまったく同じ理由です。今回は推測者が bob と alice も試し、それぞれで 5 回失敗するので、fail2ban は推測者を 2 回、それぞれ 10 分ずつ BAN します (`bans` が 2)。それでも 10 分の BAN は侵入を遅らせるだけで、二つの侵入はどちらも起こります。
#
# ## 4. スイープ: 推測者はいくつのアドレスを必要とするか
#
# fail2ban は失敗を*アドレスごとに*数えます。10 分以内に 5 回失敗すると BAN です。SIMS の上で BAN を長く (1 日に) し、推測者のアドレスのプールの大きさを順に変えてみます。
#
# **予想してみましょう。** fail2ban に捕まらなくなるまでに、推測者はいくつのアドレスを必要とするでしょうか。

# %%
from simlab.ui.today import tidy_counts  # noqa: E402  (whole-number ticks, legend above the bars)

sweep = {}
for pool in (1, 2, 5, 20):
    swept = simlab.run(sandbox_scenario("sims", {"client_hosts": ["192.0.2.0/24"]}, defences={"fail2ban": 86400},
                                      guesser=True, guesser_ips=pool), seed=1, counts_only=True)
    sweep[f"{pool} address{'es' if pool > 1 else ''}"] = swept.summary
tidy_counts(plots.compare_bars(sweep, keys=("accounts_compromised", "bans"),
                               title="fail2ban (ban 1 day) against a guesser with a pool of addresses"))

# %% [markdown]
# 答えは 2 つです。アドレスが 1 つなら、推測者は 1 回 BAN され、どこにも侵入できません。2 つ、5 つ、20 個なら、二つのアカウントの両方に侵入し、一度も BAN されません。推測者は 2 分に 1 回試します。それが二つのアドレスに分かれると、どのアドレスにも失敗は 4 分に 1 回、つまり 10 分間に 3 回しか現れず、5 回には決して届きません。これは fail2ban の利用者が繰り返し報告している不満であり、その README が、推測の頻度は下げられても弱いパスワードの危険は取り除けない、と述べている理由でもあります。`counts_only=True` を指定すると件数だけが残るので、スイープを手早く実行できます。
#
# ## 5. どのシナリオも自分のサーバーで実行する、シナリオをファイルにする
#
# このレッスン群のどのシナリオも、自分で設定したサーバーの上で実行できます。`preset=` の代わりに `server=` として渡すのです。するとサイトはそのサーバーの名前を使い、設定もあなたが書いたとおりになります。ここではスレッドの会社そのもの、mail.mycompany.co.jp の代わりに `mycompany.test` を使います。製品が対応できない設定、たとえば Postfix に対する IP Range Restriction (接続を許すアドレスの範囲を指定する EIMS 2.1 の設定) は、何が足りないかを示すメッセージとともに拒否されます。ここでは、S2 の中継の調査 (レッスン 02) が、Relay Restriction を有効にしたあなたの EIMS 2.1 に向かいます。調査の 1 通のテストメッセージは拒否され、サイトのいつものメッセージ 54 通は届きます。

# %%
mine = simlab.presets.eims_2_1(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                               relay_restriction=True)
probe = simlab.run(simlab.scenarios.relay_probe(server=mine), seed=1)
print(probe.product, {key: probe.summary[key] for key in ("spam_relayed", "spam_refused", "legit_delivered")})
print("\n".join(line for line in probe.log if "survey" in line))

# %% [markdown]
# シナリオはファイル (TOML) として書き出すこともでき、シェルから `python -m simlab run my_lab.toml --seed 1` で実行できます。このレッスン群のシナリオも、そうしたファイルとして `simlab/scenarios/examples/` に入っています。次に示すのは、上の実行に対応するファイルの冒頭と、そのテキストを読み戻して同じ実行をした結果です。

# %%
text = simlab.scenarios.dumps_scenario(simlab.scenarios.relay_probe(server=mine))
print(text[:420])
again = simlab.run(simlab.scenarios.loads_scenario(text), seed=1)
print("same summary:", again.summary == probe.summary)

# %% [markdown]
# ## 試してみよう: サンドボックス
#
# サーバーのメニューには、simlab が知っているすべての製品が並んでいます。スレッドの EIMS 1.2、EIMS 2.1、SIMS と、現在の Postfix 3.7、Exim 4.96 (Debian 12 が配布するまま) です。パネル (panel) には、選んだ製品が simlab の中で持つすべての設定 (その製品の設定だけ) が、サイトの値を入れた状態で並びます。一覧はコンマか空白で区切って入力します。EIMS 2.1 の IP Range Restriction は、`pop3: 192.0.2.0/24` のように書いて一つのサービスだけに適用することもできます。タイムラインは、そのタブを開いたときに描かれます。試してほしいこと:
#
# 1. 中継の調査 (S2) にチェックを入れ、EIMS 1.2 と、インストールしたままの EIMS 2.1 を比べる (S2 と S3)。新しいバージョンなら、設定を変える前から調査を止められるでしょうか。
# 2. 接続を大量に送りつける攻撃者 (connection flooder) にチェックを入れ、Postfix に切り替えて `smtpd_client_connection_count_limit` を下げる。
# 3. アカウントロックアウト (account lockout) を設定し、3 回失敗したらアカウントをロックするようにする。攻撃者のほかに、誰が締め出されるでしょうか。
# 4. Postfix の制限値に `fifty` と、アドレスの一覧に `192.0.2.0/33` と入力してみる。

# %%
from simlab.ui.sandbox import sandbox  # noqa: E402

box = sandbox()
box

# %% [markdown]
# ## チャレンジ: 1998 年の製品で 1 日を乗り切る
#
# **EIMS 1.2、EIMS 2.1、SIMS** のいずれかで (Postfix と Exim は不可です。現在の製品はインストールしたままで合格し、チェッカーもそう告げます)、なりすましをする迷惑メール送信者 (1 日 10 通)、アドレスを変え続ける迷惑メール送信者 (50 個のアドレスから 1 日 100 通)、アドレス一つの推測者がいる 1 日に、次を満たす設定を見つけてください。
#
# * 中継された迷惑メール = 0
# * 侵入されたアカウント = 0
# * 正規のメールを一通も失わず、メールを読めなくなる職員も一人もいない
#
# `check_challenge(preset, settings, defences)` を呼び出します。製品の設定はその製品自身の名前で書き、防御には `fail2ban` (BAN の秒数)、`lockout` (ロックするまでの失敗回数)、`router_filter` (ルーターでのフィルタリング。POP3 に届いてよいネットワークを指定) を使えます。チェッカーは、基準を満たさない件数を一つずつ示し、誰が何の被害を受けたかを報告します。
#
# 設定の出どころ: EIMS 2.1 の Relay Restriction と IP Range Restriction はスレッドに出てきます (S3、S5、S6)。`require_valid_ip` / `valid_ips` (「AND if from a valid IP」の選択肢) と `smtp_auth` は、EIMS 2.1〜3.1 についての開発元の資料、Qualcomm のナレッジベース記事 2153 と作者のサポートページ「EIMS Relay Security」によるもので、スレッドには出てきません。これらを使った EIMS 2.1 の答えは、その資料を前提にしていることになります。SIMS の Client Hosts (中継を許すクライアントのアドレスの一覧) はスレッドに出てきます (たまちゃんさん、1998 年 6 月 15 日)。両製品の文言と制限値は simlab のモデル化によるものです (`simlab.products.eims` と `simlab.products.sims` の docstring を参照)。

# %%
from simlab.exercises.sandbox import SOLUTION, check_challenge  # noqa: E402

check_challenge("eims-2.1", {"relay_restriction": True}, {"fail2ban": 600})  # a start: try to make it pass

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## 今日に活かせること
#
# * 中継の判断は、クライアントが偽れないものに基づいて行うこと。そのアドレス (Client Hosts、「valid IPs」、`mynetworks`) かログインです。そのうえで、*自分の*利用者のアドレスを一覧に載せるか、ログインしてもらうかします。
# * どの防御にも代償があります。LAN だけを許す規則は外出先の利用者を拒否し、アカウントロックアウトはアカウントの持ち主を締め出し、SMTP に IP の範囲を設定するとインターネットからのメールを拒否します (S5)。変更のたびに、チャレンジのチェッカーと同じように、正規のメールを確かめましょう。
# * アドレスごとの防御 (fail2ban、手作業での遮断) は、一つのアドレスを遅らせるだけです。アドレスのプールを使えば素通りできます。強いパスワードと「正当なものを許可する」方針は、攻撃者がいくつアドレスを持っていても関係ありません。
# * 恐れている 1 日をコードで組み立て、自信のない設定値をスイープしてみましょう。設定の代償を学ぶのに、シミュレーションほど安上がりな場所はありません。
