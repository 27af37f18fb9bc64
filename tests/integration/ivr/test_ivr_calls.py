"""IVR flows on simulated calls over ESL: the commands sent, the digits, the CDR's path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry

from callcenter.calls.control import CallControl
from callcenter.calls.routing import Target
from callcenter.ivr import plan
from callcenter.ivr.metrics import IvrMetrics
from callcenter.ivr.on_call import IvrRunner
from callcenter.ivr.registry import FlowRegistry
from callcenter.sim.behaviour import CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.repos import RecordingRepository
from callcenter.vocabulary import Disposition, HangupBy
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import apps_sent, settled, wait_cdr
from tests.support import until

HERE = plan.Where("main.yaml", 1, 1)


def prompts(*names: str) -> tuple[plan.Prompt, ...]:
    return tuple(plan.Prompt(file=n) for n in names)


MAIN = plan.Flow(
    name="main", version="1", checksum="a" * 64, source="main.yaml", start="main",
    language="en", sounds="/snd",
    nodes={
        "main": plan.Menu(
            name="main", where=HERE, greet_long=prompts("welcome.wav"),
            greet_short=prompts("menu.wav"), invalid_sound=prompts("invalid.wav"),
            options=(plan.MenuOption("1", "account"), plan.MenuOption("2", "bye")),
        ),
        "account": plan.Collect(
            name="account", where=HERE, prompt=prompts("account.wav"), variable="acct",
            next="vm", on_failure="bye", min_digits=4, max_digits=4,
        ),
        "vm": plan.Voicemail(name="vm", where=HERE, box="sales", greeting=prompts("leave.wav"),
                             max_seconds=3),
        "bye": plan.Hangup(name="bye", where=HERE, cause="NORMAL_CLEARING"),
    },
)  # fmt: skip


@dataclass
class Catalog:
    flows: Mapping[str, plan.Flow]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def wire(app: object, tmp_path: Path, flow: plan.Flow = MAIN) -> tuple[IvrRunner, IvrMetrics]:
    registry = FlowRegistry(tmp_path, loader=lambda _: Catalog({"main": flow}))
    assert registry.reload().ok
    metrics = IvrMetrics(CollectorRegistry())
    runner = IvrRunner(registry, metrics, voicemail_dir=tmp_path / "vm")

    def target(control: CallControl, _target: Target) -> None:
        runner(control, "main")

    app.managers["fs1"].run_target = target  # type: ignore[attr-defined]
    return runner, metrics


def count(metrics: IvrMetrics, node: str, event: str) -> float:
    value = metrics.nodes.labels(flow="main", node=node, event=event)._value.get()
    return float(value)


def test_digits_drive_the_menu_to_voicemail(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine()
    _, metrics = wire(app, tmp_path)
    until(lambda: app.connections["fs1"].connected)
    behaviour = CallerBehaviour(digits=("9", "1", "12", "1234"))
    uuid = sim.place_call("7301", "15551234567", behaviour=behaviour)
    cdr = wait_cdr(app, uuid, timeout=30)
    sent = apps_sent(sim, uuid)
    assert sent[0].strip() == "answer"
    collects = [s for s in sent if s.startswith("play_and_get_digits")]
    assert collects[0].split()[:9] == [
        "play_and_get_digits", "1", "1", "1", "10000", "#", "/snd/en/welcome.wav",
        "silence_stream://1", "cc_digits",
    ]  # fmt: skip
    assert collects[1].split()[6] == "/snd/en/menu.wav"  # greet_short on the second pass
    assert "playback /snd/en/invalid.wav" in sent
    assert collects[2].split()[1:3] == ["4", "4"]  # the account number
    path = f"{tmp_path / 'vm' / 'sales' / uuid}.wav"
    assert f"record {path} 3 200 5" in sent
    assert sent[-1].startswith("hangup NORMAL_CLEARING")
    assert cdr.disposition is Disposition.VOICEMAIL
    assert [(p["node"], p["result"]) for p in cdr.ivr_path] == [
        ("main", "invalid"), ("main", "1"), ("account", "invalid"), ("account", "ok"),
        ("vm", "voicemail"),
    ]  # fmt: skip
    assert cdr.ivr_path[1]["input"] == "1" and cdr.ivr_ms > 0
    assert count(metrics, "main", "invalid") == 1 and count(metrics, "vm", "completed") == 1
    with app.database.session_scope() as session:
        recordings = RecordingRepository(session).for_call(uuid)
    assert [r.path for r in recordings] == [path]
    until(lambda: settled(app))


def test_caller_hangs_up_inside_a_menu(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine()
    _, metrics = wire(app, tmp_path)
    until(lambda: app.connections["fs1"].connected)
    behaviour = CallerBehaviour(hangup_at_app="play_and_get_digits", hangup_at_app_delay=0.3)
    uuid = sim.place_call("7302", "100", behaviour=behaviour)
    cdr = wait_cdr(app, uuid, timeout=30)
    assert cdr.hangup_by is HangupBy.CALLER
    assert [(p["node"], p["result"]) for p in cdr.ivr_path] == [("main", "hangup")]
    assert cdr.ivr_ms > 0
    assert count(metrics, "main", "entered") == 1 and count(metrics, "main", "hangup") == 1
    assert not any(s.startswith("hangup") for s in apps_sent(sim, uuid))
    until(lambda: settled(app))


def versioned(version: str, end: str) -> plan.Flow:
    greeting = prompts("tone_stream://%(20000,0,440)")  # 20 s simulated, 1 s real
    nodes: dict[str, plan.Node] = {
        "main": plan.Menu(name="main", where=HERE, greet_long=greeting, greet_short=(),
                          options=(plan.MenuOption("1", end),)),
        end: plan.Hangup(name=end, where=HERE),
    }  # fmt: skip
    return plan.Flow(name="main", version=version, checksum=version * 64, source="main.yaml",
                     start="main", language="en", sounds="/snd", nodes=nodes)  # fmt: skip


def in_app(sim: Simulator, uuid: str, app: str) -> bool:
    return any(c.uuid == uuid and c.application == app for c in sim.channels)


def test_reload_while_a_call_is_inside_keeps_its_version(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine()
    catalogs = [Catalog({"main": versioned("1", "old_end")}),
                Catalog({"main": versioned("2", "new_end")})]  # fmt: skip
    registry = FlowRegistry(tmp_path, loader=lambda _: catalogs.pop(0))
    registry.reload()
    runner = IvrRunner(registry, voicemail_dir=tmp_path)
    app.managers["fs1"].run_target = lambda control, _t: runner(control, "main")
    until(lambda: app.connections["fs1"].connected)
    inside = sim.place_call("7303", "100", behaviour=CallerBehaviour(digits=("1",)))
    until(lambda: in_app(sim, inside, "play_and_get_digits"))
    assert registry.reload().changed == ("main",)
    after = sim.place_call("7303", "200", behaviour=CallerBehaviour(digits=("1",)))
    first, second = wait_cdr(app, inside, timeout=30), wait_cdr(app, after, timeout=30)
    assert [p["node"] for p in first.ivr_path] == ["main", "old_end"]
    assert [p["node"] for p in second.ivr_path] == ["main", "new_end"]
    until(lambda: settled(app))


def test_a_route_to_a_flow_that_is_not_loaded_is_refused(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine()
    registry = FlowRegistry(tmp_path, loader=lambda _: Catalog({}))
    registry.reload()
    runner = IvrRunner(registry, voicemail_dir=tmp_path)
    app.managers["fs1"].run_target = lambda control, _t: runner(control, "nope")
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7304", "100")
    cdr = wait_cdr(app, uuid, timeout=30)
    assert cdr.hangup_cause == "NORMAL_TEMPORARY_FAILURE" and cdr.answered_at is None
    until(lambda: settled(app))
