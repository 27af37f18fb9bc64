"""Webhook benchmark: events delivered per second to a local receiver.

Run: .venv/bin/python tests/benchmarks/bench_webhooks.py [--events 3000] [--endpoints 1]
         [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres | sqlite]

A scratch database gets ``--events`` events in its outbox (call.ended with a CDR, the
largest event); ``--endpoints`` webhooks take every type. The engine's delivery pool
(``WebhookDelivery``, as built in app.py) then delivers them to a receiver running in another
process (a gevent WSGI server that checks each signature and the order of the ids, as a CRM
would). Printed: events delivered per second per endpoint and in all, from the pool's start
to the last event received, with the receiver's count of bad signatures and out-of-order or
repeated ids (both must be 0).

Each endpoint is delivered in order, one POST at a time, the cursor committed after each
answer: the rate of one endpoint is bounded by a POST round trip plus one small transaction.
"""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401

# isort: on
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import urllib3
from bench_calls import database_url  # the scratch database, made and dropped the same way
from prometheus_client import CollectorRegistry

from callcenter.events import outbox
from callcenter.events.delivery import DeliveryOptions, WebhookDelivery, WebhookMetrics
from callcenter.events.types import CallEnded
from callcenter.services import webhooks
from callcenter.services.actor import Actor
from callcenter.store import migrate
from callcenter.store.database import Database

SECRET = "bench-secret-bench-secret"
RECEIVER = r"""
import json, sys, time
from gevent import monkey; monkey.patch_all()
from gevent.pywsgi import WSGIServer
sys.path.insert(0, sys.argv[1])
from callcenter.events.signing import verify
secret = sys.argv[2]
stats = {"received": 0, "bad_signature": 0, "out_of_order": 0}
last = {}
def app(environ, start_response):
    if environ["REQUEST_METHOD"] == "GET":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(stats).encode()]
    body = environ["wsgi.input"].read()
    if not verify(secret, body, environ.get("HTTP_CALLCENTER_SIGNATURE", ""), time.time()):
        stats["bad_signature"] += 1
        start_response("401 Unauthorized", [])
        return [b""]
    event = json.loads(body)
    hook = environ["PATH_INFO"]
    n = int(event["call_uuid"].split("-")[1])
    if n != last.get(hook, -1) + 1:
        stats["out_of_order"] += 1
    last[hook] = n
    stats["received"] += 1
    start_response("204 No Content", [])
    return [b""]
server = WSGIServer(("127.0.0.1", 0), app, log=None)
server.start()
print(server.server_port, flush=True)
server.serve_forever()
"""


def seed(database: Database, count: int) -> None:
    cdr = {"talk_ms": 61_000, "ring_ms": 3000, "queue_wait_ms": 12_000, "legs": [{}, {}]}
    for start in range(0, count, 500):
        with database.session_scope() as session:
            for n in range(start, min(count, start + 500)):
                outbox.append(
                    session,
                    CallEnded(
                        call_uuid=f"c-{n}", caller_number="+33140000000", caller_name="Bench",
                        queue="sales", agent_extension="1001", disposition="answered",
                        hangup_cause="NORMAL_CLEARING", hangup_by="caller", cdr=cdr,
                    ),
                )  # fmt: skip


def run(url: str, events: int, endpoints: int) -> None:
    database = Database(url)
    migrate.upgrade(database)
    root = Path(__file__).resolve().parents[2]
    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, str(root), SECRET], stdout=subprocess.PIPE, text=True
    )
    http = urllib3.PoolManager()
    delivery: WebhookDelivery | None = None
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        for n in range(endpoints):
            hook_url = f"http://127.0.0.1:{port}/hook{n}"
            webhooks.add(database, Actor("cli", "bench"), hook_url, [], SECRET)
        seed(database, events)
        delivery = WebhookDelivery(
            database, WebhookMetrics(CollectorRegistry()), DeliveryOptions(scan=0.2)
        )
        started = time.monotonic()
        delivery.start()
        total = events * endpoints
        stats: dict[str, int] = {"received": 0}
        while stats["received"] < total:
            time.sleep(0.2)
            stats = json.loads(http.request("GET", f"http://127.0.0.1:{port}/").data)
            if time.monotonic() - started > 600:
                raise RuntimeError(f"not delivered within 600 s: {stats}")
        elapsed = time.monotonic() - started
        print(f"\n== webhooks ({database.dialect}): {events} events x {endpoints} endpoint(s)")
        print(f"delivered {total} in {elapsed:.2f} s: {total / elapsed:.0f} events/s in all, "
              f"{events / elapsed:.0f} events/s per endpoint")  # fmt: skip
        print(f"bad signatures {stats['bad_signature']}, out of order or repeated "
              f"{stats['out_of_order']}")  # fmt: skip
    finally:
        if delivery is not None:
            delivery.stop()
        receiver.kill()
        receiver.wait(timeout=10)
        database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--endpoints", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server (a scratch database is created on it), or 'sqlite'",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="cc-bench-webhooks-") as tmp,
        database_url(
            None if args.database_url == "sqlite" else args.database_url, Path(tmp)
        ) as url,
    ):
        run(url, args.events, args.endpoints)
    return 0


if __name__ == "__main__":
    sys.exit(main())
