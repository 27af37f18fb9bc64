"""/flows: list, validate and reload the flows of dialplans_dir."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from callcenter.ivr.registry import FlowRegistry
from callcenter.store.database import Database
from callcenter.store.models import EngineChange

FLOW = """\
version: 1
name: {name}
start: bye
nodes:
  bye:
    type: hangup
"""


def test_list_validate_reload(make_client, tmp_path: Path, db: Database) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.yaml").write_text(FLOW.format(name="alpha"))
    (tmp_path / "b.yaml").write_text(FLOW.format(name="beta"))
    api = make_client(dialplans_dir=tmp_path)
    listed = api("GET", "/flows", query_string="limit=1")
    assert [f["name"] for f in listed.json["items"]] == ["alpha"] and listed.json["next"]
    assert api("POST", "/flows/validate", token="read").json["ok"] is True
    done = api("POST", "/flows/reload", token="operate")
    assert done.status_code == 200, done.text
    assert done.json["flows"] == ["alpha", "beta"]
    with db.session_scope() as session:
        change = session.scalars(select(EngineChange).order_by(EngineChange.id.desc())).first()
        assert change is not None and (change.kind, change.actor) == ("flow", "api:t-operate")


def test_an_invalid_flow_is_pointed_at_and_not_reloaded(make_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.yaml").write_text(FLOW.format(name="bad").replace("hangup", "teleport"))
    api = make_client(dialplans_dir=tmp_path)
    checked = api("POST", "/flows/validate").json
    assert checked["ok"] is False
    assert checked["errors"][0]["where"].startswith(str(tmp_path / "bad.yaml") + ":6")
    refused = api("POST", "/flows/reload", token="operate")
    assert (refused.status_code, refused.json["code"]) == (422, "flows_invalid")
    assert "bad.yaml:6" in refused.json["errors"][0]["message"]


def test_list_shows_the_version_the_engine_runs_and_skips_a_broken_file(  # type: ignore[no-untyped-def]
    make_client, tmp_path: Path
) -> None:
    (tmp_path / "a.yaml").write_text(FLOW.format(name="alpha"))
    (tmp_path / "b.yaml").write_text(FLOW.format(name="beta").replace("hangup", "teleport"))
    registry = FlowRegistry(tmp_path)
    registry.reload()  # the engine runs alpha version 1 ...
    (tmp_path / "a.yaml").write_text(FLOW.format(name="alpha").replace("version: 1", "version: 2"))
    listed = make_client(dialplans_dir=tmp_path, flows=registry)("GET", "/flows")
    assert listed.status_code == 200, listed.text
    assert [(f["name"], f["version"], f["running_version"]) for f in listed.json["items"]] == [
        ("alpha", "2", "1")  # ... while its file says 2; beta's file is rejected
    ]
