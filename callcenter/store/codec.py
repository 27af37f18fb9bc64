"""The repositories' plain records to JSON and back, for the spool (types from annotations)."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import datetime
from functools import cache
from typing import Any

from callcenter.store import records

RECORD_TYPES: dict[str, type[Any]] = {
    name: cls
    for name, cls in vars(records).items()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls)
}


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def decode_record(kind: str, data: dict[str, Any]) -> Any:
    cls = RECORD_TYPES.get(kind)
    if cls is None:
        raise ValueError(f"unknown record kind {kind!r}")
    return _decode(cls, data)


@cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(records))


def _decode(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(args[0], value)
    if origin is tuple:
        item = typing.get_args(tp)[0]
        return tuple(_decode(item, v) for v in value)
    if origin in (list, dict) or tp is Any:
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        return tp(**{k: _decode(hints[k], v) for k, v in value.items() if k in hints})
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if tp is datetime:
        return datetime.fromisoformat(value)
    return value
