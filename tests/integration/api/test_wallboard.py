"""The wallboard over HTTP: its snapshot as calls arrive, are answered and abandoned on the
simulator; the page's files; the session cookie that lets its event stream in."""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import gevent
from click.testing import CliRunner
from gevent.event import Event
from rich.console import Console

from callcenter.app import App
from callcenter.cli import main
from callcenter.cli.remote import RemoteApi
from callcenter.cli.top_cmd import follow, watch
from callcenter.services import tokens
from callcenter.services.actor import Actor
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.repos.cdrs import write_cdrs
from callcenter.wallboard.render import View
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_queues import setup_queue
from tests.integration.test_staffing_history import cdr
from tests.support import until

ROOT = Actor("cli", "test")


def http(
    app: App, path: str, *, token: str | None = None, method: str = "GET", cookie: str = ""
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{app.metrics.port}{path}", method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, dict(answer.headers), answer.read(6 if "events" in path else -1)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def board(app: App, token: str) -> dict[str, Any]:
    status, _, body = http(app, "/api/v1/wallboard", token=token)
    assert status == 200, body
    return json.loads(body)  # type: ignore[no-any-return]


def queue_of(snapshot: dict[str, Any], name: str) -> dict[str, Any]:
    return next(q for q in snapshot["queues"] if q["name"] == name)


def agent_of(snapshot: dict[str, Any], extension: str) -> dict[str, Any]:
    return next(a for a in snapshot["agents"] if a["extension"] == extension)


def test_the_snapshot_follows_calls_on_the_simulator(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    token = tokens.create(app.database, ROOT, "wall", "read").secret
    sim.register_agent("7501", AgentBehaviour(answer_delay=0.2))
    setup_queue(app, "wb-sales", {"7501": {}}, did="7500", service_level_seconds=20)
    setup_queue(app, "wb-empty", {}, did="7502", sl_formula="abandons_met")
    first = board(app, token)
    staff = {"staffed": 1, "free": 1, "busy": 0, "paused": 0}
    assert queue_of(first, "wb-sales")["agents"] == staff
    assert queue_of(first, "wb-sales")["service_level"] is None  # no call yet: not 0 %

    talking = sim.place_call("7500", "15557500", "Ann <b>\x1b[2J", behaviour=CallerBehaviour())
    waiting = sim.place_call("7502", "15557502", behaviour=CallerBehaviour(patience=30.0))

    def answered() -> dict[str, Any] | None:
        snapshot = board(app, token)
        agent = agent_of(snapshot, "7501")
        return snapshot if agent["state"] == "in_call" and queue_of(snapshot, "wb-empty")[
            "waiting"] else None  # fmt: skip

    snapshot = until(answered, timeout=10)
    agent = agent_of(snapshot, "7501")
    assert (agent["call_uuid"], agent["caller_number"]) == (talking, "15557500")
    assert agent["caller_name"] == "Ann <b>\x1b[2J" and agent["queues"] == ["wb-sales"]
    sales = queue_of(snapshot, "wb-sales")
    assert sales["agents"]["busy"] == 1 and sales["agents"]["free"] == 0
    assert (sales["answered"], sales["answered_in_time"], sales["service_level"]) == (1, 1, 1.0)
    assert queue_of(snapshot, "wb-empty")["longest_wait_seconds"] >= 0

    sim.hangup(waiting)  # gives up after a few seconds of waiting: a counted abandon
    # the abandon is counted from the caller's QueueLeft, the waiting from the dispatcher's
    # Leave, posted right after it: a snapshot may fall between the two
    empty = until(
        lambda: (
            (q := queue_of(board(app, token), "wb-empty"))["abandoned"] and not q["waiting"] and q
        )
    )
    assert (empty["waiting"], empty["offered"]) == (0, 1)
    assert empty["short_abandoned"] in (0, 1)  # under 5 s, it counts apart
    # its formula counts an abandon within T as met: 100 %, where "offered" would say 0 %
    assert (empty["sl_formula"], empty["service_level"]) == ("abandons_met", 1.0)
    sim.hangup(talking)
    until(lambda: agent_of(board(app, token), "7501")["call_uuid"] is None, timeout=10)


def test_a_read_token_opens_the_page_and_its_stream(engine: EngineFactory) -> None:
    app = engine()
    reader = tokens.create(app.database, ROOT, "wall-page", "read")
    status, headers, page = http(app, "/wallboard/")
    assert status == 200 and b"wallboard.js" in page
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert http(app, "/wallboard")[0] == 200  # redirected to /wallboard/
    assert http(app, "/wallboard/wallboard.js")[1]["Content-Type"].startswith("text/javascript")
    assert http(app, "/wallboard/nothing.txt")[0] == 404

    assert http(app, "/wallboard/session", method="POST")[0] == 401
    assert http(app, "/wallboard/session")[0] == 405
    status, headers, body = http(app, "/wallboard/session", token=reader.secret, method="POST")
    assert status == 200 and json.loads(body)["expires_in"] == app.wallboard_sessions.ttl
    set_cookie = headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    assert "Path=/api/v1/events" in set_cookie
    cookie = set_cookie.split(";", 1)[0]

    status, headers, first = http(app, "/api/v1/events", cookie=cookie)
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    assert first.startswith(b"retry:")
    assert http(app, "/api/v1/agents", cookie=cookie)[0] == 401  # the cookie opens the stream only
    forged = cookie[:-4] + ("0000" if not cookie.endswith("0000") else "1111")
    assert http(app, "/api/v1/events", cookie=forged)[0] == 401
    tokens.revoke(app.database, ROOT, "wall-page")
    assert http(app, "/api/v1/events", cookie=cookie)[0] == 401


def test_top_reads_a_live_engine_remote_and_local(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    app = engine()
    secret = tokens.create(app.database, ROOT, "top-remote", "read").secret
    sim.register_agent("7511", AgentBehaviour(answer_delay=0.2))
    setup_queue(app, "wb-top", {"7511": {}}, did="7510")
    heard: list[str] = []
    stop = Event()
    api = RemoteApi(f"http://127.0.0.1:{app.metrics.port}", secret)
    follower = gevent.spawn(follow, api, heard.append, stop)
    until(lambda: "live" in heard)
    uuid = sim.place_call("7510", "15557510", "Top Caller", behaviour=CallerBehaviour())
    until(lambda: agent_of(board(app, secret), "7511")["call_uuid"] == uuid, timeout=10)
    until(lambda: {"queue.joined", "agent.answered"} <= set(heard))
    stop.set()
    follower.kill(timeout=2)

    remote = {"CALLCENTER_API_URL": api.url, "CALLCENTER_API_TOKEN": secret}
    result = CliRunner().invoke(main, ["top", "--once", "--width", "80"], env=remote)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert next(line for line in lines if line.startswith("wb-top")).split()[:2] == ["wb-top", "0"]
    assert "15557510 Top Caller" in result.output and "in call" in result.output

    local = {"CALLCENTER_DATABASE_URL": calls_db_url,
             "CALLCENTER_METRICS_LISTEN": f"127.0.0.1:{app.metrics.port}"}  # fmt: skip
    result = CliRunner().invoke(main, ["top", "--once", "--filter", "7511"], env=local)
    assert result.exit_code == 0, result.output
    assert "15557510" in result.output
    made = [t for t in tokens.list_tokens(app.database) if t.name.startswith("top-")]
    # its own token, made for the run, is gone with it: `token list` did show each run's
    # revoked token for good
    assert [t.name for t in made] == ["top-remote"]
    sim.hangup(uuid)


def test_top_redraws_and_answers_its_keys(engine: EngineFactory) -> None:
    app = engine()
    secret = tokens.create(app.database, ROOT, "top-keys", "read").secret
    setup_queue(app, "wb-keys", {}, did="7520")
    api = RemoteApi(f"http://127.0.0.1:{app.metrics.port}", secret)
    console = Console(width=80, height=24, file=io.StringIO(), force_terminal=True)
    keys = iter(["s", "/", "w", "b", "\r", None, "q"])
    watch(api, View(), console, lambda wait: next(keys))
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", console.file.getvalue())  # type: ignore[attr-defined]
    frames = drawn.split("callcenter top")
    assert len(frames) >= 7 and all("wb-keys" in f for f in frames[1:])
    assert "sort (time)" in frames[2] and "filter: wb" in frames[-1]


def test_plan_from_history_through_a_remote_engine(engine: EngineFactory) -> None:
    app = engine()
    secret = tokens.create(app.database, ROOT, "planner", "read").secret
    setup_queue(app, "wb-plan", {}, did="7530")
    # 10 minutes into a 30-minute interval two to three hours ago: the 30 calls never
    # straddle an interval's edge (they did when the test ran on the hour or half hour)
    ago = datetime.now(UTC) - timedelta(hours=2)
    started = ago.replace(minute=ago.minute - ago.minute % 30, second=0, microsecond=0) - timedelta(
        minutes=20
    )
    with app.database.engine.begin() as conn:
        write_cdrs(
            conn, [cdr(n, "wb-plan", started + timedelta(seconds=n), 100) for n in range(30)]
        )
    remote = {"CALLCENTER_API_URL": f"http://127.0.0.1:{app.metrics.port}",
              "CALLCENTER_API_TOKEN": secret}  # fmt: skip
    args = ["plan", "--from-history", "wb-plan", "--days", "1", "--interval", "30"]
    result = CliRunner().invoke(main, [*args, "--json"], env=remote)
    assert result.exit_code == 0, result.output
    planned = [i for i in json.loads(result.output)["intervals"] if i["plan"]]
    assert [i["load"]["calls"] for i in planned] == [30]
    # 100 talk + 10 hold; wrap-up comes from the status history (none here), not the CDR
    assert planned[0]["plan"]["traffic"]["aht"] == 110.0
    text = CliRunner().invoke(main, args, env=remote).output
    assert "Erlang C for 80/20" in text and len(text.splitlines()) == 2 + 48
    wrong = CliRunner().invoke(main, [*args, "--tz", "Mars/Olympus"], env=remote)
    assert wrong.exit_code == 1 and "tz: 'Mars/Olympus' is not a time zone" in wrong.output
