"""ACD queues: their settings, members (agents by tier) and the skills they require.

Each change reaches every running engine as a ``queue`` change keyed by the queue's name.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from callcenter.acd import rules
from callcenter.errors import ConfigError, DomainError
from callcenter.kpi.formulas import SlFormula
from callcenter.recording import policy as recording_policy
from callcenter.services import checks, in_use
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited
from callcenter.store.database import Database
from callcenter.store.models import Queue
from callcenter.store.records import (
    AgentRecord,
    QueueEntryRecord,
    QueueMemberRecord,
    QueueRecord,
)
from callcenter.store.repos import AgentRepository, CallRepository, QueueRepository
from callcenter.trunks import targets
from callcenter.vocabulary import STRATEGY_ALIASES, AgentState, AgentStatus, QueueStrategy

QUEUE = ChangeKind.QUEUE
# setting -> (lowest, highest)
RANGES = {
    "max_wait_seconds": (0, 86_400),
    "max_callers": (0, 100_000),
    "agent_ring_seconds": (1, 600),
    "service_level_seconds": (0, 86_400),
    "announce_position_seconds": (0, 3600),
    "rejoin_window_seconds": (0, 86_400),
    "short_abandon_seconds": (0, 3600),
}


def _column_defaults() -> dict[str, Any]:
    """What ``add`` stores for a setting not given: the model's column defaults."""
    table = Queue.__table__
    return {c.name: getattr(c.default, "arg", None) for c in table.columns if c.default is not None}


DEFAULTS = _column_defaults()
TIER_MAX = 99
QUEUE_NUMBER_DIGITS = 8
POSITION_MAX = 9999


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """Settings to store; None: the default (``add``) or the value kept (``update``)."""

    strategy: str | None = None
    max_wait_seconds: int | None = None
    max_callers: int | None = None
    agent_ring_seconds: int | None = None
    service_level_seconds: int | None = None
    music_on_hold: str | None = None
    announce_position_seconds: int | None = None
    announcement: str | None = None  # played every announce_position_seconds
    position_prompt: str | None = None  # played before the caller's position
    overflow_target: str | None = None  # a route target: queue:X, ivr:X, extension:X, ...
    clear_overflow: bool = False  # update: remove the overflow target
    number: str | None = None  # *8<number> from an agent's phone transfers here ("": none)
    # routing rules to set (``acd.rules.QUEUE_KEYS``: relax, tier_wait_seconds, ...);
    # a key given None goes back to its default
    routing: Mapping[str, Any] | None = None
    # while waiting (docs/queues.md): the estimated wait said after the position, and the
    # place kept for a caller who hangs up and calls again within rejoin_window_seconds
    wait_prompt: str | None = None  # "your expected wait is about" (+ "2 minutes")
    wait_less_prompt: str | None = None  # "... less than" (+ "1 minute")
    wait_more_prompt: str | None = None  # "... more than" (+ "10 minutes")
    rejoin_window_seconds: int | None = None
    # recording (docs/recording.md): always|never|sample:N|on-demand; the days its files are
    # kept (0: for ever); what callers hear before it starts ("": nothing)
    recording: str | None = None
    recording_keep_days: int | None = None
    recording_announcement: str | None = None
    # KPIs (docs/kpis.md): the service-level definition, the short-abandon threshold, and
    # the time zone of the queue's reports ("": back to the engine's)
    sl_formula: str | None = None
    short_abandon_seconds: int | None = None
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class MemberState:
    extension: str
    tier: int
    position: int
    status: AgentStatus
    state: AgentState
    status_since: datetime | None = None
    call: str | None = None  # the live call its phone is on
    caller: str | None = None  # that call's caller ID number


@dataclass(frozen=True, slots=True)
class WaitingCaller:
    position: int  # 1: served next (by priority, then arrival)
    call_uuid: str
    caller: str | None
    priority: int
    joined_at: datetime
    offers: int


@dataclass(frozen=True, slots=True)
class QueueDetail:
    queue: QueueRecord
    members: tuple[MemberState, ...]
    entries: tuple[QueueEntryRecord, ...]  # newest first
    waiting: tuple[WaitingCaller, ...] = ()


def _member(
    m: QueueMemberRecord,
    agent: AgentRecord,
    on_call: Mapping[str, str],
    callers: Mapping[str, str],
) -> MemberState:
    call = on_call.get(m.extension)
    return MemberState(
        m.extension, m.tier, m.position, agent.status, agent.state, agent.status_changed_at,
        call, callers.get(call) if call else None,
    )  # fmt: skip


def _columns(name: str, given: QueueSettings) -> dict[str, Any]:
    """The repository's columns for the settings given, each checked."""
    out: dict[str, Any] = {}
    if given.strategy is not None:
        out["strategy"] = strategy_of(given.strategy)
    for column, (low, high) in RANGES.items():
        value = getattr(given, column)
        if value is not None:
            out[column] = checks.in_range(value, low, high, column)
    if given.music_on_hold is not None:
        out["music_on_hold"] = checks.playback(given.music_on_hold, "music_on_hold")
    spoken = {
        "periodic": given.announcement and checks.playback(given.announcement, "announcement"),
        "position": given.position_prompt
        and checks.playback(given.position_prompt, "position_prompt"),
        **_wait_prompts(given),
    }
    if any(spoken.values()):
        out["announcements"] = {k: v for k, v in spoken.items() if v}
    if given.overflow_target is not None:
        if given.clear_overflow:
            raise DomainError(
                "give an overflow target or clear it, not both", code="invalid_argument"
            )
        try:
            target = str(targets.check_target(given.overflow_target))
        except targets.InvalidRoute as exc:
            raise checks.InvalidArgument("overflow_target", exc.reason) from exc
        if target == f"queue:{name}":
            raise checks.InvalidArgument("overflow_target", "a queue cannot overflow to itself")
        out["overflow_target"] = target
    elif given.clear_overflow:
        out["overflow_target"] = None
    out.update(_recording_columns(given))
    out.update(_kpi_columns(given))
    if given.number is not None:
        number = given.number
        if number and not (number.isascii() and number.isdigit()):
            raise checks.InvalidArgument("number", f"{checks.shown(number)}: digits expected")
        if len(number) > QUEUE_NUMBER_DIGITS:
            raise checks.InvalidArgument("number", f"at most {QUEUE_NUMBER_DIGITS} digits")
        out["number"] = number or None
    return out


def _recording_columns(given: QueueSettings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if given.recording is not None:
        try:
            chosen = recording_policy.parse(given.recording, "recording")
        except ConfigError as exc:
            raise checks.InvalidArgument("recording", str(exc).removeprefix("recording: ")) from exc
        out["recording_policy"], out["recording_sample_percent"] = chosen.stored
    if given.recording_keep_days is not None:
        days = checks.in_range(given.recording_keep_days, 0, 36_500, "recording_keep_days")
        out["recording_keep_days"] = days or None
    if given.recording_announcement is not None:
        text = given.recording_announcement
        out["recording_announcement"] = (
            checks.playback(text, "recording_announcement") if text else None
        )
    return out


def _kpi_columns(given: QueueSettings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if given.sl_formula is not None:
        try:
            out["sl_formula"] = str(SlFormula(given.sl_formula))
        except ValueError:
            choices = ", ".join(SlFormula)
            raise checks.InvalidArgument(
                "sl_formula", f"{checks.shown(given.sl_formula)}: one of {choices}"
            ) from None
    if given.time_zone is not None:
        out["time_zone"] = zone_name(given.time_zone) if given.time_zone else None
    return out


def zone_name(name: str) -> str:
    """An IANA time zone name (Europe/Paris), checked against the zone database."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise checks.InvalidArgument(
            "time_zone", f"{checks.shown(name)}: not an IANA time zone (e.g. Europe/Paris)"
        ) from None
    return name


def strategy_of(text: str) -> QueueStrategy:
    """A strategy by its name here, or mod_callcenter's or app_queue's (``round-robin``)."""
    found = STRATEGY_ALIASES.get(text) if isinstance(text, str) else None
    if found is not None:
        return found
    try:
        return QueueStrategy(text)
    except ValueError:
        known = ", ".join(s.value for s in QueueStrategy)
        raise checks.InvalidArgument(
            "strategy", f"{checks.shown(str(text))}: expected one of {known}"
        ) from None


def routing_of(stored: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The stored routing rules with ``given`` applied (None: back to the default), checked
    as a whole; a bad key or value raises ``InvalidArgument`` naming it."""
    merged = {**stored, **given}
    merged = {k: v for k, v in merged.items() if v is not None}
    try:
        rules.Routing.parse(merged)
        out = rules.normalized(merged)
    except rules.RuleError as exc:
        raise checks.InvalidArgument(exc.key, exc.reason) from exc
    if "exit_target" in out:
        try:
            out["exit_target"] = str(targets.check_target(out["exit_target"]))
        except targets.InvalidRoute as exc:
            raise checks.InvalidArgument("exit_target", exc.reason) from exc
    for key in ("callback_whisper", "callback_prompt", "callback_choice_prompt",
                "callback_enter_prompt", "callback_done_prompt"):  # fmt: skip
        if key in out and not str(out[key]).startswith("say:"):
            checks.playback(out[key], key)
    return out


def _wait_prompts(given: QueueSettings) -> dict[str, str | None]:
    prompts = {
        "wait_about": (given.wait_prompt, "wait_prompt"),
        "wait_less": (given.wait_less_prompt, "wait_less_prompt"),
        "wait_more": (given.wait_more_prompt, "wait_more_prompt"),
    }
    return {key: value and checks.playback(value, name) for key, (value, name) in prompts.items()}


def _targets_exist(
    session: Session,
    name: str,
    flows: Collection[str] | None,
    overflow: str | None,
    exit_target: str | None,
) -> None:
    """The overflow and the exit key's targets given, checked as a route's target is: a
    queue must be stored, a flow one of ``flows`` when they are known (else the grammar
    alone is checked, as ``targets.unverified`` says)."""
    given = {"overflow_target": overflow, "exit_target": exit_target}
    if not any(given.values()):
        return
    stored = {q.name for q in QueueRepository(session).all()} | {name}
    agents = {a.extension for a in AgentRepository(session).all()}
    for field, target in given.items():
        if target:
            try:
                targets.check_target(target, queues=stored, flows=flows, agents=agents)
            except targets.InvalidRoute as exc:
                raise checks.InvalidArgument(field, exc.reason, code=exc.code) from exc


def add(
    db: Database,
    who: Actor,
    name: str,
    settings: QueueSettings | None = None,
    *,
    flows: Collection[str] | None = None,
) -> QueueRecord:
    """Create a queue; settings not given take their defaults. ``flows``: the IVR flows an
    engine serves, when known (an ``ivr:`` overflow must be one of them)."""
    checks.queue_name(name)
    settings = settings or QueueSettings()
    columns = _columns(name, settings)
    if settings.routing:
        columns["routing"] = routing_of({}, settings.routing)
    with db.session_scope() as session:
        exit_target = columns.get("routing", {}).get("exit_target")
        _targets_exist(session, name, flows, columns.get("overflow_target"), exit_target)
        record = QueueRepository(session).add(name, **columns)
        audited(session, who, "queue.add", name, _json(columns), kind=QUEUE)
    return record


def update(
    db: Database,
    who: Actor,
    name: str,
    settings: QueueSettings,
    *,
    flows: Collection[str] | None = None,
) -> QueueRecord:
    """Change the settings given; the others keep their value (no defaults apply).
    ``flows`` as ``add`` takes them."""
    checks.queue_name(name)
    columns = _columns(name, settings)
    if settings.routing:
        routing_of({}, {k: v for k, v in settings.routing.items() if v is not None})
    elif not columns:
        raise DomainError("nothing to change: give at least one setting", code="no_change")
    with db.session_scope() as session:
        queues = QueueRepository(session)
        before = queues.get(name)
        if settings.routing:
            columns["routing"] = routing_of(before.routing, settings.routing)
        given_exit = (settings.routing or {}).get("exit_target") is not None
        exit_target = columns["routing"].get("exit_target") if given_exit else None
        _targets_exist(session, name, flows, columns.get("overflow_target"), exit_target)
        if "announcements" in columns:
            columns["announcements"] = {**before.announcements, **columns["announcements"]}
        record = queues.update(name, **columns)
        changes = {c: {"from": getattr(before, c), "to": v} for c, v in columns.items()}
        audited(session, who, "queue.set", name, _json(changes), kind=QUEUE)
    return record


def remove(db: Database, who: Actor, name: str) -> None:
    """Delete a queue with its members, required skills and entry history; refused
    (``queue_in_use``) while a running campaign takes its calls, or a stored DID route or
    another queue's overflow or exit key sends calls to it (``in_use``)."""
    checks.queue_name(name)
    with db.session_scope() as session:
        in_use.not_dialling(
            session,
            f"queue {name!r}",
            "takes the calls of",
            "give them another queue",
            "queue_in_use",
            queue=name,
        )
        in_use.not_targeted(session, f"queue {name!r}", f"queue:{name}", "queue_in_use")
        QueueRepository(session).delete(name)
        audited(session, who, "queue.remove", name, kind=QUEUE)


def add_member(
    db: Database, who: Actor, queue: str, extension: str, *, tier: int = 1, position: int = 1
) -> QueueRecord:
    """Make agent ``extension`` a member of ``queue``: lower tiers are offered calls first."""
    checks.queue_name(queue)
    checks.extension(extension)
    checks.in_range(tier, 1, TIER_MAX, "tier")
    checks.in_range(position, 1, POSITION_MAX, "position")
    with db.session_scope() as session:
        queues = QueueRepository(session)
        queues.add_member(queue, extension, tier=tier, position=position)
        details = {"extension": extension, "tier": tier, "position": position}
        audited(session, who, "queue.member.add", queue, details, kind=QUEUE, op="member")
        return queues.get(queue)


@dataclass(frozen=True, slots=True)
class MemberSet:
    queue: QueueRecord
    created: bool  # the agent was made a member


def set_member(
    db: Database,
    who: Actor,
    queue: str,
    extension: str,
    *,
    tier: int | None = None,
    position: int | None = None,
    create: bool = True,
) -> MemberSet:
    """Set agent ``extension``'s tier and position in ``queue`` (None: kept; 1 for a new
    member): a member already is changed, others are made members unless not ``create``
    (``queue_member_not_found``). The same values again change nothing; the running
    engines' ACD reads the queue again (its ``queue`` change) and offers by the new tiers."""
    checks.queue_name(queue)
    checks.extension(extension)
    if tier is not None:
        checks.in_range(tier, 1, TIER_MAX, "tier")
    if position is not None:
        checks.in_range(position, 1, POSITION_MAX, "position")
    with db.session_scope() as session:
        queues = QueueRepository(session)
        before = queues.set_member(queue, extension, tier=tier, position=position, create=create)
        after = queues.get(queue)
        now = next(m for m in after.members if m.extension == extension)
        details: dict[str, Any] = {"extension": extension}
        if before is None:
            details |= {"tier": now.tier, "position": now.position}
            audited(session, who, "queue.member.add", queue, details, kind=QUEUE, op="member")
        elif before != (now.tier, now.position):
            pairs = zip(("tier", "position"), before, (now.tier, now.position), strict=True)
            details |= {key: {"from": was, "to": to} for key, was, to in pairs if was != to}
            audited(session, who, "queue.member.set", queue, details, kind=QUEUE, op="member")
        return MemberSet(after, before is None)


def remove_member(db: Database, who: Actor, queue: str, extension: str) -> QueueRecord:
    """Take agent ``extension`` out of ``queue`` (a call it is on is not affected)."""
    checks.queue_name(queue)
    checks.extension(extension)
    with db.session_scope() as session:
        queues = QueueRepository(session)
        queues.remove_member(queue, extension)
        details = {"extension": extension}
        audited(session, who, "queue.member.remove", queue, details, kind=QUEUE, op="member")
        return queues.get(queue)


def require_skill(
    db: Database, who: Actor, queue: str, skill: str, min_level: int = 1
) -> QueueRecord:
    """Only agents with ``skill`` at ``min_level`` or more get the queue's calls."""
    checks.queue_name(queue)
    checks.skill(skill)
    checks.level(min_level, "min_level")
    with db.session_scope() as session:
        queues = QueueRepository(session)
        queues.require_skill(queue, skill, min_level)
        details = {"skill": skill, "min_level": min_level}
        audited(session, who, "queue.skill.require", queue, details, kind=QUEUE, op="skill")
        return queues.get(queue)


def drop_skill(db: Database, who: Actor, queue: str, skill: str) -> QueueRecord:
    checks.queue_name(queue)
    checks.skill(skill)
    with db.session_scope() as session:
        queues = QueueRepository(session)
        queues.drop_skill(queue, skill)
        details = {"skill": skill}
        audited(session, who, "queue.skill.drop", queue, details, kind=QUEUE, op="skill")
        return queues.get(queue)


def list_queues(db: Database) -> list[QueueRecord]:
    with db.session_scope() as session:
        return QueueRepository(session).all()


def get(db: Database, name: str) -> QueueRecord:
    checks.queue_name(name)
    with db.session_scope() as session:
        return QueueRepository(session).get(name)


def show(db: Database, name: str, entries: int = 10) -> QueueDetail:
    """The queue, its members with their status and state, and its last ``entries`` stays."""
    checks.queue_name(name)
    checks.in_range(entries, 0, 10_000, "entries")
    with db.session_scope() as session:
        record = QueueRepository(session).get(name)
        agents = {a.extension: a for a in AgentRepository(session).all()}
        stays = QueueRepository(session).entries(name, entries) if entries else []
        waiting = QueueRepository(session).entries(name, 10_000, waiting=True)
        live = CallRepository(session).live()
    callers = {c.uuid: c.from_number for c in live}
    on_call = {
        leg.agent_extension: c.uuid
        for c in live
        for leg in c.legs
        if leg.agent_extension and leg.ended_at is None and leg.answered_at is not None
    }
    members = tuple(_member(m, agents[m.extension], on_call, callers) for m in record.members)
    queued = tuple(
        WaitingCaller(i, e.call_uuid, callers.get(e.call_uuid), e.priority, e.joined_at, e.offers)
        for i, e in enumerate(waiting, start=1)
    )
    return QueueDetail(record, members, tuple(stays), queued)


def entries(db: Database, name: str, limit: int = 20) -> list[QueueEntryRecord]:
    """The last callers' stays in the queue, newest first."""
    checks.queue_name(name)
    checks.in_range(limit, 1, 10_000, "limit")
    with db.session_scope() as session:
        return QueueRepository(session).entries(name, limit)


def settings_of(record: QueueRecord) -> dict[str, Any]:
    """A queue's settings, without its members and skills."""
    hidden = {"id", "members", "required_skills"}
    return {f.name: getattr(record, f.name) for f in fields(record) if f.name not in hidden}


def _json(values: dict[str, Any]) -> dict[str, Any]:
    """Enums as their value: audit details and change rows are JSON."""
    return {k: _plain(v) for k, v in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return _json(value)
    if isinstance(value, frozenset | set):
        return sorted(value)
    return str(value) if isinstance(value, QueueStrategy) else value
