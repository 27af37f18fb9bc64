"""A caller leaves a message through the IVR: ``voicemail.received`` on the bus, and the
``voicemail`` commands on it (list, play, mark, delete) against the same database."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from prometheus_client import CollectorRegistry

from callcenter.calls.control import CallControl
from callcenter.calls.routing import Target
from callcenter.cli import main
from callcenter.events.types import Event, VoicemailReceived
from callcenter.ivr import plan
from callcenter.ivr.metrics import IvrMetrics
from callcenter.ivr.on_call import IvrRunner
from callcenter.ivr.registry import FlowRegistry
from callcenter.sim.behaviour import CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.vocabulary import Disposition
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled, wait_cdr
from tests.integration.ivr.test_ivr_calls import HERE, Catalog, prompts
from tests.support import until

LEAVE = plan.Flow(
    name="main", version="1", checksum="b" * 64, source="main.yaml", start="vm",
    language="en", sounds="/snd",
    nodes={"vm": plan.Voicemail(name="vm", where=HERE, box="sales",
                                greeting=prompts("leave.wav"), max_seconds=3)},
)  # fmt: skip
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)


def test_a_message_is_announced_then_listed_played_marked_and_deleted(
    sim: Simulator, engine: EngineFactory, calls_db_url: str, tmp_path: Path
) -> None:
    app = engine()
    registry = FlowRegistry(tmp_path, loader=lambda _: Catalog({"main": LEAVE}))
    assert registry.reload().ok
    runner = IvrRunner(registry, IvrMetrics(CollectorRegistry()),
                       voicemail_dir=tmp_path / "rec" / "voicemail")  # fmt: skip

    def target(control: CallControl, _target: Target) -> None:
        runner(control, "main")

    app.managers["fs1"].run_target = target
    heard: list[Event] = []
    app.events.subscribe(heard.append)
    until(lambda: app.connections["fs1"].connected)

    uuid = sim.place_call("7302", "15557302", behaviour=CallerBehaviour(talk_time=None))
    assert wait_cdr(app, uuid, timeout=30).disposition is Disposition.VOICEMAIL
    path = tmp_path / "rec" / "voicemail" / "sales" / f"{uuid}.wav"
    [received] = until(lambda: [e for e in heard if isinstance(e, VoicemailReceived)])
    assert (received.box, received.path, received.call_uuid) == ("sales", str(path), uuid)
    assert received.data()["box"] == "sales" and received.caller_number == "15557302"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(WAV)  # what FreeSWITCH wrote on the shared disk
    until(lambda: settled(app))

    def cli(*args: str) -> str:
        env = {"CALLCENTER_DATABASE_URL": calls_db_url, "CALLCENTER_DATA_DIR": str(tmp_path),
               "CALLCENTER_LOG_LEVEL": "WARNING"}  # fmt: skip
        done = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert done.exit_code == 0, done.output
        return done.output

    [listed] = [v for v in json.loads(cli("voicemail", "list", "--json")) if v["call_uuid"] == uuid]
    assert listed["box"] == "sales" and listed["from_number"] == "15557302"
    assert listed["read_at"] is None
    number = str(listed["id"])
    out = tmp_path / "played.wav"
    cli("voicemail", "play", number, "--out", str(out))
    assert out.read_bytes() == WAV
    assert cli("voicemail", "mark", number).strip() == f"voicemail {number}: read"
    unread = json.loads(cli("voicemail", "list", "--unread", "--box", "sales", "--json"))
    assert uuid not in [v["call_uuid"] for v in unread]
    assert f"voicemail {number} deleted" in cli("voicemail", "delete", number)
    assert not path.exists()
    assert uuid not in [v["call_uuid"] for v in json.loads(cli("voicemail", "list", "--json"))]
