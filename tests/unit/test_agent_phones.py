"""Agents' phone settings as the engine reads them (``phone.offers.AgentPhones``)."""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, cast

import gevent
import pytest

from callcenter.phone import offers
from callcenter.phone.offers import AgentPhones


class Table:
    """The agents' table; a read may be held half-way (begun, its rows not yet back)."""

    def __init__(self) -> None:
        self.recording: str | None = None
        self.hold = gevent.event.Event()
        self.hold.set()
        self.reads = 0

    @contextmanager
    def session_scope(self) -> Iterator[Table]:
        yield self

    def all(self) -> list[Any]:
        self.reads += 1
        seen = self.recording  # what the read sees: the table as it was when it began
        self.hold.wait()
        agent = SimpleNamespace(
            extension="2301", display_name="Ann", auto_answer=False, whisper=None,
            outbound_caller_id=None, recording_policy=seen,
        )  # fmt: skip
        return [agent]


def test_a_change_told_while_a_read_is_under_way_is_read_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = Table()
    monkeypatch.setattr(offers, "AgentRepository", lambda session: session)
    phones = AgentPhones(cast(Any, table))
    table.hold.clear()
    reader = gevent.spawn(phones.get, "2301")  # a call's offer reads the table...
    gevent.sleep(0.01)
    table.recording = "never"  # ...an operator's change is committed meanwhile...
    phones.changed("2301")  # ...and told, before that read comes back
    table.hold.set()
    reader.join(timeout=2)
    phone = phones.get("2301")
    assert phone is not None and phone.recording == "never"
    assert table.reads == 2
    assert phones.get("2301") is phone and table.reads == 2  # read, then kept for the ttl
