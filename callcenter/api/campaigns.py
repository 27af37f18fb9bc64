"""``/campaigns``: outbound campaigns (settings, start/pause/stop, dispositions), their leads
(imported in parts of rows, read back page by page), their compliance audit log; ``/dnc``:
the do-not-call lists. Percentages are percent (1.5 is 1.5%), durations seconds."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.env import ApiEnv
from callcenter.api.pages import Page, PageQuery, decode_cursor, encode_cursor, paginate
from callcenter.api.problems import ApiProblem
from callcenter.api.routing import Ask, Body, Operation
from callcenter.dialer.campaign import CampaignSpec, DispositionSpec
from callcenter.dialer.compliance import Outcome, RetryRule
from callcenter.dialer.importer import ColumnMap
from callcenter.dialer.vocabulary import AmdAction, CampaignMode, CampaignState
from callcenter.services import campaigns, dnc, leads
from callcenter.services.checks import InvalidArgument
from callcenter.store.models.tokens import TokenScope
from callcenter.store.repos.campaigns import CampaignRecord

READ, OPERATE, ADMIN = TokenScope.READ, TokenScope.OPERATE, TokenScope.ADMIN
TAG, DNC_TAG = "campaigns", "dnc"
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
BIGINT_MAX = 2**63 - 1
Line = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Retry(Body):
    times: int = Field(ge=0, le=50, description="Calls after this outcome at most.")
    after_seconds: int = Field(ge=60, le=30 * 86400, description="Waiting before each.")


class CampaignUpdate(Body):
    mode: CampaignMode | None = None
    queue: str | None = Field(None, max_length=64, examples=["sales"])
    agents: list[str] | None = Field(None, max_length=500, examples=[["1001", "1002"]])
    flow: str | None = Field(None, max_length=64, description="Broadcast: the IVR flow.")
    outbound_route: str | None = Field(None, max_length=64)
    trunks: list[str] | None = Field(None, max_length=16)
    caller_id: str | None = Field(None, max_length=16, examples=["+12125550199"])
    caller_id_name: str | None = Field(None, max_length=64)
    region: str | None = Field(None, min_length=2, max_length=2, examples=["US"])
    hours: str | None = Field(
        None,
        pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$",
        examples=["08:00-21:00"],
        description="Calling hours in each lead's local time.",
    )
    report_zone: str | None = Field(None, max_length=64, examples=["America/New_York"])
    retries: dict[str, Retry] | None = Field(
        None,
        max_length=5,
        description="By outcome: busy, no_answer, machine, failed, "
        "abandoned; merged into the campaign's rules.",
    )
    max_attempts: int | None = Field(None, ge=1, le=50)
    redial_hold_hours: float | None = Field(None, ge=0, le=720, allow_inf_nan=False)
    ring_seconds: int | None = Field(None, ge=15, le=120)
    abandon_target_pct: float | None = Field(None, gt=0, le=3, allow_inf_nan=False)
    abandon_limit_pct: float | None = Field(None, gt=0, le=3, allow_inf_nan=False)
    amd_false_positive_pct: float | None = Field(None, ge=0, le=100, allow_inf_nan=False)
    amd: AmdAction | None = None
    amd_message: str | None = Field(None, max_length=255)
    amd_flow: str | None = Field(None, max_length=64)
    recording: str | None = Field(None, max_length=16, examples=["always"])
    safe_harbor_message: str | None = Field(None, max_length=255)
    max_lines: int | None = Field(None, ge=1, le=10_000)
    max_lines_per_agent: int | None = Field(None, ge=1, le=10)
    description: str | None = Field(None, max_length=500)


class CampaignCreate(CampaignUpdate):
    name: str = Field(pattern=NAME, examples=["spring"])


class Campaign(BaseModel):
    name: str
    mode: CampaignMode
    state: CampaignState
    queue: str | None
    agents: list[str]
    flow: str | None
    outbound_route: str | None
    trunks: list[str]
    caller_id: str | None
    caller_id_name: str | None
    region: str
    hours: str
    report_zone: str
    retries: dict[str, Retry]
    max_attempts: int
    redial_hold_hours: float
    ring_seconds: int
    abandon_target_pct: float
    abandon_limit_pct: float
    amd_false_positive_pct: float
    amd: AmdAction
    amd_message: str | None
    amd_flow: str | None
    recording: str | None
    safe_harbor_message: str | None
    max_lines: int | None
    max_lines_per_agent: int
    description: str
    state_changed_at: str
    created_at: str


class Disposition(Body):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$", examples=["voicemail"])
    key: int = Field(ge=0, le=99, description="N of the *30N feature code.")
    label: str = Field("", max_length=128)
    retry_after: int | None = Field(None, ge=60, le=30 * 86400, description="Seconds.")
    dnc: bool = Field(False, description="Put the number on the campaign's do-not-call list.")
    success: bool = False
    global_dnc: bool = Field(
        False, description="Put the number on the global do-not-call list (implies dnc)."
    )


class DispositionShown(Disposition):
    model_config = ConfigDict(extra="ignore", strict=False)  # an answer, not a request

    feature_code: str


class Rate(BaseModel):
    abandoned: float = Field(description="Abandoned, the AMD false positives estimated included.")
    live: float = Field(description="Live answered, the same estimate included.")
    amd_estimated: float = Field(
        description="Machine verdicts x the campaign's amd_false_positive_pct: people hung up on."
    )


class AbandonRates(BaseModel):
    us_30_days_pct: float = Field(description="abandoned / live answered, 30 days.")
    us_30_days: Rate
    uk_today_pct: float = Field(description="today's, calendar day in report_zone.")
    uk_today: Rate
    over_target: bool
    at_limit: bool = Field(
        description="At the hard limit: the dialer dials progressive (a progressive or preview "
        "campaign is paused at its next abandon)."
    )


class LastDay(BaseModel):
    day: str
    live: int
    abandoned: int
    machine: int


class CampaignSummary(Campaign):
    leads: dict[str, int] = Field(description="By state (pending, dialing, done) and total.")
    due: int
    abandon_rate: AbandonRates
    last_day: LastDay | None
    dispositions: list[DispositionShown]
    imports: int
    paused: dict[str, Any] | None = Field(
        None,
        description="Paused: its last pause's audit details (by; the dialer's at the hard "
        'limit: reason "hard_limit" and the rate).',
    )


LeadField = Literal["phone", "priority", "timezone"]  # dialer.importer.LEAD_FIELDS
MAP_HINT = '"map": {{"{field}": "COLUMN"}}'  # the hint of a missing column, as the API says it


class LeadRows(Body):
    source: str = Field(max_length=255, examples=["leads.csv"])
    header: list[str] = Field(min_length=1, max_length=100, examples=[["phone", "name"]])
    rows: list[tuple[Line, list[str]]] = Field(
        max_length=5000,
        description="[line, cells] of each row, as the file had them.",
        examples=[[[2, ["+12125550101", "Ann"]]]],
    )
    map: dict[LeadField, Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None, max_length=3, examples=[{"phone": "Telephone"}],
        description="Which column holds a lead field, when not named after it.",
    )  # fmt: skip
    region: str | None = Field(None, min_length=2, max_length=2)
    import_id: int | None = Field(None, ge=1, le=2**31 - 1, description="Go on with this import.")


class RejectedRow(BaseModel):
    line: int
    reason: str


class ImportReport(BaseModel):
    import_id: int
    rows: int
    added: int
    existing: int = Field(description="Already in the campaign: not added again.")
    rejected: int
    rejected_rows: list[RejectedRow] = Field(description="This part's rejected rows.")


class IdPage(BaseModel):
    limit: int = Field(500, ge=1, le=5000)
    cursor: str | None = Field(None, max_length=2048)


class AuditQuery(IdPage):
    since: datetime | None = None
    until: datetime | None = None


class LeadsPage(BaseModel):
    items: list[dict[str, Any]] = Field(
        description="Each lead: state, attempts, outcome, disposition, callback, custom fields."
    )
    next: str | None


class AuditEntry(BaseModel):
    id: int
    at: str
    campaign: str
    kind: str
    phone: str | None
    lead_id: int | None
    call_uuid: str | None
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next: str | None


class Dispose(Body):
    code: str = Field(max_length=32, examples=["call_back"])
    callback_at: datetime | None = Field(None, description="With its offset.")
    callback_agent: str | None = Field(None, max_length=32)


class LeadState(BaseModel):
    lead_id: int
    state: str


class DncAdd(Body):
    numbers: list[str] = Field(min_length=1, max_length=5000, examples=[["+12125550100"]])
    campaign: str | None = Field(None, max_length=64)
    reason: str = Field("", max_length=128)
    region: str | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="Country of numbers written without '+' (default: the campaign's, else US).",
    )


class DncAdded(BaseModel):
    added: list[str]


class DncQuery(BaseModel):
    campaign: str | None = Field(None, max_length=64)
    region: str | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="Country of numbers written without '+' (default: the campaign's, else US).",
    )


class DncListQuery(BaseModel):
    campaign: str | None = Field(None, max_length=64)
    limit: int = Field(100, ge=1, le=100_000)


class DncEntry(BaseModel):
    number: str
    campaign: str | None
    reason: str
    added_by: str
    added_at: str


class DncEntries(BaseModel):
    entries: list[DncEntry] = Field(description="Newest first.")


class DncCheck(BaseModel):
    number: str
    blocked: bool
    lists: list[str] = Field(description="global, or campaign:<name>.")


def _campaign(record: CampaignRecord) -> Campaign:
    return Campaign.model_validate(campaigns.view(record))


def _hours(text: str) -> tuple[time, time]:
    start, _, end = text.partition("-")
    try:
        return time.fromisoformat(start), time.fromisoformat(end)
    except ValueError:
        raise InvalidArgument("hours", f"{text!r}: expected HH:MM-HH:MM") from None


def fields_of(body: CampaignUpdate) -> dict[str, Any]:
    given = body.model_dump(exclude_unset=True, exclude={"name"})
    if "hours" in given:
        hours = given.pop("hours")
        if hours is not None:
            given["window_start"], given["window_end"] = _hours(hours)
    if given.get("retries") is not None:
        rules: dict[Outcome, RetryRule] = {}
        for outcome, rule in given["retries"].items():
            try:
                kind = Outcome(outcome)
            except ValueError:
                raise InvalidArgument(f"retries.{outcome}", "not an outcome") from None
            rules[kind] = RetryRule(rule["times"], timedelta(seconds=rule["after_seconds"]))
        given["retries"] = rules
    for key in ("agents", "trunks"):
        if key in given:
            given[key] = tuple(given[key] or ())
    required = {"mode", "region", "report_zone", "retries", "max_attempts", "redial_hold_hours",
                "ring_seconds", "abandon_target_pct", "abandon_limit_pct",
                "amd_false_positive_pct", "amd", "max_lines_per_agent", "description"}  # fmt: skip
    for key in required & set(given):
        if given[key] is None:
            raise InvalidArgument(key, "may not be null")
    return given


def _after(cursor: str | None) -> int:
    if cursor is None:
        return 0
    key = decode_cursor(cursor)
    if not isinstance(key[0], int):
        raise ApiProblem(400, "cursor_invalid", "cursor: not a cursor of this list")
    return key[0]


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def list_campaigns(ask: Ask) -> Page[Campaign]:
        page, more = paginate(campaigns.list_campaigns(db), lambda c: [c.spec.name], ask.query)
        return Page[Campaign](items=[_campaign(c) for c in page], next=more)

    def create_campaign(ask: Ask) -> Campaign:
        body: CampaignCreate = ask.body
        spec = CampaignSpec(name=body.name, **fields_of(body))
        return _campaign(campaigns.create(db, ask.who, spec))

    def show_campaign(ask: Ask) -> CampaignSummary:
        found = campaigns.summary(db, ask.path["name"])
        return CampaignSummary.model_validate(campaigns.summary_view(found))

    def update_campaign(ask: Ask) -> Campaign:
        changes = fields_of(ask.body)
        flows = env.flow_names()  # this engine's: a campaign may not send calls to a missing flow
        return _campaign(campaigns.update(db, ask.who, ask.path["name"], changes, flows=flows))

    def start_campaign(ask: Ask) -> Campaign:
        return _campaign(campaigns.start(db, ask.who, ask.path["name"], flows=env.flow_names()))

    def pause_campaign(ask: Ask) -> Campaign:
        return _campaign(campaigns.pause(db, ask.who, ask.path["name"]))

    def stop_campaign(ask: Ask) -> Campaign:
        return _campaign(campaigns.stop(db, ask.who, ask.path["name"]))

    def import_leads(ask: Ask) -> ImportReport:
        body: LeadRows = ask.body
        mapping = ColumnMap({str(k): v for k, v in (body.map or {}).items()}, hint=MAP_HINT)
        report, rejected = leads.import_rows(
            db, ask.who, ask.path["name"], body.header, body.rows, source=body.source,
            mapping=mapping, region=body.region, import_id=body.import_id,
        )  # fmt: skip
        return ImportReport(
            import_id=report.import_id, rows=report.rows, added=report.added,
            existing=report.existing, rejected=report.rejected,
            rejected_rows=[RejectedRow(line=r.line, reason=r.reason) for r in rejected],
        )  # fmt: skip

    def list_leads(ask: Ask) -> LeadsPage:
        query: IdPage = ask.query
        rows = leads.result_rows(db, ask.path["name"], after=_after(query.cursor),
                                 limit=query.limit)  # fmt: skip
        items = [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in r.items()}
                 for r in rows]  # fmt: skip
        more = encode_cursor([rows[-1]["lead_id"]]) if len(rows) == query.limit else None
        return LeadsPage(items=items, next=more)

    def campaign_audit(ask: Ask) -> AuditPage:
        query: AuditQuery = ask.query
        rows = leads.audit_rows(
            db, ask.path["name"], after=_after(query.cursor), limit=query.limit,
            since=_utc(query.since), until=_utc(query.until),
        )  # fmt: skip
        more = encode_cursor([rows[-1]["id"]]) if len(rows) == query.limit else None
        return AuditPage(items=[AuditEntry(**r) for r in rows], next=more)

    def list_dispositions(ask: Ask) -> Page[DispositionShown]:
        found = campaigns.dispositions(db, ask.path["name"])
        page, more = paginate(found, lambda d: [d.key], ask.query)
        shown = [DispositionShown(**campaigns.disposition_view(d)) for d in page]
        return Page[DispositionShown](items=shown, next=more)

    def add_disposition(ask: Ask) -> DispositionShown:
        body: Disposition = ask.body
        added = campaigns.add_disposition(db, ask.who, ask.path["name"],
                                          DispositionSpec(**body.model_dump()))  # fmt: skip
        return DispositionShown(**campaigns.disposition_view(added))

    def remove_disposition(ask: Ask) -> None:
        campaigns.remove_disposition(db, ask.who, ask.path["name"], ask.path["code"])

    def dispose_lead(ask: Ask) -> LeadState:
        body: Dispose = ask.body
        text = ask.path["lead_id"]
        if not text.isdigit() or not 1 <= int(text) <= BIGINT_MAX:
            raise InvalidArgument("lead_id", f"{text[:20]!r}: expected a lead id")
        lead_id = int(text)
        state = campaigns.dispose(
            db, ask.who, ask.path["name"], lead_id, body.code,
            callback_at=body.callback_at, callback_agent=body.callback_agent,
        )  # fmt: skip
        return LeadState(lead_id=lead_id, state=str(state))

    def add_dnc(ask: Ask) -> DncAdded:
        body: DncAdd = ask.body
        added = dnc.add(db, ask.who, body.numbers, campaign=body.campaign, reason=body.reason,
                        region=body.region)  # fmt: skip
        return DncAdded(added=added)

    def list_dnc(ask: Ask) -> DncEntries:
        query: DncListQuery = ask.query
        rows = dnc.listed(db, query.campaign, query.limit)
        return DncEntries(entries=[DncEntry.model_validate(r) for r in rows])

    def check_dnc(ask: Ask) -> DncCheck:
        query: DncQuery = ask.query
        found = dnc.check(db, ask.path["number"], campaign=query.campaign, region=query.region)
        return DncCheck(number=found.number, blocked=found.blocked, lists=found.names)

    def remove_dnc(ask: Ask) -> None:
        query: DncQuery = ask.query
        dnc.remove(db, ask.who, ask.path["number"], campaign=query.campaign, region=query.region)

    item = "/campaigns/{name}"
    return [
        Operation("GET", "/campaigns", READ, list_campaigns, "List campaigns", TAG,
                  Page[Campaign], query=PageQuery, errors=(400, 422)),
        Operation("POST", "/campaigns", ADMIN, create_campaign, "Create a campaign (stopped)",
                  TAG, Campaign, body=CampaignCreate, status=201, errors=(400, 409, 422)),
        Operation("GET", item, READ, show_campaign,
                  "One campaign: settings, leads by state, abandon rates, dispositions", TAG,
                  CampaignSummary, errors=(404, 422)),
        Operation("PATCH", item, ADMIN, update_campaign, "Change some settings of a campaign",
                  TAG, Campaign, body=CampaignUpdate, errors=(400, 404, 422)),
        Operation("POST", item + "/start", OPERATE, start_campaign, "Start or resume a campaign",
                  TAG, Campaign, errors=(404, 409, 422)),
        Operation("POST", item + "/pause", OPERATE, pause_campaign, "Pause a campaign", TAG,
                  Campaign, errors=(404, 409, 422)),
        Operation("POST", item + "/stop", OPERATE, stop_campaign, "Stop a campaign", TAG,
                  Campaign, errors=(404, 409, 422)),
        Operation("POST", item + "/leads", ADMIN, import_leads,
                  "Import rows of a lead file (in parts: give import_id to go on)", TAG,
                  ImportReport, body=LeadRows, errors=(400, 404, 422)),
        Operation("GET", item + "/leads", READ, list_leads,
                  "The campaign's leads with their results, by id", TAG, LeadsPage,
                  query=IdPage, errors=(400, 404, 422)),
        Operation("GET", item + "/audit", READ, campaign_audit,
                  "The campaign's compliance audit log, oldest first", TAG, AuditPage,
                  query=AuditQuery, errors=(400, 404, 422)),
        Operation("GET", item + "/dispositions", READ, list_dispositions,
                  "The campaign's dispositions", TAG, Page[DispositionShown], query=PageQuery,
                  errors=(400, 404, 422)),
        Operation("POST", item + "/dispositions", ADMIN, add_disposition,
                  "Add a disposition", TAG, DispositionShown, body=Disposition, status=201,
                  errors=(400, 404, 409, 422)),
        Operation("DELETE", item + "/dispositions/{code}", ADMIN, remove_disposition,
                  "Remove a disposition", TAG, errors=(404, 422)),
        Operation("POST", item + "/leads/{lead_id}/disposition", OPERATE, dispose_lead,
                  "Give a lead's last call its disposition (the API's *30N)", TAG, LeadState,
                  body=Dispose, errors=(400, 404, 409, 422)),
        Operation("POST", "/dnc", ADMIN, add_dnc, "Put numbers on a do-not-call list", DNC_TAG,
                  DncAdded, body=DncAdd, errors=(400, 404, 422)),
        Operation("GET", "/dnc", READ, list_dnc,
                  "The newest entries of one do-not-call list (the global one by default)",
                  DNC_TAG, DncEntries, query=DncListQuery, errors=(400, 404, 422)),
        Operation("GET", "/dnc/{number}", READ, check_dnc,
                  "Which do-not-call lists hold a number", DNC_TAG, DncCheck, query=DncQuery,
                  errors=(400, 404, 422)),
        Operation("DELETE", "/dnc/{number}", ADMIN, remove_dnc,
                  "Take a number off a do-not-call list", DNC_TAG, query=DncQuery,
                  errors=(400, 404, 422)),
    ]  # fmt: skip
