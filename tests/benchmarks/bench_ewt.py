"""Estimated wait time accuracy: what callers would be told at joining vs what they waited.

Run: .venv/bin/python tests/benchmarks/bench_ewt.py [--agents 5] [--talk 120] [--calls 200]
         [--loads 0.7,0.85,0.95] [--time-scale 0.05]   (about 16 minutes)

The engine (``App``) and the simulator run here; a simulated second lasts ``--time-scale``
real seconds (figures are in simulated seconds; the engine's own real time per call, about
0.1 s from join to answer, reads as 0.1 / time-scale simulated seconds of error). One queue
of ``--agents`` agents (no wrap-up, phones answering after 1 s); callers arrive as a
Poisson process at the rate that makes the offered load ``--loads`` (load = arrival rate x
mean talk / agents) and talk an exponential time of mean ``--talk`` s; nobody abandons.
At each join the dispatcher's own greenlet takes the estimate (``acd.ewt.for_ticket``)
and, for comparison, the position model without the half call, and Erlang C's mean wait
(arrival rate measured on the last 20 arrivals). The first 10 % of calls warm the handle
times up and are not counted.

Per load: calls counted, mean and p90 wait, then for each model the median absolute error
and the share of callers told within 30 s of their wait. A benchmark, not a test: it
prints figures and exits 0 unless the run itself broke.
"""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401

# isort: on
import argparse
import contextlib
import random
import statistics
import sys
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent

from callcenter.acd import ewt
from callcenter.acd.messages import OfferAnswered
from callcenter.app import App
from callcenter.settings import load_settings
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.repos import AgentRepository, QueueRepository, RouteRepository
from callcenter.vocabulary import AgentStatus, RouteTarget

QUEUE, DID, PASSWORD = "ewt", "8900", "bench"
WITHIN = 30.0


@dataclass
class Told:
    position_half: float | None
    position_plain: float | None
    erlang: float | None
    joined: float
    waited: float | None = None


@dataclass
class Run:
    told: dict[str, Told] = field(default_factory=dict)  # ticket id -> estimates, wait
    arrivals: deque[float] = field(default_factory=lambda: deque(maxlen=20))


def instrument(app: App, run: Run) -> None:
    """Take the estimates in the dispatcher's greenlet, at the join, and the wait at the
    answer (both on its clock)."""
    dispatcher: Any = app.dispatcher
    enter, answered = dispatcher._enter, dispatcher._answered

    def on_enter(ticket: Any) -> None:
        enter(ticket)
        if not ticket.accepted:
            return
        now = dispatcher.clock()
        run.arrivals.append(now)
        board, times = dispatcher.board, dispatcher.handle_times
        staffed, free = ewt.staffing(board, ticket.queue, ticket.skills, now)
        mean = times.mean(ticket.queue)
        half = ewt.for_ticket(board, ticket, times, now)
        plain = half if not half else half + 0.5 * mean / (staffed - free)
        rate = _rate(run.arrivals)
        erlang = ewt.erlang_c_wait(staffed, rate, mean) if mean and rate else None
        run.told[ticket.id] = Told(half, plain, erlang, now)

    def on_answered(message: Any) -> None:
        told = run.told.get(message.ticket)
        if told is not None:
            told.waited = dispatcher.clock() - told.joined
        answered(message)

    dispatcher._enter = on_enter
    dispatcher._handlers[OfferAnswered] = on_answered


def _rate(arrivals: deque[float]) -> float | None:
    if len(arrivals) < 5 or arrivals[-1] <= arrivals[0]:
        return None
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


@contextlib.contextmanager
def engine(
    sim: Simulator,
    url: str,
    tmp: Path,
    agents: list[str],
    queue: str = QUEUE,
    did: str = DID,
    **queue_fields: Any,
) -> Iterator[App]:
    settings = load_settings(
        environ={
            "CALLCENTER_DATABASE_URL": url,
            "CALLCENTER_ESL_NODES": f"fs1=esl://:{PASSWORD}@127.0.0.1:{sim.port}",
            "CALLCENTER_METRICS_LISTEN": "127.0.0.1:0",
            "CALLCENTER_DATA_DIR": str(tmp),
            "CALLCENTER_SHUTDOWN_GRACE": "2",
        }
    )
    app = App(settings)
    app.routes.ttl = 0.0  # the route added below is used at once
    app.start(upgrade_db=True)
    try:
        with app.database.session_scope() as session:
            queues, repo = QueueRepository(session), AgentRepository(session)
            queues.add(queue, max_wait_seconds=0, agent_ring_seconds=10,
                       music_on_hold="silence_stream://-1", **queue_fields)  # fmt: skip
            for ext in agents:
                repo.add(ext, wrapup_seconds=0)
                repo.set_status(ext, AgentStatus.AVAILABLE)
                queues.add_member(queue, ext)
            RouteRepository(session).add(did, RouteTarget.QUEUE, queue)
        app.dispatcher.request_reload()
        app.routes.refresh()  # written here, not through the services (no change feed)
        _until(lambda: len(app.dispatcher.board.agents) == len(agents), 10)
        _until(lambda: app.connections["fs1"].connected, 10)
        yield app
    finally:
        app.stop("bench over")


def _until(predicate: Any, timeout: float) -> None:
    deadline = gevent.get_hub().loop.now() + timeout
    while not predicate():
        if gevent.get_hub().loop.now() > deadline:
            raise RuntimeError(f"the benchmark timed out waiting for {predicate.__name__}")
        gevent.sleep(0.05)


def one_load(load: float, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    scale = args.time_scale
    agents = [str(3000 + n) for n in range(args.agents)]
    rate = load * args.agents / args.talk  # simulated calls per second
    with (
        tempfile.TemporaryDirectory() as tmp,
        Simulator(password=PASSWORD, time_scale=scale, seed=seed) as sim,
    ):
        for ext in agents:
            sim.register_agent(ext, AgentBehaviour(answer_delay=1.0))
        url = f"sqlite:///{Path(tmp) / 'cc.db'}"  # a fresh database per load
        run = Run()
        with engine(sim, url, Path(tmp), agents) as app:
            instrument(app, run)
            for n in range(args.calls):
                talk = rng.expovariate(1.0 / args.talk)
                sim.place_call(DID, f"1555{n:07d}", behaviour=CallerBehaviour(talk_time=talk))
                gevent.sleep(rng.expovariate(rate) * scale)

            def done() -> bool:
                told = run.told.values()
                return len(told) == args.calls and all(t.waited is not None for t in told)

            _until(done, 3000 * scale + 60)
    return figures(load, run, args)


def figures(load: float, run: Run, args: argparse.Namespace) -> dict[str, Any]:
    scale = args.time_scale
    counted = list(run.told.values())[max(1, args.calls // 10) :]
    waits = [t.waited / scale for t in counted if t.waited is not None]
    out: dict[str, Any] = {"load": load, "calls": len(waits)}
    out["mean_wait"] = statistics.fmean(waits) if waits else 0.0
    out["p90_wait"] = sorted(waits)[int(0.9 * (len(waits) - 1))] if waits else 0.0
    for name in ("position_half", "position_plain", "erlang"):
        errors = [
            abs(getattr(t, name) - t.waited) / scale
            for t in counted
            if t.waited is not None and getattr(t, name) is not None
        ]
        out[name] = (
            statistics.median(errors) if errors else float("nan"),
            sum(e <= WITHIN for e in errors) / len(errors) if errors else 0.0,
            len(errors),
        )
    return out


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| load | calls | mean wait | p90 wait | position model: median abs error, within 30 s "
        "| without the half call | Erlang C |\n|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for row in rows:
        cells = [f"{row['load']:.2f}", str(row["calls"]), f"{row['mean_wait']:.0f} s",
                 f"{row['p90_wait']:.0f} s"]  # fmt: skip
        for name in ("position_half", "position_plain", "erlang"):
            median, share, told = row[name]
            cells.append(f"{median:.0f} s, {share:.0%} (n={told})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--talk", type=float, default=120.0, help="mean talk time, s")
    parser.add_argument("--calls", type=int, default=200, help="calls per load")
    parser.add_argument("--loads", default="0.7,0.85,0.95")
    parser.add_argument("--time-scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    rows = []
    for index, load in enumerate(float(x) for x in args.loads.split(",")):
        rows.append(one_load(load, args, args.seed + index))
        print(f"load {load}: done", file=sys.stderr, flush=True)
    print(f"{args.agents} agents, mean talk {args.talk:.0f} s, {args.calls} calls per load")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
