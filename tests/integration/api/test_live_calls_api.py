"""A live call on the simulator, seen and hung up through the engine's API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from callcenter.app import App
from callcenter.services import tokens
from callcenter.services.actor import Actor
from callcenter.sim.behaviour import CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.repos import AuditLog
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import wait_cdr
from tests.integration.calls.test_queues import setup_queue
from tests.support import until


def call_api(app: App, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{app.metrics.port}/api/v1{path}", data=data, method=method
    )
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_waiting_caller_listed_then_hung_up_over_the_api(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    token = tokens.create(app.database, Actor("cli", "test"), "supervisor", "operate").secret
    setup_queue(app, "api-wait", {}, did="7400")  # nobody to answer: the caller waits
    uuid = sim.place_call("7400", "15551234567", "Waiting Caller", behaviour=CallerBehaviour())

    def waiting() -> list[Any]:
        return call_api(app, token, "GET", "/queues/api-wait/callers")[1]["callers"]

    callers = until(waiting, timeout=10)
    assert (callers[0]["call_uuid"], callers[0]["position"]) == (uuid, 1)
    app.writer.flush()
    listed = call_api(app, token, "GET", "/calls")[1]["items"]
    assert uuid in [c["uuid"] for c in listed]
    status, shown = call_api(app, token, "GET", f"/calls/{uuid}")
    assert status == 200 and shown["state"] != "ended"
    assert shown["timeline"][0]["event"] == "call.created"

    status, done = call_api(app, token, "POST", f"/calls/{uuid}/hangup", {"cause": "CALL_REJECTED"})
    assert (status, done["op"]) == (202, "hangup")
    cdr = wait_cdr(app, uuid)
    assert cdr.hangup_cause == "CALL_REJECTED"
    until(lambda: waiting() == [], timeout=5)
    with app.database.session_scope() as session:
        audit = [e for e in AuditLog(session).recent(20) if e.target == uuid]
    assert [(e.actor, e.action) for e in audit] == [("api:supervisor", "call.hangup")]
    status, again = call_api(app, token, "POST", f"/calls/{uuid}/hangup", {})
    assert (status, again["code"]) == (409, "call_ended")
