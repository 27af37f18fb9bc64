"""One repository per aggregate. Each takes a session from ``Database.session_scope()``."""

from callcenter.store.repos.agents import AgentRepository, hash_pin, verify_pin
from callcenter.store.repos.audit import AuditLog
from callcenter.store.repos.calls import CallRepository
from callcenter.store.repos.cdrs import CdrRepository
from callcenter.store.repos.flows import IvrFlowRepository
from callcenter.store.repos.outbound_routes import OutboundRouteRepository
from callcenter.store.repos.queues import QueueRepository
from callcenter.store.repos.recordings import RecordingRepository
from callcenter.store.repos.routes import RouteRepository
from callcenter.store.repos.trunks import TrunkGroupRepository, TrunkRepository

__all__ = [
    "AgentRepository",
    "AuditLog",
    "CallRepository",
    "CdrRepository",
    "IvrFlowRepository",
    "OutboundRouteRepository",
    "QueueRepository",
    "RecordingRepository",
    "RouteRepository",
    "TrunkGroupRepository",
    "TrunkRepository",
    "hash_pin",
    "verify_pin",
]
