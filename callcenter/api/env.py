"""What the endpoints are given: the database and the engine's read-only ports."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from callcenter.api.live import LiveState
from callcenter.api.problems import ApiProblem
from callcenter.ivr.registry import FlowInfo
from callcenter.services.agents import PauseReasons
from callcenter.store.database import Database
from callcenter.wallboard.tally import Tally


class FlowNames(Protocol):
    def names(self) -> Collection[str]: ...

    def list(self) -> Sequence[FlowInfo]: ...


@dataclass(frozen=True, slots=True)
class ApiEnv:
    database: Database
    agents_domain: str = "callcenter"
    default_route: str = "hangup:"
    default_country: str = ""  # DIDs compared in E.164, national ones read in it
    dialplans_dir: Path = Path("dialplans")
    live: LiveState | None = None  # None: no engine in this process (then no live state)
    flows: FlowNames | None = None  # the engine's live flows (its FlowRegistry)
    time_zone: str = "UTC"  # reports: the zone of a queue without its own (settings.time_zone)
    kpis: Any = None  # the engine's live KPIs (kpi.live.LiveKpis, api.kpis.KpiReader)
    tally: Tally | None = None  # the engine's wallboard tally (queue rates, agents' callers)
    dialer: Any = None  # the engine's dialer (dialer.runner.Dialer, api.dialer_live.LiveReader)
    pause_reasons: PauseReasons = field(default_factory=PauseReasons)  # settings, by code or name

    def flow_names(self) -> Collection[str] | None:
        return None if self.flows is None else self.flows.names()

    def require_live(self) -> LiveState:
        if self.live is None:
            raise ApiProblem(
                503, "engine_not_running", "no ACD in this process: live state unknown"
            )
        return self.live
