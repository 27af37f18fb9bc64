"""What a person sees when the host refuses: one line that says what, where and what to do."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from callcenter.app import App
from callcenter.cli import main
from callcenter.errors import CallCenterError
from callcenter.settings import load_settings


def run(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, args, env=env)


def one_line_error(result, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("error: "), result.output
    for needle in needles:
        assert needle in lines[-1]


@pytest.fixture
def held_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


@pytest.mark.parametrize("args", [["db", "upgrade"], ["serve"], ["agent", "list"]])
def test_a_data_dir_that_cannot_be_created(tmp_path: Path, args: list[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = {"CALLCENTER_DATA_DIR": str(blocker / "data")}
    one_line_error(run(args, env), str(blocker / "data"), "CALLCENTER_DATA_DIR", "[path_unusable]")


def test_an_unopenable_sqlite_file_says_which_and_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "callcenter.db").mkdir()  # SQLite: "unable to open database file"
    result = run(["agent", "list"], {"CALLCENTER_DATA_DIR": str(tmp_path)})
    one_line_error(result, str(tmp_path / "callcenter.db"), "writable", "CALLCENTER_DATA_DIR")


def test_a_pid_file_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "callcenter.pid").mkdir()
    app = App(load_settings(environ={"CALLCENTER_DATA_DIR": str(tmp_path)}))
    with pytest.raises(CallCenterError) as caught:
        app.start(upgrade_db=True)
    assert caught.value.code == "path_unusable"
    assert "the pid file" in caught.value.message and str(tmp_path) in caught.value.message
    app.writer.stop()
    app.dispatcher.stop()


def test_a_metrics_port_in_use(tmp_path: Path, held_port: int) -> None:
    env = {
        "CALLCENTER_DATA_DIR": str(tmp_path),
        "CALLCENTER_METRICS_LISTEN": f"127.0.0.1:{held_port}",
    }
    app = App(load_settings(environ=env))
    with pytest.raises(CallCenterError) as caught:
        app.start(upgrade_db=True)
    assert caught.value.code == "metrics_listen_failed"
    assert f"127.0.0.1:{held_port}" in caught.value.message
    assert "CALLCENTER_METRICS_LISTEN" in caught.value.message
    assert not (tmp_path / "callcenter.pid").exists()
    app.writer.stop()
    app.dispatcher.stop()


def test_config_show_names_the_environment_it_read() -> None:
    result = run(["config", "show"], {"CALLCENTER_LOG_LEVEL": "WARNING"})
    assert "# settings from environment (CALLCENTER_LOG_LEVEL);" in result.output


@pytest.mark.parametrize("args", [["ivr", "validate"], ["ivr", "list"], ["ivr", "graph", "main"]])
def test_a_missing_dialplans_dir_names_the_directory_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(args, {"CALLCENTER_DATA_DIR": str(tmp_path)})
    one_line_error(result, str(tmp_path / "dialplans"), "current directory")


def test_flows_found_from_anywhere_through_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Path(__file__).resolve().parents[2]
    (tmp_path / "cc.yaml").write_text(f"dialplans_dir: {repo / 'dialplans'}\ndata_dir: var\n")
    (tmp_path / "rel.yaml").write_text("dialplans_dir: flows\n")
    (tmp_path / "flows").symlink_to(repo / "dialplans")
    monkeypatch.chdir("/")
    for config in ("cc.yaml", "rel.yaml"):
        result = run(["-c", str(tmp_path / config), "ivr", "validate"], {})
        assert result.exit_code == 0, result.output
        assert "flow(s) valid, 0 invalid" in result.output


def test_db_commands_say_where_the_schema_went_without_alembic_chatter(tmp_path: Path) -> None:
    env = {"CALLCENTER_DATA_DIR": str(tmp_path)}
    result = run(["db", "upgrade"], env)
    assert result.exit_code == 0
    assert result.output.strip().splitlines() == [
        f"sqlite:///{tmp_path}/callcenter.db: at {_head()} (was base)"
    ]
    assert "(unchanged)" in run(["db", "upgrade"], env).output
    assert "alembic" not in run(["db", "downgrade", "base", "--yes"], env).stdout


def _head() -> str:
    from callcenter.store import migrate

    return sorted(p.name[:4] for p in migrate.migrations_dir().glob("versions/0*.py"))[-1]
