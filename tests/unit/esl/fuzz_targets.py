"""What must hold whatever bytes FreeSWITCH (or anything on its socket) sends: the checks the
hypothesis tests (test_fuzz.py, bounded, in `make test`) and the atheris harness
(atheris_fuzz.py, `make fuzz`) both run.

- framing: any chunking of a stream gives what a byte-at-a-time feed through the generic
  header parse gives (the same messages, the same framing error if any), and only
  ``ESLProtocolError`` is ever raised;
- events: ``parse_event``, every read of the event, routing it to mailboxes and subscribers,
  and the connection's own dispatch raise nothing but ``ESLProtocolError`` (dispatch raises
  nothing at all), a body found broken says so on every read and is reported once, and the
  commands waiting on the connection are neither resolved nor failed by a stranger's event.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from callcenter.calls.mailbox import Mailbox
from callcenter.errors import ESLProtocolError
from callcenter.esl.connection import ESLConnection
from callcenter.esl.events import EVENT_JSON, EVENT_PLAIN, Event, parse_event, parse_event_eagerly
from callcenter.esl.router import EventRouter
from callcenter.esl.wire import FrameParser, Message
from callcenter.metrics.esl import ESLMetrics

MAX_HEADER = 512
MAX_BODY = 64 * 1024

# The ids of the commands a connection is waiting on while the fuzzed events arrive: the
# generated events never carry them, so nothing may resolve or fail those commands.
LIVE_JOB = "live-job-uuid"
LIVE_EXECUTE = "live-event-uuid"
LIVE_CHANNEL = "live-channel-uuid"

READS: tuple[str, ...] = (
    "Event-Name",
    "Unique-ID",
    "Event-Subclass",
    "Job-UUID",
    "Application-UUID",
    "Event-Sequence",
    "Event-Date-Timestamp",
    "Hangup-Cause",
    "Content-Length",
    "Other-Leg-Unique-ID",
    "variable_sip_hangup_disposition",
    "variable_cc_digits",
    "_body",
    'Unique-ID":"',
    "Unique-ID\\",
    "",
    "Zoë",
)


# -- framing ---------------------------------------------------------------------------------


def chunks(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def frame(pieces: Iterable[bytes], envelopes: bool = True) -> tuple[list[Message], bool]:
    """The messages fed ``pieces`` yield before any framing error, and whether one came
    (``envelopes=False``: every header block through the generic parse)."""
    parser = FrameParser(max_header_bytes=MAX_HEADER, max_body_bytes=MAX_BODY)
    parser._envelopes = envelopes
    out: list[Message] = []
    try:
        for piece in pieces:
            out += parser.feed(piece)
            assert parser.buffered <= MAX_HEADER + MAX_BODY + len(piece)
    except ESLProtocolError:
        return out, True
    return out, False


def check_framing(data: bytes, cuts: Iterable[int]) -> None:
    reference, failed = frame((data[i : i + 1] for i in range(len(data))), envelopes=False)
    got, got_failed = frame(chunks(data, cuts))
    assert got_failed == failed
    if failed:  # the feed that raised loses what it had framed: a prefix, never other ones
        assert got == reference[: len(got)]
    else:
        assert got == reference


# -- events ----------------------------------------------------------------------------------


@dataclass
class Reports:
    broken: list[Event]

    def __call__(self, event: Event, error: ESLProtocolError) -> None:
        assert isinstance(error, ESLProtocolError)
        self.broken.append(event)


def _read(event: Event, read: Callable[[], Any]) -> Any:
    try:
        return read()
    except ESLProtocolError:
        assert event.broken or not event.decoded
        return None


def _read_everything(event: Event) -> None:
    assert isinstance(event.name, str) and event.name
    assert event.unique_id is None or isinstance(event.unique_id, str)
    for read in (
        lambda: event.subclass,
        lambda: event.job_uuid,
        lambda: event.application_uuid,
        lambda: event.sequence,
        lambda: event.timestamp_us,
        lambda: event.hangup_cause,
        lambda: event.variable("cc_digits"),
        *(lambda key=key: event.get(key, "-") for key in READS),
        lambda: dict(event.headers),
        lambda: event.body,
    ):
        value = _read(event, read)
        assert value is None or isinstance(value, str | int | dict)
    if event.broken:  # from now on every read past the routing fields says so
        for read in (lambda: event.headers, lambda: event.body, lambda: event.get("X")):
            try:
                read()
            except ESLProtocolError:
                continue
            raise AssertionError("a broken event answered a read")
    assert repr(event)
    assert _read(event, lambda: event == event) is (None if event.broken else True)


def _router(event: Event) -> tuple[EventRouter, Mailbox, Any]:
    router = EventRouter(mailbox_size=4)
    mailbox = Mailbox(event.unique_id or "none", maxsize=4, wants=(event.name, "CHANNEL_ANSWER"))
    router.attach_call(event.unique_id or "none", mailbox)
    router.register_call(LIVE_CHANNEL)
    picky = router.subscribe("picky", accept=lambda e: e.get("Event-Sequence") == "1")
    router.subscribe("cdr", events={event.name})
    return router, mailbox, picky


def check_event(body: bytes, content_type: str) -> None:
    message = Message({"Content-Type": content_type}, body)
    try:
        eager: Event | None = parse_event_eagerly(message)
    except ESLProtocolError:
        eager = None
    reports = Reports([])
    try:
        event = parse_event(message, reports)
    except ESLProtocolError:
        assert eager is None  # refused at once only what the full parse refuses
        return
    router, mailbox, _ = _router(event)
    router.route(event)  # routes by what the scan read; never raises
    assert mailbox.qsize() <= 1
    _read_everything(event)
    assert len(reports.broken) == (1 if event.broken else 0)
    if eager is None:  # a body the full parse refuses can only get this far lazily...
        assert event.broken  # ...and says so once read
    else:
        assert not event.broken
        assert (event.name, event.unique_id) == (eager.name, eager.unique_id)
        assert dict(event.headers) == dict(eager.headers) and event.body == eager.body


@dataclass
class _Node:
    name: str = "fuzz"
    host: str = "127.0.0.1"
    port: int = 8021
    password: str = "ClueCon"


def check_dispatch(messages: list[Message]) -> None:
    """The reader's own dispatch: nothing escapes it, the commands waiting on the connection
    survive, and each event whose body does not decode is counted once, by the reader or
    by whoever reads it later."""
    router = EventRouter(mailbox_size=4)
    delivered: list[Event] = []

    def on_event(event: Event) -> None:
        delivered.append(event)
        router.route(event)
        event.get("Caller-Caller-ID-Name")  # what CallManager reads of a CHANNEL_PARK

    connection = ESLConnection(_Node(), on_event=on_event, metrics=ESLMetrics(CollectorRegistry()))
    job = connection._pending.expect_job(LIVE_JOB)
    execute = connection._pending.expect_execute(LIVE_EXECUTE, LIVE_CHANNEL)
    for message in messages:
        connection._dispatch(message)
    assert not job.ready() and not execute.ready()
    assert len(connection._pending) == 2
    for event in delivered:  # what the reader let through breaks, at worst, when read later
        _read(event, lambda event=event: event.headers)
    assert connection.rejected == sum(not _decodes(m) for m in messages)


def _decodes(message: Message) -> bool:
    try:
        parse_event_eagerly(message)
    except ESLProtocolError:
        return False
    return True


def event_message(body: bytes, content_type: str = EVENT_JSON) -> Message:
    return Message({"Content-Type": content_type, "Content-Length": str(len(body))}, body)


__all__ = [
    "EVENT_JSON",
    "EVENT_PLAIN",
    "check_dispatch",
    "check_event",
    "check_framing",
    "chunks",
    "event_message",
]
