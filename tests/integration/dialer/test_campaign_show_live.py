"""``campaign show`` with an engine dialling the campaign: its live view, through the API
(remote mode) and from the engine on this host (local mode); with no engine listening, the
stored figures and a line saying no engine answered."""

from __future__ import annotations

import json
import socket

from click.testing import CliRunner

from callcenter.cli import main
from callcenter.services import tokens
from callcenter.services.actor import Actor
from callcenter.sim import AgentBehaviour, Simulator
from callcenter.sim.traffic import TrafficModel, TrafficProfile
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_queues import setup_queue
from tests.integration.dialer.test_campaign_run import _attempts, _campaign, _route, _start
from tests.support import until

WHO = Actor("cli", "test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_campaign_show_prints_the_live_view_remote_and_local(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    app = engine()
    _route(app)
    busy = "+15557600001"
    TrafficModel(sim, TrafficProfile(), seed=1,
                 overrides={busy.lstrip("+"): AgentBehaviour(busy=True)})  # fmt: skip
    sim.register_agent("4761", AgentBehaviour(answer_delay=5.0))
    setup_queue(app, "camp6q", {"4761": {}}, did="8761")
    _campaign(app, "camp6", "camp6q", [busy])
    _start(app, "camp6")
    until(lambda: busy in _attempts(app, "camp6"), timeout=30)
    until(lambda: any(x.campaign == "camp6" and x.agents_free == 1 for x in app.dialer.live()),
          timeout=10)  # fmt: skip
    secret = tokens.create(app.database, WHO, "show-remote", "read").secret
    url = f"http://127.0.0.1:{app.metrics.port}"
    remote = {"CALLCENTER_API_URL": url, "CALLCENTER_API_TOKEN": secret}
    result = CliRunner().invoke(main, ["campaign", "show", "camp6"], env=remote)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"live (the engine at {url}): paced progressive" in out
    assert "lines in flight: 0 (0 dialling, 0 answered)" in out
    assert "agents: 1 free, 0 busy, 0 wrapping up" in out
    assert "dial level: 0.00 lines per agent" in out
    assert "answer rate: " in out and "live abandon rate: 0.00% last 30 min" in out
    assert "leads left: 1 (1 pending, 0 dialing; 0 done)" in out

    result = CliRunner().invoke(main, ["campaign", "show", "camp6", "--json"], env=remote)
    shown = json.loads(result.output)
    assert shown["live"]["agents_free"] == 1 and shown["live"]["leads"]["pending"] == 1
    assert shown["leads"]["pending"] == 1  # the stored figures stay

    local = {"CALLCENTER_DATABASE_URL": calls_db_url,
             "CALLCENTER_METRICS_LISTEN": f"127.0.0.1:{app.metrics.port}"}  # fmt: skip
    result = CliRunner().invoke(main, ["campaign", "show", "camp6", "--json"], env=local)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["live"]["campaign"] == "camp6" and shown["live"]["mode"] == "progressive"
    made = [t for t in tokens.list_tokens(app.database) if t.name.startswith("show-")]
    assert {t.name for t in made if t.revoked_at is None} == {"show-remote"}  # its own: revoked

    nobody = {**local, "CALLCENTER_METRICS_LISTEN": f"127.0.0.1:{_free_port()}"}
    result = CliRunner().invoke(main, ["campaign", "show", "camp6"], env=nobody)
    assert result.exit_code == 0, result.output
    assert "live: no engine answered on 127.0.0.1:" in result.output
    assert "the figures above are the stored ones" in result.output
    assert "leads: 1 (1 pending" in result.output

    _campaign(app, "camp7", "camp6q", [])  # stopped: the engine is not dialling it
    result = CliRunner().invoke(main, ["campaign", "show", "camp7"], env=remote)
    assert f"live: the engine at {url} is not dialling it" in result.output
