"""How many due leads each read of the dialer's pick asks for (``store.scan_batch``)."""

from __future__ import annotations

from callcenter.dialer.store import scan_batch


def _reads(limit: int, passed_over: int) -> list[int]:
    """The reads of a pick of ``limit`` whose first ``passed_over`` leads are not dialable."""
    sizes: list[int] = []
    scanned = claimed = last = passed = 0
    bound = 20 * limit + 1000
    while claimed < limit and scanned < bound:
        last = scan_batch(limit - claimed, last, passed > 0, bound - scanned)
        sizes.append(last)
        passed = min(last, max(0, passed_over - scanned))
        claimed += min(last - passed, limit - claimed)
        scanned += last
    return sizes


def test_with_nothing_passed_over_a_read_asks_for_what_is_wanted() -> None:
    assert _reads(1, 0) == [1]
    assert _reads(20, 0) == [20]
    assert _reads(500, 0) == [200, 200, 100]  # 200 at most a read


def test_while_leads_are_passed_over_each_read_doubles_up_to_200() -> None:
    assert _reads(1, 300) == [1, 2, 4, 8, 16, 32, 64, 128, 200]
    assert _reads(20, 100) == [20, 40, 80]


def test_the_scan_bound_caps_the_last_read() -> None:
    sizes = _reads(1, 5000)  # every lead read closed: 20 x 1 + 1,000 read, not one more
    assert sum(sizes) == 1020 and sizes[-1] == 1020 - sum(sizes[:-1])
    assert len(sizes) == 12
