"""The dialer's watcher: when it reads the running campaigns (``Dialer._watch``)."""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on
from datetime import UTC, datetime
from typing import Any, cast

import gevent
import pytest

from callcenter.dialer import runner
from callcenter.dialer.runner import Dialer
from callcenter.errors import DatabaseUnavailable
from callcenter.services.changes import Change, ChangeKind
from tests.support import until


def test_reads_at_start_on_a_start_notice_and_soon_again_after_a_refused_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a change it reads every RESCAN (five minutes: a start reaches it through
    the change feed); a read the database refused is tried again after RETRY."""
    monkeypatch.setattr(runner, "RETRY", 0.05)
    reads: list[str] = []
    dialer = Dialer(cast(Any, None), cast(Any, None), cast(Any, None), cast(Any, None))

    def sync() -> None:
        reads.append("read")
        if len(reads) == 1:
            raise DatabaseUnavailable("database away")

    monkeypatch.setattr(dialer, "sync", sync)
    dialer.start()
    try:
        until(lambda: len(reads) == 2, timeout=2)  # refused, then read again soon
        gevent.sleep(0.2)
        assert len(reads) == 2  # read: the next one is RESCAN away
        assert runner.RESCAN >= 60
        dialer.changed(Change(1, datetime.now(UTC), ChangeKind.CAMPAIGN, "spring", "start", "cli"))
        until(lambda: len(reads) == 3, timeout=2)
    finally:
        assert dialer._greenlet is not None
        dialer._greenlet.kill()
