"""The router reads an event's Unique-ID (a scan of its body) only when a mailbox may take it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from callcenter.calls.mailbox import Mailbox
from callcenter.dialer.placing import _SipStatus
from callcenter.esl import events as ev
from callcenter.esl.events import EVENT_JSON, Event, parse_event
from callcenter.esl.router import CALLS_QUEUE, EventRouter
from callcenter.esl.wire import Message
from callcenter.metrics.esl import ESLMetrics

U = "4c06f453-8f1e-4852-9835-917047ab05fb"


def _event(name: str, unique_id: str = U) -> Event:
    body = f'{{"Event-Name":"{name}","Unique-ID":"{unique_id}"}}'.encode()
    return parse_event(Message({"Content-Type": EVENT_JSON}, body))


def _scanned(event: Event) -> bool:
    return event._unique_id is not ev._LAZY


def test_no_mailbox_wants_it_so_its_unique_id_is_not_read() -> None:
    router = EventRouter()
    mailbox = Mailbox(U, wants={"CHANNEL_ANSWER"})
    router.attach_call(U, mailbox)
    execute = _event("CHANNEL_EXECUTE_COMPLETE")
    router.route(execute)
    assert not _scanned(execute) and mailbox.qsize() == 0
    answer = _event("CHANNEL_ANSWER")
    router.route(answer)
    assert _scanned(answer) and mailbox.qsize() == 1


def test_a_mailbox_without_wants_takes_every_name() -> None:
    router = EventRouter()
    queue = router.register_call(U)
    execute = _event("CHANNEL_EXECUTE_COMPLETE")
    router.route(execute)
    assert queue.qsize() == 1 and queue.get() is execute
    router.unregister_call(U)
    later = _event("CHANNEL_EXECUTE_COMPLETE")
    router.route(later)
    assert not _scanned(later)


def test_wanted_names_follow_mailboxes_attached_replaced_and_released() -> None:
    router = EventRouter()
    caller, agent = Mailbox(U, wants={"CHANNEL_ANSWER"}), Mailbox("a", wants={"DTMF"})
    router.attach_call(U, caller)
    router.attach_call("a", agent)
    router.attach_call("b", agent)  # one mailbox, two legs
    router.unregister_call("a")
    router.route(_event("DTMF", "b"))
    assert agent.qsize() == 1  # still wanted through leg b
    router.attach_call(U, agent)  # U's mailbox replaced: CHANNEL_ANSWER no longer wanted
    answer = _event("CHANNEL_ANSWER")
    router.route(answer)
    assert not _scanned(answer) and caller.qsize() == 0
    router.unregister_call(U)
    router.unregister_call("b")
    router.unregister_call("never-attached")
    assert router._wanted == {} and router._open == 0


def test_the_metrics_scrape_counts_every_kind_of_mailbox() -> None:
    # a dialled leg's SIP-status listener had no qsize: /metrics answered 500 for as long
    # as any campaign line rang
    registry = CollectorRegistry()
    router = EventRouter(metrics=ESLMetrics(registry))
    queue = router.register_call(U)
    router.attach_call("dialled-leg", _SipStatus("dialled-leg", {}, set()))
    router.attach_call("other-leg", Mailbox("other-leg", wants={"CHANNEL_ANSWER"}))
    router.route(_event("CHANNEL_EXECUTE_COMPLETE"))
    router.route(_event("CHANNEL_HANGUP", "dialled-leg"))
    assert queue.qsize() == 1
    scraped = generate_latest(registry).decode()
    assert f'queue="{CALLS_QUEUE}"' in scraped
