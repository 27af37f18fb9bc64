"""Writer benchmark: engine CPU per database batch, by what the batch holds.

Run: .venv/bin/python tests/benchmarks/bench_writer.py [--calls 400]
         [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

A scratch PostgreSQL database is created on the server named (the default: the local one)
and dropped at the end; ``--database-url sqlite`` uses SQLite in a temp dir. The
``DurableWriter`` writes batches exactly as in the engine (its held connection, the
statements of ``store.statements``), called here in this greenlet so that each batch's CPU
(``time.process_time``) is its own: the Python side (SQLAlchemy, psycopg) and nothing else.

Batches measured, each ``--calls`` times:
- one record: a call created (parked, one leg), the same call answered (a state change:
  an UPDATE of the columns that changed), the call ended, its CDR;
- the writer's 0.5 s window at 10 calls/s: 5 calls created, 5 others ended with their CDRs;
- 100 calls created at once (a burst at 500 calls/s);
- the same 0.5 s window with the events its calls publish for the outbox (issue 12): a
  call.created per call created, a call.ended (with its CDR) per call ended; and one event
  alone (the PostgreSQL outbox lock and one insert).

Target (issue 9): a batch of one record under 0.5 ms of CPU.

``--per-statement``: on PostgreSQL, BEGIN, each statement and COMMIT their own round trip,
as before the writer's transaction went in one psycopg pipeline (``store.direct``).
"""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401

# isort: on
import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_calls import database_url  # the scratch database, made and dropped the same way
from prometheus_client import CollectorRegistry

from callcenter.events.outbox import record_of
from callcenter.events.types import CallCreated, CallEnded
from callcenter.store import migrate
from callcenter.store.codec import encode
from callcenter.store.database import Database
from callcenter.store.records import CallRecord, CdrRecord, LegRecord
from callcenter.store.spool import Spool
from callcenter.store.writer import DurableWriter, Record, WriterMetrics
from callcenter.vocabulary import CallState, Direction, Disposition, HangupBy, LegRole

TARGET_ONE_RECORD_MS = 0.5
T0 = datetime.now(UTC).replace(microsecond=0)  # calls of now: a CDR of an hour-old interval also
# reads its rolled-up report bucket again (report_totals.unroll), which a live call never does


class Call:
    """The records one playback call hands the writer over its life."""

    def __init__(self, n: int) -> None:
        self.uuid = str(uuid.uuid4())
        start = T0 + timedelta(seconds=n)
        leg = LegRecord(
            uuid=self.uuid,
            role=LegRole.CALLER,
            direction=Direction.INBOUND,
            channel_name=f"sofia/callcenter-carriers/1555{n:07d}@127.0.0.1",
            from_number=f"1555{n:07d}",
            to_number="7100",
            created_at=start,
        )
        self.created = CallRecord(
            uuid=self.uuid,
            direction=Direction.INBOUND,
            state=CallState.PARKED,
            node="fs1",
            from_number=leg.from_number,
            from_name="Bench Caller",
            to_number="7100",
            did="7100",
            created_at=start,
            legs=(leg,),
        )
        answered_at = start + timedelta(milliseconds=30)
        self.answered = replace(
            self.created,
            state=CallState.ANSWERED,
            answered_at=answered_at,
            legs=(replace(leg, answered_at=answered_at),),
        )
        ended_at = start + timedelta(seconds=20)
        self.ended = replace(
            self.answered,
            state=CallState.ENDED,
            ended_at=ended_at,
            hangup_cause="NORMAL_CLEARING",
            disposition=Disposition.IVR_COMPLETED,
            legs=(replace(leg, answered_at=answered_at, ended_at=ended_at),),
        )
        self.cdr = CdrRecord(
            call_uuid=self.uuid,
            direction=Direction.INBOUND,
            node="fs1",
            from_number=leg.from_number,
            from_name="Bench Caller",
            to_number="7100",
            did="7100",
            started_at=start,
            answered_at=answered_at,
            ended_at=ended_at,
            ring_ms=30,
            total_ms=20_000,
            hangup_cause="NORMAL_CLEARING",
            hangup_by=HangupBy.SYSTEM,
            disposition=Disposition.IVR_COMPLETED,
        )
        caller = {"call_uuid": self.uuid, "caller_number": leg.from_number,
                  "caller_name": "Bench Caller"}  # fmt: skip
        self.created_event = record_of(CallCreated(**caller, did="7100"))
        self.ended_event = record_of(
            CallEnded(**caller, disposition="ivr_completed", hangup_cause="NORMAL_CLEARING",
                      hangup_by="system", cdr=encode(self.cdr))
        )  # fmt: skip


def timed(writer: DurableWriter, batches: Sequence[list[Record]]) -> list[float]:
    cpu = []
    for batch in batches:
        started = time.process_time()
        writer._handle(batch)  # the writer greenlet's own step, here in this greenlet
        cpu.append(time.process_time() - started)
    if writer.spooling:
        raise RuntimeError("the database went away during the benchmark")
    return cpu


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, records: int, cpu: list[float], target: float | None = None) -> None:
    p50, p95 = quantile(cpu, 0.5) * 1000, quantile(cpu, 0.95) * 1000
    verdict = "" if target is None else ("PASS" if p50 < target else "MISS")
    goal = "" if target is None else f"< {target:g} ms"
    print(
        f"{name:34s} {records:4d} rec  p50 {p50:6.3f} ms  p95 {p95:6.3f} ms  "
        f"{p50 / records:6.3f} ms/rec  {goal:9s} {verdict}"
    )


def run(url: str, calls: int, tmp: Path, pipelined: bool = True) -> None:
    database = Database(url)
    database.pipelined = pipelined
    migrate.upgrade(database)
    writer = DurableWriter(database, Spool(tmp / "spool"), WriterMetrics(CollectorRegistry()))
    try:
        warm = [Call(-1 - n) for n in range(20)]
        timed(writer, [[r] for c in warm for r in (c.created, c.answered, c.ended, c.cdr)])
        lives = [Call(n) for n in range(calls)]
        how = (
            ""
            if database.dialect != "postgresql"
            else (", one pipeline a batch" if pipelined else ", a round trip a statement")
        )
        print(f"\n== writer batches ({database.dialect}{how}, {calls} of each)")

        def one(kind: str) -> list[list[Record]]:
            return [[getattr(c, kind)] for c in lives]

        results = {kind: timed(writer, one(kind)) for kind in ("created", "answered")}
        results["ended"] = timed(writer, one("ended"))
        results["cdr"] = timed(writer, one("cdr"))
        for kind, label in (
            ("created", "a call created (upsert)"),
            ("answered", "a call answered (update)"),
            ("ended", "a call ended (update)"),
            ("cdr", "a CDR (insert once)"),
        ):
            report(label, 1, results[kind], TARGET_ONE_RECORD_MS)
        # a 0.5 s window at 10 calls/s (20 s calls): 5 calls created, 5 others ended + CDRs
        fresh = [Call(calls + n) for n in range(5 * calls)]
        rounds = max(1, calls // 5)
        timed(writer, [[c.created for c in fresh[5 * i : 5 * i + 5]] for i in range(rounds)])
        window = [
            [r for c in fresh[5 * i : 5 * i + 5] for r in (c.ended, c.cdr)]
            + [c.created for c in fresh[5 * (rounds + i) : 5 * (rounds + i) + 5]]
            for i in range(rounds)
        ]
        report("0.5 s window at 10 calls/s", 15, timed(writer, window))
        more = [Call(20 * calls + n) for n in range(10 * rounds)]
        timed(writer, [[c.created for c in more[5 * i : 5 * i + 5]] for i in range(rounds)])
        with_events = [
            [r for c in more[5 * i : 5 * i + 5] for r in (c.ended, c.cdr, c.ended_event)]
            + [r for c in more[5 * (rounds + i) : 5 * (rounds + i) + 5]
               for r in (c.created, c.created_event)]
            for i in range(rounds)
        ]  # fmt: skip
        report("the same window + its 10 events", 25, timed(writer, with_events))
        report("an event alone (outbox)", 1, timed(writer, [[c.created_event] for c in lives]))
        bursts = [
            [Call(10 * calls + 100 * i + n).created for n in range(100)]
            for i in range(max(1, calls // 40))
        ]
        report("a burst: 100 calls created", 100, timed(writer, bursts))
    finally:
        writer.stop()
        database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server (a scratch database is created on it), or 'sqlite'",
    )
    parser.add_argument(
        "--per-statement",
        action="store_true",
        help="PostgreSQL: each statement its own round trip (BEGIN and COMMIT too), as "
        "before the writer's transaction went in one pipeline, for comparison",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="cc-bench-writer-") as tmp,
        database_url(
            None if args.database_url == "sqlite" else args.database_url, Path(tmp)
        ) as url,
    ):
        run(url, args.calls, Path(tmp), pipelined=not args.per_statement)
    return 0


if __name__ == "__main__":
    sys.exit(main())
