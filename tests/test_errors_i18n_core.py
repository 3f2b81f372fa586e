"""The network's, the server's, the scenarios' and scenario files' errors in Japanese, and in English unchanged."""

from __future__ import annotations

import pytest

from simlab.errors import ConfigError


def _message(call) -> str:
    with pytest.raises(ConfigError) as caught:
        call()
    return str(caught.value)


def _cases():
    from simlab import scenarios
    from simlab.engine.network import NetworkDns
    from simlab.presets import postfix
    from simlab.protocol.server import MailServer  # noqa: F401  (the accounts check lives there)

    return {
        "accounts": lambda: postfix(accounts={"bob": 7}),
        "hostname": lambda: postfix(myhostname="localhost"),
        "pool": lambda: scenarios.ip_rotation(pool_size=999),
        "toml": lambda: scenarios.loads_scenario("this is = = not toml", "x.toml"),
        "txt": lambda: NetworkDns().add_txt("example.com", 7),
    }


ENGLISH = {
    "accounts": "accounts['bob']: 7 is not a password; expected a string",
    "hostname": "myhostname: 'localhost' is not a fully-qualified host name; expected e.g. 'mail.example.com'",
    "pool": "pool_size: 999 is larger than 203.0.113.0/24 allows; expected at most 250",
    "txt": "is not a TXT record; expected a string such as 'v=spf1 mx -all'",
}
JAPANESE = {
    "accounts": "accounts['bob']: 7 はパスワードではありません。期待される値: 文字列",
    "hostname": "は完全修飾ホスト名ではありません。期待される値: 例: 'mail.example.com'",
    "pool": "は 203.0.113.0/24 に収まる数を超えています。期待される値: 250 以下",
    "toml": "は TOML ではありません",
    "txt": "は TXT レコードではありません",
}


@pytest.mark.parametrize("case", sorted(ENGLISH))
def test_english_is_unchanged(case):
    assert ENGLISH[case] in _message(_cases()[case])


@pytest.mark.parametrize("case", sorted(JAPANESE))
def test_japanese(case, japanese):
    assert JAPANESE[case] in _message(_cases()[case])
