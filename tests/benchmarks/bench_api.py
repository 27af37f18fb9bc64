"""HTTP API latency under call load: p50/p95/p99 of ``GET /api/v1/queues`` and
``POST /api/v1/agents/{ext}/pause`` (with ``ready`` between two pauses) while calls run
through the engine and, optionally, Server-Sent Events clients listen.

Run: .venv/bin/python tests/benchmarks/bench_api.py [--quick] [--calls 50] [--hold 10]
         [--duration 60] [--sse-clients 200] [--api-rate 20]
         [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The engine (``App``, with its API on the metrics listener) runs here; the simulator
(``bench_calls.py --sim-child``: Poisson arrivals of playback calls held ``--hold`` s) and
the API clients (this file with ``--client-child``) each run in a child process, so the
engine's figures are its own. The SSE clients open ``GET /api/v1/events`` first: when it
answers 404 (no event stream in this build) the SSE part is skipped with a note.

Figures are printed, never asserted: the lead records them in docs/benchmarks.md.
Exit status 1 only when the run itself broke (the engine did not connect, a client died).
"""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401

# isort: on
import argparse
import http.client
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gevent

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.app import App
from callcenter.services import agents, queues, tokens
from callcenter.services.actor import Actor
from tests.benchmarks.bench_calls import (
    NODE,
    ChildProcess,
    SimProcess,
    build_app,
    database_url,
    until,
)

BENCH = Actor("cli", "bench")
PAUSERS = 20  # agents the clients pause and make ready, in turn


# -- the API clients, in their own process ------------------------------------------------


def client_child(port: int, token: str, rate: float, duration: float, sse: int) -> None:
    """Child entry: SSE listeners (if the stream exists), then timed requests; one JSON
    line with the latencies at the end."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    _emit({"port": 0})  # the parent's ChildProcess handshake
    listeners, note = _listen(port, headers, sse)
    gevent.sleep(1.0)
    timings: dict[str, list[float]] = {"GET /queues": [], "POST /agents/{ext}/pause": []}
    errors: dict[str, int] = {}
    workers = [
        gevent.spawn(_requests, port, headers, name, rate, duration, timings[name], errors)
        for name in timings
    ]
    gevent.joinall(workers, timeout=duration + 30)
    alive = sum(1 for g in listeners if not g.dead)
    for g in listeners:
        g.kill(block=False)
    _emit({"timings": timings, "errors": errors, "sse_note": note, "sse_alive": alive})


def _listen(port: int, headers: dict[str, str], count: int) -> tuple[list[Any], str]:
    if count <= 0:
        return [], "SSE: not asked (--sse-clients 0)"
    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    probe.request("GET", "/api/v1/events", headers=headers)
    status = probe.getresponse().status
    probe.close()
    if status == 404:
        return [], "SSE: skipped, /api/v1/events answers 404 (no event stream in this build)"
    return [gevent.spawn(_sse, port, headers) for _ in range(count)], f"SSE: {count} clients"


def _sse(port: int, headers: dict[str, str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=None)
    conn.request("GET", "/api/v1/events", headers={**headers, "Accept": "text/event-stream"})
    answer = conn.getresponse()
    while answer.read1(65536):
        pass


def _requests(
    port: int,
    headers: dict[str, str],
    name: str,
    rate: float,
    duration: float,
    out: list[float],
    errors: dict[str, int],
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    start, n = time.monotonic(), 0
    while (due := n / rate) < duration:
        late = time.monotonic() - start - due
        if late < 0:
            gevent.sleep(-late)
        ext = str(9000 + n % PAUSERS)
        steps = [("GET", "/api/v1/queues", None)]
        if name.startswith("POST"):  # pause (timed), then ready (untimed) for the next round
            steps = [("POST", f"/api/v1/agents/{ext}/pause", b'{"reason":"bench"}'),
                     ("POST", f"/api/v1/agents/{ext}/ready", None)]  # fmt: skip
        for i, (method, path, body) in enumerate(steps):
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                status = 0
            if i == 0:
                out.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                key = f"{method} {path.split('/')[3]} {status}"
                errors[key] = errors.get(key, 0) + 1
        n += 1


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class ClientProcess(ChildProcess):
    def __init__(self, args: argparse.Namespace, port: int, token: str) -> None:
        cmd = [sys.executable, __file__, "--client-child", "--port", str(port), "--token", token]
        cmd += ["--api-rate", str(args.api_rate), "--duration", str(args.duration)]
        cmd += ["--sse-clients", str(args.sse_clients)]
        super().__init__(cmd, stop_timeout=args.duration + 60)

    def result(self, timeout: float) -> dict[str, Any] | None:
        ok = until(lambda: "timings" in self.last, timeout)
        return self.last if ok else None


# -- the engine ---------------------------------------------------------------------------


def prepare(app: App) -> str:
    queues.add(app.database, BENCH, "api-bench")
    for n in range(PAUSERS):
        ext = str(9000 + n)
        agents.add(app.database, BENCH, ext, domain="callcenter")
        agents.login(app.database, BENCH, ext)
        queues.add_member(app.database, BENCH, "api-bench", ext)
    return tokens.create(app.database, BENCH, "bench", "operate").secret


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def report(result: dict[str, Any], calls: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"calls: {args.calls:g}/s offered for {args.duration:g} s (hold {args.hold:g} s); "
          f"simulator counted {calls.get('offered', 0)} offered, {calls.get('live', 0)} live at "
          "the end")  # fmt: skip
    print(result["sse_note"] + (f" ({result['sse_alive']} still connected at the end)"
                                if result["sse_alive"] else ""))  # fmt: skip
    for name, values in result["timings"].items():
        print(
            f"{name:26s} n={len(values):5d}  p50={quantile(values, 0.5):7.1f} ms  "
            f"p95={quantile(values, 0.95):7.1f} ms  p99={quantile(values, 0.99):7.1f} ms  "
            f"max={max(values, default=float('nan')):7.1f} ms"
        )
    print(f"errors: {result['errors'] or 'none'}")


def run(args: argparse.Namespace, tmp: Path) -> int:
    sim = SimProcess(args.calls, args.duration + 5, args.seed, 0, args.hold)
    app: App | None = None
    client: ClientProcess | None = None
    try:
        with database_url(args.database_url, tmp) as url:
            build = argparse.Namespace(command_timeout=10.0, queue_agents=0, hold=args.hold)
            app = build_app(url, tmp, sim.port, build)
            if not app.connections[NODE].wait_connected(10):
                print("BROKEN: the engine did not connect to the simulator")
                return 1
            token = prepare(app)
            sim.send("go")
            gevent.sleep(min(args.hold, 5.0))  # calls ramp up before the clients start
            client = ClientProcess(args, app.metrics.port, token)
            result = client.result(args.duration + 60)
            if result is None:
                print("BROKEN: the API client process gave no result")
                return 1
            report(result, sim.last, args)
            app.stop("benchmark over")  # before its scratch database is dropped
            return 0
    finally:
        if client is not None:
            client.stop()
        if app is not None:
            app.stop("benchmark over")
        sim.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=float, default=50.0, help="calls/s offered")
    parser.add_argument("--hold", type=float, default=10.0, help="seconds each call plays")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of API load")
    parser.add_argument("--api-rate", type=float, default=20.0, help="requests/s per endpoint")
    parser.add_argument("--sse-clients", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="smoke run of about 20 s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="a PostgreSQL server (scratch database)")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--client-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--token", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client_child:
        client_child(args.port, args.token, args.api_rate, args.duration, args.sse_clients)
        return 0
    if args.quick:
        args.calls, args.hold, args.duration = 20.0, 3.0, 10.0
    logging.basicConfig(level=args.log_level.upper())
    tmp = Path(tempfile.mkdtemp(prefix="cc-bench-api-"))
    try:
        return run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
