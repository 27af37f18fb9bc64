"""The backstop's decisions: hold FreeSWITCH's CDR, then write it only when the engine has
none, whatever restarts, outages and live calls happen meanwhile."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from callcenter.cdr.backstop import BackstopMetrics, CdrBackstop
from callcenter.store.records import CdrRecord
from callcenter.vocabulary import CdrSource, Direction, Disposition, HangupBy
from tests.support import until

AT = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def fs_cdr(uuid: str, node: str = "fs1") -> CdrRecord:
    return CdrRecord(
        call_uuid=uuid, direction=Direction.INBOUND, node=node, started_at=AT, ended_at=AT,
        hangup_cause="NORMAL_CLEARING", hangup_by=HangupBy.CALLER,
        disposition=Disposition.ABANDONED, source=CdrSource.FREESWITCH,
    )  # fmt: skip


@dataclass
class Writer:
    written: list[CdrRecord] = field(default_factory=list)
    flushes: int = 0

    def write_cdr(self, cdr: CdrRecord) -> None:
        self.written.append(cdr)

    def flush(self, timeout: float = 10.0) -> bool:
        self.flushes += 1
        return True


@dataclass
class Engine:
    live: set[str] = field(default_factory=set)
    ready: bool = True
    asked: int = 0  # how often the backstop asked whether the node is connected

    def node_ready(self, _node: str) -> bool:
        self.asked += 1
        return self.ready


def backstop(
    tmp_path: Path, writer: Writer, engine: Engine, *, hold: float = 0.05, hold_max: float = 60
) -> CdrBackstop:
    return CdrBackstop(
        tmp_path / "fs-cdr", writer, BackstopMetrics(CollectorRegistry()),
        is_live=lambda uuid: uuid in engine.live, node_ready=engine.node_ready,
        hold=hold, hold_max=hold_max,
    )  # fmt: skip


def test_held_then_written_when_the_engine_has_none(tmp_path: Path) -> None:
    writer, engine = Writer(), Engine()
    b = backstop(tmp_path, writer, engine)
    b.start()
    try:
        b.accept(fs_cdr("u1"))
        assert writer.written == [] and (tmp_path / "fs-cdr" / "u1.json").is_file()
        until(lambda: writer.written)
        assert [c.call_uuid for c in writer.written] == ["u1"]
        assert writer.flushes >= 1  # the engine's CDRs handed over before go first
        assert not list((tmp_path / "fs-cdr").iterdir())
    finally:
        b.stop()


def test_a_call_live_in_the_engine_waits_for_it(tmp_path: Path) -> None:
    writer, engine = Writer(), Engine(live={"u2"})
    b = backstop(tmp_path, writer, engine)
    b.start()
    try:
        b.accept(fs_cdr("u2"))
        b.accept(fs_cdr("u3"))
        until(lambda: writer.written)
        assert [c.call_uuid for c in writer.written] == ["u3"]
        engine.live.clear()  # the engine closed it (its own CDR went to the writer first)
        until(lambda: len(writer.written) == 2)
        assert writer.written[1].call_uuid == "u2"
    finally:
        b.stop()


def test_nothing_is_decided_while_the_node_is_disconnected(tmp_path: Path) -> None:
    writer, engine = Writer(), Engine(ready=False)
    b = backstop(tmp_path, writer, engine)
    b.start()
    try:
        b.accept(fs_cdr("u4"))
        until(lambda: engine.asked >= 3)  # the hold is over, and over again
        assert writer.written == []
        engine.ready = True  # reconnected: its resync closed what ended meanwhile
        until(lambda: writer.written)
    finally:
        b.stop()


def test_a_call_stuck_in_the_engine_gets_freeswitchs_cdr_after_hold_max(tmp_path: Path) -> None:
    writer, engine = Writer(), Engine(live={"u5"})
    b = backstop(tmp_path, writer, engine, hold=0.02, hold_max=0.2)
    b.start()
    try:
        b.accept(fs_cdr("u5"))
        until(lambda: writer.written)
    finally:
        b.stop()


def test_a_restart_keeps_what_was_accepted(tmp_path: Path) -> None:
    writer, engine = Writer(), Engine(ready=False)
    first = backstop(tmp_path, writer, engine)
    first.start()
    first.accept(fs_cdr("u6"))
    first.accept(fs_cdr("../../etc/x"))  # a hostile uuid never names a path
    first.stop()
    assert writer.written == []
    hashed = hashlib.sha256(b"../../etc/x").hexdigest()
    assert {p.name for p in (tmp_path / "fs-cdr").iterdir()} == {"u6.json", f"{hashed}.json"}
    engine.ready = True
    second = backstop(tmp_path, writer, engine)
    second.start()
    try:
        until(lambda: len(writer.written) == 2)
        assert {c.call_uuid for c in writer.written} == {"u6", "../../etc/x"}
        assert all(c.source is CdrSource.FREESWITCH for c in writer.written)
        assert not list((tmp_path / "fs-cdr").iterdir())
    finally:
        second.stop()


def test_the_same_call_posted_twice_is_written_once(tmp_path: Path) -> None:
    writer, engine = Writer(), Engine()
    b = backstop(tmp_path, writer, engine, hold=0.1)
    b.start()
    try:
        b.accept(fs_cdr("u7"))
        b.accept(fs_cdr("u7"))
        until(lambda: writer.written)
        until(lambda: not list((tmp_path / "fs-cdr").iterdir()))
        assert [c.call_uuid for c in writer.written] == ["u7"]
    finally:
        b.stop()


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "xml_cdr"
ERR_LOG_FILE = FIXTURES / "s17-xml-cdr-err-log-dir-a_eb498acd-3e9e-4fd7-aa37-72ea2abb5b46.cdr.xml"


def test_err_log_dir_files_are_imported_once(tmp_path: Path) -> None:
    errors = tmp_path / "xml_cdr"
    errors.mkdir()
    (errors / ERR_LOG_FILE.name).write_bytes(ERR_LOG_FILE.read_bytes())
    agent_leg = b"<cdr><variables><uuid>b1</uuid><cc_managed>true</cc_managed>"
    agent_leg += b"<cc_role>agent</cc_role></variables></cdr>"
    (errors / "a_b1.cdr.xml").write_bytes(agent_leg)
    (errors / "a_bad.cdr.xml").write_bytes(b"<!DOCTYPE x><cdr/>")
    (errors / "notes.txt").write_text("not FreeSWITCH's")
    writer, engine = Writer(), Engine()
    b = CdrBackstop(
        tmp_path / "fs-cdr", writer, BackstopMetrics(CollectorRegistry()),
        is_live=lambda _uuid: False, node_ready=engine.node_ready, hold=0.01,
        import_dir=errors, node_for=lambda _switch: "fs1",
    )  # fmt: skip
    assert b.import_files() == 3
    assert sorted(p.name for p in errors.iterdir()) == ["a_bad.cdr.xml.rejected", "notes.txt"]
    assert b.import_files() == 0
    b.start()
    try:
        until(lambda: writer.written)
        (cdr,) = writer.written
        assert cdr.call_uuid == "eb498acd-3e9e-4fd7-aa37-72ea2abb5b46" and cdr.node == "fs1"
    finally:
        b.stop()


def test_a_bug_in_the_backstop_greenlet_restarts_it(tmp_path: Path) -> None:
    writer, engine = Writer(), Engine()
    b = backstop(tmp_path, writer, engine)
    b.import_dir = tmp_path / "err"
    real_import, failures = b.import_files, []

    def import_once_broken() -> int:
        if not failures:
            failures.append(1)
            raise ValueError("a bug")
        return real_import()

    b.import_files = import_once_broken  # type: ignore[method-assign]
    b.start()
    try:
        b.accept(fs_cdr("u9"))
        until(lambda: writer.written, timeout=10)
        assert failures and [c.call_uuid for c in writer.written] == ["u9"]
    finally:
        b.stop()
