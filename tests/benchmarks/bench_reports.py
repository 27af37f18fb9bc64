"""Reports benchmark: a month of a 50-agent centre (about 1M CDRs, their stays and the
agents' status history) reported in under 2 s.

Run: .venv/bin/python tests/benchmarks/bench_reports.py [--calls 1000000] [--repeat 3]
         [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--keep]

A scratch database is created on the server named, migrated, filled by
``tests/benchmarks/gen_reports.py`` (COPY, a few minutes) and dropped at the end (``--keep``
keeps it and prints its URL). The stored totals (15-minute stays and calls, days of agent
time) are then rolled up once, as the engine's rollup does every few minutes (its time
printed). Each report of ``callcenter.services.reports`` runs over the whole month (all
queues, all agents) ``--repeat`` times after one warm-up run, from the totals and then
with stays and calls from the raw rows alone (as before migration 0023); the best and the
worst time are printed beside the target. A benchmark, not a test: it exits 0 unless the
run itself broke.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.services import reports
from callcenter.services.reports import Interval, Period
from callcenter.store import migrate
from callcenter.store.database import Database
from callcenter.store.repos.report_totals import QueueTotals, Split, roll_settled
from tests.benchmarks.gen_reports import generate

TARGET = 2.0
START = datetime(2026, 11, 1, tzinfo=UTC)


def _timed(run: Callable[[], object], repeat: int) -> tuple[float, float, int]:
    began = time.perf_counter()
    rows = run()  # warm-up: the server's caches (and the first report rolls up agent time)
    print(f"  first run {time.perf_counter() - began:.2f} s", flush=True)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - began)
    return min(times), max(times), len(rows)  # type: ignore[arg-type]


def report(database: Database, repeat: int) -> None:
    month = Period(START, START + timedelta(days=30))
    runs = {
        "report queues (month, 5 queues + centre)": lambda: reports.queues_report(
            database, month),
        "report agents (month, 50 agents)": lambda: reports.agents_report(database, month),
        "report intervals --by day (month)": lambda: reports.intervals_report(
            database, Period(month.since, month.until, by=Interval.DAY)),
        "report intervals --by hour (month)": lambda: reports.intervals_report(
            database, Period(month.since, month.until, by=Interval.HOUR)),
        "report intervals --by 15m --queue q0 (month)": lambda: reports.intervals_report(
            database, Period(month.since, month.until, queue="q0", by=Interval.MINUTES_15)),
    }  # fmt: skip
    for label, run in runs.items():
        for path in ("totals", "raw"):
            with _raw() if path == "raw" else contextlib.nullcontext():
                best, worst, rows = _timed(run, repeat)
            verdict = "PASS" if worst < TARGET else "FAIL"
            print(f"{label:48s} {path:6s} {best:6.2f} s best, {worst:6.2f} s worst, "
                  f"{rows:5d} rows (target < {TARGET:.0f} s: {verdict})", flush=True)  # fmt: skip


@contextlib.contextmanager
def _raw() -> Iterator[None]:
    """Stays and calls from the raw rows alone (agent time still from its daily rollup)."""
    split = QueueTotals.split
    QueueTotals.split = lambda _self, since, until, _settled: Split(  # type: ignore[method-assign]
        since, until, 0, 0, ()
    )
    try:
        yield
    finally:
        QueueTotals.split = split  # type: ignore[method-assign]


def rollup(database: Database) -> None:
    began = time.perf_counter()
    with database.session_scope() as session:
        rolled = roll_settled(session, agent_days=True)
    print(f"rolled up {rolled} 15-minute intervals in {time.perf_counter() - began:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--reuse", metavar="URL", help="a database kept by --keep: report on it, generate nothing"
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    if args.reuse:
        rollup(Database(args.reuse))  # a database kept before migration 0023: upgrade it
        report(Database(args.reuse), args.repeat)
        return 0
    server = make_url(args.database_url)
    name = f"cc_bench_reports_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        database = Database(url)
        migrate.upgrade(database)
        began = time.monotonic()
        counts = generate(url, calls=args.calls, start=START)
        print(f"generated {counts} in {time.monotonic() - began:.0f} s")
        rollup(database)
        report(database, args.repeat)
        database.dispose()
    finally:
        if args.keep:
            print(f"kept: {url}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
