"""How the simulated people behave: callers on inbound legs, agents' phones, called parties.

All durations are simulated seconds (scaled by the simulator's ``time_scale``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    machine: the far end is an answering machine (variable ``cc_sim_machine=true`` on answer).
    """

    answer_delay: float = 1.0
    talk_time: float | None = None
    busy: bool = False
    no_answer: bool = False
    registered: bool = True
    machine: bool = False
    fail_cause: str | None = None
    extra_variables: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
