"""The ``/api/v1`` WSGI app: the route table of every resource, served by Falcon, plus the
OpenAPI document (public) and, when the engine gives one, the event stream (``read``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import falcon

from callcenter.acd.dispatcher import Dispatcher
from callcenter.api import (
    agents,
    calls,
    campaigns,
    cdrs,
    dialer_live,
    dispositions,
    flows,
    kpis,
    queues,
    recordings,
    reports,
    routes,
    trunks,
    voicemails,
    webhooks,
)
from callcenter.api import staffing as staffing_api
from callcenter.api import wallboard as wallboard_api
from callcenter.api.env import ApiEnv, FlowNames
from callcenter.api.live import BoardReader
from callcenter.api.openapi import document, events_operation
from callcenter.api.problems import PROBLEM_JSON, from_error
from callcenter.api.routing import Operation, bearer, build_falcon
from callcenter.errors import CallCenterError, DatabaseUnavailable
from callcenter.events import sse
from callcenter.recording.state import Action
from callcenter.services import tokens
from callcenter.services.agents import PauseReasons
from callcenter.services.checks import QUEUE_NAME
from callcenter.settings import Settings
from callcenter.store.database import Database
from callcenter.store.models.tokens import TokenScope
from callcenter.vocabulary import EXTENSION, SKILL
from callcenter.wallboard.tally import Tally
from callcenter.wallboard.web import Sessions

PREFIX = "/api/v1"
OPENAPI = "/openapi.json"
EVENTS = "/events"
StartResponse = Any
WsgiApp = Any

PATH_PARAMS: dict[str, dict[str, Any]] = {
    "extension": {"type": "string", "pattern": f"^{EXTENSION.pattern}$"},
    "skill": {"type": "string", "pattern": f"^{SKILL.pattern}$"},
    "name": {"type": "string", "pattern": f"^{QUEUE_NAME.pattern}$"},
    "did": {"type": "string", "minLength": 1, "maxLength": 128},
    "uuid": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
    "webhook_id": {"type": "integer", "minimum": 1, "maximum": webhooks.ID_MAX},
    "voicemail_id": {"type": "integer", "minimum": 1, "maximum": voicemails.ID_MAX},
    "recording_id": {"type": "integer", "minimum": 1, "maximum": recordings.ID_MAX},
    "action": {"type": "string", "enum": [str(a) for a in Action]},
}


def for_engine(
    settings: Settings,
    database: Database,
    dispatcher: Dispatcher,
    flows: FlowNames,
    *,
    events: WsgiApp | None = None,
    kpis: Any = None,
    tally: Tally | None = None,
    sessions: Sessions | None = None,
    dialer: Any = None,
) -> Api:
    """The engine's API: its database, its ACD board (read-only) and its live flows."""
    env = ApiEnv(
        database,
        agents_domain=settings.agents_domain,
        default_route=settings.default_route,
        default_country=settings.default_country,
        dialplans_dir=settings.dialplans_dir,
        live=BoardReader(dispatcher.read, handle_times=dispatcher.handle_times),
        flows=flows,
        time_zone=settings.time_zone,
        kpis=kpis,
        tally=tally,
        dialer=dialer,
        pause_reasons=PauseReasons(settings.pause_reasons, settings.pause_default_reason),
    )
    return Api(env, events=events, sessions=sessions)


def operations(env: ApiEnv) -> list[Operation]:
    return [
        *agents.operations(env),
        *queues.operations(env),
        *routes.operations(env),
        *flows.operations(env),
        *calls.operations(env),
        *cdrs.operations(env),
        *webhooks.operations(env),
        *voicemails.operations(env),
        *trunks.operations(env),
        *campaigns.operations(env),
        *recordings.operations(env),
        *reports.operations(env),
        *kpis.operations(env),
        *wallboard_api.operations(env),
        *staffing_api.operations(env),
        *dialer_live.operations(env),
        *dispositions.operations(env),
    ]


class Api:
    """WSGI callable mounted at ``/api/v1`` (it sees paths without the prefix)."""

    def __init__(
        self, env: ApiEnv, *, events: WsgiApp | None = None, sessions: Sessions | None = None
    ) -> None:
        self.env = env
        self._sessions = sessions  # the browser wallboard's stream cookies (wallboard.web)
        self.operations = operations(env)
        self._falcon = build_falcon(self.operations, env.database)
        streams = {EVENTS: {"get": events_operation()}} if events is not None else {}
        self._openapi = json.dumps(
            document(self.operations, PATH_PARAMS, server=PREFIX, more=streams)
        ).encode()
        self._events = events

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == OPENAPI and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "application/json")])
            return [self._openapi]
        if self._events is not None and path == EVENTS:
            refused = self._refuse(environ, TokenScope.READ)
            if refused is not None:
                return _problem(start_response, refused)
            environ[sse.RECHECK] = lambda: self._recheck(environ)
            return self._events(environ, start_response)  # type: ignore[no-any-return]
        return self._falcon(environ, start_response)

    def _recheck(self, environ: dict[str, Any]) -> CallCenterError | None:
        """An open stream's credentials, asked again: a refusal ends it; a database that
        cannot answer says nothing new, and the stream goes on."""
        refused = self._refuse(environ, TokenScope.READ)
        return None if isinstance(refused, DatabaseUnavailable) else refused

    def _refuse(self, environ: dict[str, Any], needed: TokenScope) -> CallCenterError | None:
        try:
            header = environ.get("HTTP_AUTHORIZATION", "")
            if not header and self._sessions is not None and needed is TokenScope.READ:
                self._sessions.authorize(self.env.database, environ)
                return None
            token = bearer(self.env.database, header)
            tokens.authorize(token, needed)
        except CallCenterError as exc:
            return exc
        return None


def _problem(start_response: StartResponse, exc: CallCenterError) -> list[bytes]:
    body = from_error(exc)
    headers = [("Content-Type", PROBLEM_JSON)]
    if body.status == 401:
        headers.append(("WWW-Authenticate", 'Bearer realm="callcenter"'))
    start_response(falcon.code_to_http_status(body.status), headers)
    return [body.model_dump_json(exclude_none=True).encode()]
