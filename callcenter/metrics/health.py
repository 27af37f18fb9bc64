"""What ``/healthz`` answers: the engine's parts as facts in, one report out (pure).

``status`` is ``ok`` only when nothing below is wrong; otherwise ``degraded`` (HTTP 503)
with one line per reason in ``reasons``:

- the database is unreachable, or an ESL node is not connected;
- an IVR flow file is rejected (its calls fail, or run an older version), or the last
  reload failed outright;
- the routes cannot be loaded, a stored route is left out, or a route names an IVR flow
  the engine does not run;
- the spool is growing: records pile up on disk instead of reaching the database;
- a registering trunk is not registered (REGED) on a connected FreeSWITCH node;
- the dialer paused a campaign for a configuration fault (no outbound route takes its
  numbers, no usable trunk) until it is started again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class SpoolGrowth:
    """Whether the spool file grew since the last look (a health check, a scrape)."""

    last: int = 0

    def observe(self, size: int) -> bool:
        grew = size > self.last
        self.last = size
        return grew


@dataclass(frozen=True, slots=True)
class Facts:
    database_reachable: bool
    database: Mapping[str, Any]
    esl: Mapping[str, Mapping[str, Any]]
    flows_live: int = 0
    flows_rejected: Mapping[str, Sequence[str]] = field(default_factory=dict)
    flows_failure: str = ""
    route_problems: Sequence[str] = ()
    spool_bytes: int = 0
    spool_growing: bool = False
    trunk_problems: Sequence[str] = ()  # a registering trunk not registered
    campaign_problems: Sequence[str] = ()  # a campaign paused: no route, no usable trunk


def assess(facts: Facts) -> dict[str, Any]:
    reasons: list[str] = []
    if not facts.database_reachable:
        reasons.append("database unreachable")
    reasons += [f"ESL node {name} not connected" for name, node in facts.esl.items()
                if not node.get("connected")]  # fmt: skip
    if facts.flows_failure:
        reasons.append(facts.flows_failure)
    for file, errors in sorted(facts.flows_rejected.items()):
        shown = file or "dialplans_dir"
        reasons.append(f"IVR flow file rejected: {shown} ({len(errors)} error(s))")
    reasons += list(facts.route_problems)
    reasons += list(facts.trunk_problems)
    reasons += list(facts.campaign_problems)
    if facts.spool_growing:
        reasons.append(f"spool growing ({facts.spool_bytes} bytes waiting for the database)")
    return {
        "status": "degraded" if reasons else "ok",
        "reasons": reasons,
        "database": dict(facts.database),
        "esl": {name: dict(node) for name, node in facts.esl.items()},
        "ivr": {
            "flows": facts.flows_live,
            "rejected": {file: list(errors[:3]) for file, errors in facts.flows_rejected.items()},
        },
        "routes": {"problems": list(facts.route_problems)},
        "trunks": {"problems": list(facts.trunk_problems)},
        "spool": {"bytes": facts.spool_bytes, "growing": facts.spool_growing},
    }
