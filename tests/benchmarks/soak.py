"""Soak: the chaos run of issue 10 as a script, ending with the invariant checks.

Run: .venv/bin/python tests/benchmarks/soak.py [--duration 600] [--rate 5] [--seed 1]
         [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--keep]

Pieces, each in its own process where a crash must be real:

- the simulator (this file with ``--sim-child``), Poisson arrivals at ``--rate`` calls/s to
  a DID routed to a queue of 4 agents; callers hang up at every step (patience while
  parked or queued, talk time once bridged); mod_xml_cdr posting is on: each A leg's CDR is
  posted to the engine's ``/fs/cdr``, and written to an err-log-dir the engine imports
  from when the engine does not answer;
- the engine, a real ``callcenter serve`` process configured by ``CALLCENTER_*``
  variables, reaching the simulator through a TCP proxy that can drop ESL, and a scratch
  PostgreSQL database (created here, migrated with ``callcenter db upgrade``, dropped at the
  end unless ``--keep``) through a TCP proxy that can cut it;
- a chaos schedule scaled to ``--duration`` (for 600 s: SIGKILL + restart x3, ESL dropped
  x3, PostgreSQL cut for 60 s and for 10 s, one SIGKILL while PostgreSQL is cut).

At the end traffic stops, calls finish (whatever is still up 180 s later was left behind
by the engine: hung up, callers first, and counted), the engine is restarted cleanly once
(recovery and the err-log-dir import run), the backstop hold passes, the engine is stopped
with SIGTERM, and the invariants are read from the database and the simulator's list of
calls placed: calls placed, CDRs, missing (placed, no CDR), duplicates (call UUIDs with
more than one CDR, legs in more than one CDR row), open stays (queue entries not left),
stuck calls (calls not ended, legs not ended), stuck agents (not idle once every call is
over), channels left up, spool left (spool records, backstop inbox and err-log-dir files).
Exit 0 on PASS, 1 on FAIL (any of them not 0). Engine logs stay in the work directory.
"""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401

# isort: on
import argparse
import json
import logging
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
from bench_calls import ChildProcess  # the same child-process handle as the benchmark
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from callcenter.sim.tcpcut import TcpCut

DID = "7100"
QUEUE = "soak"
AGENTS = ("3001", "3002", "3003", "3004")
AGENT_TALK = (6.0, 8.0, 10.0, 12.0)  # seconds each agent's phone talks before hanging up
PASSWORD = "soak-esl-secret"
CDR_CREDENTIALS = "soak:soak-cdr-secret"
SIP_PASSWORD = "Soak-phone-7731x"
PATIENCE_MEAN = 20.0  # callers hang up this long (exponential) after arriving unless bridged
TALK_MEAN = 15.0  # and this long after being bridged, when the agent has not hung up first
FS_CDR_HOLD = 5.0
# after the last arrival: callers give up within minutes (P(patience > 180 s) = 1e-4) and
# agents hang up within 12 s, so a channel still up then was left behind by the engine
DRAIN = 180.0
ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("soak")


# -- the simulator, in its own process ----------------------------------------------------


def sim_child(args: argparse.Namespace) -> None:
    """Serve ESL, post CDRs, place calls; JSON lines on stdout, commands on stdin."""
    from gevent.os import make_nonblocking, nb_read

    from callcenter.sim.behaviour import AgentBehaviour
    from callcenter.sim.simulator import Simulator
    from callcenter.sim.traffic import TrafficModel, TrafficProfile
    from callcenter.sim.xml_cdr import XmlCdrConfig

    logging.basicConfig(level=logging.ERROR)
    work = Path(args.work)
    xml_cdr = XmlCdrConfig(
        url=f"http://127.0.0.1:{args.http_port}/fs/cdr",
        credentials=CDR_CREDENTIALS,
        err_log_dir=work / "fs-err",
    )
    sim = Simulator(password=PASSWORD, seed=args.seed, xml_cdr=xml_cdr).start()
    profile = TrafficProfile(
        rate=args.rate, dids=(DID,), patience_mean=PATIENCE_MEAN, talk_mean=TALK_MEAN
    )
    traffic = TrafficModel(sim, profile, seed=args.seed)
    for ext, talk in zip(AGENTS, AGENT_TALK, strict=True):
        sim.register_agent(ext, AgentBehaviour(answer_delay=1.0, talk_time=talk))
    _emit({"port": sim.port})
    placed = (work / "placed.txt").open("a", encoding="ascii")
    make_nonblocking(0)
    arrivals: gevent.Greenlet[Any] | None = None

    def arrive() -> None:
        rng = random.Random(args.seed)
        start = time.monotonic()
        due = 0.0
        while due < args.duration:
            late = time.monotonic() - start - due
            if late < 0:
                gevent.sleep(-late)
            placed.write(traffic.place_one() + "\n")
            placed.flush()
            due += rng.expovariate(args.rate)

    def report() -> None:
        while True:
            live = len(sim.channels)
            _emit({"offered": traffic.counters.offered, "live": live, "clients": sim.client_count})
            gevent.sleep(1.0)

    reporter = gevent.spawn(report)
    buffered = b""
    try:
        while True:
            chunk = nb_read(0, 4096)
            if not chunk:
                break
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            for line in (raw.decode().strip() for raw in lines):
                if line == "go":
                    arrivals = gevent.spawn(arrive)
                elif line == "stop-traffic" and arrivals is not None:
                    arrivals.kill()
                elif line == "hangup-all":  # callers first, then what is left
                    chans = sorted(sim.channels, key=lambda c: c.direction != "inbound")
                    for chan in chans:
                        detail = f"{chan.direction} {chan.callstate} {chan.application}"
                        _emit({"hung up": f"{chan.uuid} ({detail}, partner {chan.partner})"})
                        sim.hangup(chan.uuid)
                elif line == "stop":
                    return
    finally:
        reporter.kill()
        if arrivals is not None:
            arrivals.kill()
        placed.close()
        sim.stop()


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class SimProcess(ChildProcess):
    def __init__(self, args: argparse.Namespace, work: Path, http_port: int) -> None:
        cmd = [sys.executable, __file__, "--sim-child", "--work", str(work)]
        cmd += ["--rate", str(args.rate), "--duration", str(args.duration)]
        cmd += ["--seed", str(args.seed), "--http-port", str(http_port)]
        self.left_up: list[str] = []  # channels the soak had to hang up itself
        super().__init__(cmd, stop_timeout=15.0)

    def on_message(self, doc: dict[str, Any]) -> None:
        if "hung up" in doc:
            self.left_up.append(doc["hung up"])
            print(f"soak: still up at the end, hung up: {doc['hung up']}")
        else:
            self.last = doc


# -- the engine, a real process -----------------------------------------------------------


class Engine:
    def __init__(self, env: dict[str, str], work: Path, http_port: int) -> None:
        self.env = env
        self.work = work
        self.http_port = http_port
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        out = (self.work / f"engine-{self.starts}.log").open("wb")
        cmd = [sys.executable, "-m", "callcenter", "serve"]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self.answers():
                return
            gevent.sleep(0.2)
        log.warning("engine %d: no HTTP answer after 30 s (exit %s)", self.starts, self.proc.poll())

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/healthz", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # 503 degraded: up all the same
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 60.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning(
                    "engine %d: no exit %.0f s after SIGTERM: SIGKILL", self.starts, timeout
                )
                self.kill()
        return self.proc.returncode


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(env: dict[str, str], *argv: str) -> None:
    cmd = [sys.executable, "-m", "callcenter", *argv]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"callcenter {' '.join(argv)}: {done.stdout}{done.stderr}")


def provision(env: dict[str, str]) -> None:
    cli(env, "db", "upgrade")
    cli(env, "queue", "add", QUEUE, "--max-wait", "0", "--ring-seconds", "10")
    for ext in AGENTS:
        cli(
            env,
            "agent",
            "add",
            ext,
            "--name",
            f"Agent {ext}",
            "--sip-password",
            SIP_PASSWORD,
            "--wrapup",
            "1",
        )
        cli(env, "queue", "member", "add", QUEUE, ext)
        cli(env, "agent", "login", ext)
    cli(env, "route", "add", DID, f"queue:{QUEUE}")


# -- the chaos schedule -------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    at: float  # seconds after the first arrival
    what: str  # kill, esl-drop, pg-cut
    length: float = 0.0  # seconds the engine, ESL or PostgreSQL stays away


def schedule(duration: float, rng: random.Random) -> list[Step]:
    """The 10-minute run's faults at the same fractions of ``duration``."""
    k = duration / 600.0
    jitter = lambda: rng.uniform(-5, 5) * k  # noqa: E731
    away = lambda s: max(2.0, s * k)  # noqa: E731
    return sorted(
        [
            Step(70 * k + jitter(), "kill", away(rng.uniform(4, 10))),
            Step(130 * k + jitter(), "esl-drop", away(8)),
            Step(180 * k, "pg-cut", away(60)),
            Step(205 * k, "kill", away(rng.uniform(4, 10))),  # starts without PostgreSQL
            Step(300 * k + jitter(), "esl-drop", away(8)),
            Step(360 * k, "pg-cut", away(10)),
            Step(430 * k + jitter(), "kill", away(rng.uniform(4, 10))),
            Step(500 * k + jitter(), "esl-drop", away(8)),
        ],
        key=lambda s: s.at,
    )


def run_chaos(steps: list[Step], engine: Engine, esl: TcpCut, pg: TcpCut, start: float) -> None:
    def restore_later(delay: float, action: Callable[[], None]) -> None:
        gevent.spawn_later(delay, action)

    for step in steps:
        wait = start + step.at - time.monotonic()
        if wait > 0:
            gevent.sleep(wait)
        t = time.monotonic() - start
        if step.what == "kill":
            log.info("t=%.0f s: SIGKILL the engine, down %.1f s", t, step.length)
            engine.kill()
            gevent.sleep(step.length)
            engine.start()
        elif step.what == "esl-drop":
            log.info("t=%.0f s: ESL dropped for %.1f s", t, step.length)
            esl.cut()
            restore_later(step.length, esl.restore)
        elif step.what == "pg-cut":
            log.info("t=%.0f s: PostgreSQL cut for %.1f s", t, step.length)
            pg.cut()
            restore_later(step.length, pg.restore)


# -- the invariants -----------------------------------------------------------------------


def count_spool(data: Path, work: Path) -> dict[str, int]:
    spool = data / "spool" / "spool.jsonl"
    records = 0
    if spool.exists():
        records = sum(1 for line in spool.read_bytes().split(b"\n") if line.strip())
    inbox = data / "fs-cdr"
    held = sum(1 for p in inbox.rglob("*") if p.is_file()) if inbox.exists() else 0
    err = work / "fs-err"
    unimported = sum(1 for _ in err.glob("*.cdr.xml")) if err.exists() else 0
    return {"spool records": records, "backstop inbox files": held, "err-log-dir files": unimported}


def log_summary(work: Path) -> None:
    """Warnings and errors of every engine run, by kind (call UUIDs and numbers folded)."""
    kinds: dict[str, int] = {}
    for path in sorted(work.glob("engine-*.log")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if " WARNING " in line or " ERROR " in line or "Traceback" in line:
                    kind = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "UUID", line[24:].strip())
                    kind = re.sub(r"\d+", "N", kind)[:160]
                    kinds[kind] = kinds.get(kind, 0) + 1
    print(f"engine logs: {sum(kinds.values())} warnings and errors")
    for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {count:6d}  {kind}")


def check(
    db_url: str, placed: list[str], data: Path, work: Path, left_up: list[str]
) -> tuple[dict[str, int], bool]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        cdr_uuids = [r[0] for r in conn.execute(text("SELECT call_uuid FROM cdrs"))]
        sources = dict(
            conn.execute(text("SELECT source, count(*) FROM cdrs GROUP BY source")).all()
        )
        dup_cdrs = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT call_uuid FROM cdrs GROUP BY call_uuid "
                "HAVING count(*) > 1) d"
            )
        ).scalar_one()
        dup_legs = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT leg_uuid FROM cdr_legs GROUP BY leg_uuid "
                "HAVING count(*) > 1) d"
            )
        ).scalar_one()
        open_stays = (
            conn.execute(text("SELECT call_uuid FROM queue_entries WHERE left_at IS NULL"))
            .scalars()
            .all()
        )
        stuck_calls = conn.execute(
            text("SELECT uuid, state FROM calls WHERE state <> 'ended' OR ended_at IS NULL")
        ).all()
        open_legs = conn.execute(
            text("SELECT count(*) FROM call_legs WHERE ended_at IS NULL")
        ).scalar_one()
        stuck_agents = conn.execute(
            text("SELECT extension, status, state FROM agents WHERE state <> 'idle'")
        ).all()
        most_legs = conn.execute(
            text(
                "SELECT coalesce(max(n), 0) FROM "
                "(SELECT count(*) n FROM cdr_legs GROUP BY cdr_id) m"
            )
        ).scalar_one()
        dispositions = dict(
            conn.execute(text("SELECT disposition, count(*) FROM cdrs GROUP BY disposition")).all()
        )
    engine.dispose()
    have = set(cdr_uuids)
    missing = [u for u in placed if u not in have]
    extra = have - set(placed)
    spool = count_spool(data, work)
    figures = {
        "calls placed": len(placed),
        "CDRs": len(cdr_uuids),
        "missing": len(missing),
        "duplicates": dup_cdrs + dup_legs,
        "open stays": len(open_stays),
        "stuck calls": len(stuck_calls) + open_legs,
        "stuck agents": len(stuck_agents),
        "channels left up": len(left_up),
        "spool left": sum(spool.values()),
    }
    print(
        f"CDR sources: {sources}; dispositions: {dispositions}; CDRs of calls not placed: "
        f"{len(extra)}; most legs on one CDR: {most_legs}"
    )
    for name, items in (
        ("missing", missing),
        ("open stays", open_stays),
        ("stuck calls", [f"{u} ({s})" for u, s in stuck_calls]),
        ("stuck agents", [f"{e} {st}/{sa}" for e, st, sa in stuck_agents]),
    ):
        if items:
            print(f"  {name}: {', '.join(items[:20])}{' ...' if len(items) > 20 else ''}")
    if open_legs or dup_legs or dup_cdrs:
        print(
            f"  open legs {open_legs}, duplicated CDR legs {dup_legs}, duplicated CDRs {dup_cdrs}"
        )
    if any(spool.values()):
        print(f"  spool left: {spool}")
    bad = [k for k in figures if k not in ("calls placed", "CDRs")]
    ok = all(figures[k] == 0 for k in bad) and figures["calls placed"] > 0
    return figures, ok


# -- the run ------------------------------------------------------------------------------


def create_database(admin_url: str, name: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def wait_until(predicate: Callable[[], bool], timeout: float, every: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        gevent.sleep(every)
    return predicate()


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s soak: %(message)s")
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    data = work / "data"
    flows = work / "no-flows"
    flows.mkdir()
    (work / "fs-err").mkdir()
    db_name = f"soak_{os.getpid()}"
    db_url = create_database(args.database_url, db_name)
    pg_target = make_url(db_url)
    pg = TcpCut((pg_target.host or "127.0.0.1", pg_target.port or 5432))
    proxied_url = make_url(db_url).set(host="127.0.0.1", port=pg.port)
    http_port = free_port()
    sim = SimProcess(args, work, http_port)
    esl = TcpCut(("127.0.0.1", sim.port))
    env = {
        **os.environ,
        "CALLCENTER_DATABASE_URL": db_url,
        "CALLCENTER_ESL_NODES": f"fs1=esl://:{PASSWORD}@127.0.0.1:{esl.port}",
        "CALLCENTER_METRICS_LISTEN": f"127.0.0.1:{http_port}",
        "CALLCENTER_DATA_DIR": str(data),
        "CALLCENTER_DIALPLANS_DIR": str(flows),
        "CALLCENTER_FS_CDR_CREDENTIALS": CDR_CREDENTIALS,
        "CALLCENTER_FS_CDR_HOLD": str(FS_CDR_HOLD),
        "CALLCENTER_FS_CDR_IMPORT_DIR": str(work / "fs-err"),
        "CALLCENTER_SHUTDOWN_GRACE": "20",
        "CALLCENTER_LOG_LEVEL": "INFO",
    }
    env.pop("CALLCENTER_API_URL", None)
    print(f"soak: {args.duration:.0f} s at {args.rate}/s, seed {args.seed}, work dir {work}")
    engine = Engine(
        {**env, "CALLCENTER_DATABASE_URL": proxied_url.render_as_string(hide_password=False)},
        work,
        http_port,
    )
    ok = False
    try:
        provision(env)
        engine.start()
        rng = random.Random(args.seed)
        steps = schedule(args.duration, rng)
        start = time.monotonic()
        sim.send("go")
        run_chaos(steps, engine, esl, pg, start)
        gevent.sleep(max(0.0, start + args.duration - time.monotonic()))
        sim.send("stop-traffic")
        print(f"soak: traffic stopped at t={time.monotonic() - start:.0f} s; draining")
        esl.restore()
        pg.restore()
        if engine.proc is None or engine.proc.poll() is not None:
            engine.start()
        if not wait_until(lambda: sim.last.get("live", 1) == 0, timeout=DRAIN):
            print(f"soak: {sim.last.get('live')} channels still up after {DRAIN:.0f} s")
            sim.send("hangup-all")
            wait_until(lambda: sim.last.get("live", 1) == 0, timeout=30)
        gevent.sleep(5)
        code = engine.terminate()
        print(f"soak: engine stopped (exit {code}); clean restart for recovery and imports")
        engine.start()
        gevent.sleep(FS_CDR_HOLD + 15)
        wait_until(lambda: sum(count_spool(data, work).values()) == 0, timeout=60)
        code = engine.terminate()
        print(f"soak: engine stopped (exit {code}) after {engine.starts} starts")
        placed = (work / "placed.txt").read_text(encoding="ascii").split()
        log_summary(work)
        figures, ok = check(db_url, placed, data, work, sim.left_up)
        for name, value in figures.items():
            print(f"{name}: {value}")
        print("PASS" if ok else "FAIL")
    finally:
        engine.kill()
        sim.stop()
        esl.stop()
        pg.stop()
        if not args.keep:
            drop_database(args.database_url, db_name)
        print(f"soak: logs in {work}" + ("" if args.keep else f" (database {db_name} dropped)"))
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of traffic")
    parser.add_argument("--rate", type=float, default=5.0, help="calls per second (Poisson)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server to create the scratch database on",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--sim-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--http-port", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.sim_child:
        sim_child(arguments)
        sys.exit(0)
    sys.exit(main(arguments))
