"""What FreeSWITCH hears from a called party: ``wait_for_silence`` and mod_avmd's beep.

``wait_for_silence <thresh> <silence_hits> <listen_hits> <timeout_ms>`` (switch_ivr.c,
``switch_ivr_wait_for_silence``) counts 20 ms frames: once more than ``listen_hits`` frames
were loud, ``silence_hits`` quiet frames in a row start a 25-frame countdown, after which it
returns with ``wait_for_silence_timeout=false``; at the timeout it returns with
``wait_for_silence_timeout=true`` and ``wait_for_silence_listenhits`` (loud frames counted).
``listen`` replays that loop frame by frame on a ``Voice``. ``detect_audio <thresh>
<audio_hits> <timeout_ms>`` (``switch_ivr_detect_audio``) returns once more than
``audio_hits`` loud frames came in a row (``detect_audio_timeout=false``), or at the timeout
(``=true``, ``detect_audio_hits``): ``hear`` replays it.

mod_avmd (``avmd_start``) hangs a media bug on the leg (MEDIA_BUG_START, function ``avmd``)
and sends ``CUSTOM avmd::start``; on a beep it sets ``avmd_detect=TRUE`` and
``avmd_total_time=[ms]`` and sends ``CUSTOM avmd::beep`` (Unique-ID, Call-command,
Beep-Status DETECTED, Frequency, Frequency-variance, Amplitude, Amplitude-variance,
Detection-time, Detector-resolution, Detector-offset, Detector-index: mod_avmd.c
``avmd_fire_event``); ``avmd_stop`` sends ``avmd::stop`` (Beep-Status, Total-time).
These events carry no channel data, so they cost a few hundred bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from callcenter.sim.behaviour import FRAME, Voice
from callcenter.sim.encoding import Pair
from callcenter.sim.session import AVMD_BUG

if TYPE_CHECKING:
    from callcenter.sim.session import Session

COUNTDOWN = 25  # frames wait_for_silence keeps listening after the silence (switch_ivr.c)
FOREVER = 3600.0  # a wait_for_silence without timeout ends by this (or by the hang-up)
AVMD_CALLING = ("mod_avmd.c", "avmd_fire_event", "1386")
DETECTION = 0.16  # seconds of beep mod_avmd needs (its detectors' streak, default settings)


@dataclass(frozen=True)
class Heard:
    """One ``wait_for_silence`` run: how long it took and what it sets."""

    seconds: float
    timeout: bool
    listen_hits: int
    silence_left: int


def listen(
    voice: Voice | None,
    start: float,
    silence_hits: int,
    listen_hits: int,
    timeout_ms: int,
) -> Heard:
    """Replay switch_ivr_wait_for_silence from ``start`` seconds after the answer."""
    frames = timeout_ms // 20 if timeout_ms > 0 else int(FOREVER / FRAME)
    hits_needed = max(1, silence_hits)
    listening = 0
    hits = hits_needed
    countdown = 0
    for i in range(frames):
        if i + 1 >= frames:  # the sample count reaches 0 on the last frame
            return Heard((i + 1) * FRAME, timeout_ms > 0, listening, hits)
        if countdown:
            countdown -= 1
            if not countdown:
                return Heard((i + 1) * FRAME, False, listening, hits)
            continue
        loud = voice is not None and voice.speaking(start + i * FRAME)
        if loud:
            listening += 1
        if listening > listen_hits and not loud:
            hits -= 1
            if not hits:
                countdown = COUNTDOWN
        else:
            hits = hits_needed
    return Heard(frames * FRAME, timeout_ms > 0, listening, hits)


def hear(voice: Voice | None, start: float, audio_hits: int, timeout_ms: int) -> Heard:
    """Replay switch_ivr_detect_audio from ``start`` seconds after the answer."""
    frames = timeout_ms // 20 if timeout_ms > 0 else int(FOREVER / FRAME)
    hits = 0
    for i in range(frames):
        if i + 1 >= frames:
            return Heard((i + 1) * FRAME, timeout_ms > 0, hits, 0)
        hits = hits + 1 if voice is not None and voice.speaking(start + i * FRAME) else 0
        if hits > audio_hits:
            return Heard((i + 1) * FRAME, False, hits, 0)
    return Heard(frames * FRAME, timeout_ms > 0, hits, 0)


def since_answer(session: Session) -> float:
    answered = session.chan.profile.times.get("Channel-Answered-Time", 0)
    if not answered:
        return 0.0
    return max(0.0, (session.core.clock.now_us() - answered) / 1_000_000)


def voice_of(session: Session) -> Voice | None:
    return session.agent.voice if session.agent is not None else None


def avmd_event(session: Session, subclass: str, pairs: tuple[Pair, ...]) -> None:
    if session.destroyed.is_set():
        return
    head = (("Unique-ID", session.uuid), ("Call-command", "avmd"))
    event = session.core.factory.custom(subclass, (*head, *pairs), AVMD_CALLING)
    event.unique_id = session.uuid
    session.core.hub.emit(event)


@dataclass
class AvmdRun:
    started_us: int
    detected: bool = False


def avmd_start(session: Session) -> None:
    if session.avmd is not None:  # mod_avmd: "avmd already started", nothing else
        return
    core = session.core
    now = core.clock.now_us()
    session.avmd = AvmdRun(now)
    session.emit("MEDIA_BUG_START", lead=AVMD_BUG)
    avmd_event(session, "avmd::start", (("Start-time", str(now)),))
    voice = voice_of(session)
    beep = voice.beep_at if voice is not None else None
    if beep is not None:
        wait = beep + DETECTION - since_answer(session)
        core.spawn(_beep, session, session.avmd, max(0.0, wait), voice, name="avmd")


def _beep(session: Session, run: AvmdRun, wait: float, voice: Voice) -> None:
    if session.wait(wait) or session.avmd is not run:
        return
    core = session.core
    now = core.clock.now_us()
    run.detected = True
    session.chan.set_vars(
        {"avmd_total_time": f"[{(now - run.started_us) // 1000}]", "avmd_detect": "TRUE"}
    )
    jitter = core.rng.uniform(-3.0, 3.0)
    avmd_event(
        session,
        "avmd::beep",
        (
            ("Beep-Status", "DETECTED"),
            ("Frequency", f"{voice.beep_hz + jitter:f}"),
            ("Frequency-variance", f"{core.rng.uniform(0.0, 0.0002):f}"),
            ("Amplitude", f"{core.rng.uniform(800.0, 4000.0):f}"),
            ("Amplitude-variance", f"{core.rng.uniform(0.0, 0.01):f}"),
            ("Detection-time", str(int(DETECTION * 1_000_000))),
            ("Detector-resolution", "8"),
            ("Detector-offset", str(core.rng.randrange(0, 8))),
            ("Detector-index", str(core.rng.randrange(0, 36))),
        ),
    )


def avmd_stop(session: Session) -> None:
    run = session.avmd
    if run is None:
        return
    session.avmd = None
    total = session.core.clock.now_us() - run.started_us
    status = "DETECTED" if run.detected else "NOTDETECTED"
    avmd_event(session, "avmd::stop", (("Beep-Status", status), ("Total-time", str(total))))
    session.emit("MEDIA_BUG_STOP", lead=AVMD_BUG)
