"""Webhook delivery against a real local receiver: signed, at least once, in order, with
retries, dead letters and replay; one delivery per event with two engines on one database."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import gevent
import gevent.event
import pytest
from click.testing import CliRunner
from prometheus_client import CollectorRegistry

from callcenter.cli import main
from callcenter.errors import NotFound
from callcenter.events import outbox
from callcenter.events.delivery import DeliveryOptions, WebhookDelivery, WebhookMetrics
from callcenter.events.signing import verify
from callcenter.events.types import AgentOffered, CallCreated, CallEnded, Event, QueueJoined
from callcenter.services import webhooks
from callcenter.services.actor import Actor
from callcenter.services.webhooks import InvalidWebhook
from callcenter.store import migrate
from callcenter.store.database import Database
from tests.conftest import create_database, drop_database
from tests.support import until
from tests.webhook_receiver import Receiver

SECRET = "a-webhook-secret-of-some-length"
WHO = Actor("cli", "test")
FAST = DeliveryOptions(
    timeout=0.5, retry_min=0.05, retry_max=0.2, poll=0.05, scan=0.1, idle_scan=0.1
)


@pytest.fixture
def db_url() -> Iterator[str]:
    url = create_database("cc_hooks")
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


class Pools:
    def __init__(self) -> None:
        self.started: list[WebhookDelivery] = []
        self.registry = CollectorRegistry()
        self.metrics = WebhookMetrics(self.registry)

    def start(self, database: Database, options: DeliveryOptions = FAST) -> WebhookDelivery:
        delivery = WebhookDelivery(database, self.metrics, options)
        delivery.start()
        self.started.append(delivery)
        return delivery

    def value(self, name: str, webhook: int) -> float:
        return self.registry.get_sample_value(name, {"webhook": str(webhook)}) or 0.0


@pytest.fixture
def pools() -> Iterator[Pools]:
    pools = Pools()
    yield pools
    for delivery in pools.started:
        delivery.stop()


def publish(database: Database, *events: Event) -> list[str]:
    with database.session_scope() as session:
        for event in events:
            outbox.append(session, event)
    return [e.id for e in events]


def calls(n: int, prefix: str = "c") -> list[Event]:
    return [
        CallCreated(call_uuid=f"{prefix}{i}", caller_number=f"+3314000{i:04d}") for i in range(n)
    ]


def test_deliveries_are_signed_carry_the_event_and_follow_the_type_filter(
    database: Database, receiver: Receiver, pools: Pools
) -> None:
    hook = webhooks.add(database, WHO, receiver.url, ["call.created", "agent.offered"], SECRET)
    wanted = [CallCreated(call_uuid="c1", caller_number="+331", caller_name="Ann"),
              AgentOffered(call_uuid="c1", queue="sales", agent_extension="1001")]  # fmt: skip
    publish(database, wanted[0], QueueJoined(call_uuid="c1", queue="sales"), wanted[1])
    pools.start(database)
    until(lambda: len(receiver.deliveries) == 2, timeout=10)
    for delivery, event in zip(receiver.deliveries, wanted, strict=True):
        assert delivery.event == event.to_dict()
        assert delivery.headers["Callcenter-Event-Id"] == event.id
        assert delivery.headers["Content-Type"] == "application/json"
        assert verify(SECRET, delivery.body, delivery.headers["Callcenter-Signature"], time.time())
        assert not verify("another-secret-entirely", delivery.body,
                          delivery.headers["Callcenter-Signature"], time.time())  # fmt: skip
    until(lambda: webhooks.list_webhooks(database, WHO)[0].delivered == 2)
    assert pools.value("callcenter_webhook_deliveries_total", hook.webhook.id) == 2


def test_a_receiver_down_then_back_gets_every_event_once_in_order(
    database: Database, receiver: Receiver, pools: Pools
) -> None:
    hook = webhooks.add(database, WHO, receiver.url, [], SECRET).webhook
    port = receiver.port
    receiver.stop()  # down: connections refused
    ids = publish(database, *calls(10, "a"))
    pools.start(database)
    until(lambda: pools.value("callcenter_webhook_failures_total", hook.id) >= 4, timeout=10)
    ids += publish(database, *calls(5, "b"))  # more while it is down
    [state] = webhooks.list_webhooks(database, WHO)
    assert state.attempts >= 1 and state.last_error and state.delivered == 0
    assert pools.value("callcenter_webhook_lag_seconds", hook.id) > 0
    receiver.status = "503 Service Unavailable"  # back, but refusing for a while
    receiver.port = port
    receiver.start()
    until(lambda: pools.value("callcenter_webhook_failures_total", hook.id) >= 6, timeout=10)
    receiver.status = "200 OK"
    until(lambda: len(receiver.deliveries) >= 15, timeout=20)
    assert receiver.ids() == ids  # every event, once per id, in order
    until(lambda: webhooks.list_webhooks(database, WHO)[0].attempts == 0)
    until(lambda: pools.value("callcenter_webhook_lag_seconds", hook.id) == 0)


def test_a_slow_receiver_times_out_and_is_retried(
    database: Database, receiver: Receiver, pools: Pools
) -> None:
    hook = webhooks.add(database, WHO, receiver.url, [], SECRET).webhook
    receiver.delay = 5.0  # far beyond the 0.5 s timeout
    [event_id] = publish(database, CallCreated())
    pools.start(database)
    until(lambda: pools.value("callcenter_webhook_failures_total", hook.id) >= 1, timeout=10)
    until(lambda: "imeout" in (webhooks.list_webhooks(database, WHO)[0].last_error or ""))
    receiver.delay = 0.0
    until(lambda: event_id in receiver.ids(), timeout=10)


def test_given_up_events_become_dead_letters_and_can_be_replayed(
    database: Database, receiver: Receiver, pools: Pools
) -> None:
    hook = webhooks.add(database, WHO, receiver.url, [], SECRET).webhook
    receiver.status = "500 Internal Server Error"
    # the pool first, so the first event's tries start at once, however busy the machine
    pools.start(database, DeliveryOptions(timeout=0.5, retry_min=0.05, retry_max=0.1,
                                          retry_for=1.5, poll=0.05, scan=0.1))  # fmt: skip
    ids = publish(database, *calls(2))
    until(lambda: len(webhooks.dead_letters(database, WHO, hook.id)) == 2, timeout=15)
    dead = webhooks.dead_letters(database, WHO, hook.id)
    assert [d.event_id for d in dead] == ids
    assert all(d.last_error == "HTTP 500" for d in dead)
    # retried until 1.5 s old; the second was about that old when its turn came
    assert dead[0].attempts >= 2 and dead[1].attempts >= 1
    assert pools.value("callcenter_webhook_dead_letters_total", hook.id) == 2
    assert webhooks.list_webhooks(database, WHO)[0].dead_letters == 2
    receiver.status = "200 OK"
    [later] = publish(database, CallCreated())  # the cursor moved past the dead ones
    until(lambda: receiver.ids() == [later], timeout=10)
    assert webhooks.replay(database, WHO, hook.id) == [d.id for d in dead]
    until(lambda: receiver.ids() == [later, *ids], timeout=10)
    until(lambda: webhooks.dead_letters(database, WHO, hook.id) == [])
    replayed = webhooks.dead_letters(database, WHO, hook.id, include_replayed=True)
    assert all(d.replayed_at is not None for d in replayed)
    with pytest.raises(NotFound, match="no dead letter"):
        webhooks.replay(database, WHO, hook.id, [dead[0].id])  # replayed already


def test_two_engines_on_one_database_deliver_each_event_once(
    db_url: str, receiver: Receiver, pools: Pools
) -> None:
    first, second = Database(db_url), Database(db_url)
    try:
        webhooks.add(first, WHO, receiver.url, [], SECRET)
        a = pools.start(first)
        b = pools.start(second)
        ids = publish(first, *calls(40))
        until(lambda: len(receiver.deliveries) >= 40, timeout=20)
        assert receiver.ids() == ids
        assert len(a.workers) + len(b.workers) == 1  # one engine holds the endpoint
        holder = a if a.workers else b
        holder.stop()  # that engine stops: the other takes the endpoint over
        more = publish(first, *calls(10, "z"))
        until(lambda: len(receiver.deliveries) >= 50, timeout=20)
        assert receiver.ids() == ids + more
    finally:
        for delivery in pools.started:
            delivery.stop()
        first.dispose()
        second.dispose()


def test_a_stopped_pool_stays_stopped_when_its_supervisor_dies_of_the_kill(
    database: Database, pools: Pools, monkeypatch: pytest.MonkeyPatch
) -> None:
    # killed in the middle of a query, the supervisor may die of psycopg's error instead of
    # GreenletExit: the stopped engine restarted it and went on delivering beside the engine
    # that took its endpoints over (and past its test, into a dropped database)
    delivery = WebhookDelivery(database, pools.metrics, FAST)
    entered = gevent.event.Event()

    def scan() -> None:
        entered.set()
        try:
            gevent.sleep(30)
        except gevent.GreenletExit:
            raise RuntimeError("query cancelled") from None

    monkeypatch.setattr(delivery, "scan", scan)
    delivery.start()
    assert entered.wait(5)
    delivery.stop()
    gevent.sleep(1.5)  # the restart came 1 s after the death
    assert delivery._greenlet is None


def test_with_no_endpoint_the_supervisor_looks_seldom_and_at_once_on_a_change(
    database: Database, receiver: Receiver, pools: Pools, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No endpoint enabled: nothing to deliver, take over or keep claimed, so no look every
    ``scan`` (each is a transaction: an idle engine's steady cost); an endpoint added (the
    change feed calls ``rescan``) is looked at at once, then every ``scan`` again."""
    options = DeliveryOptions(timeout=0.5, retry_min=0.05, retry_max=0.2, poll=0.05,
                              scan=0.05, idle_scan=60.0)  # fmt: skip
    delivery = WebhookDelivery(database, pools.metrics, options)
    scans: list[bool] = []
    real = delivery.scan

    def scan() -> bool:
        scans.append(real())
        return scans[-1]

    monkeypatch.setattr(delivery, "scan", scan)
    delivery.start()
    pools.started.append(delivery)
    until(lambda: scans == [False])
    gevent.sleep(0.3)  # six scan periods
    assert scans == [False]
    webhooks.add(database, WHO, receiver.url, [], SECRET)
    delivery.rescan()
    ids = publish(database, *calls(1))
    until(lambda: receiver.ids() == ids, timeout=10)
    until(lambda: scans.count(True) >= 3)


def test_disable_pauses_and_enable_resumes_where_it_stopped(
    database: Database, receiver: Receiver, pools: Pools
) -> None:
    hook = webhooks.add(database, WHO, receiver.url, [], SECRET).webhook
    delivery = pools.start(database)
    ids = publish(database, *calls(2))
    until(lambda: receiver.ids() == ids, timeout=10)
    webhooks.set_enabled(database, WHO, hook.id, False)
    until(lambda: not delivery.workers, timeout=10)
    paused = publish(database, *calls(3, "p"))
    webhooks.set_enabled(database, WHO, hook.id, True)
    until(lambda: receiver.ids() == ids + paused, timeout=10)
    webhooks.remove(database, WHO, hook.id)
    until(lambda: not delivery.workers, timeout=10)


def test_a_new_webhook_starts_with_the_events_from_now_on(
    database: Database, receiver: Receiver, pools: Pools
) -> None:
    publish(database, *calls(3, "old"))
    webhooks.add(database, WHO, receiver.url, [], SECRET)
    pools.start(database)
    [new] = publish(database, CallEnded(disposition="answered", hangup_cause="X",
                                        hangup_by="caller"))  # fmt: skip
    until(lambda: receiver.ids() == [new], timeout=10)


def test_old_outbox_events_are_pruned(database: Database) -> None:
    from callcenter.store.repos.webhooks import WebhookRepository

    old = CallCreated()
    object.__setattr__(old, "at", old.at - timedelta(days=8))
    publish(database, old, CallCreated())
    with database.session_scope() as session:
        assert WebhookRepository(session).prune_events(timedelta(days=7)) == 1


@pytest.mark.parametrize(
    ("url", "events", "secret", "where"),
    [
        ("ftp://crm/hooks", [], SECRET, "url:"),
        ("https://user:pw@crm/hooks", [], SECRET, "url:"),
        ("https://crm/hooks", ["call.exploded"], SECRET, "events:"),
        ("https://crm/hooks", [], "short", "secret:"),
    ],
)
def test_bad_input_is_refused_saying_where(
    database: Database, url: str, events: list[str], secret: str, where: str
) -> None:
    with pytest.raises(InvalidWebhook, match=where) as caught:
        webhooks.add(database, WHO, url, events, secret)
    assert caught.value.code == "webhook_invalid"
    assert webhooks.list_webhooks(database, WHO) == []


def test_cli(db_url: str, receiver: Receiver, tmp_path: Path) -> None:
    env = {"CALLCENTER_DATABASE_URL": db_url, "CALLCENTER_DATA_DIR": str(tmp_path)}
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    added = json.loads(run("webhook", "add", receiver.url, "--events",
                           "call.ended,agent.offered", "--secret", SECRET, "--json"))  # fmt: skip
    assert added["events"] == "call.ended,agent.offered" and "secret" not in added
    generated = run("webhook", "add", receiver.url)
    assert "secret (shown once): " in generated
    assert SECRET not in run("webhook", "list", "--json")  # shown never again
    listed = json.loads(run("webhook", "list", "--json"))
    assert [h["id"] for h in listed] == [added["id"], added["id"] + 1]
    assert listed[1]["events"] == "*"
    assert "disabled" in run("webhook", "disable", str(added["id"]))
    assert json.loads(run("webhook", "list", "--json"))[0]["status"] == "disabled"
    run("webhook", "enable", str(added["id"]))
    assert json.loads(run("webhook", "dead", "--json")) == []
    assert json.loads(run("webhook", "replay", str(added["id"]), "--json"))["replaying"] == []
    assert "removed" in run("webhook", "remove", str(added["id"] + 1))
    bad = runner.invoke(main, ["webhook", "add", receiver.url, "--events", "nope"], env=env)
    assert bad.exit_code == 1
    assert (
        bad.output.startswith("error: events: unknown type(s) nope")
        and "[webhook_invalid]" in bad.output
    )
    gone = runner.invoke(main, ["webhook", "remove", "999"], env=env)
    assert gone.exit_code == 1 and "[webhook_not_found]" in gone.output
    database = Database(db_url)
    try:
        from callcenter.store.repos import AuditLog

        with database.session_scope() as session:
            actions = [e.action for e in AuditLog(session).recent()]
        assert {"webhook.add", "webhook.disable", "webhook.enable", "webhook.remove"} <= set(
            actions
        )
    finally:
        database.dispose()
