"""Eavesdrop modes: what a supervisor asks for, the channel variables that start it, and the
keys that switch it. Pure.

FreeSWITCH's ``eavesdrop <agent leg>`` (mod_dptools) starts listening; with
``eavesdrop_enable_dtmf=true`` the supervisor's keys switch the mode: ``2`` speaks to the
eavesdropped leg (the agent: whisper), ``1`` to the other half (the caller), ``3`` to both
(barge, a three-way) and ``0`` back to listening. A mode change emits no event (s15): the
only trace is the supervisor's DTMF, so the modes are read from those digits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Mode(StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"  # the agent hears the supervisor, the caller does not
    BARGE = "barge"  # both hear the supervisor
    CALLER = "caller"  # only the caller hears the supervisor (key 1)


REQUESTABLE = (Mode.LISTEN, Mode.WHISPER, Mode.BARGE)
KEYS: Mapping[str, Mode] = {"0": Mode.LISTEN, "1": Mode.CALLER, "2": Mode.WHISPER, "3": Mode.BARGE}


def variables(mode: Mode) -> dict[str, str]:
    """The originate variables that start ``eavesdrop`` in ``mode`` (the eavesdropped leg is
    eavesdrop's "a leg", its partner, the caller, the "b leg")."""
    whisper = {
        Mode.LISTEN: ("false", "false"),
        Mode.WHISPER: ("true", "false"),
        Mode.BARGE: ("true", "true"),
        Mode.CALLER: ("false", "true"),
    }[mode]
    return {
        "eavesdrop_enable_dtmf": "true",
        "eavesdrop_whisper_aleg": whisper[0],
        "eavesdrop_whisper_bleg": whisper[1],
    }


@dataclass
class Trail:
    """The modes a session went through, as the supervisor's keys switched them."""

    modes: list[Mode] = field(default_factory=list)

    @classmethod
    def starting(cls, mode: Mode) -> Trail:
        return cls([mode])

    @property
    def current(self) -> Mode:
        return self.modes[-1]

    def press(self, digit: str) -> Mode | None:
        """The mode a key switches to (None: not a mode key, or the mode already on)."""
        mode = KEYS.get(digit)
        if mode is None or mode is self.current:
            return None
        self.modes.append(mode)
        return mode

    def pressed(self, digits: Iterable[str]) -> Trail:
        for digit in digits:
            self.press(digit)
        return self

    def text(self) -> str:
        return ",".join(self.modes)
