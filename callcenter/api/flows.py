"""``/flows``: the IVR flows of the engine's dialplans_dir: list, validate, reload."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from callcenter.api.env import ApiEnv
from callcenter.api.pages import Page, PageQuery, paginate
from callcenter.api.routing import Ask, Operation
from callcenter.ivr.registry import queue_names
from callcenter.services import flows
from callcenter.store.models.tokens import TokenScope

READ, OPERATE = TokenScope.READ, TokenScope.OPERATE
TAG = "flows"


class Flow(BaseModel):
    name: str
    version: str
    checksum: str
    source: str
    loaded_at: datetime | None = Field(description="When an engine first loaded this version.")
    running_version: str | None = Field(
        default=None,
        description="The version this engine runs (null: it runs no such flow); "
        "`version` is the file's.",
    )


class Issue(BaseModel):
    where: str = Field(description="file:line:col")
    path: str = Field(description="Where in the flow, e.g. nodes.menu.options")
    message: str


class Validation(BaseModel):
    ok: bool
    flows: list[str]
    errors: list[Issue]
    warnings: list[Issue]


class Reloaded(BaseModel):
    flows: list[str]
    warnings: list[str]


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def list_flows(ask: Ask) -> Page[Flow]:
        listing = flows.list_flows(db, env.dialplans_dir).flows
        running = {i.name: i.version for i in env.flows.list()} if env.flows is not None else {}
        page, more = paginate(listing, lambda f: [f.name], ask.query)
        items = [
            Flow(name=f.name, version=f.version, checksum=f.checksum, source=f.source,
                 loaded_at=f.loaded_at, running_version=running.get(f.name))
            for f in page
        ]  # fmt: skip
        return Page[Flow](items=items, next=more)

    def validate_flows(ask: Ask) -> Validation:
        catalog = flows.validate(env.dialplans_dir, queues=queue_names(db))
        return Validation(
            ok=not catalog.errors,
            flows=sorted(catalog.flows),
            errors=[Issue(where=str(i.where), path=i.path, message=i.message)
                    for i in catalog.errors],
            warnings=[Issue(where=str(i.where), path=i.path, message=i.message)
                      for i in catalog.warnings],
        )  # fmt: skip

    def reload_flows(ask: Ask) -> Reloaded:
        done = flows.reload(db, ask.who, env.dialplans_dir)
        return Reloaded(flows=list(done.flows), warnings=list(done.warnings))

    return [
        Operation("GET", "/flows", READ, list_flows,
                  "The valid flows of dialplans_dir, with the version this engine runs", TAG,
                  Page[Flow], query=PageQuery, errors=(400, 422)),
        Operation("POST", "/flows/validate", READ, validate_flows,
                  "Check every flow file as an engine would (errors at file:line:col)", TAG,
                  Validation, errors=(422,)),
        Operation("POST", "/flows/reload", OPERATE, reload_flows,
                  "Check the flows, then have every running engine load them", TAG, Reloaded,
                  errors=(409, 422)),
    ]  # fmt: skip
