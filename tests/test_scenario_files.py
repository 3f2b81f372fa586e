"""Scenario files (TOML): the shipped examples reproduce the Python scenarios; bad files get one clear line."""

from pathlib import Path

import pytest

import simlab
from simlab import ConfigError
from simlab.cli import main

S = simlab.scenarios
EXAMPLES = Path(simlab.scenarios.__file__).parent / "examples"


@pytest.mark.parametrize("name", sorted(S.SCENARIOS))
def test_shipped_file_reproduces_the_python_scenario(name):
    loaded = S.load_scenario(EXAMPLES / f"{name}.toml")
    built = S.SCENARIOS[name]()
    for seed in (1, 2):
        assert simlab.run(loaded, seed=seed).summary == simlab.run(built, seed=seed).summary


@pytest.mark.parametrize("scenario", [
    S.wrong_password(fail2ban=True, router_filter=True, lockout=3, failure_delay=True),
    S.ip_rotation(preset="postfix", defence="admin_block"),
    S.ip_rotation(defence="per_ip_ban"),
    S.relay_probe(server=simlab.presets.postfix(myhostname="mail.mycompany.test", mydestination=["mycompany.test"],
                                                mynetworks=["192.0.2.0/24"], accounts={"bob": "x"})),
], ids=["defences", "admin", "fail2ban", "own-server"])
def test_dump_then_load_runs_the_same(scenario):
    text = S.dumps_scenario(scenario)
    again = S.loads_scenario(text)
    assert simlab.run(again, seed=4).summary == simlab.run(scenario, seed=4).summary
    assert S.dumps_scenario(again) == text


def test_a_world_composed_by_hand_in_a_file(tmp_path):
    """A partner site with its own Postfix, its DNS records, and its MTA writing to bob."""
    path = tmp_path / "partner.toml"
    path.write_text('''
name = "partner_day"
duration = 21600.0

[server]
preset = "sims"

[[hosts]]
name = "mx.partner.test"
ip = "198.51.100.30"
role = "remote MTA"
links = [["internet", 0.02]]
[hosts.server]
preset = "postfix"
[hosts.server.settings]
myhostname = "mx.partner.test"
mydestination = ["partner.test"]
mynetworks = []
inet_interfaces = ["198.51.100.30"]

[dns.mx]
"partner.test" = ["mx.partner.test"]

[[actors]]
type = "RemoteMta"
name = "partner"
host = "mx.partner.test"
ip = "198.51.100.30"
domain = "partner.test"
recipients = ["bob"]
send_every = 1800.0
''')
    result = simlab.run(S.load_scenario(path), seed=1)
    assert result.summary["legit_delivered"] > 3 and result.summary["legit_refused"] == 0
    assert "mx.partner.test" in result.world.network.hosts
    assert result.world.network.host("mx.partner.test").server.hostname == "mx.partner.test"


@pytest.mark.parametrize(("text", "path", "value"), [
    ('[server]\npreset = "postfix"\n[[actors]]\ntype = "RelayScanner"\nname = "s"\nhost = "attacker"\nservre = "x"\n',
     "actors[0].servre", "'x'"),
    ('duraton = 60\n[server]\npreset = "postfix"\n', "duraton", "60"),
    ('[server]\npreset = "qmail"\n', "server.preset", "'qmail'"),
    ('[server]\npreset = "postfix"\n[server.settings]\nmynetwork = ["192.0.2.0/24"]\n', "server.settings.mynetwork",
     "['192.0.2.0/24']"),
    ('[server]\npreset = "postfix"\n[server.settings]\nmynetworks = ["192.0.2.0/33"]\n', "server.settings.mynetworks",
     "192.0.2.0/33"),
    ('[server]\npreset = "sims"\n[[defences]]\ntype = "Fail2Ban"\nmaxretry = -1\n', "defences[0].maxretry", "-1"),
    ('[server]\npreset = "sims"\n[[actors]]\ntype = "Pop3Guesser"\nname = "g"\nhost = "attacker"\npace = "fast"\n',
     "actors[0].pace", "'fast'"),
    ('[server]\npreset = "sims"\n[[actors]]\ntype = "Wizard"\nname = "g"\nhost = "attacker"\n', "actors[0].type",
     "'Wizard'"),
    ('[server\npreset = "sims"\n', "", "is not TOML"),
])
def test_bad_files_name_file_key_and_value(tmp_path, text, path, value):
    file = tmp_path / "lab.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as info:
        S.load_scenario(file)
    message = str(info.value)
    assert message.startswith(f"{file}: {path}") and value in message, message
    assert "\n" not in message.split(";")[0]


def test_an_actor_on_a_missing_host_is_refused_at_run():
    scenario = S.loads_scenario('[server]\npreset = "sims"\n[[actors]]\ntype = "RelayScanner"\nname = "s"\n'
                                'host = "nowhere"\n')
    with pytest.raises(ConfigError, match="is not a host on the network"):
        simlab.run(scenario)


def test_cli_runs_a_file_like_the_python_scenario(capsys):
    main(["run", str(EXAMPLES / "relay_probe.toml"), "--seed", "1", "--tail", "0"])
    from_file = capsys.readouterr().out
    main(["run", "relay_probe", "--seed", "1", "--tail", "0"])
    assert capsys.readouterr().out == from_file
    assert "spam_relayed           1" in from_file


def test_cli_bad_file_is_one_line(tmp_path, capsys):
    file = tmp_path / "bad.toml"
    file.write_text('[server]\npreset = "postfix"\n[[actors]]\ntype = "RelayScanner"\nname = "s"\nhost = "attacker"\n'
                    'servre = "x"\n')
    assert main(["run", str(file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "actors[0].servre" in err and str(file) in err
