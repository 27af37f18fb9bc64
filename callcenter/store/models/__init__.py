"""Every table, imported in one place so ``Base.metadata`` is complete."""

from callcenter.store.models.acd import (
    AcdCounter,
    Agent,
    AgentSkill,
    AgentStatusChange,
    Queue,
    QueueEntry,
    QueueMember,
    QueueSkill,
)
from callcenter.store.models.calls import (
    Call,
    CallLeg,
    Cdr,
    CdrLeg,
    Recording,
    SupervisionSession,
)
from callcenter.store.models.changes import EngineChange
from callcenter.store.models.config import AuditEntry, IvrFlowVersion, OutboundRoute, Route
from callcenter.store.models.dialer import (
    Campaign,
    CampaignDay,
    CampaignDisposition,
    DialerAuditEntry,
    DncNumber,
    Lead,
    LeadAttempt,
    LeadImport,
)
from callcenter.store.models.events import DeadLetter, EventRow, Webhook
from callcenter.store.models.kpi import KpiAgentDay, KpiRolledDay
from callcenter.store.models.tokens import ApiToken
from callcenter.store.models.trunks import Trunk, TrunkGroup, TrunkState

__all__ = [
    "AcdCounter",
    "Agent",
    "AgentSkill",
    "AgentStatusChange",
    "ApiToken",
    "AuditEntry",
    "Call",
    "CallLeg",
    "Campaign",
    "CampaignDay",
    "CampaignDisposition",
    "Cdr",
    "CdrLeg",
    "DeadLetter",
    "DialerAuditEntry",
    "DncNumber",
    "EngineChange",
    "EventRow",
    "IvrFlowVersion",
    "KpiAgentDay",
    "KpiRolledDay",
    "Lead",
    "LeadAttempt",
    "LeadImport",
    "OutboundRoute",
    "Queue",
    "QueueEntry",
    "QueueMember",
    "QueueSkill",
    "Recording",
    "Route",
    "SupervisionSession",
    "Trunk",
    "TrunkGroup",
    "TrunkState",
    "Webhook",
]
