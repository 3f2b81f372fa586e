"""Lesson 10's exercise checker: its real feedback for right and wrong answers."""

import pytest

from simlab.exercises.spraying import SOLUTION, check_spraying_defence, size_sweep


def test_the_solution_passes():
    feedback = check_spraying_defence(["account_jail"])
    assert feedback.passed, feedback.messages
    assert feedback.messages[0].startswith("no account lost to 2000 addresses")
    assert 'check_spraying_defence(["account_jail"])' in SOLUTION


@pytest.mark.parametrize("defences", [["fail2ban"], ["anvil"], ["auth_penalty"], ["postscreen"], [],
                                      ["fail2ban", "anvil", "auth_penalty", "postscreen"]])
def test_per_address_defences_fail_with_the_accounts_lost(defences):
    feedback = check_spraying_defence(defences)
    assert not feedback.passed
    assert feedback.messages[0].startswith("3 accounts fell to the 2000-address botnet")
    assert "count per account, not per address" in feedback.messages[0]


def test_the_lockout_fails_on_what_it_costs_the_staff():
    feedback = check_spraying_defence(["lockout"])
    assert not feedback.passed and len(feedback.messages) == 1
    assert "staff logins were refused - no fewer than a plain lockout's" in feedback.messages[0]


def test_bad_answers_are_feedback_not_tracebacks():
    assert "'moat' is not a defence" in check_spraying_defence(["moat"]).messages[0]
    assert not check_spraying_defence("account_jail", botnet_size=0).passed
    assert "botnet_size" in check_spraying_defence(["account_jail"], botnet_size=0).messages[0]
    assert not check_spraying_defence().passed  # a missing argument names the checker's signature


def test_size_sweep_rows():
    sweep = size_sweep({"none": ()}, sizes=(1, 1000))
    rows = sweep["none"]
    assert [r["botnet_size"] for r in rows] == [1, 1000]
    assert rows[0]["first_compromise_min"] is None and rows[1]["first_compromise_min"] < 60


def test_the_sweep_figure_draws_three_panels_and_skips_no_compromise():
    from simlab.plots import to_png
    from simlab.plots.spraying import PANELS, spraying_sweep_figure

    rows = [{"botnet_size": 1, "accounts_compromised": 0, "legit_logins_refused": 0, "first_compromise_min": None},
            {"botnet_size": 100, "accounts_compromised": 2, "legit_logins_refused": 1, "first_compromise_min": 30.0}]
    figure = spraying_sweep_figure({"per address": rows}, title="t")
    axes = figure.get_axes()
    assert len(axes) == len(PANELS) == 3
    assert [len(line.get_xdata()) for line in axes[2].get_lines()] == [1]  # no point where no account fell
    assert list(axes[0].get_lines()[0].get_ydata()) == [0, 2]
    assert to_png(figure).startswith(b"\x89PNG")
