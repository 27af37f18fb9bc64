"""A call's recording as its actor keeps it: the file, who is on it, the PCI pauses. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from callcenter.recording.policy import Policy


class Action(StrEnum):
    START = "start"  # on-demand: the agent or an API call starts it
    STOP = "stop"
    PAUSE = "pause"  # PCI: a card number is being said; silence in the file
    RESUME = "resume"


@dataclass(frozen=True, slots=True)
class RecordingCommand:
    """Posted to a call's mailbox by the engine (an operator, the agent's phone). Not an
    intent: it never interrupts what the call is doing; the actor applies it at its next look
    at the mailbox."""

    action: Action
    by: str


@dataclass
class ActiveRecording:
    """One file of the call, from ``uuid_record start`` to its stop."""

    path: str
    started_us: int
    stereo: bool
    queue: str | None = None
    agent: str | None = None
    paused_since_us: int | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)  # paused, us since the epoch
    stopped: bool = False

    @property
    def paused(self) -> bool:
        return self.paused_since_us is not None

    def pause(self, at_us: int) -> bool:
        if self.paused or self.stopped:
            return False
        self.paused_since_us = at_us
        return True

    def resume(self, at_us: int) -> bool:
        if self.paused_since_us is None:
            return False
        self.spans.append((self.paused_since_us, max(at_us, self.paused_since_us)))
        self.paused_since_us = None
        return True

    def close(self, at_us: int) -> None:
        """Stopped (or the call ended): a pause still open ends here."""
        self.resume(at_us)
        self.stopped = True

    def spans_ms(self) -> list[list[int]]:
        """The paused spans in ms from the start of the file, as stored."""
        out = []
        for since, until in self.spans:
            out.append(
                [max(0, since - self.started_us) // 1000, max(0, until - self.started_us) // 1000]
            )
        return out


@dataclass
class CallRecordings:
    """Every file of one call; the last one is the one commands act on."""

    files: list[ActiveRecording] = field(default_factory=list)
    on_demand: bool = False  # its policy lets the agent or the API start it
    context: tuple[str | None, str | None] = (None, None)  # (queue, agent) when bridged
    flow: str | None = None  # the IVR flow whose policy it has
    flow_policy: Policy | None = None  # the IVR flow's override
    pci: bool = False  # an IVR node collects a card number: a file started now starts masked
    agent_keys: str = ""  # the agent's last keys during the call (*27 pause, *28 resume)

    @property
    def current(self) -> ActiveRecording | None:
        last = self.files[-1] if self.files else None
        return last if last is not None and not last.stopped else None

    def by_path(self, path: str) -> ActiveRecording | None:
        return next((f for f in self.files if f.path == path), None)
