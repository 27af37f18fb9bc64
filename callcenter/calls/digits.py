"""What collecting DTMF digits on a call gave: a value type with no I/O, so that IVR
validation and simulation (``callcenter ivr validate|simulate``) need not import the live
call stack."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Digits:
    value: str | None
    result: str  # success | timeout | failure
    terminator: str | None = None
