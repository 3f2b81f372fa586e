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
# # 10 · ボットネットからのパスワードスプレー
#
# **学習目標**
#
# * パスワードスプレー (password spraying) を、スレッドに出てきた推測者と見分けられる。スプレーは多数のアドレスから 1 つあたり数回ずつ試し、よく使われるパスワードを 1 つ、すべてのアカウントに試してから次のパスワードへ進みます。
# * アドレスごとに数える防御、つまり fail2ban に標準で用意された jail、Postfix の `smtpd_client_auth_rate_limit`、Dovecot の認証ペナルティが、ボットネットをほとんど遅らせられない理由を示せる。
# * *アカウントごと*に数えれば持ちこたえることを示し、アカウントロックアウト (account lockout) が職員にかける負担を数えられる。アカウント名を知っている人なら誰でも、その持ち主を締め出せてしまうからです。
# * ログインが拒否されたときに Postfix と Dovecot が書くログ行と、ログインが成功したときには書かれない行を読み取れる。
#
# **スレッドのあらすじ (ここでは私たちの言葉で)** スレッドの最初の話題 (レッスン 01) は、1998 年 5 月、EIMS 2.1 を運用していたみやむらさんが POP3 のログに「wrong password」の行を見つけたことでした。会議室を主宰する田中求之さんは、この行はログインを*拒否した*記録だと説明しました。kazu さんは、アカウント名と同じパスワードを、アカウントを次々に替えながら試していく手口があること、アクセスの必要がないネットワークからの接続は制限したほうがよいことを付け加えています。その推測者は 1 つのアドレスから来ていました。今日の同じ手口は、何千ものアドレスからやって来ます。ボットネット (botnet: 乗っ取られた多数のコンピューターを、1 人の操作者が遠隔から操るもの) が、職員がログインするポートに対して、よく使われるパスワードを試すのです。狙われるのは、サブミッションポート (submission port) 587 と 465 の SMTP 認証 (SMTP AUTH) と、ポート 110 の POP3 です。このレッスンの話はスレッドのものではなく、私たちが付け加えたものです。スレッドは 1998 年で終わっています。
#
# **このレッスンで使う言葉**
#
# * **パスワードスプレー**: よく使われるパスワードを *1 つ*、*多数の*アカウントに試し、それから次のパスワードに移る攻撃です。1 つのアカウントが受ける失敗は少なく、ボットネットを使えば 1 つのアドレスが送る試行もわずかです。
# * **SMTP 認証** (RFC 4954): SMTP サーバーにログインすることです。ここではサブミッションポートの 587 (RFC 6409) と 465 (RFC 8314。最初から TLS で接続する) で使います。`AUTH PLAIN` はユーザー名とパスワードを base64 で運びます。base64 は誰でも元に戻せる符号化であって、暗号化ではありません。
# * **fail2ban** はログを読み、`findtime` の時間内に一致する行が `maxretry` 回出たアドレスを、ファイアウォールで遮断 (ban) します。fail2ban の場合、この遮断を「BAN」とも呼びます (Debian の `jail.conf` の既定値は 10 分間に 5 回で、BAN の長さは 10 分)。標準で用意されている jail (fail2ban の監視の単位) の `[postfix-sasl]` と `[dovecot]` は、*アドレスごと*に数えます。
# * **アカウントごとの jail**: 同じ fail2ban ですが、フィルターが失敗の主体として*ユーザー*を名指しします (fail2ban の `<F-ID>` タグ)。ここでのアクションは私たちが決めたもので、1 時間の間、そのアカウントはサイト自身のネットワークからしかログインできなくなります (fail2ban と Dovecot の文書にある機能を組み合わせた、モデル化上の選択です)。
# * **アカウントロックアウト**: 続けて 5 回ログインに失敗すると、そのアカウントは誰に対しても 30 分間ロックされます。Postfix にも Dovecot にもそういう設定はありません。ディレクトリサービスやメールスイートが持つロックアウトのポリシーを、これで代表させています。
# * **anvil** は、クライアントごとの出来事を数える Postfix のカウンターです。`smtpd_client_auth_rate_limit` は、1 つのアドレスからの AUTH コマンドが 1 分あたりの上限を超えると、それを拒否します (レート制限、rate limit)。
# * **Dovecot の認証ペナルティ** (auth penalty): あるアドレスからのログインが失敗すると、Dovecot はそのアドレスの次のログインを 4 秒、8 秒、15 秒と待たせます。ただし、15 秒間何もなければ記録は帳消しになります。
# * **postscreen**: Postfix がポート 25 の手前に置く選別の仕組みです。ポート 25 は、ほかの*サーバー*がメールを配送 (delivery) してくるときに使うポートです。postscreen は DNS ブロックリストに載っているクライアントを落とせますが、サブミッションポートはまったく見ていません。
#
# **ここで使うアドレスと名前**
#
# | ここでは | 表しているもの |
# |---|---|
# | `mail.example.com`、192.0.2.25 | サイトのサーバー: Debian 12 に含まれる Postfix 3.7 と Dovecot |
# | 192.0.2.0/24: bob (.101)、営業窓口 (sales desk) と webmaster (.102) | サイトの LAN と、そこにいる職員 |
# | 198.51.100.77、alice | 外出先からメールを読み、送信もする職員 (外出先の利用者。出力では `roaming`) |
# | 203.0.113.1 - .254、続いて 198.18.0.0/15 | ボットネット (RFC 5737 のアドレス。ボットが 249 台を超える分は RFC 2544 のベンチマーク用の範囲) |
# | `info`、`sales`、`webmaster` | 弱いパスワードのアカウント: パスワードはリストの 8 番目、17 番目、31 番目 |

# %%
# %matplotlib inline
import base64

import simlab
from simlab.exercises.spraying import DEFENCE_NAMES, size_sweep, spraying_day, staff_refusals
from simlab.plots.spraying import spraying_sweep_figure
from simlab.scenarios.spraying import SPRAY_PASSWORDS, SPRAY_USERS, WEAK_PASSWORDS, first_compromise
from simlab.ui.spraying import attack_lines, spraying_lab

# %% [markdown]
# ## 1 回の試行を手で
#
# ボットの 1 回の試行は短いものです。`EHLO` を送り、ユーザー名とパスワードを載せた `AUTH PLAIN` を送り、接続を切ります。**予想してみましょう**: パスワードが間違っているとき、Postfix は何と答え、ログに何を書くでしょうか。正しいパスワードのときはどうでしょうか。

# %%
server = simlab.presets.postfix(mydestination=["example.com"], accounts={"info": "welcome", "bob": "Tr0ub4dor&3"})
for password in ("123456", "welcome"):
    s = server.smtp_session("203.0.113.5", port=587)
    s.send("EHLO [203.0.113.5]")
    token = base64.b64encode(f"\0info\0{password}".encode()).decode()
    print(f"AUTH PLAIN {token:24} ({password!r}) ->", s.send(f"AUTH PLAIN {token}"))
    s.close()
p = server.pop3_session("198.18.0.9")
p.send("USER bob")
reply = p.send("PASS 123456")
print("POP3 PASS 123456 ->", reply, f"(after {reply.delay:g} s)")
server.clock.advance(reply.delay)  # the bot hears the answer, then hangs up
p.close()
print()
print("\n".join(server.log))

# %% [markdown]
# 間違ったパスワードは、`postfix/submission/smtpd` (`master.cf` にあるポート 587 のエントリー。Postfix の `smtpd_sasl_glue.c`) の名前で `SASL PLAIN authentication failed: ..., sasl_username=info` の行を残します。正しいパスワードは、失敗の行を*何も*残しません。1998 年に田中求之さんが指摘したことは、今も変わっていないのです。どちらのセッションも `lost connection after AUTH` で終わっています。クライアントが `QUIT` を送らずに接続を切ったからです。成功したほうの行で、ログインが通ったことを示しているのは、`disconnect` の行にある `auth=1` だけです (失敗したほうは `auth=0/1`、つまり AUTH コマンド 1 回のうち受け付けられたのは 0 回です)。
# POP3 の失敗は、Dovecot が接続ごとに書く `Disconnected (auth failed, 1 attempts in 2 secs)` の 1 行です。「2 secs」は Dovecot の `auth_failure_delay` (既定値は 2 秒)、つまり失敗を答えるまでに待つ時間です。
#
# ## スレッドの推測者と fail2ban
#
# まず、1998 年の事例を今日のサーバーで再現します。*1 つ*のアドレスから、1 分に 1 回、200 回試します。防御なし、次に fail2ban の標準の jail を相手に、最後に 1,000 回の試行で実行します (アカウント名と同じパスワードを試したスレッドの推測者とは違い、この推測者は、下でボットネットが使うよく使われるパスワードのリストを上から順に試します)。**予想してみましょう**: そのうち何回の試行がパスワードの照合までたどり着くでしょうか。

# %%
for defences, attempts in (((), 200), (("fail2ban",), 200), (("fail2ban",), 1000)):
    lone = simlab.run(spraying_day(defences, botnet_size=1, attempts_per_address=attempts, pace=60), seed=1,
                      counts_only=True).summary
    first = first_compromise(lone)
    print(f"{'fail2ban' if defences else 'no defence':10} attempts {lone['spray_attempts']:4}: "
          f"{lone['spray_failed']:3} checked and refused, {lone['spray_refused_fail2ban']:3} dropped by a ban "
          f"({lone['bans']:2} bans); accounts lost: {lone['accounts_compromised']}"
          + ("" if first is None else f", the first after {first / 3600:.1f} hours"))

# %% [markdown]
# ここでは fail2ban がきちんと役目を果たしています。5 回失敗するとそのアドレスは 10 分間 BAN され、推測者の試行の大半 (200 回のうち 130 回) は閉ざされた扉にぶつかります。fail2ban がなければ、同じ 200 回の試行で約 2 時間後に `info` (リストの 8 番目) が見つかります。ただし、fail2ban は推測者を遅らせるだけで、止めはしません。1,000 回試せば、1 つのアドレスだけの推測者でも、その日のうちに 2 つのアカウントを見つけます。
#
# ## ボットネット
#
# 今度はボット 2,000 台が、それぞれ 3 回ずつ、約 10 分おきに試します。ボットは最初の 1 時間のうちに次々と加わります。作業リストは、16 個のアカウント名と、よく使われる順に並べたパスワード 40 個の、すべての組み合わせです。640 組あれば、6,000 回の試行で足りなくなることはありません。16 個の名前のうち 7 個 (bob、alice、webmaster、info、sales、support、office) は実在するアカウントですが、ボットにはどれが実在するのかわかりません。職員は 1 日中、ふだんどおりに仕事を続けます。
#
# 実行する前に**予想してみましょう**: fail2ban の標準の jail をオンにしたとき、弱い 3 つのアカウントのうちいくつが破られるでしょうか。アカウントごとの jail ではどうでしょうか。アカウントロックアウトではどうでしょうか。そして、それぞれが職員にどんな負担をかけるでしょうか。

# %%
print("account names sprayed:", ", ".join(SPRAY_USERS))
print("the list's first ten:", ", ".join(SPRAY_PASSWORDS[:10]), "...")
print("weak passwords:", {account: (rank, SPRAY_PASSWORDS[rank - 1]) for account, rank in WEAK_PASSWORDS.items()})

# %%
choices = {"no defence": (), **{DEFENCE_NAMES[d]: (d,) for d in DEFENCE_NAMES}}
days = {name: simlab.run(spraying_day(defences), seed=1) for name, defences in choices.items()}
for name, day in days.items():
    s, first = day.summary, first_compromise(day.summary)
    when = "-" if first is None else f"{first / 60:.0f} min"
    print(f"{name:50} lost {s['accounts_compromised']}  first {when:>6}  staff refused {s['legit_logins_refused']:2}"
          f"  bans {s['bans']:2}  dropped {s['spray_refused_fail2ban']:3}  450s {s['spray_refused_anvil']:3}")

# %% [markdown]
# 各列の意味: `lost` は破られたアカウントの数、`first` は攻撃の開始から最初のアカウントが破られるまでの分数、`staff refused` は拒否された職員自身のログインの数、`bans` は fail2ban がアドレスを BAN した回数、`dropped` は BAN にぶつかった試行の数、`450s` は anvil が拒否した AUTH コマンドの数です。
#
# 予想と比べてみましょう。アドレスごとに数える防御は、どれもまったく効きませんでした。どのアドレスも 5 分から 15 分おきに 3 回しか試さなかったので、fail2ban は 10 分間に 5 回の失敗を一度も見ず (BAN は 0 回)、anvil は 1 分間に 3 回以上の AUTH コマンドを一度も見ず (拒否は 0 回)、Dovecot のペナルティは次の試行の前にいつも帳消しになっていました。postscreen が見張っているのはポート 25 ですが、ボットはそこには一度も触れていません。最初のアカウントは、攻撃の開始から 3 分で破られました。
#
# アカウントごとの防御は、どちらも持ちこたえました。ボットネット全体から見ると、1 つのアカウントは 1 分に約 2 回試されるので、5 回目の失敗でそのアカウントは閉ざされます。`info`、`sales`、`webmaster` の正しいパスワードが届いたのは、アカウントが閉ざされている間でした。正しいパスワードも誤ったパスワードとまったく同じように拒否されたので、ボットは何も知ることができず、そのままリストの先へ進んでいきました (カウンターは名前で数えるので、実在するかどうかにかかわらず、16 個の名前がどれも一度は閉ざされました):

# %%
for name in (DEFENCE_NAMES["account_jail"], DEFENCE_NAMES["lockout"]):
    s = days[name].summary
    print(f"{name:45} right passwords refused: jail {s['right_guesses_refused_jail']}, lockout "
          f"{s['right_guesses_refused_lockout']};  accounts shut: {s['account_bans'] or s['lockouts']}")

# %% [markdown]
# ### それぞれが職員にかける負担
#
# 職員のどのログインが、どこから拒否されたでしょうか。先に**予想してみましょう**: bob、営業窓口、webmaster は LAN からメールを読み、alice は外出先から読みます。

# %%
for name in ("no defence", DEFENCE_NAMES["account_jail"], DEFENCE_NAMES["lockout"]):
    print(f"{name:45} {staff_refusals(days[name]) or 'nobody'}")

# %% [markdown]
# アカウントロックアウトは、狙われたアカウントを誰に対しても閉ざします。LAN にいる bob、営業窓口、webmaster も、自分のメールボックスから締め出されました (alice の分と合わせて 7 回の拒否)。スレッドで kazu さんは、侵入よりもダウンさせられるほうが怖いと書いていました。ロックアウトは、そのサービス拒否 (denial of service) の手段を、職員の名前を知っている人なら誰にでも手渡してしまいます。jail のアクションは LAN からのログインを通すので、負担を負うのは外出先にいる alice だけです (3 回の拒否)。
#
# ## 管理者から見たログ
#
# fail2ban の標準の jail を使った日に、ボットが残したログの最初の数行です。どのアドレスも、せいぜい数回しか現れません。`authentication failed` と `auth failed` の行が、fail2ban の標準のフィルターが一致させる行です。`postfix/submissions/smtpd` は `master.cf` にあるポート 465 のエントリーです。最後の行は、fail2ban が 10 分の枠の中で 1 つのアドレスについて数えた失敗の、最も多い回数です:

# %%
lines = attack_lines(days[DEFENCE_NAMES["fail2ban"]].log, limit=12)
print("\n".join(lines))
jail = next(r for r in days[DEFENCE_NAMES["fail2ban"]].server.restrictions if getattr(r, "jail", "") == "postfix-sasl")
print()
print("most failures any address had in fail2ban's window:", max((len(t) for t in jail.failures.values()), default=0))

# %% [markdown]
# ## ボットネットが大きくなると
#
# 同じ 1 日を、アドレスが 1 個から 10,000 個までのボットネットで、どれも 1 アドレスあたり 3 回の試行で実行します。比べるのは、fail2ban の標準の jail、アカウントごとの jail、アカウントロックアウトです。**予想してみましょう**: 曲線はどんな形になるでしょうか (短い実行を 18 回、数だけを数えます。数秒かかります)。

# %%
sweep = size_sweep({"fail2ban per address": ("fail2ban",), "fail2ban per account": ("account_jail",),
                    "account lockout": ("lockout",)})
for name, rows in sweep.items():
    print(f"{name:22}", [(r["botnet_size"], r["accounts_compromised"], r["legit_logins_refused"]) for r in rows])
spraying_sweep_figure(sweep, title="three attempts per address: what the botnet wins as it grows")

# %% [markdown]
# (上の各組は、ボットネットの規模、破られたアカウントの数、拒否された職員のログインの数です。) アドレスが 1 個や 10 個のボットネットは 3 回か 30 回しか試さないので、リストの 8 番目のパスワードまで届きません (`info` のパスワードが試されるのは 114 回目あたりです)。アドレスごとの防御に対して、アドレス 100 個のボットネットは弱いアカウントのうち 2 つを、1,000 個以上なら 3 つすべてを破り、ボットネットが大きいほど早く破ります (右のグラフ)。アカウントごとの 2 本の線は 0 のままです (左のグラフでは 2 本が重なっています)。その代償を示すのが真ん中のグラフで、アカウントロックアウトが最も高くなっています。
#
# ### ゆっくり攻めるのも抜け道になる
#
# ここでのアカウントごとの jail は、失敗を **1 時間**の枠で数えています (`jail_findtime=3600`、私たちの選択)。fail2ban の標準の 10 分の枠では、アカウントが jail に入るのは、10 分間に 5 回失敗したときです。**予想してみましょう**: 100 台のボットが 300 回の試行を約 1 時間半に散らすと、1 つのアカウントあたりおよそ 5 分に 1 回になります。10 分の枠の jail は持ちこたえるでしょうか。

# %%
for window in (600, 3600):
    s = simlab.run(spraying_day(("account_jail",), botnet_size=100, jail_findtime=window), seed=1,
                   counts_only=True).summary
    print(f"per-account jail, window {window // 60:2} minutes: accounts lost {s['accounts_compromised']}, "
          f"accounts jailed {s['account_bans']}, staff refused {s['legit_logins_refused']}")

# %% [markdown]
# 持ちこたえません。10 分の枠の jail は一度も jail に入れず、2 つのアカウントが破られます。アカウントあたりの速度を十分に落としたスプレーは、どんな枠にも収まってしまいます。ボットネットがアドレスごとの枠に収まってしまうのと同じことです。攻撃者は、相手が使っていそうな既定値に合わせて速度を調整します。長い枠ならこの攻撃を捕まえられますが、1 時間に 5 回パスワードを打ち間違えた持ち主のアカウントまで jail に入れてしまう、という代償があります。
#
# ## Dovecot のペナルティを詳しく見る
#
# Dovecot の認証ペナルティ (`src/auth/auth-penalty.c`) は実在する仕組みで、ここでも忠実に再現しています。あるアドレスからの失敗のたびにペナルティが上がり、次のログインは 4 秒、8 秒、15 秒と待たされます。そのうえ、失敗の応答はさらに 2 秒後に返ります (`auth_failure_delay`)。**予想してみましょう**: 1 つのアドレスから続けて 5 回目の間違ったパスワードは、答えが返るまでどれだけ待たされるでしょうか。15 秒休んだあとではどうでしょうか。

# %%
from simlab.restrictions.logins import DovecotAuthPenalty  # noqa: E402

penalty = DovecotAuthPenalty()
srv = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "s3cret"}, restrictions=[penalty])
waits = []
for n in range(5):
    p = srv.pop3_session("203.0.113.9")
    p.send("USER bob")
    reply = p.send(f"PASS guess{n}")
    waits.append(reply.delay)
    srv.clock.advance(reply.delay)  # the client hears the answer, then tries again
    p.close()
print("seconds until each answer:", waits)
srv.clock.advance(15)
p = srv.pop3_session("203.0.113.9")
p.send("USER bob")
print("after 15 quiet seconds:", p.send("PASS again").delay)

# %% [markdown]
# 試行の間隔を 15 秒より長くあけるボットは、このペナルティにまったく出会いません。ここでのボットは 5 分から 15 *分*おきに試しています。このペナルティは、1 つのアドレスから立て続けに試す推測者に対するブレーキであり、もともとそのために作られたものです。
#
# ## 試してみよう: パスワードスプレーの実験パネル
#
# ボットネットの規模、アドレスごとの試行回数と試行の間隔を選び、防御にチェックを入れます。最初のタブには、このボットネットで破られたアカウントと拒否された職員のログインが表示され、同じトラフィックで、パネルの最初の設定 (防御なし) と比べた結果も出ます。2 つ目のタブでは、選んだ防御について、アドレス 1 個から 10,000 個までの変化を実行します (少し時間がかかり、その間は進行状況のバーが表示されます)。試してみること:
#
# 1. アドレスごとの防御に全部チェックを入れる。次に、ボットネットの規模を 1 個、アドレスごとの試行を 10 回、各ボットの試行を「1 分ごと」にする。
# 2. アカウントごとの jail、次にアカウントロックアウト: 負担を負うのは誰でしょうか。
# 3. fail2ban にチェックを入れ、アドレスごとの試行を 10 回、各ボットの試行を「1 分ごと」にする: ようやく BAN が起きます。では、アカウントは守れたでしょうか。

# %%
spraying_lab()

# %% [markdown]
# ## 演習
#
# 2,000 アドレスのボットネットに**アカウントを 1 つも取られず**、しかも**拒否される職員のログインが単純なアカウントロックアウトより少なくなる**ように、サイトの防御を選んでください。防御の名前のリストを渡して `check_spraying_defence(defences)` を呼びます。名前は `"fail2ban"`、`"anvil"`、`"auth_penalty"`、`"account_jail"`、`"lockout"`、`"postscreen"` です。

# %%
from simlab.exercises.spraying import SOLUTION, check_spraying_defence  # noqa: E402

check_spraying_defence(["fail2ban", "anvil"])  # the stock answer: does it pass?

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## 今日に持ち帰ること
#
# * ボットネットは、アドレスごとに数える方法を無力にします。fail2ban の標準の jail、anvil の AUTH のレート制限、Dovecot のペナルティは、どれも *1 つの*アドレスを遅らせるものです。1 つのアドレスから来る推測者のために残しておき、スプレーを止めてくれるとは期待しないでください。
# * 攻撃の狙いそのもの、つまりアカウントごとの失敗を数えましょう。アカウントをしばらく外部に対して閉ざし、サイト自身のネットワークからは入れる jail なら、オフィスを締め出さずに持ちこたえます。単純なロックアウトも持ちこたえますが、職員の名前を知っている人なら誰にでも、職員を締め出す手段を与えてしまいます。
# * どのリストでも上位にあるようなパスワードは、どんなカウンターでも救えません。`simlab.run(spraying_day(("account_jail",), weak_passwords={"info": 3}), seed=1).summary` を試してみてください。`info` のパスワードはリストの 3 番目なので、5 回目の失敗でアカウントが閉ざされるより先に試され、`info` は破られます。そういうパスワードは設定する時点で拒否し、リストでは当てられないログイン方法を選びましょう。
# * 正しいパスワードは、今も失敗の行を残しません (レッスン 01)。見たことのないアドレスからの*成功した*ログインにも、目を配りましょう。
