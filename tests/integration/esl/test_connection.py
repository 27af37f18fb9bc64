from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on
import gzip
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import gevent
import pytest
from prometheus_client import CollectorRegistry

from callcenter.errors import (
    CallGone,
    ESLCommandFailed,
    ESLNotConnected,
    ESLProtocolError,
    ESLTimeout,
)
from callcenter.esl import commands
from callcenter.esl.backoff import Backoff
from callcenter.esl.connection import ESLConnection
from callcenter.esl.events import Event
from callcenter.esl.router import EventRouter
from callcenter.metrics.esl import ESLMetrics
from callcenter.settings import ESLNode

from .fake_fs import Conn, FakeFreeSWITCH, api_response, complete, event, reply
from .waiting import until

U = "56775b48-9736-4bb6-93e1-54345f5f3db3"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "esl"
FAST = Backoff(initial=0.02, maximum=0.1, jitter=0.1)


class Harness:
    def __init__(self, fs: FakeFreeSWITCH, password: str = "ClueCon", **kw: object) -> None:
        self.events: list[Event] = []
        self.connected_calls = 0
        self.registry = CollectorRegistry()
        self.metrics = ESLMetrics(self.registry)
        self.conn = ESLConnection(
            ESLNode(name="fs1", host="127.0.0.1", port=fs.port, password=password),
            on_event=kw.pop("on_event", self.events.append),  # type: ignore[arg-type]
            on_connected=self._on_connected,
            metrics=self.metrics,
            command_timeout=2.0,
            connect_timeout=1.0,
            backoff=FAST,
        )

    def _on_connected(self) -> None:
        self.connected_calls += 1

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def commands(self, kind: str, *outcomes: str) -> tuple[float, ...]:
        """``callcenter_esl_commands_total`` of this node's ``kind`` commands, per outcome."""
        return tuple(
            self.metric("callcenter_esl_commands_total", node="fs1", kind=kind, outcome=o)
            for o in outcomes
        )


@pytest.fixture
def fs() -> Iterator[FakeFreeSWITCH]:
    with FakeFreeSWITCH() as server:
        yield server


@pytest.fixture
def h(fs: FakeFreeSWITCH) -> Iterator[Harness]:
    harness = Harness(fs)
    harness.conn.start()
    until(lambda: harness.conn.connected)
    yield harness
    harness.conn.stop(timeout=2)


def test_auth_subscribe_and_on_connected(fs: FakeFreeSWITCH, h: Harness) -> None:
    assert fs.commands[0] == "auth ClueCon"
    assert fs.commands[1].startswith("event json CHANNEL_CREATE ")
    assert "BACKGROUND_JOB" in fs.commands[1] and "CUSTOM" not in fs.commands[1]
    assert h.connected_calls == 1
    assert h.metric("callcenter_esl_connected", node="fs1") == 1


def test_wrong_password_is_logged_and_retried(
    fs: FakeFreeSWITCH, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(fs, password="NotThePassword")
    with caplog.at_level(logging.ERROR):
        harness.conn.start()
        until(lambda: len([c for c in fs.commands if c.startswith("auth")]) >= 3)
    assert not harness.conn.connected
    assert harness.connected_calls == 0
    assert "authentication refused" in caplog.text
    harness.conn.stop(timeout=2)


def test_api_with_interleaved_events(fs: FakeFreeSWITCH, h: Harness) -> None:
    def script(conn: Conn, text: str) -> bytes | None:
        return event("CHANNEL_PARK", Unique_ID=U) + api_response("12")

    fs.script = script
    assert h.conn.api(commands.uuid_getvar(U, "cc_digits")) == "12"
    until(lambda: [e.name for e in h.events] == ["CHANNEL_PARK"])
    assert fs.commands[-1] == f"api uuid_getvar {U} cc_digits"
    assert h.metric("callcenter_esl_commands_total", node="fs1", kind="api", outcome="ok") == 1
    assert h.metric("callcenter_esl_events_total", node="fs1", event="CHANNEL_PARK") == 1


def test_api_error_raises_unless_unchecked(fs: FakeFreeSWITCH, h: Harness) -> None:
    fs.script = lambda conn, text: api_response("-ERR No such channel!\n")
    with pytest.raises(ESLCommandFailed, match="No such channel"):
        h.conn.api(commands.uuid_kill(U))
    assert h.conn.api(commands.uuid_kill(U), check=False) == "-ERR No such channel!\n"


def test_bgapi_resolved_by_its_job_uuid(fs: FakeFreeSWITCH, h: Harness) -> None:
    other = "04f52871-a732-47b2-b0ef-5d0d4ab0d90e"

    def script(conn: Conn, text: str) -> bytes | None:
        job = text.split("Job-UUID: ")[1]
        conn.send(reply(f"+OK Job-UUID: {job}", **{"Job-UUID": job}))
        return event("BACKGROUND_JOB", "-ERR other\n", Job_UUID=other) + event(
            "BACKGROUND_JOB", f"+OK {U}\n", Job_UUID=job
        )

    fs.script = script
    line = commands.originate("user/1001", {"cc_role": "agent"}, uuid=U)
    assert h.conn.bgapi(line) == f"+OK {U}\n"
    assert fs.commands[-1].startswith(f"bgapi {line}\nJob-UUID: ")


def test_bgapi_error_body(fs: FakeFreeSWITCH, h: Harness) -> None:
    def script(conn: Conn, text: str) -> bytes | None:
        job = text.split("Job-UUID: ")[1]
        return reply("+OK Job-UUID: " + job) + event(
            "BACKGROUND_JOB", "-ERR SUBSCRIBER_ABSENT\n", Job_UUID=job
        )

    fs.script = script
    with pytest.raises(ESLCommandFailed, match="SUBSCRIBER_ABSENT"):
        h.conn.bgapi(commands.originate("user/9999", {}, uuid=U))


def test_execute_matches_application_uuid_not_name(fs: FakeFreeSWITCH, h: Harness) -> None:
    decoy = "eb47af08-fe1e-4617-ad5b-6d1ca3f95091"

    def script(conn: Conn, text: str) -> bytes | None:
        fake = text.replace(text.split("Event-UUID: ")[1], decoy)
        return reply("+OK") + complete(fake, "WRONG") + complete(text, "FILE PLAYED")

    fs.script = script
    done = h.conn.execute(U, "playback", "tone_stream://%(2000,0,440)")
    assert done.name == "CHANNEL_EXECUTE_COMPLETE"
    assert done.application_response == "FILE PLAYED"
    sent = fs.commands[-1]
    assert done.application_uuid == sent.split("Event-UUID: ")[1]
    assert "execute-app-arg: tone_stream://%(2000,0,440)" in sent


def test_execute_on_gone_channel_raises_call_gone(fs: FakeFreeSWITCH, h: Harness) -> None:
    fs.script = lambda conn, text: reply(f"-ERR invalid session id [{U}]")
    with pytest.raises(CallGone):
        h.conn.execute(U, "answer")
    with pytest.raises(CallGone):
        h.conn.hangup(U, "NORMAL_CLEARING")
    assert (
        h.metric("callcenter_esl_commands_total", node="fs1", kind="execute", outcome="call_gone")
        == 2
    )


def test_execute_fails_when_channel_is_destroyed(fs: FakeFreeSWITCH, h: Harness) -> None:
    fs.script = lambda conn, text: reply("+OK") + event("CHANNEL_DESTROY", Unique_ID=U)
    with pytest.raises(CallGone):
        h.conn.execute(U, "playback", "a.wav", timeout=2)


def test_timeout_keeps_replies_aligned(fs: FakeFreeSWITCH, h: Harness) -> None:
    def script(conn: Conn, text: str) -> bytes | None:
        if "slow" in text:  # FreeSWITCH answers in order: the next reply waits for this one
            gevent.sleep(0.2)
            return api_response("slow-result")
        return api_response("fast-result")

    fs.script = script
    started = time.monotonic()
    with pytest.raises(ESLTimeout):
        h.conn.api("uuid_exists slow", timeout=0.05)
    assert time.monotonic() - started < 1
    assert h.conn.api("uuid_exists fast") == "fast-result"
    assert h.metric("callcenter_esl_commands_total", node="fs1", kind="api", outcome="timeout") == 1


def test_execute_and_bgapi_time_out_on_their_event_under_one_deadline(
    fs: FakeFreeSWITCH, h: Harness
) -> None:
    # the reply comes, the completion and the job never do: the command's one timer (its
    # deadline covers the reply and the event) ends the wait, and is closed with it
    def script(conn: Conn, text: str) -> bytes | None:
        if text.startswith("bgapi"):
            return reply("+OK Job-UUID: " + text.split("Job-UUID: ")[1])
        return reply("+OK")

    fs.script = script
    with pytest.raises(ESLTimeout, match=f"no playback on {U} in time"):
        h.conn.execute(U, "playback", "a.wav", timeout=0.1)
    with pytest.raises(ESLTimeout, match=r"no BACKGROUND_JOB .* in time"):
        h.conn.bgapi("status", timeout=0.1)
    assert h.metric("callcenter_esl_commands_total", node="fs1", kind="execute", outcome="timeout")
    assert h.metric("callcenter_esl_commands_total", node="fs1", kind="bgapi", outcome="timeout")
    assert not h.conn._pending._executes and not h.conn._pending._jobs
    gevent.sleep(0.3)  # no timer of theirs is left to go off in this greenlet
    fs.script = lambda conn, text: api_response("fine")
    assert h.conn.api("status", timeout=0.1) == "fine"


def test_a_command_done_in_time_leaves_no_timer_behind(fs: FakeFreeSWITCH, h: Harness) -> None:
    def script(conn: Conn, text: str) -> bytes | None:
        if text.startswith("bgapi"):
            job = text.split("Job-UUID: ")[1]
            return reply("+OK Job-UUID: " + job) + event(
                "BACKGROUND_JOB", Job_UUID=job, body="+OK done\n"
            )
        if text.startswith("api"):
            return api_response("+OK")
        return reply("+OK") + complete(text, "FILE PLAYED")

    fs.script = script
    assert h.conn.execute(U, "playback", "a.wav", timeout=0.1).application_response
    assert h.conn.bgapi("status", timeout=0.1) == "+OK done\n"
    assert h.conn.api("status", timeout=0.1) == "+OK"
    gevent.sleep(0.3)  # none of their deadlines goes off in this greenlet afterwards


def test_no_write_slot_in_time_is_a_timeout(fs: FakeFreeSWITCH, h: Harness) -> None:
    h.conn._write_lock.acquire()  # another greenlet stuck writing
    try:
        with pytest.raises(ESLTimeout, match="no write slot"):
            h.conn.api("status", timeout=0.05)
        with pytest.raises(ESLTimeout, match="no write slot"):
            h.conn.execute(U, "answer", timeout=0.05)
    finally:
        h.conn._write_lock.release()
    assert not h.conn._pending._executes
    fs.script = lambda conn, text: api_response("fine")
    assert h.conn.api("status", timeout=0.5) == "fine"


def _job_script(conn: Conn, text: str) -> bytes | None:
    job = text.split("Job-UUID: ")[1]
    if "refuse" in text:
        return reply("-ERR refused")
    if "never" in text:
        return reply("+OK Job-UUID: " + job)
    gevent.spawn_later(0.05, conn.send, event("BACKGROUND_JOB", "+OK up\n", Job_UUID=job))
    return reply("+OK Job-UUID: " + job)


def test_bgapi_sent_then_its_body(fs: FakeFreeSWITCH, h: Harness) -> None:
    fs.script = _job_script
    job = h.conn.bgapi_sent("originate ok", timeout=2)
    assert not job.result.ready()  # sent and taken: the job comes later
    gevent.wait([job.result], timeout=2)
    assert job.body() == "+OK up\n"
    assert h.conn.bgapi_sent("originate waited", timeout=2).body() == "+OK up\n"
    assert not h.conn._pending._jobs
    ok = h.metric("callcenter_esl_commands_total", node="fs1", kind="bgapi", outcome="ok")
    assert ok == 2


def test_bgapi_sent_abandoned_refused_or_late(fs: FakeFreeSWITCH, h: Harness) -> None:
    fs.script = _job_script
    job = h.conn.bgapi_sent("originate ok", timeout=2)
    job.abandon()  # the caller left: its job is forgotten, and counted as before
    job.abandon()  # once
    assert not h.conn._pending._jobs
    gevent.sleep(0.1)  # its BACKGROUND_JOB comes, and goes nowhere
    with pytest.raises(ESLCommandFailed, match="refused"):
        h.conn.bgapi_sent("originate refuse", timeout=2)
    late = h.conn.bgapi_sent("originate never", timeout=0.1)
    with pytest.raises(ESLTimeout, match="no BACKGROUND_JOB"):
        late.body()
    assert not h.conn._pending._jobs
    assert h.commands("bgapi", "error", "timeout", "ok") == (2, 1, 0)


def test_api_sent_is_not_waited_for_and_its_reply_is_checked_when_it_comes(
    fs: FakeFreeSWITCH, h: Harness
) -> None:
    held: list[tuple[Conn, bytes]] = []

    def script(conn: Conn, text: str) -> bytes | None:
        answer = api_response("-ERR No such channel!\n" if "gone" in text else "+OK\n")
        if "slow" in text:
            held.append((conn, answer))  # the reply comes later, when the test says
            return None
        if text.startswith("api uuid_getvar"):
            return api_response("12")
        return answer

    fs.script = script
    failed: list[str] = []
    h.conn.api_sent("uuid_setvar_multi slow a=1", failed.append)
    until(lambda: fs.commands[-1] == "api uuid_setvar_multi slow a=1")  # sent, not waited
    h.conn.api_sent("uuid_setvar_multi gone a=1", failed.append)  # queued behind the first
    conn, answer = held.pop()
    conn.send(answer)  # the first reply at last: each reply reaches its own command
    until(lambda: len(failed) == 1)
    assert "No such channel" in failed[0] and "uuid_setvar_multi" in failed[0]
    assert h.conn.api(commands.uuid_getvar(U, "cc_digits")) == "12"  # replies still aligned
    assert h.commands("api", "ok", "error") == (2, 1)
    assert not h.conn._pending._replies


def test_api_sent_lost_with_the_connection_is_reported(fs: FakeFreeSWITCH, h: Harness) -> None:
    def script(conn: Conn, text: str) -> bytes | None:
        gevent.spawn_later(0.05, conn.kill)
        return None

    fs.script = script
    failed: list[str] = []
    h.conn.api_sent("uuid_setvar_multi x a=1", failed.append)
    until(lambda: len(failed) == 1)
    assert "fs1" in failed[0]
    until(lambda: h.conn.connected)  # reconnected; nothing left waiting
    fs.script = fs.default
    h.conn.stop(timeout=2)
    with pytest.raises(ESLNotConnected):
        h.conn.api_sent("uuid_setvar_multi x a=1", failed.append)  # stopped: not written
    assert len(failed) == 1
    assert h.commands("api", "disconnected", "ok") == (2, 0)


def test_execute_sent_is_not_waited_for_and_a_refusal_is_reported(
    fs: FakeFreeSWITCH, h: Harness
) -> None:
    def script(conn: Conn, text: str) -> bytes | None:
        if text.startswith(f"sendmsg {U}"):
            return reply("+OK")  # taken: its EXECUTE_COMPLETE is nobody's to wait for
        return reply("-ERR invalid session id [0c6a]")

    fs.script = script
    failed: list[str] = []
    h.conn.execute_sent(U, "answer", failed.append)
    h.conn.execute_sent("0c6a0000-0000-4000-8000-000000000000", "answer", failed.append)
    until(lambda: len(failed) == 1)
    assert "invalid session id" in failed[0] and "answer" in failed[0]
    sent = [c for c in fs.commands if c.startswith("sendmsg")]
    assert sent[0].startswith(f"sendmsg {U}\n") and "execute-app-name: answer" in sent[0]
    until(lambda: h.commands("execute", "ok", "error") == (1, 1))
    assert not h.conn._pending._replies and not h.conn._pending._executes


def test_killed_mid_command_fails_pending_at_once(fs: FakeFreeSWITCH, h: Harness) -> None:
    def script(conn: Conn, text: str) -> bytes | None:
        if text.startswith("bgapi"):
            job = text.split("Job-UUID: ")[1]
            return reply("+OK Job-UUID: " + job)
        gevent.spawn_later(0.05, conn.kill)
        return None

    fs.script = script
    bg = gevent.spawn(h.conn.bgapi, "status", 10)
    until(lambda: any(c.startswith("bgapi") for c in fs.commands))
    started = time.monotonic()
    with pytest.raises(ESLNotConnected):
        h.conn.api("status", timeout=10)
    with pytest.raises(ESLNotConnected):
        bg.get(timeout=5)
    assert time.monotonic() - started < 2


def test_reconnect_resubscribes_and_calls_on_connected(fs: FakeFreeSWITCH, h: Harness) -> None:
    fs.current.kill()
    until(lambda: len(fs.connections) == 2 and h.conn.connected)
    until(lambda: h.connected_calls == 2)
    assert [c for c in fs.commands if c.startswith("event json")].__len__() == 2
    assert h.conn.reconnects == 1
    assert h.metric("callcenter_esl_reconnects_total", node="fs1") == 1
    assert h.conn.api("status") == "+OK\n"


def test_not_connected_raises_at_once(fs: FakeFreeSWITCH) -> None:
    harness = Harness(fs)
    with pytest.raises(ESLNotConnected):
        harness.conn.api("status")


def test_stop_sends_exit(fs: FakeFreeSWITCH, h: Harness) -> None:
    h.conn.stop(timeout=2)
    assert fs.commands[-1] == "exit"
    assert not h.conn.connected
    assert h.metric("callcenter_esl_connected", node="fs1") == 0


def test_malformed_event_is_counted_and_skipped(fs: FakeFreeSWITCH, h: Harness) -> None:
    fs.push(b"Content-Length: 5\nContent-Type: text/event-json\n\n{bad}" + event("DTMF"))
    until(lambda: [e.name for e in h.events] == ["DTMF"])
    assert h.metric("callcenter_esl_parse_errors_total", node="fs1") == 1
    assert h.conn.connected


def test_broken_framing_drops_and_reconnects(fs: FakeFreeSWITCH, h: Harness) -> None:
    fs.push(b"Content-Length: banana\n\n")
    until(lambda: len(fs.connections) == 2 and h.conn.connected)
    assert h.metric("callcenter_esl_parse_errors_total", node="fs1") == 1


def test_replayed_recording_is_delivered_in_order(fs: FakeFreeSWITCH, h: Harness) -> None:
    data = gzip.decompress((FIXTURES / "s01-inbound-ivr.esl.gz").read_bytes())
    body = data.split(b"+OK event listener enabled json\n\n", 1)[1]
    fs.push(body)
    until(lambda: any(e.name == "CHANNEL_DESTROY" for e in h.events))
    seqs = [e.sequence for e in h.events]
    assert seqs == sorted(seqs) and len(seqs) >= 45


def test_mailbox_overflow_is_counted_not_blocking(fs: FakeFreeSWITCH) -> None:
    harness = Harness(fs)
    router = EventRouter(metrics=harness.metrics, mailbox_size=2)
    harness.conn._on_event = router  # route straight from the reader
    mailbox = router.register_call(U)
    agents = router.subscribe("acd", maxsize=3, events={"CHANNEL_ANSWER"})
    harness.conn.start()
    until(lambda: harness.conn.connected)
    fs.push(b"".join(event("CHANNEL_ANSWER", Unique_ID=U) for _ in range(10)))
    until(lambda: router.dropped.get("calls") == 8 and router.dropped.get("acd") == 7)
    assert mailbox.qsize() == 2 and agents.qsize() == 3
    assert harness.conn.api("status") == "+OK\n"
    assert harness.metric("callcenter_esl_event_drops_total", queue="calls") == 8
    assert harness.metric("callcenter_esl_event_queue_depth", queue="calls") == 2
    router.unregister_call(U)
    harness.conn.stop(timeout=2)


# -- issue 10, findings 5 and 6: one hostile event is rejected, nothing else is lost --------

NESTED = b"[" * 1000 + b"]" * 1000
# Bodies the reader must decode to dispatch (here: the correlation ids are escaped, so only
# the full parse can read them; an execute's only when its channel, U, runs one), and which
# do not decode. A repeated Job-UUID is read at its first occurrence, as FreeSWITCH reads it;
# Application-UUID, which FreeSWITCH writes once after the channel variables, at its last.
UID = b'"Unique-ID":"' + U.encode() + b'",'
REJECTED_BY_THE_READER = {
    # finding 5: json.loads raised RecursionError out of the reader
    "nested": b'{"Event-Name":"CHANNEL_PARK","Unique-ID":"u","x":' + NESTED,
    "nested, closed": b'{"Event-Name":"CHANNEL_EXECUTE_COMPLETE",' + UID
    + b'"Application-UUID":"\\u0061","x":' + NESTED + b"}",
    # finding 6: the full decode a correlation id needs was outside the dispatcher's try
    "repeated Application-UUID": b'{"Event-Name":"CHANNEL_EXECUTE_COMPLETE",' + UID
    + b'"Application-UUID":"a","Application-UUID":"\\u0062",,}',
    "repeated Job-UUID": b'{"Event-Name":"BACKGROUND_JOB","Job-UUID":"\\u0062","Job-UUID":"a",,}',
}  # fmt: skip
# Finding 6 as filed: the scan reads the last Application-UUID, as the full parse of a whole
# body would, so the reader hands the event on; whoever reads more finds it broken.
FOUND_BROKEN_LATER = {
    "finding 6 as filed": b'{"Event-Name":"CHANNEL_EXECUTE_COMPLETE",' + UID
    + b'"Application-UUID":"b","Application-UUID":"a",,}',
    "nested, closed": b'{"Event-Name":"CHANNEL_EXECUTE_COMPLETE",' + UID
    + b'"Application-UUID":"a","x":' + NESTED + b"}",
}  # fmt: skip


def _framed(body: bytes) -> bytes:
    return b"Content-Length: %d\nContent-Type: text/event-json\n\n%s" % (len(body), body)


class _Waiting:
    """A bgapi and an execute left waiting on the connection while hostile events arrive."""

    def __init__(self, fs: FakeFreeSWITCH, h: Harness) -> None:
        self.jobs: list[str] = []
        self.executes: list[str] = []
        fs.script = self._script
        self.job = gevent.spawn(h.conn.bgapi, "status", 5)
        self.execute = gevent.spawn(h.conn.execute, U, "playback", "a.wav", 5)
        until(lambda: self.jobs and self.executes)

    def _script(self, conn: Conn, text: str) -> bytes | None:  # holds the results back
        if text.startswith("bgapi "):
            self.jobs.append(text.split("Job-UUID: ")[1])
            return reply(f"+OK Job-UUID: {self.jobs[-1]}")
        self.executes.append(text)
        return reply("+OK")

    def complete(self, fs: FakeFreeSWITCH) -> None:
        fs.push(
            event("BACKGROUND_JOB", "+OK done\n", Job_UUID=self.jobs[0])
            + complete(self.executes[0], "ok")
        )
        assert self.job.get(timeout=5) == "+OK done\n"
        assert self.execute.get(timeout=5).application_response == "ok"


def _rejections(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]


@pytest.mark.parametrize("body", REJECTED_BY_THE_READER.values(), ids=REJECTED_BY_THE_READER.keys())
def test_a_hostile_event_is_rejected_and_pending_commands_survive(
    fs: FakeFreeSWITCH, h: Harness, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    waiting = _Waiting(fs, h)
    with caplog.at_level(logging.WARNING, logger="callcenter.esl.connection"):
        fs.push(_framed(body) + event("DTMF", Unique_ID=U))
        until(lambda: [e.name for e in h.events] == ["DTMF"])  # the hostile one dropped
    waiting.complete(fs)
    assert h.conn.connected and len(fs.connections) == 1 and h.conn.sessions == 1
    assert h.metric("callcenter_esl_events_rejected_total", node="fs1") == 1
    rejected = _rejections(caplog)
    assert len(rejected) == 1 and "fs1" in rejected[0], rejected


@pytest.mark.parametrize("body", FOUND_BROKEN_LATER.values(), ids=FOUND_BROKEN_LATER.keys())
def test_a_hostile_event_read_lazily_leaves_pending_commands_alone(
    fs: FakeFreeSWITCH, h: Harness, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    waiting = _Waiting(fs, h)
    fs.push(_framed(body) + event("DTMF", Unique_ID=U))
    until(lambda: [e.name for e in h.events] == ["CHANNEL_EXECUTE_COMPLETE", "DTMF"])
    broken = h.events[0]
    assert (broken.unique_id, broken.application_uuid) == (U, "a")
    with caplog.at_level(logging.WARNING, logger="callcenter.esl.connection"):
        for _ in range(2):
            with pytest.raises(ESLProtocolError):
                broken.headers  # noqa: B018
    waiting.complete(fs)
    assert h.conn.connected and len(fs.connections) == 1
    assert h.metric("callcenter_esl_events_rejected_total", node="fs1") == 1
    assert len(_rejections(caplog)) == 1


def test_a_lazy_event_found_broken_later_is_counted_and_logged_once(
    fs: FakeFreeSWITCH, h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"Event-Name":"CHANNEL_HANGUP","Unique-ID":"' + U.encode() + b'","x":' + NESTED + b"}"
    fs.push(_framed(body))
    (hangup,) = until(lambda: h.events)
    assert (hangup.name, hangup.unique_id) == ("CHANNEL_HANGUP", U)  # routed by the scan
    with caplog.at_level(logging.WARNING, logger="callcenter.esl.connection"):
        for _ in range(3):
            with pytest.raises(ESLProtocolError):
                hangup.headers  # noqa: B018
    assert h.metric("callcenter_esl_events_rejected_total", node="fs1") == 1
    rejected = _rejections(caplog)
    assert len(rejected) == 1 and U in rejected[0], rejected
    assert h.conn.connected and h.conn.api("status") == "+OK\n"


def test_api_sent_unchecked_counts_a_refusal_as_an_answer(fs: FakeFreeSWITCH, h: Harness) -> None:
    """``uuid_break`` sent unawaited to a caller that has just hung up: FreeSWITCH's "no such
    channel" is an answer, as ``api(..., check=False)`` takes it, not a command error."""
    fs.script = lambda conn, text: api_response("-ERR No such channel!\n")
    failed: list[str] = []
    h.conn.api_sent(commands.uuid_break(U), failed.append, check=False)
    h.conn.api_sent(commands.uuid_break(U), failed.append)  # checked: a refusal, reported
    until(lambda: len(failed) == 1)
    assert "No such channel" in failed[0]
    assert h.commands("api", "ok", "error") == (1, 1)


def test_an_unawaited_answer_refused_tells_the_call_its_caller_is_gone(
    fs: FakeFreeSWITCH, h: Harness
) -> None:
    """The caller hung up before its answer ran, and the engine saw no hang-up (it came
    before the call had a mailbox): FreeSWITCH's refusal is all there is to say so, or the
    caller would wait in its queue, ringing agents, until the queue's limit."""
    from callcenter.calls.call import Call
    from callcenter.calls.control import CallControl
    from callcenter.calls.mailbox import Mailbox
    from callcenter.vocabulary import Direction

    fs.script = lambda conn, text: reply(f"-ERR invalid session id [{U}]")
    call = Call(U, "fs1", Direction.INBOUND)
    control = CallControl(call, h.conn, Mailbox(U), attach_leg=lambda _leg: None)
    control.answer(wait=False)
    assert not call.caller_gone  # written, not waited for
    assert control.wait_until(lambda: call.caller_gone, 2.0, interruptible=False)
    with pytest.raises(CallGone):
        control.ensure_alive()
