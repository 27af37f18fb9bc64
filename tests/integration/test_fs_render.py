"""Agents in the database -> FreeSWITCH directory files, through the CLI."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text as sql

from callcenter.cli import main
from callcenter.store.database import Database

HOSTILE = 'Evil"/><X-PRE-PROCESS cmd="exec-set" data="x=rm -rf /"/>$${x}'


PW1 = "First-pw-11"


def run(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return result


def test_render_writes_escaped_users_and_removes_stale_ones(pg_url: str, tmp_path: Path) -> None:
    env = {"CALLCENTER_DATABASE_URL": pg_url}
    out = tmp_path / "directory"
    out.mkdir()
    (out / "handmade.xml").write_text("<include/>")
    assert (
        run(["agent", "add", "2001", "--name", HOSTILE, "--sip-password", PW1], env).exit_code == 0
    )
    added = run(["agent", "add", "2002", "--name", "Bob", "--skill", "english=5"], env)
    assert added.exit_code == 0
    assert "SIP password of 2002 (shown once): " in added.output
    with Database(pg_url).session_scope() as session:  # an agent stored by an older build
        session.execute(sql("UPDATE agents SET sip_a1_hash = NULL WHERE extension = '2002'"))
    result = run(["fs", "render", "--out", str(out)], env)
    assert result.exit_code == 0, result.output
    assert "skipped 2002: no SIP password" in result.output
    text = (out / "2001.xml").read_text()
    assert "X-PRE-PROCESS" not in text.replace("&lt;X-PRE-PROCESS", "")  # only escaped
    assert "$" not in text and "${" not in text
    user = ET.fromstring(text).find("user")
    assert user is not None and user.get("id") == "2001"
    params = {p.get("name"): p.get("value") for p in user.iter("param")}
    assert params["a1-hash"] == hashlib.md5(f"2001:callcenter:{PW1}".encode()).hexdigest()
    names = {v.get("name"): v.get("value") for v in user.iter("variable")}
    assert names["user_context"] == "callcenter-agents"
    assert not (out / "2002.xml").exists()

    assert run(["agent", "password", "2002", "--sip-password", "Second-pw-22"], env).exit_code == 0
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


def test_render_refuses_a_missing_dir_and_a_file_it_did_not_write(
    pg_url: str, tmp_path: Path
) -> None:
    env = {"CALLCENTER_DATABASE_URL": pg_url}
    assert run(["agent", "add", "2101", "--sip-password", "Render-pw-abcdx"], env).exit_code == 0
    try:
        missing = tmp_path / "etc" / "directory"
        result = CliRunner().invoke(main, ["fs", "render", "--out", str(missing)], env=env)
        assert result.exit_code == 1 and "no such directory" in result.output
        assert "[render_dir_missing]" in result.output and not missing.parent.exists()

        out = tmp_path / "directory"
        out.mkdir()
        (out / "2101.xml").write_text("<include><!-- by hand --></include>")
        dry = run(["fs", "render", "--out", str(out), "--dry-run"], env)
        assert f"would refuse {out / '2101.xml'}" in dry.output
        result = CliRunner().invoke(main, ["fs", "render", "--out", str(out)], env=env)
        assert result.exit_code == 1 and "2101.xml not written by" in result.output
        assert (out / "2101.xml").read_text() == "<include><!-- by hand --></include>"

        (out / "2101.xml").unlink()
        dry = run(["fs", "render", "--out", str(out), "--dry-run"], env)
        assert f"would write {out / '2101.xml'}" in dry.output and not (out / "2101.xml").exists()
        assert "1 written" in run(["fs", "render", "--out", str(out)], env).output
        assert (
            "nothing to change" in run(["fs", "render", "--out", str(out), "--dry-run"], env).output
        )
    finally:
        run(["agent", "remove", "2101"], env)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sip-password", "short"], "10-128 characters"),
        (["--sip-password", "aaaaaaaaaaaa"], "too easy to guess"),
        (["--sip-password", "x-2102-yyyyyy"], "too easy to guess"),
        (["--sip-password", "with space 1A"], "without spaces"),
        (["--name", "x" * 65], "at most 64"),
        (["--name", "Ann\nSmith"], "at most 64 printable"),
    ],
)
def test_agent_add_refuses_what_a_phone_cannot_use(
    pg_url: str, args: list[str], message: str
) -> None:
    env = {"CALLCENTER_DATABASE_URL": pg_url}
    result = CliRunner().invoke(main, ["agent", "add", "2102", *args], env=env)
    assert result.exit_code == 2 and message in result.output, result.output
