"""Cursor pagination: ``?limit=&cursor=`` in, ``{"items": [...], "next": cursor}`` out.

A cursor is opaque to clients (base64url of a small JSON array); here it is the sort key
of the last item given, so a page never repeats or skips an item when others are added
or removed meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from callcenter.api.problems import ApiProblem

T = TypeVar("T")
Key = list[Any]
LIMIT_MAX = 500


class PageQuery(BaseModel):
    limit: int = Field(50, ge=1, le=LIMIT_MAX, description="Items per page.")
    cursor: str | None = Field(
        None, max_length=2048, description="The `next` of the previous page."
    )


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(description="Cursor of the next page; null on the last one.")


def encode_cursor(key: Key) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or not key:
        raise ApiProblem(400, "cursor_invalid", "cursor: not a cursor this API gave")
    return key


def paginate(
    items: Sequence[T], key: Callable[[T], Key], query: PageQuery
) -> tuple[list[T], str | None]:
    """One page of ``items`` sorted by ``key`` (unique per item), after the cursor."""
    ordered = sorted(items, key=key)
    if query.cursor is not None:
        after = decode_cursor(query.cursor)
        try:
            ordered = [i for i in ordered if key(i) > after]
        except TypeError:
            raise ApiProblem(400, "cursor_invalid", "cursor: not a cursor of this list") from None
    page = ordered[: query.limit]
    more = len(ordered) > query.limit
    return page, encode_cursor(key(page[-1])) if more and page else None
