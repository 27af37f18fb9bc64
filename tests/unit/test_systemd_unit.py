"""deploy/systemd: the unit runs `callcenter serve` as its own user with an environment
file, restarts it, reloads with SIGHUP, waits out the drain; its example settings load."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from callcenter.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "callcenter.service"
ENV = ROOT / "deploy" / "systemd" / "callcenter.env"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def test_the_unit_runs_serve_as_its_user_and_reloads_with_sighup() -> None:
    service = _unit()["Service"]
    assert service["ExecStart"].endswith("/callcenter serve")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["User"] == "callcenter" and service["EnvironmentFile"]
    assert service["Restart"] in ("on-failure", "always")
    assert int(service["TimeoutStopSec"]) > load_settings(environ={}).shutdown_grace
    assert service["KillSignal"] == "SIGTERM"
    assert _unit()["Install"]["WantedBy"] == "multi-user.target"


def test_the_example_environment_file_is_valid_settings() -> None:
    env = {}
    for line in ENV.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    settings = load_settings(environ=env)
    assert settings.esl_nodes[0].password == env["CALLCENTER_ESL_PASSWORD"]
    assert str(settings.data_dir) == _unit()["Service"]["WorkingDirectory"]
    assert str(settings.data_dir) in _unit()["Service"]["ReadWritePaths"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_unit() -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "is not executable" not in line  # /opt/callcenter: not installed here
    ]
    assert not problems, problems
