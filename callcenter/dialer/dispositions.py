"""What an agent says of their last campaign call: ``*30N`` from the phone (``phone.on_call``)
or ``POST /agents/{extension}/disposition`` (``api.dispositions``). The agent's last
attempt (``lead_attempts.agent``: a call still up, or one whose CDR says it ended within
``WINDOW``) names the lead and the campaign;
the key names the campaign's disposition;
``store.record_disposition`` reopens, schedules or closes the lead (retries, callbacks, DNC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from callcenter.dialer import store
from callcenter.dialer.vocabulary import LeadState
from callcenter.errors import DomainError, NotFound
from callcenter.services import campaigns, checks
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.models import Campaign, Cdr, LeadAttempt

WINDOW = timedelta(minutes=15)  # a disposition this long after the call ended is for no call
# an attempt is stored as the agent is bridged; without its CDR yet the call is still up (or
# just ended, its CDR on its way): a key is for it unless it started longer ago than this
STILL_UP = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Disposed:
    campaign: str
    lead_id: int
    code: str
    state: LeadState


def by_agent(database: Database, who: Actor, extension: str, key: int, at: datetime) -> Disposed:
    """Agent ``extension`` gives disposition ``key`` to their last campaign call: the lead
    and the code found here, then ``services.campaigns.dispose`` (one path with the API's
    per-lead twin: its checks, its audit entry ``campaign.dispose`` naming ``who``)."""
    checks.extension(extension)
    with database.session_scope() as session:
        last = session.execute(
            select(LeadAttempt.lead_id, Campaign.name, LeadAttempt.at, Cdr.ended_at)
            .join(Campaign, Campaign.id == LeadAttempt.campaign_id)
            .outerjoin(Cdr, Cdr.call_uuid == LeadAttempt.call_uuid)
            .where(LeadAttempt.agent == extension)
            .order_by(LeadAttempt.at.desc(), LeadAttempt.id.desc())
            .limit(1)
        ).first()
        if last is None or (
            at - last[3] > WINDOW if last[3] is not None else at - last[2] > STILL_UP
        ):
            raise NotFound(
                f"agent {extension} has no campaign call up or ended in the last "
                f"{int(WINDOW.total_seconds() // 60)} minutes",
                code="no_recent_campaign_call",
            )
        lead_id, campaign = int(last[0]), str(last[1])
        code = store.disposition_by_key(session, campaign, key).code
    state = campaigns.dispose(database, who, campaign, lead_id, code).state
    return Disposed(campaign, lead_id, code, state)


def check_key(text: str | None) -> int:
    if text is None or not text.isdigit() or not 0 <= int(text) <= 99:
        raise DomainError(f"a disposition key is 0-99, got {text!r}", code="bad_disposition_key")
    return int(text)
