"""Agents in the database -> FreeSWITCH directory files, through the CLI."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from callcenter.cli import main

HOSTILE = 'Evil"/><X-PRE-PROCESS cmd="exec-set" data="x=rm -rf /"/> $${x} ${y}\nline2'


def run(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return result


def test_render_writes_escaped_users_and_removes_stale_ones(pg_url: str, tmp_path: Path) -> None:
    env = {"CALLCENTER_DATABASE_URL": pg_url}
    out = tmp_path / "directory"
    out.mkdir()
    (out / "handmade.xml").write_text("<include/>")
    assert (
        run(["agent", "add", "2001", "--name", HOSTILE, "--sip-password", "pw1"], env).exit_code
        == 0
    )
    assert (
        run(["agent", "add", "2002", "--name", "Bob", "--skill", "english=5"], env).exit_code == 0
    )
    result = run(["fs", "render", "--out", str(out)], env)
    assert result.exit_code == 0, result.output
    assert "skipped 2002: no SIP password" in result.output
    text = (out / "2001.xml").read_text()
    assert "X-PRE-PROCESS" not in text.replace("&lt;X-PRE-PROCESS", "")  # only escaped
    assert "$" not in text and "${" not in text
    user = ET.fromstring(text).find("user")
    assert user is not None and user.get("id") == "2001"
    params = {p.get("name"): p.get("value") for p in user.iter("param")}
    assert params["a1-hash"] == hashlib.md5(b"2001:callcenter:pw1").hexdigest()
    names = {v.get("name"): v.get("value") for v in user.iter("variable")}
    assert names["user_context"] == "callcenter-agents"
    assert "\n" not in names["effective_caller_id_name"]
    assert not (out / "2002.xml").exists()

    assert run(["agent", "password", "2002", "--sip-password", "pw2"], env).exit_code == 0
    agents = json.loads(run(["agent", "list", "--json"], env).stdout)
    assert {a["extension"]: a["sip"] for a in agents} == {"2001": "yes", "2002": "yes"}
    assert run(["agent", "remove", "2001"], env).exit_code == 0
    result = run(["fs", "render", "--out", str(out)], env)
    assert "1 written, 1 removed" in result.output
    assert not (out / "2001.xml").exists() and (out / "2002.xml").exists()
    assert (out / "handmade.xml").exists()  # never touched
    run(["agent", "remove", "2002"], env)


def test_bad_agent_input_is_a_clear_error(pg_url: str) -> None:
    env = {"CALLCENTER_DATABASE_URL": pg_url}
    result = CliRunner().invoke(main, ["agent", "add", "10 01"], env=env)
    assert result.exit_code == 2 and "EXTENSION" in result.output
    result = CliRunner().invoke(main, ["agent", "add", "3001", "--skill", "english"], env=env)
    assert result.exit_code == 2 and "NAME=LEVEL" in result.output
    result = CliRunner().invoke(main, ["agent", "add", "3001", "--pin", "12"], env=env)
    assert result.exit_code == 1 and "PIN" in result.output
    result = CliRunner().invoke(main, ["agent", "remove", "nobody"], env=env)
    assert result.exit_code == 1 and result.output.startswith("error: no agent")
