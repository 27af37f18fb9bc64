"""A queued caller's music: ``playback`` of the queue's source, looped by a helper greenlet.

The playback runs inside the caller's park; ``uuid_break <uuid> all`` stops it and anything
queued behind it. Stopped while its playback is with FreeSWITCH (the usual case: an agent
answered), the break goes out unawaited and the loop ends by itself when the playback reports
its end: what follows (the bridge) is written right behind the break, with no wait for its
reply nor for the loop. Every ``announce_every`` seconds the music is broken for the queue's
announcement and the caller's position (``say``), then resumes; the caller's actor goes on
ringing agents meanwhile, and stops all of it before a bridge. A source that fails at once
(a missing file, no mod_local_stream) is retried with backoff, then replaced by comfort
noise, so a bad setting never turns into a stream of commands.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

import gevent

from callcenter.calls.control import CallControl, say_argument
from callcenter.errors import CallGone, ESLError
from callcenter.esl import commands

log = logging.getLogger(__name__)

QUICK_PLAYBACK = 1.0  # a music playback ending sooner than this failed
MUSIC_FALLBACK_AFTER = 3
MUSIC_FALLBACK = "silence_stream://-1,1400"  # comfort noise, forever
BREAK_SETTLE = 0.3  # seconds a broken playback gets to report its end


class MusicOnHold:
    """The queue's music, looped on the caller's channel by a helper greenlet."""

    def __init__(
        self,
        control: CallControl,
        source: str,
        *,
        announce_every: float = 0.0,
        announcement: str | None = None,
        position_prompt: str | None = None,
        position: Callable[[], int] | None = None,
        language: str = "en",
        place: Callable[[], list[tuple[str, str]]] | None = None,
    ) -> None:
        self.control = control
        self.source = source
        self.announce_every = announce_every
        self.announcement = announcement  # played every announce_every seconds
        self.position_prompt = position_prompt  # then this and the caller's position
        self.position = position
        self.language = language
        self.place = place  # says place and wait (acd.waiting), instead of position_prompt
        self.stopped = False
        self.announced = 0
        self._due = False
        self._next_at = time.monotonic() + announce_every  # kept across short music files
        self._greenlet: gevent.Greenlet[None] | None = None
        self._run: object = None  # this start's token: a loop left running by stop() ends
        self._written: object = None  # the token of a loop whose playback is written

    def start(self) -> None:
        self.stopped = self._due = False
        if self._greenlet is None or self._greenlet.ready():
            self._run = run = object()
            self._greenlet = gevent.spawn(self._loop, run)

    def _loop(self, run: object) -> None:
        channel, uuid = self.control.channel, self.control.uuid
        source, quick = self.source, 0

        def written() -> None:
            self._written = run

        while not self._over(run):
            timer = self._announce_timer(run)
            started = time.monotonic()
            try:
                channel.execute(uuid, "playback", source, 24 * 3600.0, sent=written)
            except (ESLError, CallGone) as exc:
                log.debug("call %s: music on hold interrupted: %s", uuid, exc)
                if self._over(run):
                    return
                gevent.sleep(1.0)  # FreeSWITCH away: the actor deals with it; then make
                break_media(self.control)  # sure the old playback is not still running
                continue
            finally:
                if self._written is run:
                    self._written = None
                if timer is not None:
                    timer.kill(block=False)
            if self._over(run):
                return  # stopped (a bridge, the queue left): not a failed playback
            if self._due:
                self._announce(run)
                continue
            if time.monotonic() - started >= QUICK_PLAYBACK:
                quick = 0
                continue
            # a playback that ends at once (missing file, no mod_local_stream) would
            # otherwise be re-sent in a tight loop: back off, then fall back to silence
            quick += 1
            if quick == MUSIC_FALLBACK_AFTER and source != MUSIC_FALLBACK:
                log.warning("call %s: music on hold %r keeps failing; silence", uuid, source)
                source, quick = MUSIC_FALLBACK, 0
            gevent.sleep(min(30.0, 0.5 * 2**quick))

    # -- announcements --------------------------------------------------------------------

    def _announce_timer(self, run: object) -> gevent.Greenlet[None] | None:
        spoken = self.announcement or self.position_prompt or self.place
        if self.announce_every <= 0 or not spoken:
            return None
        left = self._next_at - time.monotonic()
        if left <= 0:
            self._due = True  # the last file ended just as one was due
            left = 0.0
        return gevent.spawn_later(left, self._interrupt_for_announcement, run)

    def _interrupt_for_announcement(self, run: object) -> None:
        if not self._over(run):
            self._due = True
            break_media(self.control)

    def _announce(self, run: object) -> None:
        """The periodic announcement, then "you are number N", between two stretches of music."""
        self._due = False
        self._next_at = time.monotonic() + self.announce_every
        channel, uuid = self.control.channel, self.control.uuid
        steps: list[tuple[str, Callable[[], str]]] = []
        if self.announcement:
            steps.append(("playback", lambda: self.announcement or ""))
        if self.place is not None:
            steps += [(app, functools.partial(str, arg)) for app, arg in self.place()]
        elif self.position_prompt and self.position is not None:
            position = self.position
            steps += [
                ("playback", lambda: self.position_prompt or ""),
                ("say", lambda: say_argument(str(position()), lang=self.language)),  # now
            ]
        for app, arg in steps:
            if self._over(run):
                return
            try:
                channel.execute(uuid, app, arg(), 120.0)
            except (ESLError, CallGone) as exc:
                log.debug("call %s: announcement cut short: %s", uuid, exc)
                return
        self.announced += 1

    def _over(self, run: object) -> bool:
        return self.stopped or run is not self._run or self.control.mailbox.caller_hangup.is_set()

    def stop(self, *, interrupt: bool = True) -> None:
        """Stop the music; ``interrupt=False`` once bridged (uuid_bridge ended the playback)."""
        if self._greenlet is None:
            return
        self.stopped = True
        if not interrupt:
            self._greenlet.kill(block=False)
        elif self._written is self._run and not self._greenlet.ready() and self._answered():
            # its playback is FreeSWITCH's and, stopped, it sends nothing more: the break
            # goes out unawaited, what the caller does next right behind it, and the loop
            # ends by itself when the playback reports its end
            break_media(self.control, wait=False)
        elif not self._greenlet.ready():
            if not self.control.call.caller_gone:
                break_media(self.control)
            # a playback still queued (not started) is flushed by uuid_break and never
            # completes: give a running one a moment to report, then let the greenlet go
            self._greenlet.join(timeout=BREAK_SETTLE)
            if not self._greenlet.ready():
                self._greenlet.kill(block=True, timeout=BREAK_SETTLE)
                # its playback may have gone out right behind the break (it was waiting to
                # write): break again, or it holds up whatever the caller runs next
                if not self.control.call.caller_gone:
                    break_media(self.control)
        self._greenlet = None

    def _answered(self) -> bool:
        """The caller up and its answer seen (CHANNEL_ANSWER), waited for a moment if need
        be: the answer went out unawaited, may still wait in the channel's queue, and the
        break's "all" would flush it with the music (an agent answers long after, so the
        wait is for a switch slow to run it; not seen, the break takes the careful way)."""
        call = self.control.call
        if call.caller.answered_us is None and not call.caller_gone:
            self.control.wait_until(
                lambda: call.caller.answered_us is not None or call.caller_gone,
                BREAK_SETTLE,
                poll=BREAK_SETTLE,
                interruptible=False,
            )
        return call.caller.answered_us is not None and not call.caller_gone


def break_media(control: CallControl, *, wait: bool = True) -> None:
    """``uuid_break <uuid> all``: the playback now and any queued behind it; never raises.
    ``wait=False``: its reply is not waited for (it comes back with the next command's)."""
    uuid, line = control.uuid, commands.uuid_break(control.uuid)
    try:
        if wait:
            control.channel.api(line, check=False)
        else:
            # its refusal (the caller gone) is an answer, as with check=False above
            control.channel.api_sent(
                line, lambda why: log.debug("call %s: uuid_break: %s", uuid, why), check=False
            )
    except ESLError as exc:
        log.debug("call %s: uuid_break not sent: %s", uuid, exc)
