"""``/trunks``: SIP carriers (the password is write-only: ``password_set`` says whether one
is stored), ``/trunk-status`` (what each FreeSWITCH node last said), ``/trunk-apply``,
``/trunk-groups`` (trunks an outbound route names together, with a strategy)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.env import ApiEnv
from callcenter.api.pages import Page, PageQuery, paginate
from callcenter.api.routing import Ask, Body, Operation
from callcenter.services import trunk_groups, trunks
from callcenter.store.models.tokens import TokenScope
from callcenter.trunks.groups import MAX_MEMBERS, Strategy
from callcenter.trunks.groups import TrunkGroup as GroupSpec
from callcenter.trunks.spec import NumberStyle, Transport, TrunkSpec

READ, ADMIN = TokenScope.READ, TokenScope.ADMIN
TAG = "trunks"


# `register` would shadow BaseModel.register: the attribute is register_, the JSON "register"
_ALIASED = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)


class Trunk(BaseModel):
    model_config = _ALIASED
    name: str
    proxy: str
    transport: Transport
    register_: bool = Field(alias="register")
    username: str | None
    password_set: bool = Field(description="Whether a password is stored (never returned).")
    realm: str | None
    from_domain: str | None
    caller_id_in_from: bool
    codecs: list[str]
    country: str | None
    number_style: NumberStyle
    max_channels: int | None
    max_cps: float | None
    inbound_cidrs: list[str]
    enabled: bool


class TrunkUpdate(Body):
    model_config = _ALIASED
    proxy: str | None = Field(None, max_length=260, examples=["sip.carrier-a.example:5060"])
    transport: Transport | None = None
    register_: bool | None = Field(None, alias="register")
    username: str | None = Field(None, max_length=128)
    password: str | None = Field(None, max_length=128, description="Write-only.")
    realm: str | None = Field(None, max_length=260)
    from_domain: str | None = Field(None, max_length=260)
    caller_id_in_from: bool | None = None
    codecs: list[str] | None = Field(None, max_length=16, examples=[["PCMA", "PCMU"]])
    country: str | None = Field(None, max_length=2, examples=["DE"])
    number_style: NumberStyle | None = None
    max_channels: int | None = None
    max_cps: float | None = None
    inbound_cidrs: list[str] | None = Field(None, max_length=64, examples=[["198.51.100.0/28"]])
    enabled: bool | None = None


class TrunkCreate(TrunkUpdate):
    name: str = Field(max_length=64, examples=["carrier-a"])
    proxy: str = Field(max_length=260, examples=["sip.carrier-a.example:5060"])


class TrunkNodeState(BaseModel):
    trunk: str
    node: str | None
    state: str = Field(description="REGED, TRYING, FAILED, FAIL_WAIT, UNREGED, NOREG, DOWN, "
                       "ABSENT (not loaded), unknown (not seen yet).")  # fmt: skip
    ping: str | None
    up: bool | None
    since: str | None
    detail: str


class TrunkStates(BaseModel):
    items: list[TrunkNodeState]


class Applied(BaseModel):
    applied: bool = Field(description="Sent to the running engines (reloadxml, rescan, ...).")


class TrunkGroup(BaseModel):
    name: str
    strategy: Strategy
    members: list[str] = Field(description="Stored trunks, in order.")


class TrunkGroupUpdate(Body):
    strategy: Strategy | None = None
    members: list[str] | None = Field(
        None, max_length=MAX_MEMBERS, description="All the members, in their new order."
    )


class TrunkGroupCreate(Body):
    name: str = Field(max_length=64, examples=["de-out"])
    strategy: Strategy = Strategy.IN_ORDER
    members: list[str] = Field(max_length=MAX_MEMBERS, examples=[["carrier-a", "carrier-b"]])


def _group(group: GroupSpec) -> TrunkGroup:
    return TrunkGroup.model_validate(trunk_groups.view(group))


def _trunk(spec: TrunkSpec) -> Trunk:
    return Trunk.model_validate(trunks.view(spec))


def fields_of(body: TrunkUpdate) -> dict[str, Any]:
    given = body.model_dump(exclude_unset=True, exclude={"name"}, by_alias=True)
    for key in ("codecs", "inbound_cidrs"):
        if given.get(key) is not None:
            given[key] = tuple(given[key])
    return {k: v for k, v in given.items() if v is not None or k in _NULLABLE}


_NULLABLE = frozenset({"username", "password", "realm", "from_domain", "country",
                       "max_channels", "max_cps"})  # fmt: skip


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def list_trunks(ask: Ask) -> Page[Trunk]:
        page, more = paginate(trunks.list_trunks(db), lambda t: [t.name], ask.query)
        return Page[Trunk](items=[_trunk(t) for t in page], next=more)

    def create_trunk(ask: Ask) -> Trunk:
        body: TrunkCreate = ask.body
        return _trunk(trunks.add(db, ask.who, TrunkSpec(name=body.name, **fields_of(body))))

    def show_trunk(ask: Ask) -> Trunk:
        return _trunk(trunks.get(db, ask.path["name"]))

    def update_trunk(ask: Ask) -> Trunk:
        body: TrunkUpdate = ask.body
        return _trunk(trunks.update(db, ask.who, ask.path["name"], fields_of(body)))

    def delete_trunk(ask: Ask) -> None:
        trunks.remove(db, ask.who, ask.path["name"])

    def trunk_status(ask: Ask) -> TrunkStates:
        rows = trunks.status_rows(trunks.status(db))
        return TrunkStates(items=[TrunkNodeState(**row) for row in rows])

    def apply(ask: Ask) -> Applied:
        trunks.apply(db, ask.who)
        return Applied(applied=True)

    def list_groups(ask: Ask) -> Page[TrunkGroup]:
        page, more = paginate(trunk_groups.list_groups(db), lambda g: [g.name], ask.query)
        return Page[TrunkGroup](items=[_group(g) for g in page], next=more)

    def create_group(ask: Ask) -> TrunkGroup:
        body: TrunkGroupCreate = ask.body
        return _group(trunk_groups.add(db, ask.who, body.name, body.members, body.strategy))

    def show_group(ask: Ask) -> TrunkGroup:
        return _group(trunk_groups.get(db, ask.path["name"]))

    def update_group(ask: Ask) -> TrunkGroup:
        body: TrunkGroupUpdate = ask.body
        strategy = None if body.strategy is None else str(body.strategy)
        return _group(trunk_groups.update(db, ask.who, ask.path["name"], members=body.members,
                                          strategy=strategy))  # fmt: skip

    def delete_group(ask: Ask) -> None:
        trunk_groups.remove(db, ask.who, ask.path["name"])

    item, group = "/trunks/{name}", "/trunk-groups/{name}"
    return [
        Operation("GET", "/trunk-groups", READ, list_groups, "List trunk groups", TAG,
                  Page[TrunkGroup], query=PageQuery, errors=(400, 422)),
        Operation("POST", "/trunk-groups", ADMIN, create_group, "Add a trunk group", TAG,
                  TrunkGroup, body=TrunkGroupCreate, status=201, errors=(400, 404, 409, 422)),
        Operation("GET", group, READ, show_group, "One trunk group", TAG, TrunkGroup,
                  errors=(404, 422)),
        Operation("PATCH", group, ADMIN, update_group,
                  "Change the members or the strategy of a trunk group", TAG, TrunkGroup,
                  body=TrunkGroupUpdate, errors=(400, 404, 422)),
        Operation("DELETE", group, ADMIN, delete_group, "Delete a trunk group", TAG,
                  errors=(404, 409, 422)),
        Operation("GET", "/trunks", READ, list_trunks, "List trunks", TAG, Page[Trunk],
                  query=PageQuery, errors=(400, 422)),
        Operation("POST", "/trunks", ADMIN, create_trunk, "Add a trunk", TAG, Trunk,
                  body=TrunkCreate, status=201, errors=(400, 409, 422)),
        Operation("GET", "/trunk-status", READ, trunk_status,
                  "What each FreeSWITCH node last said of each trunk", TAG,
                  TrunkStates),
        Operation("POST", "/trunk-apply", ADMIN, apply,
                  "Make the running FreeSWITCH nodes take the rendered trunks", TAG, Applied),
        Operation("GET", item, READ, show_trunk, "One trunk", TAG, Trunk, errors=(404, 422)),
        Operation("PATCH", item, ADMIN, update_trunk, "Change some settings of a trunk", TAG,
                  Trunk, body=TrunkUpdate, errors=(404, 422)),
        Operation("DELETE", item, ADMIN, delete_trunk, "Delete a trunk", TAG,
                  errors=(404, 409, 422)),
    ]  # fmt: skip
