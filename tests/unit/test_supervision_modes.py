"""Eavesdrop modes: the variables that start each, the keys that switch them (mod_dptools)."""

from __future__ import annotations

import pytest

from callcenter.supervision.modes import Mode, Trail, variables


@pytest.mark.parametrize(
    ("mode", "aleg", "bleg"),
    [
        (Mode.LISTEN, "false", "false"),
        (Mode.WHISPER, "true", "false"),  # the eavesdropped leg: the agent
        (Mode.BARGE, "true", "true"),
        (Mode.CALLER, "false", "true"),
    ],
)
def test_each_mode_starts_with_its_whisper_variables(mode: Mode, aleg: str, bleg: str) -> None:
    assert variables(mode) == {
        "eavesdrop_enable_dtmf": "true",
        "eavesdrop_whisper_aleg": aleg,
        "eavesdrop_whisper_bleg": bleg,
    }


@pytest.mark.parametrize(
    ("start", "digits", "modes"),
    [
        (Mode.LISTEN, "", "listen"),
        (Mode.LISTEN, "2", "listen,whisper"),
        (Mode.LISTEN, "2130", "listen,whisper,caller,barge,listen"),
        (Mode.WHISPER, "22", "whisper"),  # the mode already on: nothing changes
        (Mode.BARGE, "5#*0", "barge,listen"),  # not mode keys (* next channel: not used)
    ],
)
def test_the_supervisors_keys_make_the_trail(start: Mode, digits: str, modes: str) -> None:
    trail = Trail.starting(start).pressed(digits)
    assert trail.text() == modes
    assert trail.current is Mode(modes.split(",")[-1])
