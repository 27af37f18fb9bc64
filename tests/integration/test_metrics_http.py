"""/metrics and /healthz over real HTTP, and the engine's start and clean stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.errors import DatabaseUnavailable, MigrationError
from callcenter.settings import load_settings
from callcenter.store import migrate
from callcenter.store.database import Database


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def _app(pg_url: str, **overrides: str) -> App:
    env = {"CALLCENTER_DATABASE_URL": pg_url, "CALLCENTER_METRICS_LISTEN": "127.0.0.1:0"}
    return App(load_settings(environ={**env, **overrides}))


def test_metrics_and_health_over_http(pg_url: str, tmp_path: Path) -> None:
    # no flows: the shipped ones name queues that other tests may or may not have stored
    app = _app(pg_url, CALLCENTER_DIALPLANS_DIR=str(tmp_path))
    app.start()
    try:
        root = f"http://127.0.0.1:{app.metrics.port}"
        status, ctype, body = get(f"{root}/metrics")
        assert status == 200 and ctype.startswith("text/plain")
        assert 'callcenter_build_info{version="0.1.0"} 1.0' in body
        assert "process_resident_memory_bytes" in body
        status, ctype, body = get(f"{root}/healthz")
        assert status == 200 and ctype == "application/json"
        health = json.loads(body)
        assert health["database"] == {"reachable": True, "dialect": "postgresql", "spooling": False}
        assert health["status"] == "ok"
        assert get(f"{root}/nope")[0] == 404
    finally:
        app.stop()


def test_health_is_degraded_when_database_is_down() -> None:
    app = _app("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app.start()  # a database that is down does not stop the engine from starting
    try:
        status, _, body = get(f"http://127.0.0.1:{app.metrics.port}/healthz")
        assert status == 503
        assert json.loads(body)["database"]["reachable"] is False
    finally:
        app.stop()


def test_health_reports_each_esl_node(pg_url: str) -> None:
    app = _app(pg_url, CALLCENTER_ESL_NODES="fs1=esl://:pw@127.0.0.1:1")
    health = app.health()
    assert health["esl"] == {"fs1": {"connected": False, "reconnects": 0, "calls": 0}}
    assert health["status"] == "degraded"


def test_start_refuses_an_outdated_schema(empty_pg_url: str) -> None:
    app = _app(empty_pg_url)
    with pytest.raises(MigrationError, match="callcenter db upgrade"):
        app.start()
    app.start(upgrade_db=True)
    app.stop()
    assert migrate.current(Database(empty_pg_url)) == migrate.head(Database(empty_pg_url))


def test_session_scope_maps_connection_failure() -> None:
    database = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailable, match="unavailable"), database.session_scope() as s:
        s.connection()


def _spawn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "callcenter", *args],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_signal(tmp_path: Path, signum: int) -> None:
    env = {"CALLCENTER_DATA_DIR": str(tmp_path), "CALLCENTER_METRICS_LISTEN": "127.0.0.1:0"}
    proc = _spawn(["serve", "--migrate"], env, tmp_path)
    try:
        lines: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "health at" in line:
                break
        url = lines[-1].split("health at ")[1].split()[0]
        assert get(url)[0] == 200
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, "".join(lines) + out
    assert "callcenter stopped" in out
    assert "Traceback" not in out


def test_demo_runs_calls_through_the_simulator_and_stops(tmp_path: Path) -> None:
    args = ["demo", "--duration", "6", "--interval", "1", "--rate", "5", "--seed", "3"]
    proc = _spawn(args, {}, tmp_path)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "healthz=200 esl=up" in out  # run outside the repository: 5003's flow is there
    assert f"dialplans_dir {tmp_path}/dialplans does not exist: using the flows of" in out
    progress = [line for line in out.splitlines() if line.startswith("[demo]")]
    cdrs = int(progress[-1].split("cdrs=")[1].split()[0])
    assert cdrs > 0, out
    assert "demo stopped cleanly (the simulator too)" in out.strip().splitlines()[-1]
    assert "for adoption" not in out  # nothing stays behind: the simulator exits too
    assert "Traceback" not in out
    assert (tmp_path / "var" / "demo" / "callcenter.db").exists()


def test_health_is_degraded_while_flows_are_rejected(pg_url: str, tmp_path: Path) -> None:
    # issue 10 finding 12: /healthz answered 200 while every IVR flow was rejected; and
    # finding 7: a NUL byte in a flow stopped `serve` from starting
    good = "version: 1\nname: {}\nstart: a\nnodes:\n  a: {{type: hangup}}\n"
    (tmp_path / "main.yaml").write_text(good.format("main") + "  b: {type: nope}\n")
    (tmp_path / "nul.yaml").write_bytes(good.format("nul").encode() + b"# \x00\n")
    (tmp_path / "other.yaml").write_text(good.format("other"))
    app = _app(pg_url, CALLCENTER_DIALPLANS_DIR=str(tmp_path),
               CALLCENTER_DATA_DIR=str(tmp_path / "var"))  # fmt: skip
    app.start()
    try:
        assert app.flows.names() == ["other"]
        status, _, body = get(f"http://127.0.0.1:{app.metrics.port}/healthz")
        health = json.loads(body)
        assert status == 503 and health["status"] == "degraded"
        assert health["reasons"] == [
            f"IVR flow file rejected: {tmp_path}/main.yaml (1 error(s))",
            f"IVR flow file rejected: {tmp_path}/nul.yaml (1 error(s))",
        ]
        assert health["ivr"]["flows"] == 1
        (tmp_path / "main.yaml").write_text(good.format("main"))
        (tmp_path / "nul.yaml").unlink()
        assert app.reload_flows().ok
        status, _, body = get(f"http://127.0.0.1:{app.metrics.port}/healthz")
        assert status == 200 and json.loads(body)["reasons"] == []
    finally:
        app.stop()


def test_health_is_degraded_while_a_stored_route_is_left_out(pg_url: str, tmp_path: Path) -> None:
    from sqlalchemy import delete

    from callcenter.store.models import Route
    from callcenter.store.repos import RouteRepository
    from callcenter.vocabulary import RouteTarget

    database = Database(pg_url)
    with database.session_scope() as session:
        RouteRepository(session).add("9000", RouteTarget.HANGUP, "NOT_A_CAUSE")
    app = _app(pg_url, CALLCENTER_DATA_DIR=str(tmp_path))
    app.start()
    try:
        health = app.health()
        assert health["status"] == "degraded"
        assert health["reasons"] == [
            "route '9000' left out: target: 'NOT_A_CAUSE' is not a FreeSWITCH hangup cause "
            "(e.g. CALL_REJECTED, USER_BUSY, NORMAL_TEMPORARY_FAILURE)"
        ]
    finally:
        app.stop()
        with database.session_scope() as session:
            session.execute(delete(Route).where(Route.did == "9000"))
        database.dispose()


def test_health_reports_a_route_to_a_flow_the_engine_does_not_run(
    pg_url: str, tmp_path: Path
) -> None:
    """Every call to such a DID is turned away: /healthz said "ok" (the demo run outside the
    repository, its flow main missing)."""
    from sqlalchemy import delete

    from callcenter.store.models import Route
    from callcenter.store.repos import RouteRepository
    from callcenter.vocabulary import RouteTarget

    database = Database(pg_url)
    with database.session_scope() as session:
        RouteRepository(session).add("9417", RouteTarget.IVR, "ghostflow")
    (tmp_path / "ghost.yaml").write_text("version: 1\nname: ghostflow\nstart: a\nnodes: {}\n")
    app = _app(pg_url, CALLCENTER_DATA_DIR=str(tmp_path / "var"),
               CALLCENTER_DIALPLANS_DIR=str(tmp_path))  # fmt: skip
    app.start()
    try:
        health = app.health()
        problem = (
            "route '9417' -> ivr:ghostflow: flow 'ghostflow' is not loaded (its file is "
            "rejected or not in dialplans_dir): its calls are turned away"
        )
        assert problem in health["routes"]["problems"] and problem in health["reasons"]
        assert health["status"] == "degraded"
    finally:
        app.stop()
        with database.session_scope() as session:
            session.execute(delete(Route).where(Route.did == "9417"))
        database.dispose()


def test_health_is_degraded_while_the_spool_grows(tmp_path: Path) -> None:
    app = _app("postgresql+psycopg://nobody@127.0.0.1:1/none", CALLCENTER_DATA_DIR=str(tmp_path))
    app.health()
    spool = app.writer.spool
    spool.directory.mkdir(parents=True, exist_ok=True)
    spool.path.write_bytes(b'{"kind": "cdr", "data": {}}\n')
    health = app.health()
    assert health["status"] == "degraded" and health["spool"]["growing"] is True
    assert "spool growing (28 bytes waiting for the database)" in health["reasons"]
    assert app.health()["spool"]["growing"] is False  # no longer growing


def test_the_demo_reloads_on_sighup_and_says_how_to_point_the_cli_at_it(tmp_path: Path) -> None:
    # `callcenter reload` (SIGHUP, the demo's pid file) killed the demo outright, and its
    # banner did not say which data dir and port `top` and the other commands need
    args = ["demo", "--duration", "8", "--interval", "1", "--rate", "2", "--seed", "5"]
    proc = _spawn(args, {}, tmp_path)
    try:
        lines: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("[demo]"):
                break
        banner = "".join(lines)
        top = next(line.strip() for line in lines if line.strip().endswith("top --once"))
        port = top.split("CALLCENTER_METRICS_LISTEN=127.0.0.1:")[1].split()[0]
        assert top == (
            f"CALLCENTER_DATA_DIR=var/demo CALLCENTER_METRICS_LISTEN=127.0.0.1:{port} "
            "callcenter top --once"
        ), banner
        assert "CALLCENTER_DATA_DIR=var/demo callcenter reload" in banner
        for printed in (top, "CALLCENTER_DATA_DIR=var/demo callcenter queue list"):
            words = printed.split()
            at = words.index("callcenter")
            variables, args = words[:at], words[at + 1 :]
            ran = subprocess.run(
                [sys.executable, "-m", "callcenter", *args],
                env={**os.environ, **dict(v.split("=", 1) for v in variables)},
                cwd=tmp_path, capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            assert ran.returncode == 0 and "support" in ran.stdout, ran.stdout + ran.stderr
        reload = subprocess.run(
            [sys.executable, "-m", "callcenter", "reload"],
            env={**os.environ, "CALLCENTER_DATA_DIR": "var/demo"},
            cwd=tmp_path, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert reload.returncode == 0, reload.stdout + reload.stderr
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, banner + out
    assert "demo stopped cleanly" in out and "Traceback" not in out
    assert not (tmp_path / "var" / "demo" / "callcenter.pid").exists()
