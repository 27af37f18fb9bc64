# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on
import click
import pytest
from click.testing import CliRunner

from callcenter.cli.sim_cmd import outbound_mix
from callcenter.cli.sim_cmd import sim as sim_command
from callcenter.sim import Simulator
from callcenter.sim.traffic import TrafficModel, TrafficProfile
from tests.support import until


def test_traffic_offers_calls_and_counts_abandons(sim: Simulator) -> None:
    profile = TrafficProfile(rate=50.0, patience_mean=2.0)
    traffic = TrafficModel(sim, profile, seed=3)
    traffic.start(calls=10)
    until(lambda: traffic.counters.offered == 10 and traffic.counters.live == 0, timeout=10)
    counters = traffic.counters
    assert counters.abandoned == 10 and counters.completed == 0
    assert (
        TrafficModel(sim, profile, seed=9).far_end() == TrafficModel(sim, profile, seed=9).far_end()
    )


def test_traffic_at_rate_0_offers_nothing_and_keeps_running(sim: Simulator) -> None:
    # the model itself divided by the rate: one call offered, then ZeroDivisionError in its
    # greenlet (only the CLI stepped around it)
    traffic = TrafficModel(sim, TrafficProfile(rate=0.0), seed=1)
    traffic.start(duration=0.5)
    greenlet = traffic._greenlet
    assert greenlet is not None
    greenlet.join(timeout=10)
    assert greenlet.dead and greenlet.exception is None
    assert traffic.counters.offered == 0
    with pytest.raises(ValueError, match="rate is calls per second, 0 or more, got -1"):
        TrafficProfile(rate=-1.0)


def test_sim_command_runs_and_stops() -> None:
    result = CliRunner().invoke(
        sim_command,
        [
            "--listen",
            "127.0.0.1:0",
            "--rate",
            "50",
            "--duration",
            "2",
            "--time-scale",
            "0.05",
            "--interval",
            "0.1",
            "--seed",
            "1",
            "--patience",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "offered=" in result.output and "sim: stopped" in result.output
    assert "Example" in (sim_command.help or "")


def test_sim_command_at_rate_0_offers_no_inbound_call() -> None:
    # --rate 0 (the dialer's calls only) offered one call, then its traffic greenlet died
    # dividing by the rate (ZeroDivisionError)
    result = CliRunner().invoke(
        sim_command,
        ["--listen", "127.0.0.1:0", "--rate", "0", "--duration", "1", "--interval", "0.1"],
    )
    assert result.exit_code == 0, result.output
    assert "offered=0 " in result.output and "offered=1" not in result.output
    bad = CliRunner().invoke(sim_command, ["--rate", "-1"])
    assert bad.exit_code == 2 and "--rate" in bad.output


def test_sim_outbound_mix() -> None:
    base = TrafficProfile()
    mix = outbound_mix("busy=0.08, no_answer=0.43,machine=0.2", base)
    shares = (mix.outbound_busy, mix.outbound_no_answer, mix.outbound_machine)
    assert shares == (0.08, 0.43, 0.2)
    assert mix.outbound_failed == base.outbound_failed  # not given: the profile's
    assert outbound_mix(None, base) == base
    for bad, why in (
        ("busy", "expected OUTCOME=SHARE"),
        ("sale=0.1", "expected OUTCOME=SHARE"),
        ("busy=x", "a share is 0 to 1"),
        ("busy=1.5", "a share is 0 to 1"),
        ("busy=0.5,no_answer=0.5", "add up to more than 1"),
    ):
        with pytest.raises(click.BadParameter, match=why):
            outbound_mix(bad, base)
