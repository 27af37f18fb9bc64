"""The CLI through click's runner, against real databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from callcenter import __version__
from callcenter.cli import main


def run(args: list[str], env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, args, env=env or {}, catch_exceptions=False)


def test_version_and_help() -> None:
    assert __version__ in run(["--version"]).output
    result = run(["--help"])
    assert result.exit_code == 0
    for command in ("agent", "cdr", "config", "db", "demo", "fs", "route", "serve", "sim"):
        assert command in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["config", "show"],
        ["config", "check"],
        ["db", "upgrade"],
        ["db", "downgrade"],
        ["db", "current"],
        ["db", "history"],
        ["db", "check"],
        ["serve"],
        ["demo"],
        ["sim"],
        ["fs", "render"],
        ["agent", "add"],
        ["agent", "list"],
        ["agent", "password"],
        ["agent", "remove"],
        ["route", "add"],
        ["route", "list"],
        ["route", "remove"],
        ["route", "disable"],
        ["cdr", "list"],
        ["cdr", "show"],
    ],
)
def test_every_command_has_help_with_an_example(args: list[str]) -> None:
    result = run([*args, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_config_show_masks_secrets() -> None:
    env = {
        "CALLCENTER_ESL_NODES": "fs1=esl://:topsecret@10.0.0.5:8021",
        "CALLCENTER_DATABASE_URL": "postgresql+psycopg://cc:dbsecret@db/cc",
    }
    result = run(["config", "show"], env)
    assert result.exit_code == 0
    assert "topsecret" not in result.output and "dbsecret" not in result.output
    data = json.loads(run(["config", "show", "--json"], env).stdout)
    assert data["database_url"] == "postgresql+psycopg://cc:***@db/cc"
    assert data["esl_nodes"] == [
        {"name": "fs1", "host": "10.0.0.5", "port": 8021, "password": "***"}
    ]


def test_config_show_is_a_file_config_check_takes(tmp_path: Path) -> None:
    # `config show > cc.yaml; callcenter -c cc.yaml config check` failed on the first of
    # esl_password: '', fs_cdr_credentials: '', feature_codes (a list of pairs), ...
    env = {"CALLCENTER_DATA_DIR": str(tmp_path), "CALLCENTER_PAUSE_REASONS": "7=smoke"}
    shown = run(["config", "show"], env)
    assert shown.exit_code == 0 and shown.output.startswith("# settings from environment")
    path = tmp_path / "cc.yaml"
    path.write_text(shown.output)
    check = run(["-c", str(path), "config", "check"])
    assert check.exit_code == 0, check.output
    again = run(["-c", str(path), "config", "show"])
    assert again.output.splitlines()[1:] == shown.output.splitlines()[1:]


def test_config_check_reports_every_invalid_setting(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text("log_level: loud\nmetrics_listen: 9464\nesl_password: ''\n")
    result = CliRunner().invoke(main, ["-c", str(path), "config", "check"], env={})
    assert result.exit_code == 1
    assert "3 invalid settings" in result.output
    for key in ("log_level", "metrics_listen", "esl_password"):
        assert f"{key}: " in result.output


def test_config_error_is_one_line_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text("metrics_listen: 9464\n")
    result = CliRunner().invoke(main, ["--config", str(path), "config", "check"], env={})
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}:1:17: metrics_listen: expected HOST:PORT")
    assert "[config_invalid]" in lines[0]


def test_config_check_ok(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text("log_level: WARNING\n")
    result = run(["--config", str(path), "config", "check"])
    assert result.exit_code == 0 and "valid" in result.output


def test_db_commands_on_postgresql(empty_pg_url: str) -> None:
    env = {"CALLCENTER_DATABASE_URL": empty_pg_url}
    current = json.loads(run(["db", "current", "--json"], env).stdout)
    assert current[0]["current"] is None and current[0]["head"]
    assert run(["db", "check"], env).exit_code == 1  # nothing migrated yet: drift
    assert run(["db", "upgrade"], env).exit_code == 0
    result = run(["db", "check"], env)
    assert result.exit_code == 0, result.output
    history = json.loads(run(["db", "history", "--json"], env).stdout)
    assert history[-1]["down_revision"] is None
    assert run(["db", "downgrade", "base", "--yes"], env).exit_code == 0
    assert json.loads(run(["db", "current", "--json"], env).stdout)[0]["current"] is None


def test_db_check_on_an_empty_database_says_which_and_what_to_run(tmp_path: Path) -> None:
    # it printed Alembic's "Target database is not up to date." and nothing else
    env = {"CALLCENTER_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["db", "check"], env=env)
    assert result.exit_code == 1
    assert str(tmp_path / "callcenter.db") in result.output
    assert "run `callcenter db upgrade`" in result.output
    assert "Target database is not up to date" not in result.output


def test_a_downgrade_asks_first_and_is_refused_without_yes_off_a_tty(tmp_path: Path) -> None:
    # `db downgrade base`, the example of its own --help, dropped every table unasked
    env = {"CALLCENTER_DATA_DIR": str(tmp_path)}
    assert run(["db", "upgrade"], env).exit_code == 0
    run(["agent", "add", "7391", "--name", "Kept"], env)
    head = json.loads(run(["db", "current", "--json"], env).stdout)[0]["current"]

    refused = CliRunner().invoke(main, ["db", "downgrade", "base"], env=env)
    assert refused.exit_code == 1
    assert str(tmp_path / "callcenter.db") in refused.output
    assert "--yes" in refused.output and "every table" in refused.output
    assert json.loads(run(["db", "current", "--json"], env).stdout)[0]["current"] == head
    assert "7391" in run(["agent", "list"], env).output

    from callcenter.cli import db_cmd

    try:  # on a terminal: asked, and "no" keeps everything
        db_cmd.on_a_tty = lambda: True
        kept = CliRunner().invoke(main, ["db", "downgrade", "base"], env=env, input="n\n")
        assert kept.exit_code == 1 and "every table" in kept.output and "[y/N]" in kept.output
        assert json.loads(run(["db", "current", "--json"], env).stdout)[0]["current"] == head
        done = CliRunner().invoke(main, ["db", "downgrade"], env=env, input="y\n")
        assert done.exit_code == 0, done.output
        assert f"(was {head})" in done.output
    finally:
        db_cmd.on_a_tty = db_cmd.stdin_is_a_tty


def test_db_commands_on_sqlite(tmp_path: Path) -> None:
    env = {"CALLCENTER_DATA_DIR": str(tmp_path)}
    assert run(["db", "upgrade"], env).exit_code == 0
    assert (tmp_path / "callcenter.db").exists()
    result = run(["db", "check"], env)
    assert result.exit_code == 0 and "matches the models" in result.output


def test_unreachable_database_is_a_one_line_error() -> None:
    env = {"CALLCENTER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    assert "Traceback" not in result.output


def test_missing_schema_says_to_migrate(tmp_path: Path, empty_pg_url: str) -> None:
    for env in ({"CALLCENTER_DATA_DIR": str(tmp_path)}, {"CALLCENTER_DATABASE_URL": empty_pg_url}):
        result = CliRunner().invoke(main, ["route", "list"], env=env)
        assert result.exit_code == 1, result.output
        assert "run `callcenter db upgrade`" in result.output
        assert "[schema_outdated]" in result.output
