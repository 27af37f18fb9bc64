"""`campaign create|set` options as campaign settings: durations, hours, retries, and what a
`set` drops when it switches who takes the calls."""

from __future__ import annotations

from datetime import time, timedelta

import click
import pytest

from callcenter.cli.campaign_cmd import duration, fields_of, hours, retry
from callcenter.dialer.compliance import Outcome, RetryRule


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("10m", 600), ("2h", 7200), ("1.5d", 129600)]
)
def test_durations(text: str, seconds: int) -> None:
    assert duration(text, "--x") == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["", "ten", "5w", "-1h"])
def test_bad_durations_name_the_option(bad: str) -> None:
    with pytest.raises(click.BadParameter, match="duration"):
        duration(bad, "--redial-hold")


def test_hours_and_retries() -> None:
    assert hours("08:30-20:00") == (time(8, 30), time(20, 0))
    assert retry("no_answer=3x2h") == (Outcome.NO_ANSWER, RetryRule(3, timedelta(hours=2)))
    for bad in ("busy", "busy=3", "nobody=1x1h", "busy=xx1h"):
        with pytest.raises(click.BadParameter):
            retry(bad)
    with pytest.raises(click.BadParameter, match="HH:MM"):
        hours("8-21")


def test_set_switches_queue_agents_route_trunks_and_broadcast() -> None:
    assert fields_of({"queue": "sales", "agents": ()}, creating=False) == {
        "queue": "sales",
        "agents": (),
    }
    assert fields_of({"agents": ("1001",)}, creating=False) == {"agents": ("1001",), "queue": None}
    assert fields_of({"trunks": ("a",)}, creating=False) == {
        "trunks": ("a",),
        "outbound_route": None,
    }
    assert fields_of({"mode": "broadcast", "flow": "f"}, creating=False) == {
        "mode": "broadcast",
        "flow": "f",
        "queue": None,
        "agents": (),
    }
    created = fields_of(
        {"window": "09:00-20:00", "redial_hold": "48h", "retries": ("busy=1x5m",)}, creating=True
    )
    assert created == {
        "window_start": time(9),
        "window_end": time(20),
        "redial_hold_hours": 48.0,
        "retries": {Outcome.BUSY: RetryRule(1, timedelta(minutes=5))},
    }


@pytest.mark.parametrize("args", [["campaign", "import", "spring"], ["dnc", "import"]])
def test_a_missing_file_is_a_usage_error_not_a_traceback(args: list[str]) -> None:
    from click.testing import CliRunner

    from callcenter.cli import main

    result = CliRunner().invoke(main, [*args, "/nonexistent/leads.csv"])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_set_clear_empties_settings_and_refuses_the_same_option_given() -> None:
    # a route, trunks, a cap or a message once set could not be taken back from the CLI
    # the trunks the route's clear empties too are the service's rule (CLEARS_TOO)
    assert fields_of({"clear": ("route", "max-lines", "description")}, creating=False) == {
        "outbound_route": None,
        "max_lines": None,
        "description": "",
    }
    with pytest.raises(click.UsageError, match="give --trunk or --clear route, not both"):
        fields_of({"clear": ("route",), "trunks": ("a",)}, creating=False)
    with pytest.raises(click.UsageError, match="--max-lines or --clear max-lines"):
        fields_of({"clear": ("max-lines",), "max_lines": 5}, creating=False)
