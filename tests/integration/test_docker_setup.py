"""docker/setup.sh, the compose stack's one-shot setup, run twice against SQLite: the second
run changes nothing and fails nothing (it runs at every `docker compose up`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)  # 16 CLI processes, ~2 s of imports each: 44 s alone, over 60 loaded
def test_setup_seeds_the_queues_and_route_and_is_idempotent(tmp_path: Path) -> None:
    script = (ROOT / "docker" / "setup.sh").read_text()
    script = script.replace("chown callcenter:callcenter", "test -d")  # not root here
    (tmp_path / "etc/freeswitch/directory/callcenter").mkdir(parents=True)
    script_path = tmp_path / "setup.sh"
    script_path.write_text(script.replace("/etc/freeswitch", str(tmp_path / "etc/freeswitch")))
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "CALLCENTER_DATA_DIR": str(tmp_path / "var"),
        "CALLCENTER_DIALPLANS_DIR": str(ROOT / "dialplans"),
    }
    for _ in range(2):
        result = subprocess.run(
            ["sh", str(script_path)], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    listed = subprocess.run(
        ["callcenter", "queue", "list", "--json"], env=env, capture_output=True, text=True
    )
    assert {q["name"] for q in json.loads(listed.stdout)} == {"sales", "support", "vip"}
    routes = subprocess.run(
        ["callcenter", "route", "list", "--json"], env=env, capture_output=True, text=True
    )
    assert [(r["did"], r["target"]) for r in json.loads(routes.stdout)] == [("5000", "ivr:main")]
    flows = subprocess.run(["callcenter", "ivr", "list"], env=env, capture_output=True, text=True)
    assert flows.returncode == 0 and "main" in flows.stdout  # the shipped flows load
