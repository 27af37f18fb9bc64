"""A campaign's call found live after a restart (``uuid_dump``) is a campaign call again: its
``cc_entry=dialer`` tags give back its campaign and lead (and a preview's reservation), so
the dialer runs it rather than the route of its number taken for a DID."""

from __future__ import annotations

import pytest

from callcenter.calls.call import Call

ANSWERED_US = 1_765_000_000_000_000


def dump(**tags: str) -> dict[str, str]:
    return {
        "Unique-ID": "d-1",
        "Call-Direction": "outbound",
        "Caller-Caller-ID-Number": "12125550199",
        "Caller-Destination-Number": "15557100001",
        "Caller-Channel-Created-Time": str(ANSWERED_US - 3_000_000),
        "Caller-Channel-Answered-Time": str(ANSWERED_US),
        "variable_cc_managed": "true",
        "variable_cc_entry": "dialer",
        **{f"variable_cc_{k}": v for k, v in tags.items()},
    }


def test_an_adopted_campaign_call_keeps_its_campaign_and_lead() -> None:
    call = Call.from_dump(dump(campaign="spring", lead="42"), node="fs1")
    assert (call.entry, call.dialer, call.adopted) == ("dialer", ("spring", 42, ""), True)


def test_an_adopted_preview_keeps_its_reservation() -> None:
    call = Call.from_dump(dump(campaign="spring", lead="42", preview="r-1"), node="fs1")
    assert call.dialer == ("spring", 42, "r-1")


@pytest.mark.parametrize(
    "tags",
    [{"campaign": "spring"}, {"campaign": "spring", "lead": "4x"}, {"lead": "42"},
     {"campaign": "spring;rm", "lead": "42"}],
)  # fmt: skip
def test_tags_that_do_not_name_a_campaign_and_a_lead_make_no_campaign_call(
    tags: dict[str, str],
) -> None:
    assert Call.from_dump(dump(**tags), node="fs1").dialer is None


def test_a_call_not_tagged_by_the_dialer_is_no_campaign_call() -> None:
    plain = {**dump(campaign="spring", lead="42"), "variable_cc_entry": "inbound"}
    assert Call.from_dump(plain, node="fs1").dialer is None
