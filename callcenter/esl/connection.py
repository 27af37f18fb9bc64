"""One supervised inbound ESL connection per FreeSWITCH node.

A supervisor greenlet connects, authenticates, subscribes, calls ``on_connected`` (the
engine resyncs there), then waits for the reader; when the socket drops every pending
command fails at once with ``ESLNotConnected`` and it reconnects with backoff.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import gevent
from gevent.event import AsyncResult
from gevent.event import Event as Flag
from gevent.lock import Semaphore

from callcenter.errors import (
    CallGone,
    ESLCommandFailed,
    ESLError,
    ESLNotConnected,
    ESLProtocolError,
    ESLTimeout,
)
from callcenter.esl import commands
from callcenter.esl.backoff import Backoff
from callcenter.esl.events import EVENT_CONTENT_TYPES, Event, parse_event_body
from callcenter.esl.pending import RESOLVING_EVENTS, Pending
from callcenter.esl.transport import ESLTransport
from callcenter.esl.vocabulary import DEFAULT_EVENTS
from callcenter.esl.wire import Message
from callcenter.ids import new_uuid
from callcenter.metrics.esl import ESLMetrics

log = logging.getLogger(__name__)

_REPLIES = frozenset({"command/reply", "api/response"})
_FAILED = ("-ERR", "-USAGE")
INVALID_SESSION = "invalid session id"  # sendmsg's refusal: the channel is gone (NOTES §2)
_REJECTIONS_LOGGED = 100  # each of the first ones, then one in a thousand


class ESLNodeConfig(Protocol):
    """What the connection needs from ``callcenter.settings.ESLNode``."""

    @property
    def name(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def password(self) -> str: ...


class ESLConnection:
    def __init__(
        self,
        node: ESLNodeConfig,
        *,
        on_event: Callable[[Event], None],
        on_connected: Callable[[], None] | None = None,
        metrics: ESLMetrics | None = None,
        events: Sequence[str] = DEFAULT_EVENTS,
        command_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.node = node
        self.name = node.name
        self._on_event = on_event
        self._on_connected = on_connected
        self._metrics = metrics
        self._subscription = commands.event_subscription("json", events)
        self.command_timeout = command_timeout
        self.connect_timeout = connect_timeout
        self._backoff = backoff or Backoff()
        self._pending = Pending()
        self._write_lock = Semaphore()
        self._transport: ESLTransport | None = None
        self._auth_request: Any = None
        self._up = False
        self._stopping = False
        self._wake = Flag()
        self._connected_flag = Flag()
        self._supervisor: Any = None
        self.sessions = 0
        self.rejected = 0
        self._event_counts = metrics.event_counts(node.name) if metrics is not None else None

    @property
    def connected(self) -> bool:
        return self._up

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def reconnects(self) -> int:
        return max(0, self.sessions - 1)

    def start(self) -> None:
        if self._supervisor is not None:
            return
        self._stopping = False
        self._wake.clear()
        self._supervisor = self._spawn("supervisor", self._supervise)

    def wait_connected(self, timeout: float) -> bool:
        return bool(self._connected_flag.wait(timeout))

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping = True
        self._wake.set()
        if self._up:
            try:
                self._request("exit", time.monotonic() + min(timeout, 1.0))
            except ESLError as exc:
                log.debug("ESL %s: exit not acknowledged: %s", self.name, exc)
        transport = self._transport
        if transport is not None:
            transport.close()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.join(timeout)
            if not supervisor.dead:
                log.warning(
                    "ESL %s: supervisor did not stop within %ss; killing", self.name, timeout
                )
                supervisor.kill(block=True, timeout=1.0)

    # -- commands -------------------------------------------------------------------

    def api(self, line: str, timeout: float | None = None, *, check: bool = True) -> str:
        text = commands.api_line(line)
        with self._measure("api"):
            reply = self._request(text, time.monotonic() + self._timeout(timeout))
            result = _reply_text(reply)
            if check and result.startswith(_FAILED):
                raise ESLCommandFailed(f"{self.name}: api {_verb(line)}: {result.strip()}")
            return result

    def api_sent(self, line: str, failed: Callable[[str], None], *, check: bool = True) -> None:
        """``api`` without waiting for the reply, for a command nothing waits on (the
        variables a caller's channel carries for a restart): the reply comes back with the
        next command's, in the same read, not in a wake-up of its own. It is checked in the
        reader when it comes: a refusal, or the connection lost first, goes to ``failed``
        (a line saying why), and the command is counted and timed as an ``api``. Raises as
        ``api`` does when the command cannot be written. ``check=False``, as ``api``'s: a
        refusal is an answer like any other (counted ok, not reported)."""
        self._send_unawaited(
            commands.api_line(line),
            _Unawaited(self.name, f"api {_verb(line)}", failed, self._measure("api"), check),
        )

    def bgapi(self, line: str, timeout: float | None = None, *, check: bool = True) -> str:
        job_uuid = new_uuid()
        text = commands.bgapi_line(line, job_uuid)
        deadline = time.monotonic() + self._timeout(timeout)
        waiter = self._pending.expect_job(job_uuid)
        with self._measure("bgapi"):
            timer = _timer(deadline)  # one for the reply and the job: see _request
            try:
                reply = _reply_text(self._request(text, deadline, timer=timer))
                if not reply.startswith("+OK"):
                    raise ESLCommandFailed(f"{self.name}: bgapi {_verb(line)}: {reply}")
                event = self._wait(waiter, f"BACKGROUND_JOB {job_uuid}", timer)
            finally:
                timer.close()
                self._pending.forget_job(job_uuid)
            body = event.body or ""
            if check and body.startswith(_FAILED):
                raise ESLCommandFailed(f"{self.name}: bgapi {_verb(line)}: {body.strip()}")
            return body

    def bgapi_sent(self, line: str, timeout: float | None = None) -> BackgroundJob:
        """``bgapi`` in two halves, for a caller that waits for the job together with other
        things (``CallControl.originate``: the caller hanging up, an intent) without a
        helper greenlet: this sends the command and returns once FreeSWITCH took it, with
        the job to wait on (``BackgroundJob.result``); the caller then ends it with
        ``BackgroundJob.body()`` or ``BackgroundJob.abandon()``. Raises as ``bgapi`` does
        when the command is refused or not answered in time."""
        job_uuid = new_uuid()
        text = commands.bgapi_line(line, job_uuid)
        deadline = time.monotonic() + self._timeout(timeout)
        waiter = self._pending.expect_job(job_uuid)
        measured = self._measure("bgapi")
        measured.__enter__()
        try:
            reply = _reply_text(self._request(text, deadline))
            if not reply.startswith("+OK"):
                raise ESLCommandFailed(f"{self.name}: bgapi {_verb(line)}: {reply}")
        except BaseException as exc:
            self._pending.forget_job(job_uuid)
            measured.__exit__(type(exc))
            raise
        return BackgroundJob(self, line, job_uuid, waiter, deadline, measured)

    def execute(
        self,
        uuid: str,
        app: str,
        arg: str | None = None,
        timeout: float | None = None,
        *,
        lock: bool = False,
        loops: int | None = None,
        expand: bool = False,
        sent: Callable[[], None] | None = None,
    ) -> Event:
        """Run ``app`` on the channel and wait for its CHANNEL_EXECUTE_COMPLETE. ``sent``:
        called once the command is written (the application is FreeSWITCH's to run or to
        refuse), while its reply and its end are still to come."""
        event_uuid = new_uuid()
        text = commands.execute(uuid, app, arg, event_uuid, lock=lock, loops=loops, expand=expand)
        deadline = time.monotonic() + self._timeout(timeout)
        waiter = self._pending.expect_execute(event_uuid, uuid)
        with self._measure("execute"):
            timer = _timer(deadline)  # one for the reply and the completion: see _request
            try:
                self._check_sendmsg(uuid, self._request(text, deadline, timer=timer, sent=sent))
                result: Event = self._wait(waiter, f"{app} on {uuid}", timer)
                return result
            finally:
                timer.close()
                self._pending.forget_execute(event_uuid)

    def execute_sent(self, uuid: str, app: str, failed: Callable[[str], None]) -> None:
        """``execute`` without waiting for its reply or its end, for an application whose
        outcome the channel's own events tell (``answer``: CHANNEL_ANSWER, or the hang-up):
        what the call does next goes out right behind it, and FreeSWITCH runs it after.
        A refusal (the channel gone) or the connection lost goes to ``failed``; counted and
        timed as an ``execute`` until its reply. Raises as ``execute`` does when it cannot
        be written."""
        text = commands.execute(uuid, app, None, new_uuid())
        what = f"sendmsg {uuid} {app}"
        self._send_unawaited(text, _Unawaited(self.name, what, failed, self._measure("execute")))

    def hangup(
        self, uuid: str, cause: str = "NORMAL_CLEARING", timeout: float | None = None
    ) -> None:
        text = commands.hangup(uuid, cause)
        with self._measure("execute"):
            self._check_sendmsg(
                uuid, self._request(text, time.monotonic() + self._timeout(timeout))
            )

    def command(self, text: str, timeout: float | None = None) -> str:
        """Send a wire command built by ``commands`` (``filter``, ``event``); return Reply-Text."""
        deadline = time.monotonic() + self._timeout(timeout)
        return _reply_text(self._request(text, deadline, require_up=True))

    # -- internals ------------------------------------------------------------------

    def _timeout(self, timeout: float | None) -> float:
        return self.command_timeout if timeout is None else timeout

    def _check_sendmsg(self, uuid: str, reply: Message) -> None:
        text = _reply_text(reply)
        if INVALID_SESSION in text:
            raise CallGone(f"{uuid}: {text}")
        if text.startswith(_FAILED):
            raise ESLCommandFailed(f"{self.name}: sendmsg {uuid}: {text}")

    def _request(
        self,
        text: str,
        deadline: float,
        *,
        require_up: bool = True,
        timer: gevent.Timeout | None = None,
        sent: Callable[[], None] | None = None,
    ) -> Message:
        """Send ``text`` and wait for its reply until ``deadline`` (``time.monotonic``).
        ``timer``: the caller's, started for that deadline and closed by it (an execute or a
        bgapi waits for its event under the same one); else one is made here. One timer a
        command, not one for the write, one for the reply and one for the event: each is
        ~17 k instructions made, started and closed, and a queue call sends six commands."""
        own = timer is None
        if timer is None:
            timer = _timer(deadline)
        try:
            waiter = AsyncResult()
            self._send(text, deadline, timer, waiter, require_up=require_up)
            if sent is not None:
                sent()
            reply: Message = self._wait(waiter, f"reply to {_verb(text)}", timer)
            return reply
        finally:
            if own:
                timer.close()

    def _send_unawaited(self, text: str, slot: _Unawaited) -> None:
        deadline = time.monotonic() + self.command_timeout
        timer = _timer(deadline)
        try:
            self._send(text, deadline, timer, slot)
        except BaseException as exc:
            slot.give_up(type(exc))
            raise
        finally:
            timer.close()

    def _send(
        self,
        text: str,
        deadline: float,
        timer: gevent.Timeout,
        slot: Any,
        *,
        require_up: bool = True,
    ) -> None:
        """Write ``text``; its reply goes to ``slot`` (an ``AsyncResult`` waited on, or an
        ``_Unawaited``), queued in the order the commands are written."""
        transport = self._transport
        if transport is None or (require_up and not self._up):
            raise ESLNotConnected(f"ESL {self.name} is not connected")
        try:
            if not self._write_lock.acquire(timeout=_left(deadline)):
                raise ESLTimeout(f"ESL {self.name}: no write slot in time")
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            raise ESLTimeout(f"ESL {self.name}: no write slot in time") from None
        try:
            self._pending.queue_reply(slot)
            try:
                transport.send_command(text)
            except (OSError, gevent.Timeout) as exc:
                if exc is not timer and not isinstance(exc, OSError):
                    raise
                transport.close()
                raise ESLNotConnected(f"ESL {self.name}: write failed: {exc!r}") from None
        finally:
            self._write_lock.release()

    def _wait(self, waiter: AsyncResult, what: str, timer: gevent.Timeout) -> Any:
        """The waiter's value, under ``timer`` (started for the command's deadline)."""
        try:
            return waiter.get()
        except gevent.Timeout:
            raise ESLTimeout(f"ESL {self.name}: no {what} in time") from None

    def _measure(self, kind: str) -> _Measured:
        return _Measured(self._metrics, self.name, kind)

    def _spawn(self, name: str, func: Callable[..., None], *args: Any) -> Any:
        greenlet = gevent.spawn(func, *args)
        greenlet.link_exception(lambda g: self._crashed(name, g))
        return greenlet

    def _crashed(self, name: str, greenlet: Any) -> None:
        log.error("ESL %s: %s greenlet died: %r", self.name, name, greenlet.exception)
        if self._metrics is not None:
            self._metrics.greenlet_failed(self.name, name)

    def _supervise(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                self._session()
            except ESLError as exc:
                log.error("ESL %s (%s:%s): %s", self.name, self.node.host, self.node.port, exc)
            except OSError as exc:
                log.warning("ESL %s (%s:%s): %s", self.name, self.node.host, self.node.port, exc)
            except Exception:  # the supervisor outlives any bug in one session
                log.exception("ESL %s: session failed unexpectedly", self.name)
                if self._metrics is not None:
                    self._metrics.greenlet_failed(self.name, "session")
            finally:
                authenticated = self._teardown()
            if authenticated:
                attempt = 0
            if self.stopping:
                break
            delay = self._backoff.delay(attempt)
            attempt += 1
            log.info("ESL %s: reconnecting in %.2fs (attempt %d)", self.name, delay, attempt)
            self._wake.wait(delay)

    def _session(self) -> None:
        self._auth_request = AsyncResult()
        transport = ESLTransport(
            self.node.host,
            self.node.port,
            self.node.password,
            timeout=self.connect_timeout,
            on_message=self._dispatch,
        )
        self._transport = transport
        transport.connect()
        reader = self._spawn("reader", self._read, transport)
        timer = _timer(time.monotonic() + self.connect_timeout)
        try:
            self._wait(self._auth_request, "auth/request", timer)
        finally:
            timer.close()
        auth = _reply_text(
            self._request(
                commands.auth(self.node.password),
                time.monotonic() + self.connect_timeout,
                require_up=False,
            )
        )
        if not auth.startswith("+OK"):
            raise ESLError(f"authentication refused by {self.name} ({auth}); check its password")
        deadline = time.monotonic() + self.connect_timeout
        sub = _reply_text(self._request(self._subscription, deadline, require_up=False))
        if not sub.startswith("+OK"):
            raise ESLError(f"event subscription refused by {self.name}: {sub}")
        self._mark_up()
        if self._on_connected is not None:
            try:
                self._on_connected()
            except Exception:  # the engine's resync must not kill the connection
                log.exception("ESL %s: on_connected failed", self.name)
        reader.join()

    def _mark_up(self) -> None:
        self._up = True
        self.sessions += 1
        self._connected_flag.set()
        log.info(
            "ESL %s connected to %s:%s (session %d)",
            self.name,
            self.node.host,
            self.node.port,
            self.sessions,
        )
        if self._metrics is not None:
            self._metrics.set_connected(self.name, True)
            if self.sessions > 1:
                self._metrics.reconnected(self.name)

    def _teardown(self) -> bool:
        was_up = self._up
        self._down("session ended")
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
        return was_up

    def _down(self, why: str) -> None:
        was_up, self._up = self._up, False
        self._connected_flag.clear()
        failed = self._pending.fail_all(lambda: ESLNotConnected(f"ESL {self.name}: {why}"))
        if was_up:
            log.log(
                logging.INFO if self._stopping else logging.WARNING,
                "ESL %s disconnected (%s); %d pending command(s) failed",
                self.name,
                "stopped" if self._stopping else why,
                failed,
            )
            if self._metrics is not None:
                self._metrics.set_connected(self.name, False)

    def _read(self, transport: ESLTransport) -> None:
        why = "connection closed by peer"
        try:
            transport.receive_events()
        except ESLProtocolError as exc:
            why = f"framing lost: {exc}"
            log.error("ESL %s: %s; dropping the connection", self.name, exc)
            if self._metrics is not None:
                self._metrics.parse_error(self.name)
        finally:
            transport.close()
            self._down(why)

    def _dispatch(self, message: Message) -> None:
        content_type = message.headers.get("Content-Type", "")
        if content_type in EVENT_CONTENT_TYPES:
            self._dispatch_event(content_type, message.body)
        elif content_type in _REPLIES:
            if not self._pending.reply(message):
                log.warning(
                    "ESL %s: reply with no command waiting: %r",
                    self.name,
                    _reply_text(message)[:200],
                )
        elif content_type == "auth/request":
            self._auth_request.set(message)
        elif content_type == "text/disconnect-notice":
            log.info("ESL %s: disconnect notice: %s", self.name, " ".join(message.text().split()))
        elif content_type == "text/rude-rejection":
            log.error("ESL %s refused this client: %s", self.name, " ".join(message.text().split()))
        else:
            log.debug("ESL %s: ignored %s message", self.name, content_type)

    def _dispatch_event(self, content_type: str, body: bytes) -> None:
        try:
            event = parse_event_body(content_type, body, self._broken)
        except ESLProtocolError as exc:
            self._reject(f"{content_type} event of {len(body)} bytes {body[:60]!r}", exc)
            return
        name = event.name
        counts = self._event_counts
        if counts is not None:
            counts[name] = counts.get(name, 0) + 1
        try:
            if name in RESOLVING_EVENTS:  # an escaped Job-UUID or Application-UUID decodes
                self._pending.resolve(event)
            self._on_event(event)
        except Exception as exc:  # neither a broken body nor a handler bug stops the reader
            if isinstance(exc, ESLProtocolError) and event.broken:
                return  # dropped, and already counted and logged by ``_broken``
            log.exception(
                "ESL %s: on_event failed for %s %s", self.name, event.name, event.unique_id
            )

    def _broken(self, event: Event, error: ESLProtocolError) -> None:
        """An event whose body did not decode when read: here in the reader, or later by
        whoever read it (a call's actor), which drops it."""
        self._reject(repr(event), error)

    def _reject(self, what: str, error: ESLProtocolError) -> None:
        # read and written with no yield between: safe in whichever greenlet found it broken
        self.rejected += 1
        if self._metrics is not None:
            self._metrics.event_rejected(self.name)
        if self.rejected <= _REJECTIONS_LOGGED or self.rejected % 1000 == 0:
            log.warning(
                "ESL %s: rejected %s: %s (%d rejected so far)",
                self.name,
                what,
                error,
                self.rejected,
            )


class BackgroundJob:
    """A bgapi FreeSWITCH took (``ESLConnection.bgapi_sent``): its BACKGROUND_JOB arrives in
    ``result``. Ended once, by ``body()`` or ``abandon()``: the command is then counted and
    timed (kind ``bgapi``) and forgotten by the connection."""

    __slots__ = ("_conn", "_measured", "deadline", "job_uuid", "line", "result")

    def __init__(
        self,
        conn: ESLConnection,
        line: str,
        job_uuid: str,
        result: AsyncResult,
        deadline: float,
        measured: _Measured,
    ) -> None:
        self._conn, self.line, self.job_uuid = conn, line, job_uuid
        self.result, self.deadline = result, deadline
        self._measured: _Measured | None = measured

    def body(self, *, check: bool = True) -> str:
        """The job's body: at once if ``result`` is ready, else waited for until the
        deadline (``ESLTimeout``); raises what ``bgapi`` raises."""
        conn = self._conn
        try:
            if self.result.ready():
                event: Event = self.result.get()
            else:
                timer = _timer(self.deadline)
                try:
                    event = conn._wait(self.result, f"BACKGROUND_JOB {self.job_uuid}", timer)
                finally:
                    timer.close()
            body = event.body or ""
            if check and body.startswith(_FAILED):
                raise ESLCommandFailed(f"{conn.name}: bgapi {_verb(self.line)}: {body.strip()}")
        except BaseException as exc:
            self._end(type(exc))
            raise
        self._end(None)
        return body

    def abandon(self) -> None:
        """No longer waited for (the caller gone, an intent, the waiter killed): counted as
        the killed helper greenlet that used to wait for it was, an error."""
        self._end(gevent.GreenletExit)

    def _end(self, kind: type[BaseException] | None) -> None:
        measured, self._measured = self._measured, None
        if measured is not None:
            self._conn._pending.forget_job(self.job_uuid)
            measured.__exit__(kind)


class _Unawaited:
    """The reply slot of a command sent unawaited (``api_sent``, ``execute_sent``): checked
    in the reader when it comes."""

    __slots__ = ("check", "done", "failed", "measured", "node", "what")

    def __init__(
        self,
        node: str,
        what: str,
        failed: Callable[[str], None],
        measured: _Measured,
        check: bool = True,
    ) -> None:
        self.node, self.what, self.failed, self.measured = node, what, failed, measured
        self.check = check
        self.done = False
        measured.__enter__()

    def ready(self) -> bool:
        return self.done

    def give_up(self, kind: type[BaseException]) -> None:
        """Not written (the caller gets the error): nothing more to report."""
        if not self.done:
            self.done = True
            self.measured.__exit__(kind)

    def set(self, message: Message) -> None:
        if self.done:
            return
        self.done = True
        result = _reply_text(message)
        if self.check and result.startswith(_FAILED):
            self.measured.__exit__(ESLCommandFailed)
            self.failed(f"{self.node}: {self.what}: {result.strip()}")
        else:
            self.measured.__exit__(None)

    def set_exception(self, exc: BaseException) -> None:
        if self.done:
            return
        self.done = True
        self.measured.__exit__(type(exc))
        self.failed(str(exc))


class _Measured:
    """A command counted by kind and outcome, and timed: a class, not a generator-based
    context manager (a generator, its frame and contextlib's wrapper for every command)."""

    __slots__ = ("kind", "metrics", "node", "started")

    def __init__(self, metrics: ESLMetrics | None, node: str, kind: str) -> None:
        self.metrics, self.node, self.kind = metrics, node, kind

    def __enter__(self) -> None:
        self.started = time.monotonic()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self.metrics is None:
            return
        if kind is None:
            outcome = "ok"
        elif issubclass(kind, ESLTimeout):
            outcome = "timeout"
        elif issubclass(kind, ESLNotConnected):
            outcome = "disconnected"
        elif issubclass(kind, CallGone):
            outcome = "call_gone"
        else:
            outcome = "error"
        self.metrics.command(self.node, self.kind, outcome, time.monotonic() - self.started)


def _reply_text(message: Message) -> str:
    if message.content_type == "command/reply":
        return message.headers.get("Reply-Text", "")
    return message.text()


def _verb(text: str) -> str:
    return text.split(" ", 1)[0].split("\n", 1)[0][:40]


def _timer(deadline: float) -> gevent.Timeout:
    """A started timer that raises itself (a ``gevent.Timeout``) into this greenlet at
    ``deadline``; whoever starts it closes it."""
    timer = gevent.Timeout(_left(deadline))
    timer.start()
    return timer


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())
