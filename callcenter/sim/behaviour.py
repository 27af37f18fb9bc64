"""How the simulated people behave: callers on inbound legs, agents' phones, called parties.

All durations are simulated seconds (scaled by the simulator's ``time_scale``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

FRAME = 0.02  # one 20 ms audio frame, the unit FreeSWITCH's silence detectors count in


@dataclass(frozen=True)
class CallerBehaviour:
    """A caller on an inbound leg.

    digits: one entry per digit collection (play_and_get_digits / read), sent after the
        prompt ends; ``""`` means "press nothing" (the collection times out).
    patience: hang up (ORIGINATOR_CANCEL semantics, cause NORMAL_CLEARING) this long after
        the call arrived unless bridged by then; None waits forever.
    talk_time: hang up this long after being bridged; None stays until the other side ends.
    hangup_at_app: hang up ``hangup_at_app_delay`` s into the first run of this application.
    """

    digits: tuple[str, ...] = ()
    first_digit_delay: float = 0.5
    digit_gap: float = 0.2
    patience: float | None = None
    talk_time: float | None = None
    hangup_at_app: str | None = None
    hangup_at_app_delay: float = 0.0
    sip_from_display: str | None = None


@dataclass(frozen=True)
class AgentBehaviour:
    """A phone reached by ``originate user/<ext>`` (or any other dial string).

    busy: reject with 486 (USER_BUSY). no_answer: ring until originate_timeout (NO_ANSWER).
    registered=False: ``user/<ext>`` fails with SUBSCRIBER_ABSENT and no channel events.
    talk_time: the phone hangs up this long after being bridged (None: never by itself).
    machine: the far end is an answering machine (its ``voice`` says what it sends).
    fail_cause: the network refuses the call with this cause (USER_BUSY semantics otherwise).
    voice: what an answered called party sends (outbound calls; None: silence).
    early_media: the network's 183 with SDP (ringback, an announcement) this many seconds
    into the ring, before any answer (None: a plain 180). FreeSWITCH's originate returns on
    it, unanswered, unless its ``ignore_early_media`` is set (``switch_ivr_originate.c``).
    """

    answer_delay: float = 1.0
    talk_time: float | None = None
    busy: bool = False
    no_answer: bool = False
    registered: bool = True
    machine: bool = False
    fail_cause: str | None = None
    voice: Voice | None = None
    early_media: float | None = None
    extra_variables: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Voice:
    """The audio an answered called party sends, in seconds from the answer.

    A person: ``silence`` before the first word, then ``speech`` ("hello?": under a second
    and a pause; a talker's "Good morning, Jane speaking..." runs on), then waits; with no
    one there by ``patience`` after the greeting (not bridged), hangs up. A machine:
    ``silence``, a greeting of ``speech`` seconds, then ``beep_gap`` seconds to its beep
    (None: a machine that never beeps), then records until ``record_limit`` and hangs up.
    """

    machine: bool = False
    silence: float = 0.3
    speech: float = 0.8
    beep_gap: float | None = None
    beep_hz: float = 1000.0
    patience: float | None = 4.0
    record_limit: float = 60.0

    @property
    def greeting_end(self) -> float:
        return self.silence + self.speech

    @property
    def beep_at(self) -> float | None:
        if not self.machine or self.beep_gap is None:
            return None
        return self.greeting_end + self.beep_gap

    def speaking(self, t: float) -> bool:
        """Energy above any sane silence threshold at ``t`` seconds after the answer (the
        beep's 200 ms are loud too)."""
        if self.silence <= t < self.greeting_end:
            return True
        beep = self.beep_at
        return beep is not None and beep <= t < beep + 0.2


def human(silence: float = 0.3, speech: float = 0.8, patience: float | None = 4.0) -> Voice:
    return Voice(machine=False, silence=silence, speech=speech, patience=patience)


def machine(
    speech: float = 8.0,
    beep_gap: float | None = 0.6,
    silence: float = 0.5,
    record_limit: float = 60,
) -> Voice:
    return Voice(
        machine=True,
        silence=silence,
        speech=speech,
        beep_gap=beep_gap,
        patience=None,
        record_limit=record_limit,
    )
