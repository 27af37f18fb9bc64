"""The API served by a running engine beside /metrics, /healthz and /fs/cdr, and the CLI
working through it from "another host" (no database configured, only the API URL)."""

from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import gevent
import psycopg
import pytest
from click.testing import CliRunner
from gevent.event import Event

from callcenter.app import App
from callcenter.cli import main
from callcenter.services import changes, tokens
from callcenter.services.actor import Actor
from callcenter.services.changes import Change, ChangeKind
from callcenter.settings import load_settings
from callcenter.store.database import Database
from callcenter.store.repos import AuditLog
from tests.conftest import migrated_database
from tests.support import until


@pytest.fixture(scope="module")
def engine_db_url() -> Iterator[str]:
    with migrated_database("cc_api") as url:
        yield url


@pytest.fixture
def engine(engine_db_url: str, tmp_path: Path) -> Iterator[App]:
    env = {
        "CALLCENTER_DATABASE_URL": engine_db_url,
        "CALLCENTER_METRICS_LISTEN": "127.0.0.1:0",
        "CALLCENTER_DATA_DIR": str(tmp_path / "data"),
        "CALLCENTER_DIALPLANS_DIR": str(tmp_path / "dialplans"),
        "CALLCENTER_WRITER_WINDOW": "0.5",  # tests read what calls wrote right after them
    }
    app = App(load_settings(environ=env))
    app.start()
    try:
        yield app
    finally:
        app.stop("test over")


def get(url: str, token: str | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_the_api_shares_the_listener(engine: App) -> None:
    root = f"http://127.0.0.1:{engine.metrics.port}"
    status, ctype, body = get(f"{root}/api/v1/openapi.json")
    assert status == 200 and json.loads(body)["servers"] == [{"url": "/api/v1"}]
    status, ctype, body = get(f"{root}/api/v1/agents")
    assert (status, ctype) == (401, "application/problem+json")
    assert get(f"{root}/healthz")[0] in (200, 503)
    assert get(f"{root}/metrics")[0] == 200
    assert get(f"{root}/fs/cdr")[0] == 405  # FreeSWITCH's CDR posts: its own route, POST only
    assert get(f"{root}/api/v1")[0] == 404
    assert get(f"{root}/api/v1x")[0] == 404


def test_the_cli_through_a_remote_engine(engine: App, engine_db_url: str) -> None:
    secret = tokens.create(engine.database, Actor("cli", "test"), "desk", "admin").secret
    url = f"http://127.0.0.1:{engine.metrics.port}"
    env = {"CALLCENTER_API_URL": url, "CALLCENTER_API_TOKEN": secret}

    def cli(*args: str, **extra: str) -> tuple[int, str]:
        # no CALLCENTER_DATABASE_URL: only the API can do it
        result = CliRunner().invoke(main, list(args), env={**env, **extra}, catch_exceptions=False)
        return result.exit_code, result.output

    assert cli("agent", "add", "7001", "--name", "Ann")[0] == 0
    assert cli("queue", "add", "api-sales")[0] == 0
    assert cli("queue", "member", "add", "api-sales", "7001")[0] == 0
    assert cli("agent", "login", "7001") == (0, "agent 7001: available\n")
    assert cli("agent", "pause", "7001", "--reason", "lunch") == (0, "agent 7001: paused (lunch)\n")
    code, out = cli("agent", "pause", "7001")
    assert code == 1 and "error: agent 7001 is already paused [agent_already_paused]" in out
    code, out = cli("agent", "list", "--json")
    listed = {a["extension"]: a for a in json.loads(out)}
    assert listed["7001"]["status"] == "paused"
    # the engine learns of the change from the database (no signal): its board shows it
    until(lambda: engine.dispatcher.board.agents.get("7001") is not None, timeout=5)
    code, out = cli("queue", "list")
    assert code == 0 and "api-sales" in out
    code, out = cli("cdr", "list", "--limit", "5")
    assert (code, out) == (0, "(none)\n")
    assert cli("agent", "skill", "7001", "english", "5") == (0, "agent 7001: english=5\n")
    code, out = cli("agent", "show", "7001")
    assert code == 0 and "status: paused" in out and "queues: api-sales" in out
    code, out = cli("queue", "show", "api-sales")
    assert code == 0 and "7001" in out
    assert cli("route", "add", "7900", "queue:api-sales")[0] == 0
    assert cli("route", "test", "7900") == (0, "7900 -> queue:api-sales (exact 7900)\n")
    assert cli("route", "test", "7901") == (
        0,
        "7901 -> hangup:UNALLOCATED_NUMBER (default: no route matches)\n",
    )
    assert "7900" in cli("route", "list")[1]
    add = ["route", "outbound", "add", "api-out", "--match", r"^\+1\d{10}$", "--gateway", "gw1"]
    assert cli(*add)[0] == 0
    code, out = cli("route", "outbound", "test", "+15551234567")
    assert (code, out) == (0, "+15551234567 -> sofia/gateway/gw1/+15551234567 (route api-out)\n")
    assert cli("call", "list") == (0, "(none)\n")
    code, out = cli("call", "hangup", "no-such-call")
    assert code == 1 and "[call_not_found]" in out
    assert cli("ivr", "list") == (0, "(none)\n")
    with engine.database.session_scope() as session:
        recent = AuditLog(session).recent(30)
    actors = {e.actor for e in recent if e.target in ("7001", "api-sales", "7900", "api-out")}
    assert actors == {"api:desk"}

    code, out = cli("agent", "list", CALLCENTER_API_TOKEN="cc_wrong")
    assert code == 1 and "[token_invalid]" in out
    code, out = cli("agent", "list", CALLCENTER_API_URL="http://127.0.0.1:1")
    assert code == 1 and "[api_unreachable]" in out
    code, out = cli("agent", "list", CALLCENTER_API_TOKEN="")
    assert code == 2 and "needs both an API URL and a token" in out


def test_answers_are_not_held_for_a_delayed_ack(engine: App) -> None:
    # the listener sets TCP_NODELAY (accepted sockets inherit it): without it each small
    # answer on a keep-alive connection waited 40 ms for the client's delayed ACK
    listener = engine.metrics._server.socket  # type: ignore[union-attr]
    assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_webhooks_through_a_remote_engine(engine: App) -> None:
    secret = tokens.create(engine.database, Actor("cli", "test"), "hooks", "admin").secret
    reader = tokens.create(engine.database, Actor("cli", "test"), "viewer", "read").secret
    env = {
        "CALLCENTER_API_URL": f"http://127.0.0.1:{engine.metrics.port}",
        "CALLCENTER_API_TOKEN": secret,
    }

    def cli(*args: str, **extra: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            main, ["webhook", *args], env={**env, **extra}, catch_exceptions=False
        )
        return result.exit_code, result.output

    code, out = cli("add", "http://127.0.0.1:9/hook", "--events", "call.ended", "--json")
    made = json.loads(out)
    assert code == 0 and len(made["secret"]) >= 16 and made["created_by"] == "api:hooks"
    hook = made["id"]
    code, out = cli("list", "--json")
    assert [h["id"] for h in json.loads(out)] == [hook] and made["secret"] not in out
    assert cli("disable", str(hook)) == (0, f"webhook {hook} disabled\n")
    assert json.loads(cli("list", "--json")[1])[0]["status"] == "disabled"
    assert cli("enable", str(hook)) == (0, f"webhook {hook} enabled\n")
    assert cli("dead", "--json") == (0, "[]\n")
    assert cli("replay", str(hook)) == (0, f"webhook {hook}: 0 dead letter(s) to replay\n")
    code, out = cli("replay", str(hook), "99")
    assert code == 1 and "[dead_letter_not_found]" in out
    code, out = cli("list", CALLCENTER_API_TOKEN=reader)
    assert code == 1 and "[scope_insufficient]" in out
    assert cli("remove", str(hook)) == (0, f"webhook {hook} removed (http://127.0.0.1:9/hook)\n")
    code, out = cli("remove", str(hook))
    assert code == 1 and "[webhook_not_found]" in out
    with engine.database.session_scope() as session:
        recent = AuditLog(session).recent(10)
    assert {e.actor for e in recent if e.action.startswith("webhook.")} == {"api:hooks"}


def test_a_stopped_engine_stops_its_change_feed(
    engine: App, caplog: pytest.LogCaptureFixture
) -> None:
    # the kill that stops the feed can come back as an error: SQLAlchemy's pool pre-ping,
    # killed with its SELECT 1 in flight, raises "can't change 'autocommit' now" in place of
    # the GreenletExit. Here a change is being applied when the engine stops, and its
    # handler does the same
    applying = Event()
    applier = engine.changes.apply

    def apply(change: Change) -> None:
        if change.key != "stop-probe":
            return applier(change)
        applying.set()
        try:
            gevent.sleep(60)
        except gevent.GreenletExit as exc:
            raise psycopg.ProgrammingError("can't change 'autocommit' now") from exc

    engine.changes.apply = apply
    until(lambda: engine.changes._listener is not None)
    with engine.database.session_scope() as session:
        changes.record(session, Actor("cli", "test"), ChangeKind.QUEUE, "stop-probe", "set")
    until(applying.is_set)
    follower = engine.changes._greenlet
    assert follower is not None
    caplog.set_level(logging.INFO, logger="callcenter.services.feed")

    engine.stop("test over")

    assert follower.dead and engine.changes._greenlet is None  # not restarted either
    database = Database(engine.settings.database_url)
    try:
        with database.session_scope() as session:
            assert changes.engines_listening(session) == 0
    finally:
        database.dispose()
    said = [
        r.getMessage()
        for r in caplog.records
        if r.name == "callcenter.services.feed" and r.levelno >= logging.WARNING
    ]
    assert said == []  # not "retrying", "restarting" or "change ... not applied"
