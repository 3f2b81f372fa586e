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
# # 09 · ライブラボ: 同じサーバーを本物のソケットで
#
# **学習目標**
#
# * 本物のクライアント (Python の `smtplib` と `poplib`、端末の `telnet`、`nc`、`swaks`) でシミュレーションのサーバーと通信し、シミュレーションのときとまったく同じように応答することを確かめる。サーバーのモデルは一つ、入り口は二つ。
# * スレッドのある管理者が行ったテストを再現する。EIMS 2.1 の Relay Restriction (中継制限の設定) を、サイト自身のドメインの `Postmaster@` を送信者にして外部から確かめ、サーバーが何と答えたかを読む。
# * 同じやり取りを SIMS と Postfix に送り、違いがあれば、各サーバーが誰に中継 (relay) を許すかを決めるときに何を見ているかから説明する。
# * POP3 のログを見て、誤ったパスワードは行を残し、正しいパスワードは (盗まれたものであっても) 何も残さないことを確かめる。
#
# **スレッドのあらすじ** 1998 年 6 月 15 日 (14:35)、参加者のたまちゃんさんが、EIMS 2.x で自分が行ったテストを、ほかの人にも確かめてほしいと頼みました。中継を禁止したローカルドメインを持つ EIMS 2.x に、そのドメインの外のホストからポート 25 で接続し、送信者にはサイト自身のドメインのアドレス (postmaster のもの) を、宛先 (recipient) には別の会社のアドレスを指定する、というものです。するとメッセージが送れてしまいました。そのときサーバーが何と答えたかが、下で最初に再現する内容です (simlab がモデル化しているバージョン、EIMS 2.1 で再現します)。会議室を主宰する田中求之さんは、最初これを正規のアカウントでログインした場合の話と受け取り (15:39)、その後、SIMS でも原理的には同じではないかと尋ねました (17:10)。たまちゃんさんはその日の夕方 (18:24)、SIMS は接続してきたマシンのアドレスで判断するのだ、と説明しています。スレッドの別の箇所では、cony さんの EIMS 1.2 サーバーの POP3 のログ (6 月 15 日 00:51) が、外部のアドレスからの webmaster アカウントに対する「wrong password」の行で埋まっていました。スレッドの最初の投稿 (みやむらさん、1998 年 5 月 22 日) も同じ種類の行について尋ねており、田中求之さんは、それは拒否されたログインの記録であり、正しいパスワードを持つ本物の侵入者ならエラーの行は残さない、と答えていました。
#
# **ここで使うアドレス** (スレッドに出てくるアドレスの代わりに、文書用のアドレスを使います)
#
# | ここでの名前 | スレッドでは |
# |---|---|
# | `mycompany.test`、`mail.mycompany.test` | サイトのドメインとサーバー (mail.mycompany.co.jp) |
# | `yourcompany.test` | 外部の会社 (mail.yourcompany.co.jp) |
# | 203.0.113.50 | 外部からテストする人。レッスン 03 と 07 でなりすまし (spoofing) のメールを送るのと同じホスト |
# | 203.0.113.226 | パスワード推測者 (203.216.11.226) |
# | 192.0.2.0/24、bob の PC 192.0.2.101 | サイト自身の LAN |
#
# **文書用のアドレスをどうやってサーバーに伝えるか** ここでは、すべてがこのマシンの中で動きます。サーバーはループバックアドレス 127.0.0.1 で待ち受け、何もこのコンピューターの外には出ていきません。ラボは Python の標準ライブラリ (asyncio、smtplib、poplib) だけで動くので、追加でインストールするものはありません。`client_map` は、ループバックから接続したクライアントがどの文書用アドレスを表すかをラボに伝えます。下のセルはどれも、どのシステムにもある 127.0.0.1 からだけ接続し、状況に合った対応表でラボを起動します。外部からテストする人になるには `{"127.0.0.1": "203.0.113.50"}`、bob の PC になるには `{"127.0.0.1": "192.0.2.101"}` です。管理者権限は必要ありません。
#
# ほかに二つのやり方があります。あとで試してください。
#
# * **ループバックアドレスを同時に複数使う。** Linux では 127.0.0.0/8 全体がループバックとして応答するので、クライアントは 127.0.0.2 や 127.0.0.3 *から*接続でき (`smtplib.SMTP(source_address=("127.0.0.2", 0))`)、一つのラボでそれぞれを別の人に対応づけられます。macOS では 127.0.0.1 しか設定されていません。別のアドレスは `sudo ifconfig lo0 alias 127.0.0.2 up` で追加し、使い終わったら `sudo ifconfig lo0 -alias 127.0.0.2` で取り除きます (管理者のパスワードが必要です)。
# * **XCLIENT。** `simlab.live.serve(..., xclient_hosts=["127.0.0.1"])` とすると、127.0.0.1 のクライアントが Postfix の XCLIENT コマンド `XCLIENT ADDR=203.0.113.50` (説明は Postfix の XCLIENT_README にあります) を送り、そのアドレスとして接続をやり直せるようになります。simlab の Postfix を本物の Postfix と照らし合わせて記録したときにも、この方法を使いました。SIMS の節の最後のセルで使ってみます。

# %%
import poplib
import smtplib

import simlab
import simlab.live

OUTSIDE = {"127.0.0.1": "203.0.113.50"}  # a client on 127.0.0.1 is the outside tester
BOB = {"127.0.0.1": "192.0.2.101"}  # ... or bob's PC on the LAN
THREAD = ["HELO outside.test", "MAIL FROM:<Postmaster@mycompany.test>", "RCPT TO:<user_name@yourcompany.test>",
          "DATA", ".", "QUIT"]


def replay(lab, lines):
    """Connect from 127.0.0.1 with smtplib and type ``lines`` one by one, as in telnet."""
    client = smtplib.SMTP(timeout=10)
    code, text = client.connect(lab.host, lab.smtp_port)
    print(f"S: {code} {text.decode()}")
    try:
        for line in lines:
            print(f"C: {line}")
            try:
                code, text = client.docmd(line)
            except smtplib.SMTPServerDisconnected:
                print("   (the server has closed the connection)")
                break
            print(f"S: {code} {text.decode()}")
    finally:
        client.close()


# %% [markdown]
# ## Relay Restriction を有効にした EIMS 2.1
#
# 管理者が使っていたサーバーを起動します。ローカルドメインを `mycompany.test` とし、Relay Restriction にチェックを入れた EIMS 2.1 です。`simlab.live.serve` は、サーバーが待ち受けを始めるとすぐに戻ります。ポートは空いているものが選ばれます (`lab.smtp_port`、`lab.pop3_port`)。

# %%
eims = simlab.presets.eims_2_1(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                               relay_restriction=True)
lab = simlab.live.serve(eims, client_map=OUTSIDE)
print(f"SMTP on {lab.host}:{lab.smtp_port}, POP3 on {lab.host}:{lab.pop3_port}")

# %% [markdown]
# **予想してから実行しましょう。** テストする人は外部 (203.0.113.50) にいて、宛先は外部の会社にあります。Relay Restriction は有効です。サーバーは `RCPT TO` に何と答えるでしょうか。`250` (受け付けた) でしょうか、`550` (中継を拒否した) でしょうか。最後の `.` にはどうでしょう。

# %%
replay(lab, THREAD)

# %% [markdown]
# 最後まで受け付けられました。たまちゃんさんが見つけたとおりです。Relay Restriction は、クライアントが送信者として*書いた*ドメイン (サイト自身のもの) だけを見ていました。そこには誰でも何でも書けます (応答の文面は simlab がモデル化した EIMS の文言です。スレッドに記録されているのは、メッセージが送れてしまったということだけです)。これは本物の TCP 接続でした。`smtplib` には、このサーバーと本物のサーバーの区別がつきません。何が起きたかは、サーバーのログと中継のキュー (queue) が教えてくれます。メッセージは今、postmaster の名前を付けたまま、`yourcompany.test` へ送り出されるのを待っています。

# %%
print("\n".join(eims.log))
for message in eims.queue:
    print(message.queue_id, "from", message.sender, "to", message.recipients, "client", message.client_ip)

# %% [markdown]
# サーバーは、セッションのやり取りの記録 (トランスクリプト) を自分でも持っています。同じやり取りを、サーバーの側から見たものです。

# %%
print("\n".join(lab.sessions[-1].transcript))

# %% [markdown]
# 今度は正直な外部の人が、*自分の*アドレスを送信者として書きます。**予想してみましょう。** 同じ規則は、この人を通すでしょうか。

# %%
replay(lab, ["HELO outside.test", "MAIL FROM:<someone@yourcompany.test>", "RCPT TO:<friend@elsewhere.test>",
             "QUIT"])
print(eims.log[-1])

# %% [markdown]
# 拒否されました。この規則は正直なクライアントには効きますが、送信者を偽る相手には効きません (拒否されるかどうかが送信者のドメインで決まることは、スレッドで明らかになったことであり、「EIMS Relay Security」にある EIMS 2.1〜3.1 についての開発元の説明とも一致します。文面は simlab のものです)。次のサーバーを起動する前に、このサーバーを停止します。

# %%
lab.stop()

# %% [markdown]
# ## SIMS: Client Hosts
#
# SIMS は、「Client Hosts」の一覧 (中継を許すクライアントのアドレスの一覧) にあるマシンのためだけに中継します。ここでは LAN の 192.0.2.0/24 です (スレッド: たまちゃんさん、1998 年 6 月 15 日)。**予想してから実行しましょう。** 同じ外部のアドレスから、同じやり取りを送ります。どこで止まるでしょうか。LAN 上の bob の PC (192.0.2.101) からならどうでしょうか。同じサーバーを 2 回続けて起動します。1 回目は外部からテストする人の対応表、2 回目は bob の対応表を使います。

# %%
sims = simlab.presets.sims(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                           client_hosts=["192.0.2.0/24"])
with simlab.live.serve(sims, client_map=OUTSIDE) as lab:
    replay(lab, THREAD)
print()
with simlab.live.serve(sims, client_map=BOB) as lab:
    replay(lab, THREAD)
print()
print("\n".join(sims.log))

# %% [markdown]
# 外部からでは、送信者を偽っても何も変わりません。`RCPT` で `550 ... relaying prohibited` です。LAN からならメッセージは通ります。自分の利用者のために中継するのは、サーバーの仕事だからです (`with` ブロックを使うと、ブロックの終わりでラボが停止します。SIMS の応答の文面は simlab のモデル化です。スレッドが述べているのは規則であって、その文言ではありません)。
#
# 次は、同じ 2 つのクライアントを一つのラボで、XCLIENT を使って試します。127.0.0.1 のクライアントが自分はどのアドレスを表すかを告げ、サーバーはそのアドレスとして新しいセッションを始めます。XCLIENT はここではラボのための仕掛けで、1998 年のサーバーにはこのようなコマンドはありませんでした。そのためラボは、`xclient_hosts` にあるアドレスからしかこれを受け付けません。

# %%
with simlab.live.serve(sims, xclient_hosts=["127.0.0.1"]) as lab:
    for address in ("203.0.113.50", "192.0.2.101"):
        replay(lab, [f"XCLIENT ADDR={address}", *THREAD[:3], "QUIT"])
        print()

# %% [markdown]
# 最初の挨拶 (バナー) は 127.0.0.1 に向けたものです。`XCLIENT` のあとの挨拶で、サーバーが判断の対象とするセッションが始まります。そしてサーバーは、先ほどとまったく同じように判断します。外部からは拒否、LAN からは受け付けです。
#
# ## Postfix 3.7
#
# 現在の基準となる Postfix も、同じように判断します。クライアントが SMTP 認証 (SMTP AUTH、RFC 4954) でログインしない限り、クライアントのアドレス (`mynetworks`) で決めるのです。**予想してみましょう。** 見知らぬ相手に対して、Postfix は `RCPT` でどのコードを使うでしょうか。それは恒久的な拒否 (5xx) でしょうか、一時的な拒否 (4xx) でしょうか。

# %%
postfix = simlab.presets.postfix(myhostname="mail.mycompany.test", mydestination=["mycompany.test"],
                                 mynetworks=["192.0.2.0/24"])
with simlab.live.serve(postfix, client_map=OUTSIDE) as lab:
    replay(lab, THREAD)
print()
print("\n".join(line for line in postfix.log if "reject" in line))

# %% [markdown]
# `454 4.7.1 ... Relay access denied` です。Postfix 3.7 の既定の `defer_unauth_destination` は一時的なコードで答えるので、自分の設定の誤りで正規のメール (legitimate mail) がエラーメール (bounce) になって戻ってしまうことはありません。中継の試みは、どちらにしても先へ進めません。そしてログ行が、誰が試みたかを教えてくれます。宛先が一つも残っていないので `DATA` も拒否され、そのあとに続く `.` だけの行は、もはやコマンドですらありません。Postfix はこれを SMTP を話さないクライアントとみなし、そう告げて (`221 2.7.0 Error: I can break rules, too. Goodbye.`) 接続を切ります。これは simlab の推測ではありません。本物の Postfix 3.7 が、同じ `MAIL`、`RCPT`、`DATA`、`.` に同じ応答を返しました (simlab の記録 `tests/data/postfix_reference.json` の `spoof/outside` のケース。EHLO で始め、XCLIENT を使って外部のアドレスから接続したものです)。
#
# ログインについて一言。SMTP の普通のログイン方法 `AUTH PLAIN` は、ユーザー名とパスワードを base64 で符号化して送ります。base64 は符号化であって暗号化ではありません。その行を見た人は誰でも、一度デコードするだけでパスワードを読み戻せます。

# %%
import base64  # noqa: E402

line = "AUTH PLAIN " + base64.b64encode(b"\0alice\0s3cret").decode()
print(line)
print(base64.b64decode(line.split()[-1]))

# %% [markdown]
# ## POP3: 誤ったパスワードと、正しいパスワード
#
# webmaster のパスワードがアカウント名と同じだとしましょう。パスワード推測 (password guessing) で、どの攻撃者もまず試すものです (スレッドでの kazu さんの警告、1998 年 5 月 24 日)。そのアカウントを持つ EIMS 2.1 をラボで起動し、127.0.0.1 のクライアントが外部の推測者 203.0.113.226 として見えるようにします。
#
# POP3 の `USER` と `PASS` (RFC 1939) は、平文のまま回線を流れます。下のパスワードも、入力したとおりの形でソケットを通ります。ここではこのコンピューターの外に出ることはありませんが、実際のネットワークで TLS を使わなければ、経路上の誰でもそれを読めます。
#
# **予想してから実行しましょう。** 誤ったパスワードに、サーバーは何と答えるでしょうか。そして、ログにはどんな行が現れるでしょうか。

# %%
pop_server = simlab.presets.eims_2_1(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                                     accounts={"webmaster": "webmaster", "bob": "Tr0ub4dor&3"})
lab = simlab.live.serve(pop_server, client_map={"127.0.0.1": "203.0.113.226"})

guesser = poplib.POP3(lab.host, lab.pop3_port, timeout=10)
print(guesser.getwelcome().decode())
guesser.user("webmaster")
try:
    guesser.pass_("123456")
except poplib.error_proto as refusal:
    print("refused:", refusal)
guesser.quit()
print(pop_server.log[-1])

# %% [markdown]
# ログの最後の行は `1998年 6月 11日 (木) 1:25:32 AM  POP3 wrong password for webmaster from 203.0.113.226` です。cony さんのログにあったのと同じ形の行です (スレッドは EIMS 1.2 のログからこの行を引用しています。simlab の EIMS 2.1 も同じ形で記録し、日付も日本語版の Mac OS と同じ書き方になります)。**予想してみましょう。** 今度は推測者が、アカウント名をパスワードとして試します。*エラー*のログには、今回は何が記録されるでしょうか。

# %%
errors_before = [line for line in pop_server.log if "wrong password" in line]
guesser = poplib.POP3(lab.host, lab.pop3_port, timeout=10)
guesser.user("webmaster")
print(guesser.pass_("webmaster").decode())
print(guesser.stat())
guesser.quit()
errors_after = [line for line in pop_server.log if "wrong password" in line]
print("new error lines:", errors_after[len(errors_before):])
print("last log line:  ", pop_server.log[-1])

# %% [markdown]
# 新しいエラーはありません。正しいパスワードによるログインは、田中求之さんが述べたとおり (1998 年 5 月 22 日)、持ち主のログインとまったく同じように見えます。ログには推測が成功する*前の*失敗が残り、そのあとは静かになります (サーバー自身のやり取りの記録 `lab.sessions[-1].transcript` では `PASS` が星印で伏せられていますが、ソケットには平文で流れました)。

# %%
lab.stop()

# %% [markdown]
# ## ライブラボの時間
#
# シミュレーションのサーバーの時計は、進めるように指示されたときにしか進みません。ライブラボでは、実際に経過した時間に従って進みます (シミュレーションの開始時刻、1998 年 6 月 11 日 1:25:32 から数えます)。そのため、レート制限 (rate limit)、アカウントロックアウト (account lockout)、fail2ban の時間窓は、本物のサーバーと同じように働きます。上の POP3 サーバーが動いていたのは、上のセルの実行にかかったわずかな間だけで、時計もちょうどそれだけ進んでいます (下の最初の数値、単位は秒)。

# %%
print(f"{pop_server.clock.now:.2f} s after {pop_server.clock.start}: {pop_server.clock.datetime()}")

# %% [markdown]
# ## パネルで動かすライブラボ
#
# 同じサーバーを、パネル (panel) から起動することもできます。製品とその中継の設定、そしてどのループバックアドレスがどのホストを演じるかを選びます (`127.0.0.2=203.0.113.50` とすると、127.0.0.2 から接続したクライアントが外部からテストする人になります。macOS では、上で示したように別名を追加するまで 127.0.0.1 しかないので、代わりに `127.0.0.1` を対応づけます)。起動のボタン (Start) を押すと、パネルにポートと試すべきコマンド (端末での `telnet`、`nc -C`、`swaks`、またはセルでの `smtplib`) が表示されます。クライアントが接続すると、各セッションのやり取りの記録 (新しいものが上)、サーバーのログ、メールボックス、中継のキューも表示されます。**予想してから試しましょう。** Relay Restriction を有効にした EIMS 2.1 にスレッドのやり取りを送り、次に SIMS か Postfix に切り替えて、もう一度起動のボタンを押します (空のサーバーでの再起動になります)。それぞれのサーバーは、やり取りのどこでメッセージを止めるでしょうか。終わったら停止のボタン (Stop) を押してください。パネルやノートブックを閉じても停止します。サーバーは専用のスレッドで動くので、待ち受けている間もノートブックは自由に使えます。

# %%
import simlab.ui  # noqa: E402

simlab.ui.live_lab(preset="eims-2.1", relay_restriction=True,
                   client_map="127.0.0.2=203.0.113.50, 127.0.0.3=192.0.2.101")

# %% [markdown]
# ## 今度はあなたの番: 端末から
#
# ラボはシェルからも起動でき、そうすればどんなクライアントでも通信できます。一つ目の端末で次のように入力します。
#
# ```sh
# python -m simlab serve --preset eims-2.1 --smtp-port 2525 --pop3-port 1110 \
#     --set hostname=mail.mycompany.test --set local_domains=mycompany.test \
#     --set relay_restriction=yes --account webmaster:webmaster \
#     --client-map 127.0.0.1=203.0.113.50 --log
# ```
#
# `--client-map` によって、127.0.0.1 からの普通の接続が、外部からテストする人 (203.0.113.50) になります。もう一つの端末で、スレッドのやり取りを自分で入力してみましょう。
#
# * `telnet 127.0.0.1 2525` と入力し、続けて `HELO outside.test`、`MAIL FROM:<Postmaster@mycompany.test>`、`RCPT TO:<user_name@yourcompany.test>`、`DATA`、本文を 1 行、`.`、`QUIT`。サーバーからは、あなたが外部の 203.0.113.50 にいるように見えます。
# * `nc -C 127.0.0.1 2525` でも同じことができます (`-C` は、SMTP が求めるとおり行末を CRLF にして送ります)。
# * `swaks --server 127.0.0.1:2525 --from Postmaster@mycompany.test --to user_name@yourcompany.test` は、やり取り全体を代わりに実行してくれます。
# * `telnet 127.0.0.1 1110` と入力し、`USER webmaster` に続けて、誤ったパスワードと正しいパスワードで `PASS` を送る。
#
# 代わりに LAN 上の bob になるには、サーバーを停止し (Ctrl-C)、`--client-map 127.0.0.1=192.0.2.101` を付けて起動し直します。これはどのシステムでも、root 権限なしで使えます。両方を同時に使うには、`--client-map 127.0.0.3=192.0.2.101` を加えて 127.0.0.3 から接続します。`nc -C -s 127.0.0.3 127.0.0.1 2525`、または swaks に `--local-interface 127.0.0.3` を付けます。Linux ではこのアドレスをそのまま使えます。macOS では先に `sudo ifconfig lo0 alias 127.0.0.3 up` を実行してください (終わったら `sudo ifconfig lo0 -alias 127.0.0.3`)。
#
# Ctrl-C でサーバーが停止し、`--log` を付けていれば、そのログが表示されます。
#
# ## 今日に活かせること
#
# * 中継の規則は、この管理者がしたように*外部から*テストすること。送信者アドレスは何の証明にもなりません。書くのはクライアントだからです。
# * 中継の許可は、クライアントが入力できないもの、つまりそのアドレスかログインに基づかせること。
# * 静かなログは安全なログではありません。失敗だけでなく、見慣れないアドレスからの成功したログインも数えましょう。
