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
# # 05 · アドレスを次々に変える迷惑メール送信者
#
# **学習目標**
#
# * 不正利用者をアドレスごとに 1 つずつ遮断 (ban) するやり方 (fail2ban による自動の BAN、ルーターでの手作業の遮断、やめてほしいと頼むこと) では、多数のアドレスを使い回す迷惑メール (スパム、spam) の送信者 (spammer、以下 迷惑メール送信者) になぜ勝てないのかを示せる。
# * そうした遮断がサイト自身の利用者にどれだけの損失をもたらすかを数えられる。アドレスしか見ないルールには、外部で仕事をしている職員も不正利用者と同じに見えるからです。
# * 中継 (relay: よそのドメイン宛てのメールを受け取って先へ送ること) を許す相手を決める許可リスト (allow-list) なら、迷惑メール送信者のアドレスがいくつあっても負けない理由を説明できる。EIMS の "AND if from a valid IP" (有効な IP アドレスからの場合に限る)、SIMS の Client Hosts (中継を許すクライアントの一覧)、Postfix の `mynetworks` (信頼するネットワークの一覧) がその例です。
#
# **スレッドのあらすじ** 1998 年 6 月 16 日 (01:15)、EIMS 1.2 を使う管理者の cony さんが質問を書き込みました。cony さんは自分のログに、不正中継 (open relay) を調べるプログラムの送り先のドメイン (レッスン 02) と、なぜかもう 1 つ別の会社のドメインを見つけていました。相手がわかっていて実在するのなら、まず「やめてほしい」とメールを送ってみるのはよい対策ではないか、という問いです。15 分後 (01:30)、会議室を主宰する田中求之さんは、それがどれだけ効くかは疑問だと答えました。迷惑メールを送ろうとする者は、ふつう正体を隠すからです。田中さんはさらに、自分が EIMS 1.2 を使っていたときに実際に見たことを書き添えています。どう見ても同じ人物が、IP アドレスをランダムに変えながら、迷惑メールを中継させるために SMTP サーバーにログインしてきたのです。2 日後 (6 月 18 日 12:19)、EIMS 2.1 の管理者みやむらさんは、迷惑メール対策とはログを見て、不審な相手を見つけるたびに手で登録していくものだと思っていた、と書いています。このレッスンでは、これを Relay Restriction (中継を許すかどうかをドメインで決める EIMS の設定) をオンにした EIMS 2.1 の上で再現します。EIMS 2.1 を選ぶのは、スレッドのほかの管理者たちが移っていった製品であり、EIMS 1.2 にはそもそも中継を制限する機能がなく、守りようがないからです。
#
# **このレッスンで使う言葉**
#
# * **fail2ban** (現代のツールで、最初のリリースは 2004 年) は、サーバーのログを読み、あるパターンに一致する行があまりに多いアドレスをファイアウォールで遮断 (ban) します。fail2ban の場合、この遮断を「BAN」とも呼びます。`ignoreip` 設定には、何をしても決して BAN してはいけないアドレスやネットワーク (ふつうは自分たちのもの) を並べます。
# * **NAT** (network address translation、ネットワークアドレス変換): 多数のマシン (たとえばオフィス全体) が 1 台のルーターを通してインターネットに出て、ルーターが全員に同じ 1 つの公開アドレスを使わせる仕組みです。外のサーバーから見ると、オフィス全体が 1 つのクライアントです。そのアドレスを BAN すると背後の全員が締め出されますし、古いパスワードを保存したまま数分おきに再試行する PC が 1 台あるだけで、全員が BAN されることもあります。
# * **Dovecot の `login_trusted_networks`**: 今日よく使われる POP3/IMAP サーバー Dovecot が信頼するネットワークです (前段に置く Web メールやプロキシのためのもの)。ログインに失敗したアドレスに Dovecot がかける遅延 (2 秒から倍々に増えて最大 15 秒) は、これらのネットワークには適用されません (Dovecot のドキュメント "Authentication penalty")。
#
# **ここで使うアドレス** (スレッドに出てくるものの代わりに、文書用のアドレスを使います):
#
# | ここでは | スレッドでは |
# |---|---|
# | `mail.example.com`、192.0.2.25 | サイトのメールサーバー (Relay Restriction をオンにした EIMS 2.1) |
# | 192.0.2.0/24 (bob は 192.0.2.101) | サイト自身のネットワーク |
# | 203.0.113.1 - 203.0.113.250 | 迷惑メール送信者が使い回すアドレス (スレッドには具体的なアドレスは出てこない) |
# | 198.51.100.77 | 外部から自分のメールを読み、送信もする alice |
# | `yourcompany.test` | 迷惑メールの宛先 (recipient) である外部のドメイン |

# %%
# %matplotlib inline
from datetime import timedelta

import simlab
from simlab import plots
from simlab.exercises.rotation import (
    DEFENCES,
    SHORT_NAMES,
    bans_in_order,
    lost_by_sender,
    pool_sweep,
    relayed_spam_by_network,
    rotation_day,
)
from simlab.restrictions import RouterFilter
from simlab.ui.rotation import bans_figure, pool_sweep_figure, rotation_lab

# %% [markdown]
# ## 手口を手で試す
#
# 迷惑メール送信者が使うのは S4 の穴、つまり送信者を Postmaster と偽るなりすまし (spoofing) です (レッスン 03。スレッドではたまちゃんさんが 1998 年 6 月 15 日に見つけたもの)。EIMS 2.1 の Relay Restriction は*送信者の*ドメイン、つまりエンベロープ送信者 (envelope sender, MAIL FROM) のドメインを信用するので、`MAIL FROM:<Postmaster@example.com>` と名乗るだけで中継が開きます。管理者はいまログで 203.0.113.7 を見つけ、ルーターで遮断したところです。**予想してください**: 迷惑メール送信者の次の 3 通は 203.0.113.7、.41、.19 から来ます。何通が通るでしょうか。

# %%
admin_block = RouterFilter(deny=["203.0.113.7"], services=("smtp",))
eims = simlab.presets.eims_2_1(local_domains=["example.com"], relay_restriction=True, restrictions=[admin_block])
for address in ("203.0.113.7", "203.0.113.41", "203.0.113.19"):
    s = eims.smtp_session(client_ip=address)
    if s.greeting is None:
        print(f"{address:13} dropped at the router: no banner at all")
        continue
    for line in ("EHLO [" + address + "]", "MAIL FROM:<Postmaster@example.com>", "RCPT TO:<sales@yourcompany.test>"):
        reply = s.send(line)
    print(f"{address:13} RCPT -> {reply}")

# %% [markdown]
# 接続は 1 本ずつ独立しています。サーバーには、3 本の接続が同じ 1 人のものだとはわかりません。203.0.113.7 の遮断は 203.0.113.41 には何の効き目もありません。(ルーターは遮断したクライアントのパケットを捨てるので、そのクライアントにはバナー (banner: 接続直後にサーバーが送る挨拶) すら届きません。出力の `dropped at the router: no banner at all` がそれです。`250` の応答文は、simlab がモデル化した EIMS の文言です。)
#
# ## 1 日続けると
#
# 迷惑メール送信者はこの日、平均 5 分に 1 通の割合で 200 通を送ります。1 通ごとに、50 個のアドレスの集まり (プール、pool) からランダムに選んだアドレスを使います。その間、bob は LAN で仕事をし、alice は外部から自分のメールを読んだり送ったりし、2 つの取引先が職員宛てのメールを配送 (delivery) してきます。

# %%
undefended = simlab.run(rotation_day("eims-2.1", "none"), seed=1)
print(relayed_spam_by_network(undefended))

# %% [markdown]
# ### アドレスで遮断する
#
# 次に、スレッドの管理者たちが頼ろうとした防御を試します。
#
# * `per_ip_ban`: ログを読む fail2ban です。外部へ中継されたメールが 3 通になったアドレスを 1 日 BAN します。`ignoreip` にはサイトのネットワークを入れてあるので、LAN にいる bob が BAN されることはありません。(1998 年に Mac で fail2ban を動かしていた人はいません。今日よく使われる対策が当時ならどうだったかを見るために、EIMS に当てはめています。この jail (fail2ban の監視と BAN のルール 1 組) は simlab 独自のものです。fail2ban には*中継された*メールを数えるフィルターは付属しておらず (Postfix 用のフィルターが数えるのは拒否のほうです)、既定値も「1 日に 3 回で 1 日の BAN」ではなく「10 分以内に 5 回で 10 分間の BAN」です。)
# * `admin_block`: 管理者が 1 時間ごとにログを読み、3 回見かけたアドレスをルーターの拒否リストに加えます。
# * `please_stop`: 管理者は遮断せず、不正利用者一人ひとりに手紙を書きます。
#
# 下の 5 つの実行はすべて `seed=1` を使います。simlab は各アクター (actor: シミュレーションに登場する人やサーバー) の選択をそれぞれ専用の乱数列から引くので、シード (seed: 乱数の出発点となる値) が同じなら、bob、alice、取引先の 1 日は 5 つの実行でまったく同じです。表の差はすべて防御の違いによるものです。出力の各行には、防御の名前に続いて、中継された迷惑メール (`spam relayed`)、失われた正規のメール (legitimate mail、`legitimate mail lost`)、拒否された職員のログイン (`logins refused`)、BAN の数 (`bans`) が並びます。最後の行は、不正利用者に送った手紙の数です。
#
# セルを実行する前に**予想してください**: アドレスが 50 個、3 通で BAN という条件で、200 通の迷惑メールのうち何通が fail2ban を通り抜けるでしょうか。

# %%
days = {name: simlab.run(rotation_day("eims-2.1", name), seed=1) for name in DEFENCES}
for name, day in days.items():
    s = day.summary
    print(f"{DEFENCES[name]:46} spam relayed {s['spam_relayed']:3}   legitimate mail lost {s['legit_refused']:2}   "
          f"logins refused {s['legit_logins_refused']:2}   bans {s['bans']:2}")
print("letters asking the abuser to stop:", days["please_stop"].summary["complaints_sent"])

# %% [markdown]
# 予想を確かめましょう。fail2ban を通り抜けた迷惑メールは何通で、BAN は何をしたのでしょうか。

# %%
fail2ban_day = days["per_ip_ban"]
banned = {ip for _t, ip, _by in bans_in_order(fail2ban_day)}
events = fail2ban_day.events
spam_in = events[(events.actor == "rotating spammer") & (events.command == "RCPT") & (events.reply_code == 250)]
from_banned = int(spam_in.client_ip.isin(banned).sum())
never_banned = spam_in.client_ip.nunique() - len(banned & set(spam_in.client_ip))
spammer_bans = len([ip for ip in banned if ip.startswith("203.0.113.")])
print(f"fail2ban let {fail2ban_day.summary['spam_relayed']} of the 200 spams through, with "
      f"{fail2ban_day.summary['bans']} bans ({spammer_bans} of the spammer's addresses, "
      f"{fail2ban_day.summary['bans'] - spammer_bans} other - we come to it below)")
print(f"  {from_banned} came from addresses that were banned in the end - 3 each, before the ban")
print(f"  {len(spam_in) - from_banned} came from the {never_banned} addresses the spammer used fewer than 3 times:"
      " never banned")

# %%
plots.compare_bars({SHORT_NAMES[n]: d.summary for n, d in days.items()},
                   keys=("spam_relayed", "legit_refused"), title="EIMS 2.1, pool of 50 addresses, one day")

# %% [markdown]
# 結局、迷惑メールの大半はそのまま出ていきました。fail2ban を通り抜けたのは 200 通中 136 通です。1 回の BAN で迷惑メール送信者が失うのは 50 個のうちの 1 アドレスだけで、しかもその前に 3 通が送られています。管理者の 1 時間ごとの遮断も大差なく (139 通)、40 通の手紙は何も変えません (200 通)。迷惑メールを止めたのは許可リストだけです (0 通)。許可リストについては、失われた 6 通を示す赤い棒とあわせて、後でもう一度取り上げます。遮断する 2 つの防御は、サイトのメールまで失わせました (3 通と 2 通、すべて alice のもの)。その理由は次の節で見ます。下のタイムラインは fail2ban の 1 日です。BAN (下端の目盛り) は次々に入りますが、迷惑メールも止まりません。

# %%
bans_figure(days["per_ip_ban"], title="fail2ban against a pool of 50: spam relayed and bans over the day")

# %% [markdown]
# ### BAN の代償
#
# 目盛りの 1 本が赤くなっています。14:34 に fail2ban は **198.51.100.77、つまり alice** を BAN しました。EIMS では、alice は外部からサイトのサーバーを通してメールを送ります。中継された alice のメールは、jail が数えるのとまったく同じログ行を残します。以下は、ログにある alice の中継メールのうち最初の 3 通 (simlab がモデル化した EIMS の文言) と、彼女を BAN したときの fail2ban 自身のログ行です。BAN を招いたのは 3 通目、`1998年 6月 11日 (木) 2:34:51 PM` のメールでした。

# %%
jail = next(r for r in days["per_ip_ban"].server.restrictions if r.name == "fail2ban")
print("\n".join([line for line in days["per_ip_ban"].log if "received from 198.51.100.77" in line][:3]))
print([line for line in jail.log if "198.51.100.77" in line])
print("lost, by sender:", lost_by_sender(days["per_ip_ban"]))

# %% [markdown]
# alice が失った 3 通は、BAN の後に送ったものです。もし alice が NAT の背後のオフィスにいたら、この BAN は同じアドレスを使う同僚全員を締め出していたでしょう。
#
# ### 不審な行を 1 つ見ただけで手作業で遮断する
#
# 管理者の 1 時間ごとの見回りにも同じ欠陥があり、EIMS 2.1 では読み違えかねない行がさらに多くなります。管理者は 3 種類の行を不正利用として数えます。`POP3 wrong password for ... from ...` (スレッドのログに出てくる文言)、拒否された中継、そして外部から別のドメインへ中継されたメッセージ (後の 2 つは simlab がモデル化した EIMS の文言) です。EIMS は 1 つ目の行をパスワードを間違えるたびに書き、最後の行をメッセージを中継するたびに書きます。ここで管理者を厳しくして、そうした行が*最初に*出た時点でアドレスを遮断させます (`ban_after=1`)。**予想してください**: alice が一度もパスワードを打ち間違えない日 (`seed=1`、上と同じ日) に、この厳しい管理者は彼女を遮断するでしょうか。遮断するなら、どの行のせいでしょうか。

# %%
strict_eims = simlab.run(rotation_day("eims-2.1", "admin_block", ban_after=1), seed=1)
print("alice's lines in the EIMS log:")
print("\n".join(line for line in strict_eims.log if "198.51.100.77" in line))
print("wrong passwords that day:", [line for line in strict_eims.log if "wrong password" in line])
for t, ip, by in bans_in_order(strict_eims):
    if ip == "198.51.100.77":
        print(f"{strict_eims.start + timedelta(seconds=t):%H:%M} the {by} blocks {ip} at the router")
print("staff logins refused:", strict_eims.summary["legit_logins_refused"],
      " lost, by sender:", lost_by_sender(strict_eims))

# %% [markdown]
# alice は何も悪いことをしていないのに遮断されます。午前 1:40 (`1998年 6月 11日 (木) 1:40:29 AM`)、alice はサイトのサーバーを通して carol にメールを送りました。管理者から見れば、外部から別のドメインへ中継されたメッセージは、迷惑メール送信者のものとまったく同じに読めます。02:25 の最初の見回りで、管理者はその 1 行を数え、ルーターで彼女を遮断します。この日ただ 1 回のパスワード間違いは LAN からの bob のもので、管理者はそれには手を出しません。それからは、ルーターが彼女のアドレスからの通信をすべて捨てます。その日の残りの時間に、alice はメールを読もうとして 23 回拒否され、送った 5 通が失われます。NAT の背後なら、オフィス全体が同じ目にあうところです。
#
# では Postfix と Dovecot ではどうでしょうか。そこでは同じ厳しい管理者が、fail2ban の標準フィルターが読む行を読みます。Dovecot のログイン失敗 (`filter.d/dovecot.conf`)、Postfix が拒否した SMTP 認証 (SMTP AUTH) のログインと、拒否した中継 (`filter.d/postfix.conf`。`simlab/data/fail2ban/` に写しがあります) です。alice のメールはそのどれも残しません。alice はサブミッションポート (submission port、587 番) で SMTP 認証を使って送信しており、受け付けられた送信は拒否ではないからです。そこで問題になるのは、alice がパスワードを打ち間違えたときです。simlab の alice は、ログイン 20 回につき 1 回ほどパスワードを打ち間違えます (モデル化による選択)。`seed=1` の日には一度も間違えなかったので、このセルは別の日 `seed=2` を実行します。この日、alice は 1 回打ち間違え、simlab のモデルでは同じ接続の中ですぐに打ち直します。**予想してください**: その接続について、Dovecot はログに何を書くでしょうか。

# %%
typo_day = simlab.run(rotation_day("postfix", "admin_block", ban_after=1), seed=2)
session = next(t for t in typo_day.transcripts
               if t.actor == "alice (roaming)" and any(line.startswith("S: -ERR") for line in t.lines))
print(f"alice's POP3 session at {typo_day.start + timedelta(seconds=session.start):%H:%M:%S}:")
print("\n".join(session.lines[:session.lines.index("S: +OK Logged in.") + 1]))
print()
print("what the server logged for that connection:")
print("\n".join(line for t, line in typo_day.server.log_records
                if session.start <= t <= session.start + 60 and "198.51.100.77" in line))
print("failure lines for 198.51.100.77 all day:",
      [line for line in typo_day.log if "198.51.100.77" in line and ("auth failed" in line or "Aborted login" in line)])
print("blocks of 198.51.100.77:", [ip for _t, ip, _by in bans_in_order(typo_day) if ip == "198.51.100.77"],
      " staff logins refused:", typo_day.summary["legit_logins_refused"], " lost, by sender:", lost_by_sender(typo_day))

# %% [markdown]
# 書かれるのは `Login:` の行だけです。Dovecot 2.3 が失敗の行を書くのは接続ごとに 1 回、それも接続が*ログインせずに終わった*ときです (Dovecot 2.3 のソース `src/login-common/client-common.c`)。その行は `Disconnected (auth failed, N attempts in S secs): user=<...>, method=PLAIN, rip=..., lip=..., session=<...>` で、その接続の中で失敗した回数が入ります。クライアントが先に `QUIT` を送った場合は `Aborted login by logging out (...)` になります。同じ接続の中で打ち直したパスワードの間違いはログインで終わるので、それが起きたことはログのどこにも残りません。厳しい管理者にも、alice を遮断する理由がないのです。(`method=PLAIN` は、Dovecot が平文のパスワードによるログインを記録するときの書き方です。POP3 の `USER` と `PASS` ではパスワードがそのまま回線を流れ、`AUTH PLAIN` でも base64 で符号化されるだけです。base64 は誰でも元に戻せる符号化で、暗号化ではありません。TLS がなければ、どちらも経路上の誰にでも読めます。`session=<...>` は、Dovecot が接続ごとにつける ID です。)
#
# 注意が 2 つあります。1 つ目: これは Postfix が EIMS より慎重だという話ではありません。製品がどんな行を書くかの問題であり、ログ行を読むルールは、その行を残した者を誰であれ捕まえます。1 回パスワードを間違えたらメールソフトがあきらめてしまう alice や、古いパスワードを保存したままの NAT の背後のオフィスの PC なら、接続ごとに失敗の行を 1 つずつ残すでしょう。2 つ目: `Aborted login by logging out` の形の行は、fail2ban に実際にある抜け穴です。fail2ban の標準の `dovecot` フィルター (fail2ban 1.0.2) はこの行に一致しないので、パスワードを間違えるたびに `QUIT` を送るパスワード推測 (password guessing) のプログラムは、その jail に気づかれずに通り抜けます (simlab のパスワード推測役は、推測ツールがふつうそうするように、`QUIT` を送らずに回線を切ります)。
#
# ## アドレスが増えれば迷惑メールも増える
#
# 規模を大きくするとどうなるでしょうか。迷惑メール送信者のアドレスの数 (プールの大きさ) に対して、1 日に中継される迷惑メールの数を描いた 2 本の曲線の形を**予想してください**。1 本は fail2ban (3 通で BAN)、もう 1 本は許可リストです。このスイープ (sweep: 設定値を順に変えながら繰り返す実行) では、短いシミュレーションを 14 回 (件数のみ記録) 実行します。アドレス 50 個の点は、上で見た 1 日と同じです。

# %%
sizes = [1, 3, 10, 30, 50, 100, 250]
sweep = pool_sweep(sizes, defences=("per_ip_ban", "allowlist"))
print("fail2ban, pool of 50:", sweep["per_ip_ban"][50]["spam_relayed"], "relayed (the day above:",
      days["per_ip_ban"].summary["spam_relayed"], ")")
pool_sweep_figure(sweep, sent=200)

# %% [markdown]
# アドレスが 1 つなら、fail2ban はほぼ完璧です。3 通の後は何も通りません。アドレスが 1 つ増えるごとに、迷惑メール送信者はおよそ 3 通ずつ多く送れるようになり (3 個で 9 通、10 個で 30 通、30 個で 89 通)、ついにはほぼ 200 通すべてが通ります (250 個で 197 通)。許可リストの線はゼロのままです。許可リストが問うのは*誰が悪さをしているか*ではなく*誰が中継してよいか*であり、その答え (サイト自身のネットワーク) は、迷惑メール送信者のアドレスがいくら増えても増えないからです。
#
# ## 許可リストが勝つ理由
#
# 3 つの製品はどれも「このクライアントにだけ中継する」と設定できます。
#
# * EIMS: Relay Restriction の 2 つ目の選択肢 **"only relay if for local domains or the following domains AND if from a valid IP"** (ローカルドメインか以下のドメイン宛てで、しかも有効な IP アドレスからの場合にだけ中継する)。出典はスレッドではなく、EIMS 2.1 から 3.1 についてのベンダーの文書です。Qualcomm のナレッジベース記事 2153 "Preventing SMTP Mail Relay" はこれを最も安全な選択肢としており、作者のサポートページ "EIMS Relay Security" も同じ規則を説明しています。simlab はこれを EIMS 2.1 の設定 `require_valid_ip` と `valid_ips` (ここではサイトのネットワーク) としてモデル化しています。スレッドの管理者たちはこの選択肢に触れておらず、田中さんが引いたのは 1 つ目の選択肢だけでした。
# * SIMS: **Client Hosts**。SIMS は最初からこの一覧で中継を判断します (スレッド: たまちゃんさん、1998 年 6 月 15 日)。
# * Postfix: `smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination` の中の **`mynetworks`**。これが Postfix の既定値です (postconf(5))。`defer_unauth_destination` は中継の試みに `454 4.7.1 ... Relay access denied` (後で再試行せよ) と答え、`reject_unauth_destination` のような最終的な `554` は返しません。一覧に誤りがあっても、メールは差し戻されずに遅れるだけで済むようにするためです。simlab の Postfix は、実際の Postfix 3.7 で記録したとおりにこれらの応答を返します。
#
# 許可リストにも代償があります。EIMS 2.1 と SIMS では、外部から送る alice のメールが拒否されます。彼女はサイトのネットワークにいないからです。Postfix はこれを、アドレスの代わりにログインで解決します。サブミッションポート 587 での SMTP 認証 (RFC 4954、RFC 6409) です。そのため alice は何も失いません。(同じベンダー文書によれば、EIMS にも 2.1 から SMTP 認証 があり、KB 2153 は外出先の利用者にはそれを勧めています。ただしこのレッスンの 1 日では、simlab の alice がログインするのは Postfix の場合だけです。)

# %%
for preset, defence in (("eims-2.1", "allowlist"), ("sims", "none"), ("postfix", "none")):
    day = simlab.run(rotation_day(preset, defence), seed=1)
    print(f"{preset:9} spam relayed {day.summary['spam_relayed']}   lost, by sender: {lost_by_sender(day)}")

# %% [markdown]
# ## 試してみよう: アドレスを変える迷惑メール送信者の実験パネル
#
# サーバーと防御を選び、迷惑メール送信者のアドレスの数を変えてみましょう (パネル (panel) は最初の 12 時間を再現します)。設定を変えると、パネルに 1 行が加わり、あなたの実行を、同じサーバーと同じシードでのパネルの最初の設定 (fail2ban、アドレス 50 個、3 通で BAN) と比べてくれます。職員と取引先の 1 日は両方の実行で同じなので、そこに挙がる差はあなたの設定によるものです。試してみること:
#
# 1. fail2ban でアドレスを 1 個に、次に 250 個にする。続いて BAN のしきい値を 1 にする。
# 2. 迷惑メール送信者がアドレスを変えるのを、拒否されたときだけにする。慎重な迷惑メール送信者は使えるアドレスを使い続けるのです。これに対しては、管理者の 1 時間ごとの遮断のほうが効くでしょうか。
# 3. EIMS 2.1 で許可リストを選ぶ。今度は誰のメールが失われるでしょうか。それはなぜでしょうか。(答えは演習のためにとっておきましょう。)
# 4. 「中継を許す相手」 (許可リスト) の欄に `192.0.2.0/33` と入力し、表示されるメッセージを読む。

# %%
rotation_lab()

# %% [markdown]
# ## 演習
#
# サイトは **EIMS 2.1** を使っています (今日のところ、製品を替えるという選択肢はありません)。迷惑メール送信者は 50 個のアドレスを使い回し、1 通ごとに新しいアドレスに変えます。次の条件をすべて満たす防御を選んでください。**迷惑メールを 1 通も中継せず、bob (LAN) のメールも alice (外部で仕事をしている。198.51.100.77) のメールも失わない**こと。さらに、2 人のログインを 1 回も拒否せず、迷惑メール送信者以外の誰も BAN せず、必要のない相手には誰にも中継を開かないこと (設定が見知らぬ相手にまで中継を許してしまう場合は、チェッカーがそう指摘します)。
#
# `check_rotation_defence("eims-2.1", defence, ban_after=3, relay_networks=None)` のように呼び出します。
#
# * `defence` は次のいずれかです: `"none"`、`"per_ip_ban"` (fail2ban)、`"admin_block"` (管理者が 1 時間ごとにルーターで遮断)、`"please_stop"` (手紙)、`"allowlist"` (Relay Restriction の AND if from a valid IP)。`"allowlist"` は上で見た、EIMS 2.1 から 3.1 向けのベンダーの選択肢 (KB 2153) です。これを使う EIMS 2.1 での答えは、スレッドではなくその出典に拠ることになります。
# * `ban_after` は、`per_ip_ban` と `admin_block` の BAN のしきい値です。
# * `relay_networks` は、`"allowlist"` で使う EIMS 2.1 の有効な IP アドレス (valid IPs) の一覧です。CIDR ブロック、アドレス、from-to 形式の範囲を並べたリストで指定します (`None` ならサイトのネットワーク `["192.0.2.0/24"]`)。
#
# 下のセルが試しているのは、最も厳しい fail2ban です。これで合格するでしょうか。

# %%
from simlab.exercises.rotation import SOLUTION, check_rotation_defence  # noqa: E402

check_rotation_defence("eims-2.1", "per_ip_ban", ban_after=1)  # the strictest fail2ban: does it pass?

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## 今日に通じること
#
# * 中継してよい相手は、正当なものの一覧で決めます。一覧に載せるのはクライアントのネットワーク、さらに良いのはログイン (サブミッションポート 587 での SMTP 認証) です。それ以外は `RCPT` の段階で全員拒否します。迷惑メール送信者がアドレスを借り増やしても、この一覧は増えません。増えるのは遮断リストのほうです。
# * fail2ban やその仲間のツールは、アドレスごとに数えます。アドレスが 1 つの攻撃者なら勢いを落とせますが、アドレスのプールには役に立ちません (今日のボットネット (botnet) は何千ものアドレスを持っています)。そのうえ、外出先のアドレスやオフィスの NAT の背後にいる自分たちの仲間まで捕まえてしまいます。fail2ban の `ignoreip` (と Dovecot の `login_trusted_networks`) には自分たちのネットワークを入れ、自分たちの利用者が普段の仕事で出す行を BAN のルールに読ませないようにしましょう。
# * 不正利用者にやめてほしいと頼んでも、誰にも届きません。送信者のアドレスも HELO も、不正利用者が自分で好きなように書いたものだからです (RFC 2505 §2.1)。
