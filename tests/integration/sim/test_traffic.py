# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on
from click.testing import CliRunner

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
