"""``/agents/{extension}/disposition``: the API twin of ``*30N`` (docs/dialer.md): the
disposition with this key for the agent's last campaign call (within 15 minutes)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from callcenter.api.env import ApiEnv
from callcenter.api.routing import Ask, Body, Operation
from callcenter.dialer import dispositions
from callcenter.store.models.tokens import TokenScope

TAG = "agents"


class Disposition(Body):
    key: int = Field(ge=0, le=99, description="The campaign's disposition key (*30N's N).")


class Disposed(BaseModel):
    campaign: str
    lead_id: int
    code: str
    state: str = Field(description="The lead's state after: pending (a retry, a callback), done.")


def operations(env: ApiEnv) -> list[Operation]:
    def dispose(ask: Ask) -> Disposed:
        body: Disposition = ask.body
        done = dispositions.by_agent(
            env.database, ask.who, ask.path["extension"], body.key, datetime.now(UTC)
        )
        return Disposed(
            campaign=done.campaign, lead_id=done.lead_id, code=done.code, state=str(done.state)
        )

    return [
        Operation("POST", "/agents/{extension}/disposition", TokenScope.OPERATE, dispose,
                  "The agent's disposition of their last campaign call (as *30N)", TAG,
                  Disposed, body=Disposition, errors=(400, 404, 422)),
    ]  # fmt: skip
