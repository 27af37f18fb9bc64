"""Answering-machine detection with what FreeSWITCH offers on the call (docs/dialer.md).

Three stock FreeSWITCH detectors run on the answered leg, one after the other:

- ``detect_audio <thresh> <audio_hits> <timeout_ms>`` (mod_dptools): returns when the
  called party starts to speak (``detect_audio_timeout=false``), or at the timeout
  (``=true``): an answer that says nothing.
- ``wait_for_silence <thresh> <silence_hits> <listen_hits> <timeout_ms>``: returns once
  they stop (``silence_hits`` quiet 20 ms frames, plus 25 frames FreeSWITCH keeps
  listening), ``wait_for_silence_timeout=false``; or at the timeout, ``=true``: still
  speaking. The two give the greeting's length. A person says "hello?" (well under two
  seconds) and waits; a machine's greeting runs on.
- mod_avmd (``avmd_start``, a media bug beside the two, where the module is loaded):
  ``CUSTOM avmd::beep`` when it hears a voicemail beep. A beep is a machine for certain,
  and the moment to leave a message. FreeSWITCH hangs up a call that executes an
  application it does not have (DESTINATION_OUT_OF_ORDER, "Invalid Application"), so
  ``avmd_loaded`` asks ``module_exists mod_avmd`` and the engine runs it only where true.

``classify`` gives the verdict, pure; ``detect`` runs the detectors through ``CallControl``.
Nothing else is used: ``detect_speech`` needs an ASR module freeswitch-conf does not load,
and there is no mod_amd in FreeSWITCH's tree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from callcenter.calls.control import CallControl, Channel
from callcenter.errors import CallGone, ESLError
from callcenter.esl.events import Event

log = logging.getLogger(__name__)

FRAME = 0.02  # seconds per frame FreeSWITCH's detectors count
COUNTDOWN_FRAMES = 25  # frames wait_for_silence listens on after the silence (switch_ivr.c)
BEEP = "avmd::beep"
SUBSCRIPTION = (BEEP,)  # CUSTOM subclasses: the engine lists them after the trunks' CUSTOM


class Verdict(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"


class Reason(StrEnum):
    SHORT_GREETING = "short_greeting"  # spoke, then paused: a person
    LONG_GREETING = "long_greeting"  # still speaking when a person would have stopped
    BEEP = "beep"  # mod_avmd heard a voicemail beep
    SILENCE = "silence"  # nothing said in the window
    NOT_RUN = "not_run"  # detection off, or the leg could not run it


@dataclass(frozen=True)
class AmdSettings:
    """``greeting_max``: a greeting longer than this (seconds) is a machine's.
    ``first_word_ms``: an answer silent this long is ``silence_is`` (human by default: an
    agent's time is cheaper than an abandoned person). ``message_silence_ms``: with no beep
    detector, the quiet after a machine's greeting (and its beep) before its message."""

    threshold: int = 200
    speech_ms: int = 100
    first_word_ms: int = 2500
    silence_ms: int = 400
    greeting_max: float = 2.0
    silence_is: Verdict = Verdict.HUMAN
    avmd: bool = True
    message_silence_ms: int = 1000

    def __post_init__(self) -> None:
        names = ("threshold", "speech_ms", "first_word_ms", "silence_ms", "greeting_max",
                 "message_silence_ms")  # fmt: skip
        for name in names:
            if getattr(self, name) <= 0:
                raise ValueError(f"amd: {name} must be positive, got {getattr(self, name)}")

    @property
    def speech_frames(self) -> int:
        return max(1, self.speech_ms // 20)

    @property
    def silence_frames(self) -> int:
        return max(1, self.silence_ms // 20)

    @property
    def settle(self) -> float:
        """Seconds from the end of a greeting to wait_for_silence's return."""
        return (self.silence_frames + COUNTDOWN_FRAMES) * FRAME

    @property
    def window_ms(self) -> int:
        """wait_for_silence's timeout: a greeting of ``greeting_max`` still ends within it."""
        return int(self.greeting_max * 1000 + self.settle * 1000 + 100)

    def detect_audio(self) -> str:
        return f"{self.threshold} {self.speech_frames} {self.first_word_ms}"

    def wait_for_silence(self) -> str:
        return f"{self.threshold} {self.silence_frames} 1 {self.window_ms}"

    def wait_for_greeting_end(self, timeout: float) -> str:
        """``wait_for_silence`` before a machine's message, with no beep detector: until
        ``message_silence_ms`` of quiet, longer than the gap from a greeting to its beep
        (the beep, loud, starts the count again), so the message starts after the beep,
        as the voicemail starts recording; at most ``timeout`` seconds."""
        frames = max(1, self.message_silence_ms // 20)
        return f"{self.threshold} {frames} 1 {int(timeout * 1000)}"


@dataclass(frozen=True)
class Heard:
    """What the detectors said, in seconds after the answer: when the first word began
    (None: nothing said), when the greeting ended (None: still speaking at the window's
    end), when the last detector returned."""

    spoke: float | None
    quiet: float | None
    seconds: float


@dataclass(frozen=True)
class Detection:
    verdict: Verdict
    reason: Reason
    seconds: float  # after the answer, when the verdict was known


def classify(settings: AmdSettings, heard: Heard | None, beep: float | None = None) -> Detection:
    """The verdict from the detectors and the beep's time (seconds after the answer; None:
    not heard)."""
    if beep is not None and (heard is None or beep <= heard.seconds):
        return Detection(Verdict.MACHINE, Reason.BEEP, beep)
    if heard is None:
        return Detection(Verdict.HUMAN, Reason.NOT_RUN, 0.0)
    if heard.spoke is None:
        return Detection(settings.silence_is, Reason.SILENCE, heard.seconds)
    if heard.quiet is None or heard.quiet - heard.spoke > settings.greeting_max:
        return Detection(Verdict.MACHINE, Reason.LONG_GREETING, heard.seconds)
    return Detection(Verdict.HUMAN, Reason.SHORT_GREETING, heard.seconds)


def spoke_at(settings: AmdSettings, returned: float) -> float:
    """detect_audio returned at ``returned``: the first word began ``speech_frames + 1``
    frames before."""
    return max(0.0, returned - (settings.speech_frames + 1) * FRAME)


def quiet_at(
    settings: AmdSettings, returned: float, timeout: bool, hits: int, began: float
) -> float | None:
    """wait_for_silence started at ``began`` and returned at ``returned``: when the greeting
    ended (None: still speaking). A greeting over before it heard a second loud frame
    (a timeout with ``hits`` <= 1) ended when it began."""
    if not timeout:
        return returned - settings.settle
    return began if hits <= 1 else None


def answered_us(control: CallControl, event: Event | None = None) -> int:
    """When the leg answered: the call saw CHANNEL_ANSWER, or (a call first seen at its
    park, as a dialer's is) the channel event's ``Caller-Channel-Answered-Time``."""
    seen = control.call.timeline.caller.answered_us or 0
    if seen or event is None:
        return seen
    stamp = event.get("Caller-Channel-Answered-Time") or ""
    return int(stamp) if stamp.isdigit() else 0


def _since(answered: int, stamp_us: int) -> float:
    return max(0.0, (stamp_us - answered) / 1_000_000) if answered and stamp_us else 0.0


def beep_seconds(control: CallControl, answered: int = 0) -> float | None:
    """When mod_avmd's beep came, in seconds after the answer (None: not yet)."""
    control.pump()
    stamp = control.call.beep_us
    return _since(answered or answered_us(control), stamp) if stamp else None


def avmd_loaded(channel: Channel) -> bool:
    """Whether the node has mod_avmd (``module_exists``: "true" or "false")."""
    try:
        return channel.api("module_exists mod_avmd", check=False).strip() == "true"
    except ESLError as exc:
        log.warning("module_exists mod_avmd not answered: %s; beep detection off", exc)
        return False


class NodeAmd:
    """The settings for a call on its node (``node``; else the one ``channel`` gives):
    avmd only where ``module_exists mod_avmd`` said true (asked once per node and
    connection; a reconnect asks again, the module may have been loaded or unloaded
    meanwhile)."""

    def __init__(
        self, channel: Callable[[], Channel | None], base: AmdSettings | None = None
    ) -> None:
        self.channel = channel
        self.base = base or AmdSettings()
        self._loaded: dict[int, tuple[int, bool]] = {}  # id(node) -> (reconnects, loaded)

    def __call__(self, node: Channel | None = None) -> AmdSettings:
        connection = node if node is not None else self.channel()
        if connection is None or not self.base.avmd:
            return replace(self.base, avmd=False)
        reconnects = int(getattr(connection, "reconnects", 0))
        asked = self._loaded.get(id(connection))
        if asked is None or asked[0] != reconnects:
            asked = self._loaded[id(connection)] = (reconnects, avmd_loaded(connection))
        return replace(self.base, avmd=asked[1])


def detect(control: CallControl, settings: AmdSettings) -> Detection:
    """Run avmd (``settings.avmd``: only where ``avmd_loaded``), detect_audio and
    wait_for_silence on the answered call; the verdict."""
    if settings.avmd:
        control.execute("avmd_start")
    first = _run(control, "detect_audio", settings.detect_audio(), settings.first_word_ms)
    answered = answered_us(control, first)
    first_at = _since(answered, first.timestamp_us)
    if first.variable("detect_audio_timeout") == "true":
        heard = Heard(None, None, first_at)
    else:
        done = _run(control, "wait_for_silence", settings.wait_for_silence(), settings.window_ms)
        hits = done.variable("wait_for_silence_listenhits") or "0"
        at = _since(answered, done.timestamp_us)
        timeout = done.variable("wait_for_silence_timeout") == "true"
        quiet = quiet_at(settings, at, timeout, int(hits) if hits.isdigit() else 0, first_at)
        heard = Heard(spoke_at(settings, first_at), quiet, at)
    found = classify(settings, heard, beep_seconds(control, answered))
    log.info("call %s: amd %s (%s) at %.2fs", control.uuid, found.verdict, found.reason,
             found.seconds)  # fmt: skip
    return found


def _run(control: CallControl, app: str, arg: str, window_ms: int) -> Event:
    done = control.execute(app, arg, timeout=window_ms / 1000 + 5.0)
    if done.variable(f"{app}_timeout") is None:  # ended by a hang-up or a transfer
        control.ensure_alive()
        raise CallGone(f"call {control.uuid}: {app} ended without a result")
    return done


def wait_for_beep(control: CallControl, timeout: float) -> bool:
    """Before leaving a message: until mod_avmd's beep (True) or ``timeout`` seconds."""
    return control.wait_until(lambda: control.call.beep_us > 0, timeout, poll=timeout)


def stop(control: CallControl, settings: AmdSettings) -> None:
    """Take mod_avmd's media bug off before the call goes to an agent or a message."""
    if settings.avmd:
        control.execute("avmd_stop")
