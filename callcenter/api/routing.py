"""The route table and the Falcon app built from it.

An ``Operation`` names everything about one endpoint: method, path (relative to
``/api/v1``), the scope it needs, the models of its query, body and answer, and the
handler. The handler gets an ``Ask`` (the caller, the path values, the validated query
and body) and returns a model (or None for 204); it calls a service and nothing else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import falcon
from pydantic import BaseModel, ConfigDict, ValidationError

from callcenter.api import files
from callcenter.api.problems import PROBLEM_JSON, ApiProblem, Problem, from_error, from_validation
from callcenter.api.problems import problem as make_problem
from callcenter.errors import CallCenterError
from callcenter.services import tokens
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.models.tokens import TokenScope

log = logging.getLogger(__name__)

BODY_MAX = 1 << 20  # a request body larger than 1 MiB is refused unread


class Body(BaseModel):
    """A request body (and each model inside one): a field it does not name is refused, not
    ignored (a typo must not leave a default in place), and JSON types are taken as they
    are: ``true`` is not 1, ``"no"`` is not false, ``"30"`` is not 30 (422, naming the field)."""

    model_config = ConfigDict(extra="forbid", strict=True)


@dataclass(frozen=True, slots=True)
class Ask:
    """What a handler gets: who asks, the path values, the checked query and body."""

    who: Actor
    path: dict[str, str]
    query: Any = None
    body: Any = None


@dataclass(frozen=True, slots=True)
class File:
    """An answer that is a file (audio), not JSON; its operation describes it in ``extra``."""

    data: bytes
    content_type: str
    filename: str


Handler = Callable[[Ask], BaseModel | File | None]


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    scope: TokenScope
    handler: Handler
    summary: str
    tag: str
    response: Any = None  # a model class (or a Page[...] class); None: 204 No Content
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = (400, 401, 403, 404, 409, 422)
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


def _problem_response(resp: falcon.Response, body: Problem) -> None:
    resp.status = falcon.code_to_http_status(body.status)
    resp.content_type = PROBLEM_JSON
    resp.data = body.model_dump_json(exclude_none=True).encode()
    if body.status == 401:
        resp.set_header("WWW-Authenticate", 'Bearer realm="callcenter"')


class _Responder:
    """One method of one path: authenticate, authorize, parse, call, serialize."""

    def __init__(self, operation: Operation, database: Database) -> None:
        self.operation = operation
        self.database = database

    def __call__(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        op = self.operation
        token = self.authenticate(req)
        tokens.authorize(token, op.scope)
        ask = Ask(token.actor, path, _query(op, req), _body(op, req))
        try:
            answer = op.handler(ask)
        except CallCenterError as exc:  # a field it names: where the request gave it
            raise _Invalid(_located(from_error(exc), op, path)) from exc
        if isinstance(answer, files.FileAnswer):  # a recording's audio, with HTTP Range
            files.send(req, resp, answer)
            return
        if answer is None:
            resp.status = falcon.HTTP_204
            return
        if isinstance(answer, File):
            resp.status = falcon.HTTP_200
            resp.content_type = answer.content_type
            resp.set_header("Content-Disposition", f'attachment; filename="{answer.filename}"')
            resp.data = answer.data
            return
        resp.status = falcon.code_to_http_status(op.status)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = answer.model_dump_json().encode()
        next_cursor = getattr(answer, "next", None)
        if op.method == "GET" and isinstance(next_cursor, str):
            resp.set_header("Link", f'<{_next_url(req, next_cursor)}>; rel="next"')

    def authenticate(self, req: falcon.Request) -> tokens.TokenRecord:
        return bearer(self.database, req.get_header("Authorization") or "")


def bearer(database: Database, header: str) -> tokens.TokenRecord:
    """The live token of an ``Authorization: Bearer <token>`` header; refusals raise."""
    kind, _, secret = header.partition(" ")
    if kind.lower() != "bearer" or not secret.strip():
        raise tokens.Unauthenticated(
            "no bearer token: send 'Authorization: Bearer <token>' "
            "(make one with `callcenter token create NAME --scope read`)",
            code="token_missing",
        )
    return tokens.authenticate(database, secret.strip())


def _next_url(req: falcon.Request, cursor: str) -> str:
    params = {k: v for k, v in req.params.items() if k != "cursor"}
    params["cursor"] = cursor
    query = falcon.to_query_str(params, comma_delimited_lists=False, prefix=False)
    return f"{req.prefix}{req.path}?{query}"


def _query(op: Operation, req: falcon.Request) -> Any:
    if op.query is None:
        return None
    values = {k: v[-1] if isinstance(v, list) else v for k, v in req.params.items()}
    try:
        return op.query.model_validate(values)
    except ValidationError as exc:
        raise _Invalid(from_validation(exc, "query")) from None


def _body(op: Operation, req: falcon.Request) -> Any:
    if op.body is None:
        return None
    raw = _raw_body(req)
    if raw.strip() and not (req.content_type or "").startswith("application/json"):
        raise ApiProblem(415, "body_not_json", "body: send it as Content-Type: application/json")
    try:
        return op.body.model_validate_json(raw if raw.strip() else b"{}")
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise ApiProblem(400, "body_invalid", "body: not valid JSON") from None
        raise _Invalid(from_validation(exc, "body")) from None


def _raw_body(req: falcon.Request) -> bytes:
    """The body, at most ``BODY_MAX`` bytes: as long as its Content-Length says, or, without
    one (``Transfer-Encoding: chunked``), up to its end when the server can tell where that
    is (gevent's pywsgi decodes the chunks and says so with ``wsgi.input_terminated``)."""
    too_large = ApiProblem(413, "body_too_large", f"body: larger than {BODY_MAX} bytes")
    length = req.content_length
    if length is not None:
        if length > BODY_MAX:
            raise too_large
        return req.bounded_stream.read(length) if length else b""
    if not req.env.get("wsgi.input_terminated"):
        if req.get_header("Transfer-Encoding"):  # a body this server cannot delimit
            raise ApiProblem(411, "length_required", "body: send it with a Content-Length")
        return b""
    try:
        raw: bytes = req.stream.read(BODY_MAX + 1)
    except (OSError, ValueError):  # pywsgi: a chunk size that is not hex, a cut-off chunk
        raise ApiProblem(400, "body_invalid", "body: malformed chunked encoding") from None
    if len(raw) > BODY_MAX:
        raise too_large
    return raw


def _located(body: Problem, op: Operation, path: dict[str, str]) -> Problem:
    """A service's refusal names the field as the CLI does (``reason``); the API says where
    it was given (``body.reason``), as its own validation does: one path for one field."""
    for error in body.errors or ():
        name = re.split(r"[.\[ ]", error.field, maxsplit=1)[0]
        where = next((w for w, names in _fields(op, path) if name in names), None)
        if where is not None:
            error.field = f"{where}.{error.field}"
    return body


def _fields(op: Operation, path: dict[str, str]) -> Iterator[tuple[str, set[str]]]:
    yield "path", set(path)
    for where, model in (("body", op.body), ("query", op.query)):
        if model is not None:
            fields = model.model_fields
            yield where, {f.alias or name for name, f in fields.items()} | set(fields)


class _Invalid(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


class _PathResource:
    """Falcon finds responders as ``on_<method>`` attributes: one per operation."""

    def __init__(self, responders: dict[str, _Responder]) -> None:
        for method, responder in responders.items():
            setattr(self, f"on_{method.lower()}", responder)


def build_falcon(
    operations: Iterable[Operation], database: Database
) -> falcon.App[falcon.Request, falcon.Response]:
    app: falcon.App[falcon.Request, falcon.Response] = falcon.App()
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.auto_parse_qs_csv = False
    by_path: dict[str, dict[str, _Responder]] = {}
    for op in operations:
        by_path.setdefault(op.path, {})[op.method] = _Responder(op, database)
        if op.method == "GET":  # HEAD: the GET's status and headers; Falcon sends no body
            by_path[op.path].setdefault("HEAD", by_path[op.path]["GET"])
    for path, responders in by_path.items():
        app.add_route(path, _PathResource(responders))
    # falcon's own HTTPError (unknown path, method not allowed) has a handler of its own:
    # a more specific class must be named to be answered as problem+json too
    app.add_error_handler(Exception, _on_error)
    app.add_error_handler(falcon.HTTPError, _on_error)
    return app


def _on_error(req: falcon.Request, resp: falcon.Response, ex: Exception, _params: Any) -> None:
    if isinstance(ex, _Invalid):
        body = ex.problem
    elif isinstance(ex, ApiProblem):
        body = make_problem(ex.status, ex.code, ex.detail, ex.errors)
    elif isinstance(ex, CallCenterError):
        body = from_error(ex)
    elif isinstance(ex, falcon.HTTPError):
        status = ex.status_code
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
        detail = ex.description or ex.title or "refused"
        if status == 404:
            detail = f"no such resource: {req.path} (see /api/v1/openapi.json)"
        body = make_problem(status, code, detail)
        allow = (ex.headers or {}).get("Allow") if isinstance(ex.headers, dict) else None
        if allow:  # 405: the methods this path has
            resp.set_header("Allow", allow)
    else:  # a bug: the traceback goes to the log, the client gets no internals
        log.exception("API %s %s failed", req.method, req.path)
        body = make_problem(500, "internal_error", "internal error (logged by the engine)")
    _problem_response(resp, body)
