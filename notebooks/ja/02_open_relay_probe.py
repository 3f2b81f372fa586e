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
# # 02 · 不正中継の調査 (S2、S3)
#
# **学習目標**
#
# * *不正中継* (open relay) とは何か、中継 (relay) を制御する仕組みのない 1998 年のサーバーがなぜ不正中継を許してしまうのかを説明できる。
# * 中継は受け付けたものの配送できなかったメールが残すログ行を読み、postmaster のメールボックスに行き着いたエラーメール (bounce) の経路をたどれる。
# * EIMS 2.1 も*インストールしたままの状態では*まだ不正中継を許すことを確かめ、職員や取引先のメールを失わずに、このテストの中継を拒否できる設定を見つける。
#
# **スレッドのあらすじ** スレッドが始まってから 3 週間あまりたった 1998 年 6 月 15 日、EIMS 1.2 を運用する cony さんが、古い話題を蒸し返すことを詫びつつ書き込みました。エラーログにはできるだけ目を通すようにしていたが、1 週間ほど留守にしていた間に、POP への侵入を試みられていた、あるいはそう見えた、という相談です。気づいたきっかけは、postmaster のメールボックスに戻ってきていた、配送 (delivery) できなかったメールでした (わざと残したのではないか、と cony さんは疑っています)。その内容はおおよそ、このプログラムは 25 番ポートを走査して不正中継を調べている、作者は迷惑メール送信者ではない、調査のためにどのシステムにもテストは 1 通しか送らない、というものでした。宛先 (recipient) は調査元のドメインの `rtest` で、届かないことを見越した宛先のようでした。慌ててエラーログを調べると、留守の間、次のような行が毎日何度も記録されていました。
#
#     1998年 6月 xx日 (木) 1:25:32 AM  DNR timed out to 210.163.xxx.34 for simkin.com 1998年 6月 xx日 (木) 1:30:32 AM  Connection timed out to 199.175.137.111 (simkin.com) 1998年 6月 xx日 (金) 1:40:11 AM  POP3 wrong password for webmaster from 203.216.11.226
#
# (日付の「xx」は cony さんが伏せたもので、1 つ目のアドレスは cony さん自身のメールサーバーです。日付の書き方は当時の日本語版 Mac OS のもので、simlab の EIMS も日本語で動かすとこの形でログを書きます。) cony さんが気にしていたのは、留守中に外出先からメールを確認してはいたものの、パスワードを打ち間違えたことは一度もない、つまりこれらのログイン失敗は自分のものではない、という点でした。どう対処すればよいのか。以前の発言にあったように、ルーターで特定のアドレスをフィルタリングするしか方法はないのか、という質問です。
#
# 会議室を主宰する田中求之さんは、2 時間ほどあとの真夜中に答えています。善意なのか余計なお世話なのかはさておき、あの怪しいメールが指摘するとおり、EIMS 1.2 の SMTP には迷惑メール (スパム、spam) の中継を防ぐ手立てがない。POP3 は、パスワードが見破られていない限り、おそらく侵入されていない。しかし SMTP は迷惑メールの中継に使われうるし、EIMS 1.2 を使っている限りそれはどうしようもない。中継対策の機能を持つ EIMS 2.1 か SIMS に乗り換えるしかない。さらに、確信はないと断ったうえで、ルーターの IP フィルタリングでは迷惑メールの中継は防げないと思うと述べ、この点は詳しい人に補足してほしいと頼みました (スレッドの中では、補足した人はいませんでした)。理由として考えられるのは (これはスレッドではなく私たちの考えですが)、サイトがそもそもメールを受け取るには、25 番ポートをインターネット全体に開けておかなければならない、ということです。
#
# 同じ日の朝、EIMS 2.1 を運用するみやむらさん (レッスン 01) が、自分のところにも先週、`rtest@simkin.com` 宛ての同じ配送不能のメールが来ていたと報告し、EIMS 2.1 でも外部の者が SMTP を使えるのかと尋ねました。田中求之さんの答えはこうです。Relay Restriction と IP Range Restriction (どちらも EIMS 2.1 の中継対策の設定で、前者はドメイン名で、後者は接続元の IP アドレスの範囲で制限します) をインストール直後の未設定のままにしているなら、迷惑メール送信者に SMTP を悪用されても防ぎようがないのは当然だ。
#
# このレッスンでは中継調査を追います。「wrong password」の行はレッスン 01 で扱いました。
#
# **ここで使うアドレス** (スレッドのアドレスの代わりに文書用アドレスを使います)
#
# | ここでの名前 | スレッドでは |
# |---|---|
# | `mail.example.com`、192.0.2.25 | cony さんの EIMS サーバー (210.163.xxx.34) |
# | `survey.test` | 調査元のドメイン (simkin.com) |
# | `sender@survey.test`、`rtest@survey.test` | sender@simkin.com、rtest@simkin.com |
# | 203.0.113.111 | 調査元のメールサーバー (199.175.137.111) |
# | 203.0.113.66 | 走査してくるホスト (スレッドにはない) |
# | 203.0.113.226 | POP3 の行にあるアドレス (203.216.11.226。レッスン 01) |
# | 192.0.2.53 | `DNR timed out to ...` に出てくるリゾルバー (下を参照) |
#
# `DNR` は、クラシック Mac OS での DNS リゾルバーの呼び名です。スレッドの `DNR timed out to 210.163.xxx.34` という行には管理者自身のサーバーが出てきます。このサーバーはネームサーバーも兼ねていたのです。ここではリゾルバーを別のマシン 192.0.2.53 に置きました。2 種類の失敗がログの上で混ざらないようにするための、モデル化上の選択です。2 つの `timed out` の行はスレッドに出てくるとおりの文言です。EIMS のそれ以外のログ行と、下に出てくる応答はすべて simlab の文言です (`simlab/products/eims.py` を参照)。

# %%
import simlab
from simlab.ui.relay import probe_lines_per_hour, probe_log_lines

# %% [markdown]
# ## テストを 1 回、手で再現する
#
# 次の行が、走査プログラムが 25 番ポートに送る内容です。セルを実行する前に**予想してみましょう**。EIMS 1.2 は `RCPT TO` の行に、2xx と 5xx のどちらで答えるでしょうか。

# %%
eims12 = simlab.presets.eims_1_2()
s = eims12.smtp_session(client_ip="203.0.113.66")
for line in ["HELO scanner.survey.test", "MAIL FROM:<sender@survey.test>", "RCPT TO:<rtest@survey.test>",
             "DATA", "Subject: Open relay test", "", "One message per server, for a survey.", ".", "QUIT"]:
    s.send(line)
print("\n".join(s.transcript))
print("queued for relaying:", [m.recipients for m in eims12.queue])

# %% [markdown]
# 一度も見たことのないクライアントから、よそのドメインの宛先に対して `250` を返しています。これが不正中継です。メールは今キュー (queue) に入り、`survey.test` へ送られるのを待っています (出力の最後の行 `queued for relaying` が、中継キューにあるメールの宛先です)。
#
# 同じ行を Postfix に送ってみましょう。Postfix は `RCPT` の時点で、`smtpd_relay_restrictions` というリストに従って判断します (中継を許すかどうかの規則を並べた設定です)。既定値は `permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination` で、左から順に読み、最初に当てはまったもので決まります。
#
# * `permit_mynetworks`: アドレスが `mynetworks` (Postfix が信頼するネットワークの一覧。ここでは LAN) に含まれるクライアントには中継を許す。
# * `permit_sasl_authenticated`: **SMTP 認証** (SMTP AUTH、RFC 4954) でログインしたクライアントには中継を許す。SMTP AUTH とは SMTP の `AUTH` コマンドのことで、メールソフトは送信の前にこれでユーザー名とパスワードをサーバーに伝えます (SASL は、その背後にあるログインの枠組みの名前です)。
# * `defer_unauth_destination`: それ以外で、自分のドメイン宛てでないものは一時的な 4xx で断る (保留にする)。
#
# simlab の Postfix は、この既定値で動かした本物の Postfix 3.7 の記録 (`tests/data/postfix_reference.json`) と、応答ごとに照合してあります。

# %%
pf = simlab.presets.postfix(mydestination=["example.com"], mynetworks=["192.0.2.0/24"])
p = pf.smtp_session(client_ip="203.0.113.66")
for line in ["EHLO scanner.survey.test", "MAIL FROM:<sender@survey.test>", "RCPT TO:<rtest@survey.test>"]:
    reply = p.send(line)
print(reply)
print(pf.log[-1])

# %% [markdown]
# Postfix は断りますが、その応答は `454 4.7.1` です (出力の 2 行目は、このとき Postfix が書くログの行です)。4xx、つまり「今は無理なので、あとでもう一度」で、記録にあるとおりの応答です。`defer_unauth_destination` は、中継しない宛先を*保留*にします。本来中継を許されるはずのクライアントならメールを手元に残してあとで再送するので、サーバー自身の設定を間違えても、メールが失われるのではなく遅れるだけで済みます。より厳しい `reject_unauth_destination` は、5xx の「お断り」である `554 5.7.1 ... Relay access denied` と答えます (この文言は Postfix のソース `smtpd_check.c` によるもので、この場面は記録には含まれていません)。どちらにしても、メールが受け取られることはありません。4xx は、あとでもう一度試すようクライアントに促すだけです。

# %%
strict = simlab.presets.postfix(mydestination=["example.com"], mynetworks=["192.0.2.0/24"],
                                smtpd_relay_restrictions=["permit_mynetworks", "permit_sasl_authenticated",
                                                          "reject_unauth_destination"])
p = strict.smtp_session(client_ip="203.0.113.66")
for line in ["EHLO scanner.survey.test", "MAIL FROM:<sender@survey.test>", "RCPT TO:<rtest@survey.test>"]:
    reply = p.send(line)
print(reply)

# %% [markdown]
# ## テストのある 1 日
#
# 今度は 1 日をまるごとシミュレーションします。職員がメールを読み書きし、取引先からメールが届き、午前 1 時 25 分に中継調査が来ます。サーバーは 30 分ごとに再送し、4 時間たつとあきらめてメールを差出人に返します。EIMS 1.2 自体の再送の間隔は記録に残っていないので、どちらの値も simlab が決めたものです。30 分は、RFC 5321 §4.5.4.1 が一般に認める最短の間隔です。simlab の 1998 年のサーバーは、同じ節が勧めるとおり (4〜5 日。Postfix の既定値も 5 日です) 5 日間再送を続けますが、このシナリオ (scenario) では話が 1 日に収まるよう、それを 4 時間に縮めています。**予想してみましょう** テストから何時間後に、戻ってきたメールが postmaster に届くでしょうか。また、この 1 回のテストのために、ログは何行増えるでしょうか。

# %%
day = simlab.run(simlab.scenarios.relay_probe(preset="eims-1.2"), seed=1)
print({k: day.summary[k] for k in ("spam_relayed", "bounces_to_postmaster", "legit_delivered", "log_lines")})
probe = probe_log_lines(day)
print(f"the probe's lines: {len(probe)} of the day's {len(day.log)}")
for line in probe[:6]:
    print(line)
print("...")
for line in probe:
    if "returning to sender" in line or "Returned message" in line:
        print(line)

# %% [markdown]
# テストメールはたった 1 通ですが、この日のログ 169 行のうち 23 行がそのせいで書かれています。`survey.test` が出てくる行と、それが引き起こした返送の行です (出力の 2 行目 `the probe's lines: 23 of the day's 169` がこの数です)。1 時間ごとに、テストによる行 (赤、凡例「調査の行」) とそれ以外の行 (灰青色、「ほかの通信の行」) を比べてみましょう。

# %%
probe_lines_per_hour(day, title="Log lines per hour: the probe's retries in red")

# %% [markdown]
# ログには、スレッドに出てきた 2 種類の行が現れます。ネームサーバーが応答しなかったときの `DNR timed out` と、ネームサーバーは応答したものの調査元のホストが応答しなかったときの `Connection timed out` です。再送が続く期間は約 4 時間ずつ 2 回あります (1 回目はテストメール、2 回目はそのエラーメールの再送です)。テストメールが届いたのは午前 1 時 25 分でした。午前 5 時 30 分にサーバーはあきらめ、配送できなかったという報告、つまり*エラーメール* (bounce) を `sender@survey.test` に送り返しましたが、こちらも同じように失敗し、さらに 4 時間後の午前 9 時 34 分まで続きました。つまり、戻ってきた報告が postmaster に届いたのは、テストの約 8 時間後です。
#
# エラーメールそのものも配送できなかったら、どうなるのでしょうか。RFC 5321 §6.1 によれば、エラーメールは空の (「null」の) 送信者、つまり `MAIL FROM:<>` で送られます。そして、送信者が空のメールがさらにエラーメールを生むことは決してあってはなりません。返す相手がいないうえに、2 つのサーバーがエラーメールを延々と送り合ってはいけないからです。では、配送できなかった報告はどこへ行くのか。これは RFC の規則ではなく、メールサーバーの慣習です。*ダブルバウンス* (double bounce、エラーメール自体が配送できなかったときの報告) は、ローカルの postmaster に渡されます (Postfix では `2bounce_notice_recipient` で、既定値は postmaster です。sendmail も同じです)。simlab の EIMS はこの慣習に従いますが、これはモデル化上の選択です。スレッドには、戻ってきたメールが postmaster のメールボックスにあったことしか書かれておらず、どういう経路でそこに来たかは書かれていません。ログから読み取った正確な時刻は次のとおりです。

# %%
for line in probe:
    if "received from" in line or "returning to sender" in line or "Returned message" in line:
        print(line)

# %% [markdown]
# postmaster のメールボックスにある報告は、入れ子の箱のようになっています。失敗した報告についての報告があり、その中に最初の報告があり、その中にテストメールそのものがあります。読む前に、用語を 3 つ説明しておきます。
#
# * **MAILER-DAEMON** は、メールサーバーが自分の出す報告に使う、慣習的な差出人の名前です (「daemon」はメールのプログラム自身のことです)。このような報告のエンベロープ送信者 (envelope sender、MAIL FROM) は、上で述べたとおり空の送信者 `<>` です。
# * **multipart/report** は、配送状況の報告のための MIME の形式です (RFC 3462、現在は RFC 6522)。人が読むための部分、機械が読むための `message/delivery-status` の部分 (RFC 3464)、そして返送されたメールそのものからなります。
# * simlab の EIMS が出す報告の文言は、ほかの文言と同じくモデル化したものです。
#
# 最初の数行は、いちばん外側の報告にすぎません。まずその冒頭を、続いていちばん内側の部分、テストメールそのもののヘッダーを表示します。

# %%
report = day.server.mailboxes["postmaster"][0]
print("\n".join(report.lines[:16]))
print("...")
probe_start = max(n for n, line in enumerate(report.lines) if line.startswith("Content-Description: Undelivered"))
headers = report.lines[probe_start:]
print("\n".join(headers[:headers.index("", 3)]))

# %% [markdown]
# ## 試してみよう: 中継実験パネル (panel)
#
# サーバーを選び、中継の設定をオン・オフして、タブに表示される結果のグラフ、サーバーのログ、調査の対話、postmaster のメールボックスの変化を見てください。メニューにあるサーバーは 5 つです。スレッドに出てくる 3 つと、今日の Postfix と Exim です (Exim 4.96 は Debian 12 が設定したとおりのもので、本物の記録と照合してあります。Exim は `relay_from_hosts` に含まれるホストのために中継します。この一覧は Debian では `dc_relay_nets` の設定から作られます)。試してみること:
#
# 1. EIMS 1.2 と、インストールしたままの EIMS 2.1。違いはあるでしょうか。
# 2. EIMS 2.1 で、テストが `RCPT` で受け取る応答を変えるのは、どの設定でしょうか (パネルには EIMS 2.1 用の設定が 2 つあります)。
# 3. SIMS、Postfix、Exim は `RCPT` に何と答えるでしょうか。次に、それぞれの、中継を許すクライアントの一覧を空にしてみましょう。
# 4. Client Hosts の欄に、正しくない範囲 (`192.0.2.0/33`) を入力し、表示されるメッセージを読みます。(Client Hosts は、中継を許すクライアントのアドレスを並べる SIMS の設定です。)

# %%
simlab.ui.relay_lab()

# %% [markdown]
# ## 演習
#
# テストが拒否され、postmaster にエラーメールが届かず、しかも職員と取引先のメールが 1 通も失われないように、サーバーを設定してください。外から送信する alice (198.51.100.77) のメールも含みます。チェッカーには、製品名と、その製品自身の設定名で書いた設定を渡します。たとえば `check_no_open_relay("eims-2.1", relay_domains=["partner.test"])` です (`relay_domains` は、EIMS の Relay Restriction の「…and the following domains」に並べる、ローカルドメインのほかに中継を許すドメインの一覧です。この例は合格しません。実行して、その理由を読んでみてください)。チェッカーは、誰のメールが失われたかを教えてくれます。下のセルは、インストールしたままの EIMS 2.1 を調べているので不合格になります。引数を書き換えて、合格させてください。

# %%
from simlab.exercises.relay import SOLUTION, check_no_open_relay  # noqa: E402

check_no_open_relay("eims-2.1")  # as installed: try to make this pass

# %%
simlab.ui.solution_button(SOLUTION)

# %% [markdown]
# ## 今日に通じること
#
# * 誰に中継を許すかは、クライアントが偽れないもので決めなければなりません。つまり、アドレス (`mynetworks`、Client Hosts、`relay_from_hosts`) かログイン (SMTP 認証) です。それ以外はすべて `RCPT` の時点で断ります (Postfix の既定では `defer_unauth_destination` で、応答は `454 4.7.1 ... Relay access denied`。`reject_unauth_destination` なら `554 5.7.1`。Debian が設定した Exim は `550 relay not permitted`)。送信者のアドレスがなぜ判断の材料にならないのかは、レッスン 03 で見ます。
# * 既定でオフになっている中継対策は、誰も守りません。インストールしたばかりのサーバーは、外から確かめましょう。
# * `RCPT` に `250` が返ったテストは、不正中継の疑いを示しますが、証明にはなりません (nmap の `smtp-open-relay` スクリプトも同じ注意をしています。いったん受け取ってから捨てるサーバーもあるからです)。ここで証拠になったのは、postmaster のメールボックスに届いたエラーメールでした。
