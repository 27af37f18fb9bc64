"""Errors as ``application/problem+json`` (RFC 9457), with the CLI's stable codes.

The status says what kind of refusal it is; ``code`` says which one, as the CLI prints it
(``error: <detail> [<code>]``). Bad input is never a 5xx.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from callcenter.errors import (
    AlreadyExists,
    CallCenterError,
    DatabaseUnavailable,
    DomainError,
    ESLError,
    InvalidTransition,
    NotFound,
)
from callcenter.services.tokens import Forbidden, Unauthenticated

PROBLEM_JSON = "application/problem+json"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class FieldError(BaseModel):
    field: str = Field(description="Where: body.<name>, query.<name> or path.<name>.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; ``code`` is the stable code the CLI prints too."""

    type: str = Field(default="about:blank")
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None


class ApiProblem(Exception):
    """A refusal made by the API layer itself (a malformed body, a bad cursor)."""

    def __init__(
        self, status: int, code: str, detail: str, errors: list[FieldError] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.errors = status, code, detail, errors


def status_of(exc: CallCenterError) -> int:
    if isinstance(exc, Unauthenticated):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, AlreadyExists | InvalidTransition):
        return 409
    if type(exc) is DomainError:  # a precondition on the current state ("already paused")
        return 409
    if isinstance(exc, DatabaseUnavailable | ESLError) or exc.code == "acd_busy":
        return 503
    return 422  # the input is understood but refused (a bad field, a bad target)


def problem(status: int, code: str, detail: str, errors: list[FieldError] | None = None) -> Problem:
    return Problem(
        title=_TITLES.get(status, "Error"), status=status, detail=detail, code=code, errors=errors
    )


def from_error(exc: CallCenterError) -> Problem:
    errors = None
    field, reason = getattr(exc, "field", None), getattr(exc, "reason", None)
    if isinstance(field, str) and isinstance(reason, str):  # services.checks.InvalidArgument
        errors = [FieldError(field=field, message=reason)]
    listed = getattr(exc, "errors", None)  # e.g. every error of the flows refused
    if isinstance(listed, tuple | list) and all(isinstance(e, str) for e in listed):
        errors = [FieldError(field="", message=e) for e in listed[:100]]
    return problem(status_of(exc), exc.code, exc.message, errors or None)


def from_validation(exc: ValidationError, where: str) -> Problem:
    errors = [FieldError(field=_location(where, e), message=e["msg"]) for e in exc.errors()]
    first = errors[0] if errors else FieldError(field=where, message="invalid")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return problem(422, "invalid_argument", f"{first.field}: {first.message}{more}", errors)


def _location(where: str, error: Any) -> str:
    parts = [str(p) for p in error.get("loc", ())]
    return ".".join([where, *parts]) if parts else where
