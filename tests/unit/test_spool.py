"""The spool on real files: order, fsync'd appends, torn lines, corrupt lines, partial replays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callcenter.store.codec import decode_record, encode
from callcenter.store.records import CallRecord, CdrLegRecord, CdrRecord, LegRecord
from callcenter.store.spool import PartlyApplied, Spool, SpoolRecord
from callcenter.vocabulary import CallState, Direction, Disposition, HangupBy, LegRole

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def rec(i: int) -> SpoolRecord:
    return SpoolRecord("n", {"i": i, "name": "Evil\nEvent-Name: CHANNEL_HANGUP ë"})


def test_records_replay_in_order_and_spool_empties(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(5):
        spool.append(rec(i))
    seen: list[int] = []
    assert spool.replay(lambda r: seen.append(r.data["i"])) == 5
    assert seen == [0, 1, 2, 3, 4]
    assert spool.pending() == 0


def test_failure_keeps_the_rest_for_next_time(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(4):
        spool.append(rec(i))
    seen: list[int] = []

    def apply(r: SpoolRecord) -> None:
        if r.data["i"] == 2:
            raise ConnectionError("db down")
        seen.append(r.data["i"])

    with pytest.raises(ConnectionError):
        spool.replay(apply)
    assert seen == [0, 1]
    assert spool.pending() == 2
    spool.replay(lambda r: seen.append(r.data["i"]))
    assert seen == [0, 1, 2, 3]


def test_a_batch_partly_applied_keeps_only_its_unapplied_records(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append_many([rec(i) for i in range(7)])

    class Lost(PartlyApplied):
        pass

    def apply(batch: Sequence[SpoolRecord]) -> None:
        if batch[0].data["i"] == 3:  # the second batch (3, 4, 5): 3 committed, then lost
            error = Lost()
            error.applied = 1
            raise error

    with pytest.raises(Lost):
        spool.replay_batches(apply, 3)
    assert [r.data["i"] for r in spool.peek()] == [4, 5, 6]


def test_appends_during_replay_are_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(rec(0))
    spool.replay(lambda r: spool.append(rec(99)))
    seen: list[int] = []
    spool.replay(lambda r: seen.append(r.data["i"]))
    assert seen == [99]


def test_torn_last_line_is_dropped_and_next_append_survives(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(rec(0))
    with spool.path.open("ab") as fh:
        fh.write(b'1234abcd {"kind": "n", "da')  # a crash mid-write
    spool.append(rec(1))
    seen: list[int] = []
    spool.replay(lambda r: seen.append(r.data["i"]))
    assert seen == [0, 1]
    assert spool.corrupt_path.exists()  # the fragment is set aside, not lost silently


def test_corrupt_line_is_quarantined_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(rec(0))
    with spool.path.open("ab") as fh:
        fh.write(b'00000000 {"kind": "n", "data": {}}\n')  # wrong CRC
    spool.append(rec(1))
    seen: list[int] = []
    spool.replay(lambda r: seen.append(r.data["i"]))
    spool.replay(lambda r: seen.append(r.data["i"]))
    assert seen == [0, 1]
    assert spool.corrupt_path.read_bytes().count(b"\n") == 1


def test_codec_round_trips_records() -> None:
    cdr = CdrRecord(
        call_uuid="u",
        direction=Direction.INBOUND,
        node="fs1",
        started_at=T0,
        ended_at=T0,
        hangup_cause="NORMAL_CLEARING",
        hangup_by=HangupBy.CALLER,
        disposition=Disposition.ANSWERED,
        from_name='Zoë \\"Q\\"\n',
        ivr_path=({"node": "menu", "input": "1"},),
        legs=(CdrLegRecord("u", LegRole.CALLER, T0),),
    )
    call = CallRecord(
        uuid="u",
        direction=Direction.INBOUND,
        state=CallState.BRIDGED,
        node="fs1",
        legs=(LegRecord("u", LegRole.CALLER, Direction.INBOUND, created_at=T0),),
    )
    for value in (cdr, call):
        assert decode_record(type(value).__name__, encode(value)) == value


def test_codec_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown record kind"):
        decode_record("Nope", {})
