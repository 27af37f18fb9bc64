"""``/agents``: CRUD, skills, login/logout/pause/ready, and each agent's live state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from callcenter.api.env import ApiEnv
from callcenter.api.live import AgentLive
from callcenter.api.pages import Page, PageQuery, paginate
from callcenter.api.queues import RECORDING_POLICY, FailurePolicy
from callcenter.api.routing import Ask, Body, Operation
from callcenter.services import agents, calls, checks
from callcenter.store.models.tokens import TokenScope
from callcenter.store.records import AgentRecord
from callcenter.vocabulary import AgentState, AgentStatus

READ, OPERATE, ADMIN = TokenScope.READ, TokenScope.OPERATE, TokenScope.ADMIN
TAG = "agents"


class LiveAgent(BaseModel):
    """The engine's view now (the ACD's board), fresher than the stored state."""

    state: AgentState
    state_seconds: float = Field(
        description="Seconds in this state (idle, offering, in_call or wrap_up), as the ACD "
        "counts them since its last change of the agent's state."
    )
    ready_in_seconds: float = Field(description="Resting or in wrap-up: offered again in.")
    calls_answered: int
    talk_seconds: float
    offered_call: str | None = Field(description="The call ringing this agent now, if any.")
    current_call: str | None = Field(
        None, description="The queue call it is offered or talking with, if any."
    )
    caller: str | None = Field(None, description="That call's caller ID number.")


class Agent(BaseModel):
    extension: str
    name: str
    status: AgentStatus
    state: AgentState
    status_since: datetime
    pause_reason: str | None
    wrapup_seconds: int
    skills: dict[str, int]
    has_pin: bool
    on_demand: bool = Field(False, description="Paused again after each queue call (*26).")
    auto_answer: bool = False
    whisper: str | None = None
    caller_id: str | None = Field(None, description="Number its external calls show.")
    recording: str | None = Field(None, description="Overrides its queues' recording policy.")
    failure_policy: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of the queues' failure policy."
    )
    role: str = Field("agent", description="agent, or supervisor (may listen to calls).")
    has_sip_account: bool | None = None
    live: LiveAgent | None = Field(None, description="Null when the engine does not know it.")


class Membership(BaseModel):
    queue: str
    tier: int
    position: int


class StatusChange(BaseModel):
    at: datetime
    status: AgentStatus
    state: AgentState
    reason: str | None


class AgentDetail(Agent):
    queues: list[Membership]
    history: list[StatusChange] = Field(description="Last status changes, newest first.")


class AgentCreate(Body):
    extension: str = Field(max_length=64, examples=["1001"])
    name: str = Field("", max_length=checks.AGENT_NAME_MAX)
    sip_password: str | None = Field(
        None, max_length=256, description="Omitted: one is generated and answered once."
    )
    pin: str | None = Field(None, max_length=32)
    wrapup_seconds: int = Field(10, description="0-3600")
    skills: dict[str, int] = Field(default_factory=dict)


class AgentCreated(BaseModel):
    agent: Agent
    sip_password: str | None = Field(description="The generated SIP password, shown once.")


class AgentUpdate(Body):
    name: str | None = Field(None, max_length=checks.AGENT_NAME_MAX)
    pin: str | None = Field(None, max_length=32)
    wrapup_seconds: int | None = None
    auto_answer: bool | None = Field(
        None, description="Offers carry Call-Info: answer-after=0 (the phone answers itself)."
    )
    whisper: str | None = Field(
        None,
        max_length=512,
        description="Heard by the agent before a queue caller: 'queue' (its name, spoken), "
        "an absolute file path or a scheme:// prompt; '' for nothing.",
    )
    caller_id: str | None = Field(
        None, max_length=32, description="Number its external calls show; '' : the route's."
    )
    role: Literal["agent", "supervisor"] | None = Field(
        None, description="supervisor: may listen to, whisper to and barge into calls."
    )
    recording: str | None = Field(
        None, pattern=f"^$|{RECORDING_POLICY[1:]}", examples=["always"],
        description="Overrides its queues' recording policy; '' : theirs again.",
    )  # fmt: skip


class SipPassword(Body):
    sip_password: str = Field(max_length=256)


class SkillLevel(Body):
    level: int = Field(description="0-100")


class Pause(Body):
    reason: str | None = Field(None, max_length=checks.PAUSE_REASON_MAX, examples=["lunch"])


def agent_out(
    record: AgentRecord,
    live: AgentLive | None,
    sip: bool | None = None,
    callers: Mapping[str, str] | None = None,
) -> Agent:
    return Agent(
        extension=record.extension,
        name=record.display_name,
        status=record.status,
        state=live.state if live is not None else record.state,
        status_since=record.status_changed_at,
        pause_reason=record.pause_reason,
        wrapup_seconds=record.wrapup_seconds,
        skills=dict(record.skills),
        has_pin=record.has_pin,
        on_demand=record.on_demand,
        auto_answer=record.auto_answer,
        whisper=record.whisper,
        caller_id=record.outbound_caller_id,
        recording=record.recording_policy,
        failure_policy=dict(record.routing),
        role=record.role,
        has_sip_account=sip,
        live=_live(live, callers or {}),
    )


def _live(live: AgentLive | None, callers: Mapping[str, str]) -> LiveAgent | None:
    if live is None:
        return None
    return LiveAgent(
        state=live.state,
        state_seconds=live.state_seconds,
        ready_in_seconds=live.ready_in_seconds,
        calls_answered=live.calls_answered,
        talk_seconds=live.talk_seconds,
        offered_call=live.offered_call,
        current_call=live.current_call,
        caller=callers.get(live.current_call) if live.current_call else None,
    )


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def live_of(extension: str) -> AgentLive | None:
        return env.live.agents().get(extension) if env.live is not None else None

    def callers(live: Iterable[AgentLive | None]) -> dict[str, str]:
        if not any(a is not None and a.current_call for a in live):
            return {}
        return {c.uuid: c.from_number for c in calls.list_live(db)}

    def one(record: AgentRecord) -> Agent:
        live = live_of(record.extension)
        return agent_out(record, live, callers=callers([live]))

    def list_agents(ask: Ask) -> Page[Agent]:
        entries = agents.list_agents(db)
        board = env.live.agents() if env.live is not None else {}
        page, more = paginate(entries, lambda e: [e.agent.extension], ask.query)
        numbers = callers(board.get(e.agent.extension) for e in page)
        items = [
            agent_out(e.agent, board.get(e.agent.extension), e.has_sip_account, numbers)
            for e in page
        ]
        return Page[Agent](items=items, next=more)

    def create_agent(ask: Ask) -> AgentCreated:
        body: AgentCreate = ask.body
        added = agents.add(
            db,
            ask.who,
            body.extension,
            domain=env.agents_domain,
            name=body.name,
            sip_password=body.sip_password,
            pin=body.pin,
            wrapup_seconds=body.wrapup_seconds,
            skills=body.skills,
        )
        return AgentCreated(agent=one(added.agent), sip_password=added.sip_password)

    def show_agent(ask: Ask) -> AgentDetail:
        detail = agents.show(db, ask.path["extension"])
        base = one(detail.agent)
        return AgentDetail(
            **base.model_dump(),
            queues=[
                Membership(queue=m.queue, tier=m.tier, position=m.position) for m in detail.queues
            ],
            history=[
                StatusChange(at=h.at, status=h.status, state=h.state, reason=h.reason)
                for h in detail.history
            ],
        )

    def update_agent(ask: Ask) -> Agent:
        body: AgentUpdate = ask.body
        return one(
            agents.update(
                db,
                ask.who,
                ask.path["extension"],
                name=body.name,
                pin=body.pin,
                wrapup_seconds=body.wrapup_seconds,
                auto_answer=body.auto_answer,
                whisper=body.whisper,
                caller_id=body.caller_id,
                role=body.role,
                recording=body.recording,
            )
        )

    def delete_agent(ask: Ask) -> None:
        agents.remove(db, ask.who, ask.path["extension"])

    def set_sip_password(ask: Ask) -> Agent:
        body: SipPassword = ask.body
        return one(
            agents.set_password(
                db, ask.who, ask.path["extension"], body.sip_password, domain=env.agents_domain
            )
        )

    def set_agent_skill(ask: Ask) -> Agent:
        body: SkillLevel = ask.body
        extension, skill = ask.path["extension"], ask.path["skill"]
        return one(agents.set_skill(db, ask.who, extension, skill, body.level))

    def set_failure_policy(ask: Ask) -> Agent:
        body: FailurePolicy = ask.body
        policy = body.model_dump(exclude_unset=True)
        return one(agents.set_failure_policy(db, ask.who, ask.path["extension"], policy))

    def remove_agent_skill(ask: Ask) -> Agent:
        return one(agents.remove_skill(db, ask.who, ask.path["extension"], ask.path["skill"]))

    def login_agent(ask: Ask) -> Agent:
        return one(agents.login(db, ask.who, ask.path["extension"]))

    def logout_agent(ask: Ask) -> Agent:
        return one(agents.logout(db, ask.who, ask.path["extension"]))

    def pause_agent(ask: Ask) -> Agent:
        body: Pause = ask.body
        reasons = env.pause_reasons
        return one(agents.pause(db, ask.who, ask.path["extension"], body.reason, reasons=reasons))

    def ready_agent(ask: Ask) -> Agent:
        return one(agents.ready(db, ask.who, ask.path["extension"]))

    item = "/agents/{extension}"
    return [
        Operation("GET", "/agents", READ, list_agents, "List agents with their live state", TAG,
                  Page[Agent], query=PageQuery, errors=(400, 422)),
        Operation("POST", "/agents", ADMIN, create_agent, "Create an agent and its SIP account",
                  TAG, AgentCreated, body=AgentCreate, status=201, errors=(400, 409, 422)),
        Operation("GET", item, READ, show_agent, "An agent, its queues and status history",
                  TAG, AgentDetail, errors=(404, 422)),
        Operation("PATCH", item, ADMIN, update_agent, "Change an agent's name, PIN or wrap-up",
                  TAG, Agent, body=AgentUpdate),
        Operation("DELETE", item, ADMIN, delete_agent, "Delete an agent", TAG,
                  errors=(404, 409, 422)),
        Operation("PUT", item + "/sip-password", ADMIN, set_sip_password,
                  "Set the SIP password of the agent's phone", TAG, Agent, body=SipPassword),
        Operation("PUT", item + "/skills/{skill}", ADMIN, set_agent_skill,
                  "Give the agent a skill at a level", TAG, Agent, body=SkillLevel),
        Operation("PATCH", item + "/failure-policy", ADMIN, set_failure_policy,
                  "Override the queues' failure policy for this agent (null: the queue's)",
                  TAG, Agent, body=FailurePolicy),
        Operation("DELETE", item + "/skills/{skill}", ADMIN, remove_agent_skill,
                  "Take a skill from the agent", TAG, Agent, errors=(404, 409, 422)),
        Operation("POST", item + "/login", OPERATE, login_agent, "Log the agent in (available)",
                  TAG, Agent, errors=(404, 409, 422)),
        Operation("POST", item + "/logout", OPERATE, logout_agent,
                  "Log the agent out (a call in progress goes on)", TAG, Agent,
                  errors=(404, 409, 422)),
        Operation("POST", item + "/pause", OPERATE, pause_agent, "Pause the agent, with a reason",
                  TAG, Agent, body=Pause),
        Operation("POST", item + "/ready", OPERATE, ready_agent, "End the agent's pause", TAG,
                  Agent, errors=(404, 409, 422)),
    ]  # fmt: skip
