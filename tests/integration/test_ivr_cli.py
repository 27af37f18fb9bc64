"""`callcenter ivr list` and `ivr validate` beside a real database: what an admin sees in
their first hour (broken files, queues the database lacks)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from callcenter.cli import main
from callcenter.store.database import Database
from tests.conftest import migrated_database

DIALPLANS = Path(__file__).parents[2] / "dialplans"
GOOD = "version: '7'\nstart: a\nnodes:\n  a: {type: hangup}\n"


@pytest.fixture(scope="module")
def db_url() -> Iterator[str]:
    with migrated_database("cc_ivr_cli") as url:
        yield url


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    with database.engine.begin() as conn:
        conn.execute(text("TRUNCATE queues, audit_log, engine_changes RESTART IDENTITY CASCADE"))
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    return folder


@pytest.fixture
def env(database: Database, db_url: str, tmp_path: Path, flows: Path) -> dict[str, str]:
    return {
        "CALLCENTER_DATABASE_URL": db_url,
        "CALLCENTER_DATA_DIR": str(tmp_path),
        "CALLCENTER_DIALPLANS_DIR": str(flows),
        "CALLCENTER_LOG_LEVEL": "INFO",
    }


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_list_shows_the_valid_flows_and_each_broken_file(env: dict[str, str], flows: Path) -> None:
    (flows / "good.yaml").write_text(GOOD)
    (flows / "broken.yaml").write_text("version: 1\nstart: a\nnodes:\n  a: [unclosed\n")
    (flows / "wrong.yaml").write_text(GOOD.replace("hangup", "nope"))
    result = run(["ivr", "list"], env)
    assert result.exit_code == 1
    assert "good" in result.stdout and "7" in result.stdout
    assert "FILE_VERSION" in result.stdout  # not what an engine runs: no engine was asked
    assert f"{flows}/broken.yaml:" in result.stderr and "YAML syntax" in result.stderr
    assert f"{flows}/wrong.yaml:4:" in result.stderr and "unknown node type" in result.stderr
    assert "live" not in result.output  # the CLI runs no flow
    assert "2 file(s) rejected" in result.stderr


def test_list_of_valid_flows_exits_0_and_logs_nothing_live(
    env: dict[str, str], flows: Path
) -> None:
    (flows / "good.yaml").write_text(GOOD)
    result = run(["ivr", "list"], env)
    assert result.exit_code == 0, result.output
    assert "good" in result.stdout and "live" not in result.output


def test_validate_checks_queue_names_as_reload_does(env: dict[str, str], flows: Path) -> None:
    for name in ("main.yaml", "support.yaml"):
        shutil.copy(DIALPLANS / name, flows / name)
    assert run(["queue", "add", "sales"], env).exit_code == 0
    for command in (["ivr", "validate"], ["ivr", "reload"]):
        result = run(command, env)
        assert result.exit_code == 1, command
        assert "unknown queue 'support'" in result.output, command
    for name in ("support", "vip"):
        assert run(["queue", "add", name], env).exit_code == 0
    result = run(["ivr", "validate"], env)
    assert result.exit_code == 0, result.output
    assert "not checked" not in result.output


def test_validate_says_what_it_did_not_check(env: dict[str, str], flows: Path) -> None:
    for name in ("main.yaml", "support.yaml"):
        shutil.copy(DIALPLANS / name, flows / name)
    result = run(["ivr", "validate"], env)  # no queue stored yet: reload takes any name
    assert result.exit_code == 0, result.output
    assert "queue names not checked: no queue is stored yet" in result.output
    away = {**env, "CALLCENTER_DATABASE_URL": "postgresql+psycopg://cc@127.0.0.1:1/cc"}
    result = run(["ivr", "validate"], away)
    assert result.exit_code == 0, result.output
    assert "queue names not checked: database" in result.output
    result = run(["ivr", "validate", "--queue", "sales"], away)  # named: checked against those
    assert result.exit_code == 1 and "unknown queue 'support'" in result.output
