"""The queue's music loop (``acd.music``): how it stops, against a channel that records what
is written and lets the test end each playback."""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import gevent
from gevent.event import AsyncResult
from gevent.event import Event as Flag

from callcenter.acd.music import BREAK_SETTLE, MusicOnHold
from callcenter.calls.control import CallControl

U = "0a8f3c1e-5b7d-4e2a-9c6f-1d2e3f4a5b6c"


class Channel:
    """Writes are recorded in order; a playback runs until ``end_playback``."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.playing: list[AsyncResult] = []
        self.waited_replies = 0  # api commands whose reply was waited for

    def execute(
        self,
        uuid: str,
        app: str,
        arg: str | None = None,
        timeout: float | None = None,
        *,
        sent: Callable[[], None] | None = None,
    ) -> Any:
        self.written.append(f"{app} {arg}")
        done = AsyncResult()
        self.playing.append(done)
        if sent is not None:
            sent()
        return done.get(timeout=timeout)

    def end_playback(self) -> None:
        self.playing.pop(0).set(None)

    def api(self, line: str, timeout: float | None = None, *, check: bool = True) -> str:
        self.written.append(line)
        self.waited_replies += 1
        gevent.sleep(0.01)  # the round trip
        return "+OK\n"

    def api_sent(self, line: str, failed: Callable[[str], None], *, check: bool = True) -> None:
        self.written.append(line)


ANSWERED_US = 1_796_000_000_000_000


def _wait_until(done: Callable[[], bool], timeout: float, **_: Any) -> bool:
    """CallControl.wait_until's contract: done() or the timeout (its events are the test's)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        gevent.sleep(0.005)
    return True


def music(channel: Channel, *, answered: bool = True) -> MusicOnHold:
    caller = SimpleNamespace(answered_us=ANSWERED_US if answered else None)
    control = SimpleNamespace(
        channel=channel,
        uuid=U,
        mailbox=SimpleNamespace(caller_hangup=Flag()),
        call=SimpleNamespace(caller_gone=False, caller=caller),
        wait_until=_wait_until,
    )
    return MusicOnHold(cast(CallControl, control), "local_stream://moh")


def until(check: Callable[[], bool]) -> None:
    with gevent.Timeout(2):
        while not check():
            gevent.sleep(0.005)


def test_stopped_while_playing_the_break_is_not_waited_for_and_the_loop_ends_alone() -> None:
    channel = Channel()
    moh = music(channel)
    moh.start()
    until(lambda: len(channel.playing) == 1)
    loop = moh._greenlet
    assert loop is not None
    moh.stop()  # an agent answered: the bridge goes out right behind the break
    assert channel.written == ["playback local_stream://moh", f"uuid_break {U} all"]
    assert channel.waited_replies == 0 and not loop.ready()
    channel.end_playback()  # the break ends it
    until(loop.ready)
    assert channel.written[-1] == f"uuid_break {U} all"  # no playback after the stop


def test_restarted_after_a_quick_stop_one_loop_plays() -> None:
    """A bridge that failed (the agent hung up between answer and bridge): the music starts
    again while the stopped loop still waits for its playback's end; that loop sends nothing
    more when it comes."""
    channel = Channel()
    moh = music(channel)
    moh.start()
    until(lambda: len(channel.playing) == 1)
    old = moh._greenlet
    moh.stop()
    moh.start()
    until(lambda: len(channel.playing) == 2)
    channel.end_playback()  # the old loop's playback ends: it must not loop again
    assert old is not None
    until(old.ready)
    gevent.sleep(0.05)
    assert channel.written == [
        "playback local_stream://moh",
        f"uuid_break {U} all",
        "playback local_stream://moh",
    ]
    channel.end_playback()  # the new loop's playback ends by itself: it loops
    until(lambda: len(channel.playing) == 1)
    moh.stop()
    channel.end_playback()


def test_stopped_before_its_playback_went_out_the_break_is_waited_for() -> None:
    """The loop spawned but not yet run: nothing is FreeSWITCH's yet, so the stop takes the
    careful way (break, settle, kill) and no playback is left behind."""
    channel = Channel()
    moh = music(channel)
    moh.start()
    moh.stop()
    assert channel.waited_replies >= 1
    gevent.sleep(0.05)
    assert not channel.playing or all(p.ready() for p in channel.playing)
    assert "playback local_stream://moh" not in channel.written


def test_stopped_before_the_callers_answer_ran_the_break_is_waited_for() -> None:
    """A queued caller's answer goes out unawaited, the music right behind it: until its
    CHANNEL_ANSWER, the answer may still wait in the channel's queue, and "all" flushes it.
    No bridge written right behind such a break: it takes the careful way."""
    channel = Channel()
    moh = music(channel, answered=False)
    moh.start()
    until(lambda: len(channel.playing) == 1)
    # no CHANNEL_ANSWER within the short wait; then the break ends it
    gevent.spawn_later(BREAK_SETTLE + 0.1, channel.end_playback)
    moh.stop()
    assert channel.waited_replies >= 1
    assert channel.written[:2] == ["playback local_stream://moh", f"uuid_break {U} all"]


def test_the_callers_answer_seen_while_stopping_lets_the_break_go_unawaited() -> None:
    """Its CHANNEL_ANSWER comes during the short wait: the break goes out unawaited (nothing
    is left in the queue for "all" to flush but the music)."""
    channel = Channel()
    moh = music(channel, answered=False)
    moh.start()
    until(lambda: len(channel.playing) == 1)
    caller = moh.control.call.caller
    gevent.spawn_later(0.05, setattr, caller, "answered_us", ANSWERED_US)
    moh.stop()
    assert channel.waited_replies == 0
    assert channel.written == ["playback local_stream://moh", f"uuid_break {U} all"]
    channel.end_playback()
