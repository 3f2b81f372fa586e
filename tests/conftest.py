"""Shared fixtures: the forum's servers with documentation addresses, and Japanese for a test.

192.0.2.0/24 is the site's LAN (the thread's 210.163.x.x), 192.0.2.25 the mail
server, 203.0.113.0/24 the outside world (the thread's 203.216.11.226 and
friends), example.com the site's domain (mycompany.co.jp) and remote.test a
foreign domain (yourcompany.co.jp / simkin.com).
"""

from __future__ import annotations

import pytest

import simlab


@pytest.fixture
def postfix_server():
    return simlab.presets.postfix(myhostname="mail.example.com", mydestination=["example.com"],
                                  mynetworks=["192.0.2.0/24"], accounts={"bob": "s3cret", "alice": "wonder"})


@pytest.fixture
def eims21():
    return simlab.presets.eims_2_1(accounts={"webmaster": "webmaster", "bob": "s3cret"})


@pytest.fixture
def japanese():
    """simlab speaks Japanese for the test, and the language before it afterwards."""
    before = simlab.i18n.language()
    simlab.i18n.set_language("ja")
    yield
    simlab.i18n.set_language(before)


@pytest.fixture
def english():
    """simlab speaks English for the test, and the language before it afterwards."""
    before = simlab.i18n.language()
    simlab.i18n.set_language("en")
    yield
    simlab.i18n.set_language(before)
