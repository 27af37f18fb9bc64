"""What dialling through trunks needs, in one place the outbound routes table carries."""

from __future__ import annotations

from dataclasses import dataclass, field

from callcenter.esl.events import Event
from callcenter.trunks.limiter import TrunkLimiter
from callcenter.trunks.metrics import TrunkMetrics
from callcenter.trunks.spec import StaticTrunks, TrunkDirectory


@dataclass(slots=True)
class Trunking:
    """What dialling through trunks needs: the trunks (helper ``trunks`` provides a live
    directory), the country numbers are read in, the limiter, the metrics."""

    directory: TrunkDirectory = field(default_factory=StaticTrunks)
    default_country: str | None = None
    limiter: TrunkLimiter | None = None
    metrics: TrunkMetrics | None = None

    def leg_ended(self, event: Event) -> None:
        """A CHANNEL_HANGUP_COMPLETE (from the ESL reader: never blocks): a trunk's leg
        frees its channel and counts its answered seconds."""
        trunk = event.get("variable_cc_trunk") or ""
        if not trunk:
            return
        if self.limiter is not None:
            self.limiter.release(trunk, event.unique_id or "")
        if self.metrics is not None:
            billsec = event.get("variable_billsec") or "0"
            self.metrics.call_ended(trunk, float(billsec) if billsec.isdigit() else 0.0)
