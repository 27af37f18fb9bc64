"""Trunks in the database -> sofia gateway files and the carriers ACL, through the CLI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text as sql

from callcenter.cli import main
from callcenter.store.database import Database


def run(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_render_writes_gateways_and_acl_removes_stale_refuses_hostile(
    pg_url: str, tmp_path: Path
) -> None:
    env = {"CALLCENTER_DATABASE_URL": pg_url}
    gateways, acl = tmp_path / "callcenter-carriers", tmp_path / "callcenter-carriers-acl"
    gateways.mkdir()
    acl.mkdir()
    (gateways / "handmade-peer.txt").write_text("not xml: left alone")
    added = run(["trunk", "add", "rend-a", "--proxy", "sip.a.example:5060", "--register",
                 "--username", "u", "--password", "Pw&<x", "--inbound-cidr", "198.51.100.0/28"],
                env)  # fmt: skip
    assert added.exit_code == 0, added.output
    assert run(["trunk", "add", "rend-b", "--proxy", "203.0.113.7"], env).exit_code == 0
    args = ["fs", "render", "--gateways-out", str(gateways), "--acl-out", str(acl)]
    dry = run([*args, "--dry-run"], env)
    assert f"would write {gateways / 'rend-a.xml'}" in dry.output
    assert not (gateways / "rend-a.xml").exists()
    result = run(args, env)
    assert result.exit_code == 0, result.output
    assert "trunk gateway(s): 2 written, 0 removed" in result.output
    gateway = ET.parse(gateways / "rend-a.xml").getroot().find("gateway")
    assert gateway is not None and gateway.get("name") == "rend-a"
    params = {p.get("name"): p.get("value") for p in gateway.iter("param")}
    assert params["password"] == "Pw&<x" and params["register"] == "true"
    nodes = [n.get("cidr") for n in ET.parse(acl / "trunks.xml").getroot().iter("node")]
    assert nodes == ["198.51.100.0/28"]

    assert run(["trunk", "set", "rend-b", "--disable"], env).exit_code == 0
    result = run(args, env)
    assert "1 trunk gateway(s): 0 written, 1 removed" in result.output
    assert not (gateways / "rend-b.xml").exists() and (gateways / "handmade-peer.txt").exists()

    # a row written around the services, that FreeSWITCH would misread: nothing is written
    with Database(pg_url).session_scope() as session:
        session.execute(
            sql("UPDATE trunks SET proxy = 'x\"/><X-PRE-PROCESS' WHERE name = 'rend-b'")
        )
        session.execute(sql("UPDATE trunks SET enabled = true WHERE name = 'rend-b'"))
    before = (gateways / "rend-a.xml").read_text()
    result = run(args, env)
    assert result.exit_code == 1 and "proxy" in result.output and "[trunk_invalid]" in result.output
    assert (gateways / "rend-a.xml").read_text() == before and not (
        gateways / "rend-b.xml"
    ).exists()
    assert run(["trunk", "remove", "rend-b"], env).exit_code == 0
    assert run(["trunk", "remove", "rend-a"], env).exit_code == 0

    (gateways / "rend-c.xml").write_text("<include/>")  # hand-written, in the way
    assert run(["trunk", "add", "rend-c", "--proxy", "h.example"], env).exit_code == 0
    result = run(args, env)
    assert (
        result.exit_code == 1
        and "rend-c.xml not written by `callcenter fs render`" in result.output
    )
    assert run(["trunk", "remove", "rend-c"], env).exit_code == 0
