"""What a running campaign uses cannot be removed from under it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from callcenter.errors import DomainError
from callcenter.store.repos.campaigns import CampaignRepository


def not_dialling(
    session: Session, what: str, does: str, remedy: str, code: str, why: str = "", **used: str
) -> None:
    """Refuse to remove ``what`` while a running campaign uses it (``used``: how, as
    ``CampaignRepository.running_with`` takes it): left running without it, the campaign
    would dial no one, or fail every call, silently."""
    dialling = CampaignRepository(session).running_with(**used)
    if dialling:
        raise DomainError(
            f"{what} {does} running campaign(s) {', '.join(dialling)}{why}: "
            f"{remedy} or stop them first",
            code=code,
        )
