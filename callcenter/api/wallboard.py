"""``/wallboard``: the live snapshot both wallboards show (``callcenter top`` and the page at
``/wallboard``), refreshed by them when the event stream says something changed."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from callcenter.api.env import ApiEnv
from callcenter.api.routing import Ask, Operation
from callcenter.kpi.formulas import QueueTally
from callcenter.services import agents, queues
from callcenter.store.models.tokens import TokenScope
from callcenter.store.records import QueueRecord
from callcenter.wallboard import snapshot
from callcenter.wallboard.snapshot import Wallboard
from callcenter.wallboard.tally import Tally

TAG = "wallboard"


def queue_counts(tally: Tally | None, queue: QueueRecord, now: float) -> QueueTally:
    """The one place the wallboard's per-queue counts come from (the event tally over its
    window, with the queue's T and short-abandon threshold)."""
    if tally is None:
        return QueueTally()
    return tally.counts(queue.name, queue.service_level_seconds, queue.short_abandon_seconds, now)


def operations(env: ApiEnv) -> list[Operation]:
    def show_wallboard(ask: Ask) -> Wallboard:
        live = env.require_live()
        records = queues.list_queues(env.database)
        board = live.agents()
        waiting = {q.name: live.callers(q.name) for q in records}
        names = {e.agent.extension: e.agent.display_name for e in agents.list_agents(env.database)}
        now = time.time()
        tally = env.tally
        return snapshot.build(
            datetime.fromtimestamp(now, UTC),
            records,
            board,
            waiting,
            names,
            lambda q: queue_counts(tally, q, now),
            tally.on_call if tally is not None else lambda _ext: None,
            tally.window if tally is not None else 0.0,
        )

    return [
        Operation("GET", "/wallboard", TokenScope.READ, show_wallboard,
                  "Every queue's and agent's live figures, for a wallboard", TAG, Wallboard,
                  errors=(401, 403, 503),
                  description=f"Service level {snapshot.SL_FORMULA}; abandon rate = "
                  f"{snapshot.ABANDON_FORMULA}; over the last window_seconds."),
    ]  # fmt: skip
