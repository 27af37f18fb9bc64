"""API bearer tokens: made here, shown once, stored as a SHA-256 hash, revoked by name.

A token is ``cc_`` and 43 random URL-safe characters (256 bits): a hash without a salt
is enough for a secret that cannot be guessed, and lets a request find its token by one
indexed lookup. No token exists until an operator makes one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from callcenter.errors import AlreadyExists, CallCenterError, DomainError, NotFound
from callcenter.services import checks
from callcenter.services.actor import Actor
from callcenter.services.changes import audited
from callcenter.store.base import utcnow
from callcenter.store.database import Database
from callcenter.store.models.tokens import ApiToken, TokenScope

PREFIX = "cc_"
NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


class Unauthenticated(CallCenterError):
    """No token, or one that is unknown or revoked (HTTP 401)."""

    code = "unauthenticated"


class Forbidden(CallCenterError):
    """A valid token whose scope does not cover the operation (HTTP 403)."""

    code = "forbidden"


@dataclass(frozen=True, slots=True)
class TokenRecord:
    name: str
    scope: TokenScope
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None

    @property
    def actor(self) -> Actor:
        return Actor("api", self.name)


@dataclass(frozen=True, slots=True)
class NewToken:
    token: TokenRecord
    secret: str  # shown once, never stored


def _record(row: ApiToken) -> TokenRecord:
    return TokenRecord(row.name, row.scope, row.created_at, row.created_by, row.revoked_at)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def scope(value: str) -> TokenScope:
    try:
        return TokenScope(value)
    except ValueError:
        allowed = ", ".join(s.value for s in TokenScope)
        raise checks.InvalidArgument(
            "scope", f"{checks.shown(value)}: expected one of {allowed}"
        ) from None


def name(value: str) -> str:
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise checks.InvalidArgument(
            "name", f"{checks.shown(str(value))}: expected 1-64 of a-z 0-9 . _ - (a letter or "
            "digit first)"
        )  # fmt: skip
    return value


def create(db: Database, who: Actor, token_name: str, token_scope: str) -> NewToken:
    """A new token with ``token_scope``; a revoked token's name may be used again."""
    name(token_name)
    level = scope(token_scope)
    secret = PREFIX + secrets.token_urlsafe(32)
    with db.session_scope() as session:
        existing = session.scalar(select(ApiToken).where(ApiToken.name == token_name))
        if existing is not None:
            if existing.revoked_at is None:
                raise AlreadyExists(f"token {token_name!r} already exists", code="token_exists")
            session.execute(delete(ApiToken).where(ApiToken.id == existing.id))
        row = ApiToken(
            name=token_name,
            scope=level,
            token_hash=digest(secret),
            created_by=str(who),
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        audited(session, who, "token.create", token_name, {"scope": str(level)})
        return NewToken(_record(row), secret)


def list_tokens(db: Database) -> list[TokenRecord]:
    """Every token by name, revoked ones included (with when)."""
    with db.session_scope() as session:
        return [_record(r) for r in session.scalars(select(ApiToken).order_by(ApiToken.name))]


def revoke(db: Database, who: Actor, token_name: str) -> TokenRecord:
    """Refused from the next request on, by every engine (each request reads the table)."""
    name(token_name)
    with db.session_scope() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == token_name))
        if row is None:
            raise NotFound(f"no token {token_name!r}", code="token_not_found")
        if row.revoked_at is not None:
            raise DomainError(f"token {token_name!r} is already revoked", code="token_revoked")
        row.revoked_at = utcnow()
        session.flush()
        audited(session, who, "token.revoke", token_name)
        return _record(row)


def discard(db: Database, who: Actor, token_name: str) -> None:
    """A token made for one run (``top``, ``campaign show`` beside the database) deleted at
    its end: refused from then on like a revoked one, and not listed for good; the audit
    log keeps that it was made and discarded."""
    name(token_name)
    with db.session_scope() as session:
        session.execute(delete(ApiToken).where(ApiToken.name == token_name))
        audited(session, who, "token.discard", token_name)


def authenticate(db: Database, secret: str) -> TokenRecord:
    """The live token whose secret this is; ``Unauthenticated`` otherwise."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise Unauthenticated("unknown token", code="token_invalid")
    return by_digest(db, digest(secret))


def by_digest(db: Database, token_hash: str) -> TokenRecord:
    """The live token with this hash (a session made from it names it so); ``Unauthenticated``
    otherwise."""
    with db.session_scope() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
        if row is None:
            raise Unauthenticated("unknown token", code="token_invalid")
        if row.revoked_at is not None:
            raise Unauthenticated(f"token {row.name!r} was revoked", code="token_revoked")
        return _record(row)


def authorize(token: TokenRecord, needed: TokenScope) -> None:
    if not token.scope.allows(needed):
        raise Forbidden(
            f"token {token.name!r} has scope {token.scope}; this needs {needed}",
            code="scope_insufficient",
        )
