"""A month of a 50-agent centre in a callcenter database, for the reports' benchmark.

Run: .venv/bin/python tests/benchmarks/gen_reports.py DATABASE_URL [--calls 1000000]
         [--agents 50] [--queues 5] [--days 30] [--start 2026-11-01] [--seed 1]

The database must be migrated and hold no queues or agents yet (``callcenter db upgrade``).
Written with PostgreSQL's COPY (text format, in chunks), about 1 to 3 minutes for 1M calls:
- ``--queues`` queues (the first in Europe/Paris, the others in the engine's zone), every
  agent a member of two of them;
- ``--calls`` inbound calls spread over ``--days`` days between 08:00 and 20:00 UTC, each
  with its CDR and its stay: 84 % answered (wait 0-60 s, talk 30-400 s, hold, wrap-up),
  10 % abandoned (a third of them short), 3 % overflowed to the next queue (a second stay,
  answered there), 2 % callbacks, 1 % timeouts; callers drawn from 200,000 numbers (FCR);
- the agents' status history: a login and a logout per day, a lunch pause, and for each
  answered call in_call, wrap_up, idle.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

CHUNK = 50_000

CDR_COLUMNS = (
    "call_uuid", "direction", "node", "from_number", "from_name", "to_number", "did", "queue",
    "agent_extension", "started_at", "answered_at", "ended_at", "ring_ms", "ivr_ms",
    "queue_wait_ms", "talk_ms", "hold_ms", "wrapup_ms", "total_ms", "hangup_cause",
    "hangup_by", "disposition", "ivr_path", "source", "written_at", "transfers",
)  # fmt: skip
STAY_COLUMNS = (
    "queue_id", "call_uuid", "ticket", "priority", "position_at_join", "joined_at",
    "offered_at", "offers", "answered_at", "agent_id", "left_at", "outcome",
)  # fmt: skip
HISTORY_COLUMNS = ("agent_id", "status", "state", "reason", "at")
NULL = "\\N"


def _ts(value: datetime | None) -> str:
    return NULL if value is None else value.isoformat()


class Copier:
    """Rows into one table through COPY, a chunk at a time."""

    def __init__(self, cursor: object, table: str, columns: tuple[str, ...]) -> None:
        self.cursor, self.table, self.columns = cursor, table, columns
        self.buffer = io.StringIO()
        self.rows = self.total = 0

    def add(self, *values: object) -> None:
        self.buffer.write("\t".join(NULL if v is None else str(v) for v in values) + "\n")
        self.rows += 1
        if self.rows >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        sql = f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN"
        with self.cursor.copy(sql) as copy:  # type: ignore[attr-defined]
            copy.write(self.buffer.getvalue())
        self.total += self.rows
        self.buffer, self.rows = io.StringIO(), 0


def _arrivals(calls: int, days: int, start: datetime, rng: random.Random) -> Iterator[datetime]:
    """Call starts in time order: between 08:00 and 20:00 each day."""
    per_day = calls // days
    for day in range(days):
        opening = start + timedelta(days=day, hours=8)
        offsets = sorted(rng.uniform(0, 12 * 3600) for _ in range(per_day))
        for offset in offsets:
            yield opening + timedelta(seconds=offset)


def generate(
    url: str,
    *,
    calls: int = 1_000_000,
    agents: int = 50,
    queues: int = 5,
    days: int = 30,
    start: datetime | None = None,
    seed: int = 1,
) -> dict[str, int]:
    rng = random.Random(seed)
    start = start or datetime(2026, 11, 1, tzinfo=UTC)
    engine = create_engine(url)
    with engine.begin() as conn:
        for i in range(queues):
            zone = "'Europe/Paris'" if i == 0 else "NULL"
            conn.execute(text(
                "INSERT INTO queues (name, strategy, max_wait_seconds, max_callers, "
                "agent_ring_seconds, service_level_seconds, music_on_hold, announcements, "
                "announce_position_seconds, recording_policy, recording_sample_percent, "
                "callback_enabled, routing, created_at, time_zone) VALUES "
                f"('q{i}', 'longest_idle', 600, 0, 20, 20, 'moh', '{{}}', 0, 'none', 100, "
                f"false, '{{}}', now(), {zone})"))  # fmt: skip
        for a in range(agents):
            conn.execute(text(
                "INSERT INTO agents (extension, display_name, wrapup_seconds, status, state, "
                "auto_answer, on_demand, pin_failures, routing, status_changed_at, created_at) "
                f"VALUES ('{1000 + a}', 'Agent {a}', 10, 'logged_out', 'idle', false, false, "
                "0, '{}', now(), now())"))  # fmt: skip
        queue_ids = [r[0] for r in conn.execute(text("SELECT id FROM queues ORDER BY name"))]
        agent_ids = [r[0] for r in conn.execute(text("SELECT id FROM agents ORDER BY id"))]
        for n, agent_id in enumerate(agent_ids):
            for q in (n % queues, (n + 1) % queues):
                conn.execute(text("INSERT INTO queue_members (queue_id, agent_id, tier, position) "
                                  f"VALUES ({queue_ids[q]}, {agent_id}, 1, 1)"))  # fmt: skip
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # the rows are consistent by construction: no per-row foreign key triggers (a
        # superuser's session, as the benchmark's scratch database has; else they run)
        cursor.execute("SAVEPOINT replica")
        try:
            cursor.execute("SET LOCAL session_replication_role = replica")
        except Exception:  # not a superuser: the triggers run, slower
            cursor.execute("ROLLBACK TO SAVEPOINT replica")
        counts = _fill(cursor, rng, calls, days, start, queue_ids, agent_ids)
        raw.commit()
    finally:
        raw.close()
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()
    return counts


def _fill(cursor: object, rng: random.Random, calls: int, days: int, start: datetime,
          queue_ids: list[int], agent_ids: list[int]) -> dict[str, int]:  # fmt: skip
    cdrs = Copier(cursor, "cdrs", CDR_COLUMNS)
    stays = Copier(cursor, "queue_entries", STAY_COLUMNS)
    history = Copier(cursor, "agent_status_history", HISTORY_COLUMNS)
    for day in range(days):
        for agent_id in agent_ids:
            opening = start + timedelta(days=day, hours=8)
            history.add(agent_id, "available", "idle", "login", _ts(opening))
            lunch = opening + timedelta(hours=4, minutes=rng.randint(0, 60))
            history.add(agent_id, "paused", "idle", "lunch", _ts(lunch))
            history.add(agent_id, "available", "idle", None, _ts(lunch + timedelta(minutes=45)))
            history.add(agent_id, "logged_out", "idle", None, _ts(opening + timedelta(hours=12)))
    queues = len(queue_ids)
    for started in _arrivals(calls, days, start, rng):
        call = str(uuid.UUID(int=rng.getrandbits(128)))
        q = rng.randrange(queues)
        caller = f"+3361{rng.randrange(200_000):06d}"
        roll = rng.random()
        wait = rng.uniform(0, 60)
        joined = started + timedelta(seconds=5)
        outcome = (
            "answered"
            if roll < 0.84
            else "abandoned"
            if roll < 0.94
            else "overflow"
            if roll < 0.97
            else "callback"
            if roll < 0.99
            else "timeout"
        )
        if outcome == "abandoned" and rng.random() < 0.33:
            wait = rng.uniform(0, 5)
        left = joined + timedelta(seconds=wait)
        queue = q
        if outcome == "overflow":  # answered in the next queue after a second wait
            stays.add(queue_ids[q], call, f"{call}-a", 0, 1, _ts(joined), NULL, 0, NULL,
                      NULL, _ts(left), "overflow")  # fmt: skip
            queue, joined = (q + 1) % queues, left
            left = joined + timedelta(seconds=rng.uniform(0, 30))
            outcome = "answered"
        answered = outcome == "answered"
        agent_index = rng.randrange(len(agent_ids))
        agent_id = agent_ids[agent_index] if answered else None
        talk = rng.uniform(30, 400) if answered else 0.0
        hold = rng.choice((0.0, 0.0, 0.0, rng.uniform(5, 60))) if answered else 0.0
        wrap = 10.0 if answered else 0.0
        stays.add(
            queue_ids[queue],
            call,
            f"{call}-b",
            0,
            1,
            _ts(joined),
            _ts(joined) if answered else NULL,
            1 if answered else 0,
            _ts(left) if answered else NULL,
            agent_id or NULL,
            _ts(left),
            outcome,
        )
        ended = left + timedelta(seconds=talk + hold)
        extension = str(1000 + agent_index) if answered else None
        cdrs.add(call, "inbound", "fs1", caller, "", "3001", "3001", f"q{queue}", extension,
                 _ts(started), _ts(left) if answered else NULL, _ts(ended), 0, 5000,
                 int((left - joined).total_seconds() * 1000), int(talk * 1000), int(hold * 1000),
                 int(wrap * 1000), int((ended - started).total_seconds() * 1000),
                 "NORMAL_CLEARING", "caller", "answered" if answered else "abandoned", "[]",
                 "engine", _ts(ended), 0)  # fmt: skip
        if answered:
            history.add(agent_id, "available", "in_call", None, _ts(left))
            history.add(agent_id, "available", "wrap_up", None, _ts(ended))
            history.add(agent_id, "available", "idle", None, _ts(ended + timedelta(seconds=wrap)))
    for copier in (cdrs, stays, history):
        copier.flush()
    return {"cdrs": cdrs.total, "stays": stays.total, "history": history.total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--queues", type=int, default=5)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", type=datetime.fromisoformat, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    began = time.monotonic()
    start = args.start.replace(tzinfo=UTC) if args.start else None
    counts = generate(args.database_url, calls=args.calls, agents=args.agents,
                      queues=args.queues, days=args.days, start=start, seed=args.seed)  # fmt: skip
    print(f"generated {counts} in {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
