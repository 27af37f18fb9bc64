"""Whether a call is recorded: the queue's policy, overridden per agent and per IVR flow. Pure.

A policy is written ``always``, ``never``, ``sample:N`` (N percent of calls, decided from the
call's UUID so that a replay decides the same) or ``on-demand`` (nothing until the agent or an
API call starts it). The most specific one set wins: the IVR flow's, then the agent's, then
the queue's (a campaign's own, when set, in its queue's place: ``dialer.runner.recording_of``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from callcenter.errors import ConfigError
from callcenter.vocabulary import RecordingPolicy


class Mode(StrEnum):
    ALWAYS = "always"
    NEVER = "never"
    SAMPLE = "sample"
    ON_DEMAND = "on-demand"


@dataclass(frozen=True, slots=True)
class Policy:
    mode: Mode
    percent: int = 100  # sample: the share of calls recorded

    def __str__(self) -> str:
        return f"sample:{self.percent}" if self.mode is Mode.SAMPLE else str(self.mode)

    def records(self, call_uuid: str) -> bool:
        """Recorded from the start (on-demand: not until asked)."""
        if self.mode is Mode.ALWAYS:
            return True
        if self.mode is Mode.SAMPLE:
            return sampled(call_uuid, self.percent)
        return False

    @property
    def stored(self) -> tuple[RecordingPolicy, int]:
        """The queue's columns (``recording_policy``, ``recording_sample_percent``)."""
        column = {
            Mode.ALWAYS: RecordingPolicy.ALL,
            Mode.NEVER: RecordingPolicy.NONE,
            Mode.SAMPLE: RecordingPolicy.SAMPLED,
            Mode.ON_DEMAND: RecordingPolicy.ON_DEMAND,
        }[self.mode]
        return column, self.percent if self.mode is Mode.SAMPLE else 100


NEVER = Policy(Mode.NEVER)
ALWAYS = Policy(Mode.ALWAYS)
ON_DEMAND = Policy(Mode.ON_DEMAND)


def parse(text: str, where: str = "recording") -> Policy:
    """``always|never|sample:N|on-demand`` (``on_demand`` accepted too)."""
    value = text.strip().lower()
    if value.startswith("sample:"):
        digits = value.removeprefix("sample:")
        if not digits.isdigit() or not 0 <= int(digits) <= 100:
            raise ConfigError(f"{where}: sample:N needs N a whole percent 0-100, got {text!r}")
        return Policy(Mode.SAMPLE, int(digits))
    value = value.replace("_", "-")
    try:
        return Policy(Mode(value))
    except ValueError:
        raise ConfigError(
            f"{where}: expected always, never, sample:N or on-demand, got {text!r}"
        ) from None


def of_queue(policy: RecordingPolicy, percent: int) -> Policy:
    """The queue's stored columns as a policy."""
    return {
        RecordingPolicy.ALL: ALWAYS,
        RecordingPolicy.NONE: NEVER,
        RecordingPolicy.ON_DEMAND: ON_DEMAND,
        RecordingPolicy.SAMPLED: Policy(Mode.SAMPLE, percent),
    }[policy]


def sampled(call_uuid: str, percent: int) -> bool:
    """Deterministic: the same call UUID always gives the same answer, and over many calls
    ``percent`` of them are in (the first 8 bytes of SHA-256 of the UUID, mod 100)."""
    if percent <= 0:
        return False
    if percent >= 100:
        return True
    digest = hashlib.sha256(call_uuid.lower().encode("ascii", "replace")).digest()
    return int.from_bytes(digest[:8], "big") % 100 < percent


def effective(queue: Policy, agent: Policy | None = None, flow: Policy | None = None) -> Policy:
    """The most specific policy set: the flow's, else the agent's, else the queue's."""
    return flow or agent or queue
