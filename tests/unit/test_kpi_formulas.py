"""Every KPI formula on fixed stays (callcenter.kpi.formulas): the edges included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callcenter.kpi import formulas as f
from callcenter.kpi.formulas import QueueTally, SlFormula, Stay
from callcenter.store.repos.reports import zone_offsets

T = 20


def stays(*rows: tuple[str, float]) -> list[Stay]:
    return [Stay("sales", f"c{i}", outcome, wait) for i, (outcome, wait) in enumerate(rows)]


def test_answered_and_abandoned_at_exactly_t_are_within() -> None:
    tally = f.tally_stays(stays(("answered", 20), ("answered", 20.001), ("abandoned", 20)), T)
    assert (tally.answered_within, tally.abandoned_within) == (1, 1)


def test_short_abandons_are_counted_apart_strictly_under_the_threshold() -> None:
    tally = f.tally_stays(stays(("abandoned", 4.999), ("abandoned", 5), ("answered", 1)), T, 5)
    assert (tally.abandoned, tally.short_abandoned) == (2, 1)
    assert f.abandon_rate(tally) == pytest.approx(1 / 2)  # (2 - 1) / (3 - 1)
    none = f.tally_stays(stays(("abandoned", 0.5)), T, 0)
    assert none.short_abandoned == 0  # threshold 0: no short abandons


def test_the_three_service_level_definitions() -> None:
    tally = f.tally_stays(
        stays(("answered", 10), ("answered", 30), ("abandoned", 2), ("abandoned", 15),
              ("abandoned", 50), ("callback", 5), ("timeout", 600)), T, 5)  # fmt: skip
    # offered 7, short 1, answered 2 (1 within), abandoned within T: 2 (2 s and 15 s)
    assert f.service_level(tally, SlFormula.OFFERED) == pytest.approx(1 / 6)
    assert f.service_level(tally, "answered") == pytest.approx(1 / 2)
    assert f.service_level(tally, SlFormula.ABANDONS_MET) == pytest.approx(3 / 7)
    assert set(f.SL_FORMULAS) == set(SlFormula)


def test_callbacks_and_exits_by_reason() -> None:
    tally = f.tally_stays(
        stays(("callback", 30), ("overflow", 60), ("timeout", 600), ("overflow", 61),
              ("exit_key", 9)), T)  # fmt: skip
    assert tally.callbacks == 1
    assert tally.exits == {"overflow": 2, "timeout": 1, "exit_key": 1}
    assert tally.offered == 5 and tally.answered == 0


def test_nothing_to_measure_is_none_not_zero() -> None:
    empty = QueueTally()
    for formula in SlFormula:
        assert f.service_level(empty, formula) is None
    assert f.asa(empty) is None and f.aht(empty) is None and f.abandon_rate(empty) is None
    assert f.occupancy(0, 0) is None and f.percentile([]) is None
    only_short = f.tally_stays(stays(("abandoned", 1)), T, 5)
    assert f.service_level(only_short, SlFormula.OFFERED) is None  # 0 / (1 - 1)


def test_asa_wait_p90_aht_and_occupancy() -> None:
    tally = f.tally_stays(stays(("answered", 10), ("answered", 20), ("abandoned", 60)), T)
    assert f.asa(tally) == pytest.approx(15)
    assert f.average_wait(tally) == pytest.approx(30)
    assert f.percentile([3, 1, 2, 4, 5, 6, 7, 8, 9, 10]) == 9  # nearest rank: ceil(0.9 n)
    assert f.percentile([5.0]) == 5.0
    assert f.percentile(list(range(1, 12))) == 10
    handled = QueueTally(handled=2, talk=300, hold=20, wrapup=40)
    assert f.aht(handled) == pytest.approx(180)  # (talk + hold + wrap-up) / handled
    assert f.occupancy(300, 100) == pytest.approx(0.75)


def test_tallies_add_up_over_intervals() -> None:
    one = f.tally_stays(stays(("answered", 10), ("overflow", 60)), T)
    two = f.tally_stays(stays(("answered", 30), ("overflow", 5), ("abandoned", 1)), T)
    both = one + two
    assert both == f.tally_stays(stays(("answered", 10), ("overflow", 60), ("answered", 30),
                                       ("overflow", 5), ("abandoned", 1)), T)  # fmt: skip
    assert both.exits == {"overflow": 2}


def test_first_contact_resolution_is_an_approximation_by_caller_number() -> None:
    t0 = datetime(2026, 7, 1, 9, tzinfo=UTC)
    calls = [
        ("+33100", t0, True),
        ("33100", t0 + timedelta(hours=23), True),  # the same caller again within 24 h
        ("33200", t0, True),
        ("33300", t0, True),
        ("33300", t0 + timedelta(hours=25), False),  # again, but after 24 h: resolved
        ("", t0, True),  # no number: not measured
    ]
    assert f.first_contact_resolution(calls) == pytest.approx(3 / 4)
    assert f.first_contact_resolution(calls, hours=48) == pytest.approx(2 / 4)
    assert "APPROXIMATE" in f.FORMULAS["fcr"]


def test_zone_offsets_follow_a_dst_change_inside_the_window() -> None:
    paris = ZoneInfo("Europe/Paris")
    since = datetime(2026, 3, 28, tzinfo=UTC)
    found = zone_offsets(paris, since, since + timedelta(days=2))
    change = int(datetime(2026, 3, 29, 1, tzinfo=UTC).timestamp())
    assert found == [(int(since.timestamp()), 3600), (change, 7200)]
    assert zone_offsets(ZoneInfo("UTC"), since, since + timedelta(days=40)) == [
        (int(since.timestamp()), 0)
    ]


def test_percentile_of_counts_is_the_nearest_rank_of_the_expanded_values() -> None:
    values = [3, 1, 2, 2, 9, 9, 9, 4, 5, 6, 7]
    counts = [(v, values.count(v)) for v in set(values)]
    assert f.percentile_of_counts(counts) == f.percentile(values) == 9
    assert f.percentile_of_counts([(5, 0)]) is None
    assert f.percentile_of_counts([(1, 9), (100, 1)]) == 1  # 9 of 10 at or below 1


def test_the_percentile_rank_is_counted_in_integers() -> None:
    for n in (1, 9, 10, 11, 70, 99, 1001):  # the rank SQL takes: running * 10 >= n * 9
        rank = next(r for r in range(1, n + 1) if r * 10 >= n * 9)
        assert f.percentile(list(range(1, n + 1))) == rank
        assert f.percentile_of_counts([(v, 1) for v in range(1, n + 1)]) == rank
