"""``/queues``: CRUD, members, required skills, and the callers waiting now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from callcenter.api.env import ApiEnv
from callcenter.api.pages import Page, PageQuery, paginate
from callcenter.api.routing import Ask, Body, Operation
from callcenter.kpi.formulas import SL_FORMULAS, SlFormula
from callcenter.services import calls, checks, queues
from callcenter.services.queues import QueueSettings
from callcenter.store.models.tokens import TokenScope
from callcenter.store.records import QueueRecord
from callcenter.vocabulary import (
    AgentState,
    AgentStatus,
    QueueOutcome,
    QueueStrategy,
    RecordingPolicy,
)

READ, ADMIN = TokenScope.READ, TokenScope.ADMIN
TAG = "queues"
QUEUE_DELETE = (
    "Refused (409 `queue_in_use`) while a running campaign takes its calls, or a DID route "
    "or another queue's overflow or exit key sends calls to it: the refusal names them. IVR "
    "flows are files, not stored: a flow naming the queue is reported by the next flow reload."
)
MEMBER_PUT = (
    "PUT semantics: the agent becomes a member with this tier and position, or a member "
    "already gets them (200 either way; the same values again change nothing). The running "
    "engines' ACD offers by the new tiers at once."
)


class FailurePolicy(Body):
    """An agent's rest after a failed offer, and when it is paused; null: the default (a
    queue's) or, on an agent, the queue's."""

    no_answer_delay: int | None = Field(None, description="0-3600 seconds (default 10)")
    busy_delay: int | None = Field(None, description="0-3600 seconds (default 30)")
    reject_delay: int | None = Field(None, description="0-3600 seconds (default 30)")
    unregistered_delay: int | None = Field(None, description="0-3600 seconds (default 30)")
    max_no_answer: int | None = Field(None, description="0 (never) to 100 (default 3)")
    pause_reason: str | None = Field(
        None, max_length=checks.PAUSE_REASON_MAX, examples=["no_answer"]
    )


class Routing(FailurePolicy):
    """A queue's routing rules (docs/routing.md); a field left out is kept, null resets it."""

    relax: str | None = Field(
        None, max_length=2000, examples=["after 30s: english >= 50; after 90s: any english"]
    )
    tier_wait_seconds: int | None = Field(None, description="0 (every tier at once) to 86400")
    tier_wait_multiply: bool | None = None
    tier_no_agent_no_wait: bool | None = None
    max_wait_no_agent_seconds: int | None = Field(None, description="0 (never) to 86400")
    no_agent_grace_seconds: int | None = Field(None, description="0-86400")
    join_empty: str | None = Field(None, examples=["paused,unavailable"])
    leave_empty: str | None = Field(None, examples=["unavailable"])
    ring_progressively_delay: int | None = Field(None, description="1-600 seconds")
    exit_key: str | None = Field(None, description="0-9, * or #", examples=["0"])
    exit_target: str | None = Field(None, max_length=255, examples=["ivr:main"])
    callback_key: str | None = Field(None, description="0-9, * or #: offers a callback")
    callback_attempts: int | None = Field(None, description="1-10 (default 3)")
    callback_retry_seconds: int | None = Field(None, description="0-86400 (default 120)")
    callback_min_digits: int | None = Field(None, description="3-20 (default 7)")
    callback_max_digits: int | None = Field(None, description="3-20 (default 15)")
    callback_ring_seconds: int | None = Field(None, description="5-300 (default 30)")
    callback_whisper: str | None = Field(None, max_length=255, examples=["custom/callback.wav"])
    callback_wrapup: bool | None = Field(None, description="Wrap-up after a customer not reached")
    callback_prompt: str | None = Field(None, max_length=255, examples=["say:we call you at"])
    callback_choice_prompt: str | None = Field(None, max_length=255)
    callback_enter_prompt: str | None = Field(None, max_length=255)
    callback_done_prompt: str | None = Field(None, max_length=255)


class Member(BaseModel):
    extension: str
    tier: int
    position: int


class Queue(BaseModel):
    name: str
    strategy: QueueStrategy
    max_wait_seconds: int
    max_callers: int
    agent_ring_seconds: int
    service_level_seconds: int
    music_on_hold: str
    announcements: dict[str, Any]
    announce_position_seconds: int
    overflow_target: str | None
    recording_policy: RecordingPolicy
    recording_sample_percent: int
    callback_enabled: bool
    number: str | None = Field(None, description="*8<number> from an agent's phone.")
    rejoin_window_seconds: int
    recording_keep_days: int | None = Field(None, description="Its recordings' files kept.")
    recording_announcement: str | None = Field(None, description="Played before recording.")
    sl_formula: SlFormula = Field(SlFormula.OFFERED, description="docs/kpis.md")
    short_abandon_seconds: int = 5
    time_zone: str | None = Field(None, description="Reports' zone; null: the engine's.")
    members: list[Member]
    required_skills: dict[str, int]
    routing: dict[str, Any] = Field(
        default_factory=dict, description="The routing rules set (the others: defaults)."
    )
    waiting: int | None = Field(None, description="Callers waiting now (null: engine unknown).")


class MemberState(Member):
    status: AgentStatus
    state: AgentState


class QueueDetail(Queue):
    member_states: list[MemberState]


RECORDING_POLICY = "^(always|never|on-demand|on_demand|sample:([0-9]|[1-9][0-9]|100))$"


class Settings(Body):
    """Queue settings; left out: the default (create) or kept (update)."""

    strategy: QueueStrategy | None = None
    max_wait_seconds: int | None = Field(None, description="0 (no limit) to 86400")
    max_callers: int | None = Field(None, description="0 (no limit) to 100000")
    agent_ring_seconds: int | None = Field(None, description="1-600")
    service_level_seconds: int | None = Field(None, description="0-86400")
    music_on_hold: str | None = Field(None, max_length=1024)
    announce_position_seconds: int | None = Field(None, description="0 (never) to 3600")
    announcement: str | None = Field(None, max_length=1024)
    position_prompt: str | None = Field(None, max_length=1024)
    overflow_target: str | None = Field(None, max_length=1024, examples=["queue:support"])
    number: str | None = Field(
        None, max_length=16, examples=["5"],
        description='Agents transfer a caller here with *8<number>; "" removes it.',
    )  # fmt: skip
    routing: Routing | None = None
    wait_prompt: str | None = Field(
        None, max_length=1024, description='"your expected wait is about" (+ "2 minutes")'
    )
    wait_less_prompt: str | None = Field(None, max_length=1024, description='"... less than"')
    wait_more_prompt: str | None = Field(None, max_length=1024, description='"... more than"')
    rejoin_window_seconds: int | None = Field(
        None,
        description="0 (off) to 86400: a caller who hung up and calls again within it "
        "gets its place back",
    )
    recording: str | None = Field(
        None, pattern=RECORDING_POLICY, examples=["sample:20"],
        description="always, never, sample:N or on-demand (docs/recording.md).",
    )  # fmt: skip
    recording_keep_days: int | None = Field(
        None, description="0 (keep) to 36500: its recordings' files are deleted after it."
    )
    recording_announcement: str | None = Field(
        None, max_length=1024, description='Played before its recording starts; "" removes it.'
    )
    sl_formula: SlFormula | None = Field(None, description="; ".join(SL_FORMULAS.values()))
    short_abandon_seconds: int | None = Field(None, description="0 (none) to 3600")
    time_zone: str | None = Field(
        None, max_length=64, examples=["Europe/Paris"], description='IANA zone; "": the engine\'s'
    )


class QueueCreate(Settings):
    name: str = Field(max_length=64, examples=["sales"])


class QueueUpdate(Settings):
    clear_overflow: bool = Field(False, description="Remove the overflow target.")


class MemberIn(Body):
    tier: int = Field(1, description="1-99: lower tiers are offered calls first")
    position: int = Field(1, description="1-9999: order within the tier")


class MemberPatch(Body):
    tier: int | None = Field(None, description="1-99; absent: kept")
    position: int | None = Field(None, description="1-9999; absent: kept")


class MinLevel(Body):
    min_level: int = Field(1, description="0-100")


class Caller(BaseModel):
    call_uuid: str
    position: int = Field(description="1: the next caller to be offered an agent.")
    waited_seconds: float
    priority: int
    offered_to: list[str] = Field(description="Agents whose phones ring for this caller now.")
    expected_wait_seconds: float | None = Field(
        None, description="Estimated wait from now (docs/queues.md); null: cannot be told."
    )
    skills: dict[str, int] = Field(default_factory=dict, description="What it needs: skill: level.")
    caller: str | None = Field(None, description="The caller ID number.")


class Entry(BaseModel):
    call_uuid: str
    priority: int
    joined_at: datetime
    offered_at: datetime | None
    offers: int
    answered_at: datetime | None
    agent_extension: str | None
    left_at: datetime | None
    outcome: QueueOutcome | None
    reason: str | None
    callback_number: str | None = Field(None, description="A callback: the number dialled")
    callback_attempts: int = Field(0, description="Times the customer was dialled")
    callback_result: str | None = Field(
        None, description="The last attempt: answered, no_answer, busy or failed"
    )


class EntriesQuery(BaseModel):
    limit: int = Field(20, ge=1, le=10_000, description="How many stays, newest first.")


class Entries(BaseModel):
    items: list[Entry]


class Callers(BaseModel):
    queue: str
    callers: list[Caller]


def _settings(body: Settings, **extra: Any) -> QueueSettings:
    values = body.model_dump(exclude={"name", "clear_overflow", "routing"})
    if values["strategy"] is not None:
        values["strategy"] = str(values["strategy"])
    routing = body.routing.model_dump(exclude_unset=True) if body.routing is not None else None
    return QueueSettings(**values, **extra, routing=routing or None)


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def waiting(name: str) -> int | None:
        return len(env.live.callers(name)) if env.live is not None else None

    def out(record: QueueRecord) -> Queue:
        return Queue(
            **{k: v for k, v in queues.settings_of(record).items() if k in Queue.model_fields},
            members=[
                Member(extension=m.extension, tier=m.tier, position=m.position)
                for m in record.members
            ],
            required_skills=dict(record.required_skills),
            waiting=waiting(record.name),
        )

    def list_queues(ask: Ask) -> Page[Queue]:
        page, more = paginate(queues.list_queues(db), lambda q: [q.name], ask.query)
        return Page[Queue](items=[out(q) for q in page], next=more)

    def create_queue(ask: Ask) -> Queue:
        body: QueueCreate = ask.body
        return out(queues.add(db, ask.who, body.name, _settings(body), flows=env.flow_names()))

    def show_queue(ask: Ask) -> QueueDetail:
        detail = queues.show(db, ask.path["name"], entries=0)
        states = [
            MemberState(extension=m.extension, tier=m.tier, position=m.position,
                        status=m.status, state=m.state)
            for m in detail.members
        ]  # fmt: skip
        return QueueDetail(**out(detail.queue).model_dump(), member_states=states)

    def update_queue(ask: Ask) -> Queue:
        body: QueueUpdate = ask.body
        settings = _settings(body, clear_overflow=body.clear_overflow)
        return out(queues.update(db, ask.who, ask.path["name"], settings, flows=env.flow_names()))

    def delete_queue(ask: Ask) -> None:
        queues.remove(db, ask.who, ask.path["name"])

    def put_member(ask: Ask) -> Queue:
        body: MemberIn = ask.body
        name, extension = ask.path["name"], ask.path["extension"]
        done = queues.set_member(
            db, ask.who, name, extension, tier=body.tier, position=body.position
        )
        return out(done.queue)

    def patch_member(ask: Ask) -> Queue:
        body: MemberPatch = ask.body
        name, extension = ask.path["name"], ask.path["extension"]
        done = queues.set_member(db, ask.who, name, extension, tier=body.tier,
                                 position=body.position, create=False)  # fmt: skip
        return out(done.queue)

    def delete_member(ask: Ask) -> Queue:
        return out(queues.remove_member(db, ask.who, ask.path["name"], ask.path["extension"]))

    def put_skill(ask: Ask) -> Queue:
        body: MinLevel = ask.body
        name, skill = ask.path["name"], ask.path["skill"]
        return out(queues.require_skill(db, ask.who, name, skill, body.min_level))

    def delete_skill(ask: Ask) -> Queue:
        return out(queues.drop_skill(db, ask.who, ask.path["name"], ask.path["skill"]))

    def queue_callers(ask: Ask) -> Callers:
        record = queues.get(db, ask.path["name"])  # queue_not_found
        live = env.require_live().callers(record.name)
        numbers = {c.uuid: c.from_number for c in calls.list_live(db)} if live else {}
        return Callers(
            queue=record.name,
            callers=[
                Caller(call_uuid=c.call_uuid, position=c.position, waited_seconds=c.waited_seconds,
                       priority=c.priority, offered_to=list(c.offered_to),
                       expected_wait_seconds=c.expected_wait_seconds, skills=dict(c.skills),
                       caller=numbers.get(c.call_uuid))
                for c in live
            ],
        )  # fmt: skip

    def queue_entries(ask: Ask) -> Entries:
        query: EntriesQuery = ask.query
        stays = queues.entries(db, ask.path["name"], query.limit)
        fields = Entry.model_fields
        return Entries(items=[Entry(**{k: getattr(e, k) for k in fields}) for e in stays])

    item = "/queues/{name}"
    return [
        Operation("GET", "/queues", READ, list_queues, "List queues with their callers waiting",
                  TAG, Page[Queue], query=PageQuery, errors=(400, 422)),
        Operation("POST", "/queues", ADMIN, create_queue, "Create a queue", TAG, Queue,
                  body=QueueCreate, status=201, errors=(400, 409, 422)),
        Operation("GET", item, READ, show_queue, "A queue and its members' status and state",
                  TAG, QueueDetail, errors=(404, 422)),
        Operation("PATCH", item, ADMIN, update_queue, "Change a queue's settings", TAG, Queue,
                  body=QueueUpdate),
        Operation("DELETE", item, ADMIN, delete_queue, "Delete a queue", TAG,
                  errors=(404, 409, 422), description=QUEUE_DELETE),
        Operation("PUT", item + "/members/{extension}", ADMIN, put_member,
                  "Make an agent a member, or set its tier and position", TAG, Queue,
                  body=MemberIn, description=MEMBER_PUT),
        Operation("PATCH", item + "/members/{extension}", ADMIN, patch_member,
                  "Change a member's tier or position (not a member: 404)", TAG, Queue,
                  body=MemberPatch, errors=(404, 409, 422)),
        Operation("DELETE", item + "/members/{extension}", ADMIN, delete_member,
                  "Take an agent out of the queue", TAG, Queue, errors=(404, 409, 422)),
        Operation("PUT", item + "/skills/{skill}", ADMIN, put_skill,
                  "Require a skill at a minimum level", TAG, Queue, body=MinLevel),
        Operation("DELETE", item + "/skills/{skill}", ADMIN, delete_skill,
                  "Stop requiring a skill", TAG, Queue, errors=(404, 409, 422)),
        Operation("GET", item + "/callers", READ, queue_callers,
                  "The callers waiting now, in the order they will be served", TAG, Callers,
                  errors=(404, 422, 503)),
        Operation("GET", item + "/entries", READ, queue_entries,
                  "The last callers' stays in the queue, newest first", TAG, Entries,
                  query=EntriesQuery, errors=(404, 422)),
    ]  # fmt: skip
