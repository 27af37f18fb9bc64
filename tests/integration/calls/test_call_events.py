"""A call through a queue, on the simulator: its events reach the outbox, a webhook and the
SSE stream, in the order they happened, with the ids a CRM needs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import gevent
import urllib3
from sqlalchemy import text

from callcenter.services import agents, tokens, webhooks
from callcenter.services.actor import Actor
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.vocabulary import AgentState
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import settled, wait_cdr
from tests.integration.calls.test_queues import setup_queue
from tests.support import until
from tests.webhook_receiver import Receiver

SECRET = "a-webhook-secret-of-some-length"


def sse_messages(port: int, token: str, into: list[dict[str, Any]]) -> Iterator[None]:
    http = urllib3.PoolManager()
    response = http.request(
        "GET", f"http://127.0.0.1:{port}/api/v1/events", preload_content=False, timeout=30,
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert response.status == 200
    buffer = b""
    for chunk in response.stream(256, decode_content=False):
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            fields = dict(
                line.split(": ", 1)
                for line in block.decode().splitlines()
                if ": " in line and not line.startswith(":")
            )
            if "data" in fields:
                into.append(json.loads(fields["data"]))
        yield None


def test_a_queued_call_tells_the_crm_everything_in_order(
    sim: Simulator, engine: EngineFactory
) -> None:
    receiver = Receiver().start()
    app = engine()
    streamed: list[dict[str, Any]] = []
    token = tokens.create(app.database, Actor("cli", "test"), "crm", "read").secret
    reader = gevent.spawn(lambda: list(sse_messages(app.metrics.port, token, streamed)))
    try:
        hook = webhooks.add(app.database, Actor("cli", "test"), receiver.url, [], SECRET)
        # the change feed tells the engine, which starts its worker and writes the events
        until(lambda: hook.webhook.id in app.webhooks.workers)
        sim.register_agent("2091", AgentBehaviour(answer_delay=0.3))
        setup_queue(app, "crm", {"2091": {}}, did="8091")
        until(lambda: app.event_stream.client_count == 1)
        uuid = sim.place_call("8091", "15550091", behaviour=CallerBehaviour(talk_time=1.0))
        cdr = wait_cdr(app, uuid)

        def of_call(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [e for e in events if e["call_uuid"] == uuid]

        until(lambda: "call.ended" in [e["type"] for e in of_call(streamed)], timeout=10)
        until(lambda: "call.ended" in [d.event["type"] for d in receiver.deliveries], timeout=15)
        hooked = of_call([d.event for d in receiver.deliveries])
        types = [e["type"] for e in hooked]
        assert types[0] == "call.created" and types[-1] == "call.ended"
        expected = ["call.created", "queue.joined", "agent.offered", "agent.answered",
                    "queue.left", "call.ended"]  # fmt: skip
        assert [t for t in types if t in expected] == expected
        assert "call.answered" in types
        assert [e["id"] for e in of_call(streamed)] == [e["id"] for e in hooked]  # same events
        assert all(e["caller_number"] == "15550091" for e in hooked)
        by_type = {e["type"]: e for e in hooked}
        assert by_type["agent.offered"]["agent_extension"] == "2091"
        assert by_type["agent.offered"]["queue"] == "crm"
        assert by_type["queue.left"]["data"]["outcome"] == "answered"
        ended = by_type["call.ended"]
        assert ended["data"]["disposition"] == str(cdr.disposition) == "answered"
        assert ended["data"]["cdr"]["talk_ms"] == cdr.talk_ms
        assert (ended["queue"], ended["agent_extension"]) == ("crm", "2091")
        states = [d.event for d in receiver.deliveries if d.event["type"] == "agent.state_changed"]
        assert {"offering", "in_call"} <= {e["data"]["state"] for e in states}
        assert all(e["agent_extension"] == "2091" for e in states)
        # an operator's change, stored by the service in its own transaction: relayed to this
        # engine's stream from the outbox, and to the webhook
        until(lambda: agents.get(app.database, "2091").state == AgentState.IDLE, timeout=10)
        agents.pause(app.database, Actor("cli", "ann"), "2091", "lunch")

        def paused(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [e for e in events if e["type"] == "agent.status_changed"]

        until(lambda: paused(streamed), timeout=10)
        until(lambda: paused([d.event for d in receiver.deliveries]), timeout=10)
        [streamed_pause] = paused(streamed)
        assert streamed_pause["agent_extension"] == "2091"
        assert streamed_pause["data"] == {"status": "paused", "reason": "lunch", "by": "cli:ann"}
        assert paused([d.event for d in receiver.deliveries]) == [streamed_pause]
        ids = [e["id"] for e in streamed]
        assert len(ids) == len(set(ids))  # the engine's own events are not relayed again
        until(lambda: settled(app))
    finally:
        reader.kill()
        receiver.stop()


def test_an_operator_transfer_is_told_with_who_did_it(
    sim: Simulator, engine: EngineFactory
) -> None:
    from callcenter.calls.intents import Transfer
    from callcenter.events.types import Event
    from callcenter.vocabulary import AgentStatus, CallState

    app = engine()
    seen: list[Event] = []
    app.events.subscribe(seen.append)
    sim.register_agent("2097", AgentBehaviour(answer_delay=0.3))
    setup_queue(app, "ev-from", {"2096": {}}, did="8096", status=AgentStatus.PAUSED)
    setup_queue(app, "ev-to", {"2097": {}}, did="8097")
    uuid = sim.place_call("8096", "15550096", behaviour=CallerBehaviour(talk_time=1.0))
    until(lambda: (a := app.managers["fs1"].actors.get(uuid)) and a.call.state is CallState.QUEUED)
    assert app.managers["fs1"].send_intent(uuid, Transfer("queue:ev-to", "cli:alice"))
    wait_cdr(app, uuid, timeout=20.0)
    until(lambda: any(e.type == "call.ended" and e.call_uuid == uuid for e in seen))
    mine = [e.to_dict() for e in seen if e.call_uuid == uuid]
    assert mine[0]["type"] == "call.created" and mine[-1]["type"] == "call.ended"
    moved = [e for e in mine if e["type"] in ("queue.joined", "queue.left", "call.transferred")]
    assert [(e["type"], e["queue"]) for e in moved] == [
        ("queue.joined", "ev-from"),
        ("queue.left", "ev-from"),  # the intent takes the caller out of the queue, then moves it
        ("call.transferred", None),
        ("queue.joined", "ev-to"),
        ("queue.left", "ev-to"),
    ]
    assert moved[2]["data"] == {"target": "queue:ev-to", "by": "cli:alice"}
    assert moved[1]["data"]["outcome"] == "transferred"
    until(lambda: settled(app))


def stored_types(app: Any, uuid: str) -> list[str]:
    app.writer.flush()
    with app.database.session_scope() as session:
        rows = session.execute(
            text("SELECT type FROM events WHERE call_uuid = :u ORDER BY seq"), {"u": uuid}
        )
        return [row[0] for row in rows]


def test_the_outbox_stores_only_what_a_webhook_wants(sim: Simulator, engine: EngineFactory) -> None:
    # 10 to 15 events a call: a site with no webhook writes none of them (SSE is live)
    app = engine()
    for old in webhooks.list_webhooks(app.database, Actor("cli", "test")):  # other tests'
        webhooks.remove(app.database, Actor("cli", "test"), old.id)
    until(lambda: app.webhooks.subscriptions.types == frozenset())
    sim.register_agent("2093", AgentBehaviour(answer_delay=0.2))
    setup_queue(app, "quiet", {"2093": {}}, did="8093")
    first = sim.place_call("8093", "15550093", behaviour=CallerBehaviour(talk_time=0.5))
    wait_cdr(app, first)
    assert stored_types(app, first) == []
    receiver = Receiver().start()
    try:
        hook = webhooks.add(
            app.database, Actor("cli", "test"), receiver.url, ["call.ended"], SECRET
        )
        until(lambda: hook.webhook.id in app.webhooks.workers)
        second = sim.place_call("8093", "15550094", behaviour=CallerBehaviour(talk_time=0.5))
        wait_cdr(app, second)
        assert stored_types(app, second) == ["call.ended"]
        until(lambda: [d.event["call_uuid"] for d in receiver.deliveries] == [second])
    finally:
        receiver.stop()
    until(lambda: settled(app))
