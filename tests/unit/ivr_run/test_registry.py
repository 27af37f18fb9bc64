"""Hot reload: validate everything, swap at once, keep the old set on any error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callcenter.ivr import plan
from callcenter.ivr.registry import FlowRegistry
from callcenter.store.database import Database
from tests.unit.ivr_run.helpers import flow, hangup

V1 = flow("bye", hangup(), name="main")
V2 = replace(V1, version="2", checksum="d" * 64)
OTHER = flow("bye", hangup(), name="other")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Catalog:
    flows: Mapping[str, plan.Flow]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Disk:
    def __init__(self, *catalogs: Catalog) -> None:
        self.catalogs = list(catalogs)

    def __call__(self, _folder: Path) -> Catalog:
        return self.catalogs.pop(0)


def registry(*catalogs: Catalog, database: Database | None = None) -> FlowRegistry:
    return FlowRegistry(Path("dialplans"), loader=Disk(*catalogs), database=database,
                        clock=lambda: T0)  # fmt: skip


def test_reload_swaps_and_running_calls_keep_their_version() -> None:
    reg = registry(Catalog({"main": V1}), Catalog({"main": V2, "other": OTHER}))
    first = reg.reload()
    assert first.ok and first.changed == ("main",)
    held = reg.get("main")  # a call starts with v1
    second = reg.reload()
    assert second.ok and second.changed == ("main", "other")
    assert held.version == "1" and reg.get("main").version == "2"
    assert [(i.name, i.version, i.loaded_at) for i in reg.list()] == [
        ("main", "2", T0), ("other", "1", T0),
    ]  # fmt: skip


def test_an_invalid_reload_keeps_the_old_flows_and_returns_errors() -> None:
    bad = Catalog({}, errors=["dialplans/main.yaml:3:5: nodes.x: unknown target 'y'"])
    reg = registry(Catalog({"main": V1}), bad)
    reg.reload()
    result = reg.reload()
    assert not result.ok and result.errors == (bad.errors[0],)
    assert reg.get("main") is V1 and reg.names() == ["main"]


def test_removed_flows_and_unknown_names() -> None:
    reg = registry(Catalog({"main": V1, "other": OTHER}), Catalog({"main": V1}))
    reg.reload()
    result = reg.reload()
    assert result.changed == () and result.removed == ("other",)
    with pytest.raises(KeyError):
        reg.get("other")
    assert "other" not in reg and "main" in reg


@pytest.mark.db
def test_versions_are_recorded_once_in_the_database(db: Database) -> None:
    from callcenter.store.repos import IvrFlowRepository

    reg = registry(Catalog({"main": V1}), Catalog({"main": V1}), Catalog({"main": V2}), database=db)
    reg.reload()
    reg.reload()
    reg.reload()
    with db.session_scope() as session:
        # other tests' engines may have recorded the shipped flows in this database
        latest = [r for r in IvrFlowRepository(session).latest() if r.name == "main"]
    assert [(r.name, r.version, r.checksum) for r in latest] == [("main", "2", "d" * 64)]
    assert reg.list()[0].loaded_at == latest[0].loaded_at


def test_a_database_that_is_down_does_not_block_the_reload(tmp_path: Path) -> None:
    down = Database("postgresql+psycopg://nobody@127.0.0.1:9/none")
    try:
        reg = registry(Catalog({"main": V1}), database=down)
        assert reg.reload().ok and reg.get("main") is V1
        assert reg.list()[0].loaded_at == T0
    finally:
        down.dispose()


def test_the_real_validator_loads_the_shipped_examples() -> None:
    reg = FlowRegistry(Path(__file__).parents[3] / "dialplans")
    result = reg.reload()
    assert result.ok, result.errors
    assert {"main", "support"} <= set(reg.names())


@pytest.mark.db
def test_queue_names_come_from_the_database(db: Database) -> None:
    from callcenter.ivr.registry import queue_names
    from callcenter.store.repos import QueueRepository

    assert queue_names(db) is None  # no queue configured: names are not checked
    with db.session_scope() as session:
        QueueRepository(session).add("sales")
    assert queue_names(db) == ["sales"]
    down = Database("postgresql+psycopg://nobody@127.0.0.1:9/none")
    try:
        assert queue_names(down) is None
    finally:
        down.dispose()


FLOW = "version: {v}\nname: {name}\nstart: a\nnodes:\n  a: {{type: hangup}}\n"


def test_a_flow_with_a_nul_byte_is_rejected_alone_and_reported(tmp_path: Path) -> None:
    # issue 10 finding 7: the ReaderError escaped reload(): `serve` refused to start and the
    # SIGHUP reload greenlet died; now the bad file is rejected and the others go live
    (tmp_path / "main.yaml").write_text(FLOW.format(v=1, name="main"))
    (tmp_path / "bad.yaml").write_bytes(FLOW.format(v=1, name="bad").encode() + b"# \x00\n")
    reg = FlowRegistry(tmp_path)
    result = reg.reload()
    assert not result.ok and result.rejected == (str(tmp_path / "bad.yaml"),)
    assert result.errors == (
        f"{tmp_path}/bad.yaml:6:3: control character U+0000 is not allowed in a YAML file "
        '(remove it, or write it as an escape in a double-quoted string, e.g. "\\t")',
    )
    assert reg.names() == ["main"]
    assert list(reg.rejected) == [str(tmp_path / "bad.yaml")]


def test_a_rejected_file_keeps_its_live_version_while_the_others_change(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(FLOW.format(v=1, name="main"))
    (tmp_path / "other.yaml").write_text(FLOW.format(v=1, name="other"))
    reg = FlowRegistry(tmp_path)
    assert reg.reload().ok and reg.rejected == {}
    (tmp_path / "main.yaml").write_text(FLOW.format(v=2, name="main") + "  b: {type: nope}\n")
    (tmp_path / "other.yaml").write_text(FLOW.format(v=2, name="other"))
    result = reg.reload()
    assert not result.ok and result.kept == ("main",) and result.changed == ("other",)
    assert reg.get("main").version == "1" and reg.get("other").version == "2"
    assert list(reg.rejected) == [str(tmp_path / "main.yaml")]
    (tmp_path / "main.yaml").write_text(FLOW.format(v=3, name="main"))
    assert reg.reload().ok and reg.get("main").version == "3" and reg.rejected == {}


def test_a_retry_of_the_rejected_files_leaves_the_others_as_live(tmp_path: Path) -> None:
    # a queue change retried the rejected files by reloading the whole folder: a valid edit
    # of another file, saved and never reloaded, went live with it
    (tmp_path / "main.yaml").write_text(FLOW.format(v=1, name="main"))
    (tmp_path / "other.yaml").write_text(FLOW.format(v=1, name="other") + "  b: {type: nope}\n")
    reg = FlowRegistry(tmp_path)
    assert not reg.reload().ok and reg.names() == ["main"]
    (tmp_path / "main.yaml").write_text(FLOW.format(v=2, name="main"))  # saved, not reloaded
    (tmp_path / "other.yaml").write_text(FLOW.format(v=1, name="other"))  # its fault mended
    result = reg.reload(only=set(reg.rejected))
    assert result.ok and result.changed == ("other",) and reg.rejected == {}
    assert reg.get("main").version == "1" and reg.get("other").version == "1"
    assert reg.reload().changed == ("main",)  # the edit goes live when reloaded
