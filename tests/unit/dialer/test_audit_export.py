"""The compliance audit log written out: nothing at all when the campaign does not exist."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from callcenter.cli.campaign_leads_cmd import write_audit
from callcenter.errors import NotFound

ENTRY = {"id": 1, "at": "2026-12-06T18:00:00+00:00", "campaign": "spring", "kind": "dnc_hit",
         "phone": "+12125550100", "lead_id": 3, "call_uuid": None, "details": {}}  # fmt: skip


def _absent() -> Iterator[dict[str, Any]]:
    raise NotFound("no campaign 'absent'", code="campaign_not_found")
    yield ENTRY  # a generator, as the services' and the API's pages are


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_absent_campaign_writes_nothing(fmt: str) -> None:
    # `campaign audit absent --out audit.csv` left a file holding the CSV header (or "[")
    out = io.StringIO()
    with pytest.raises(NotFound):
        write_audit(out, fmt, _absent())
    assert out.getvalue() == ""


def test_entries_and_an_empty_log() -> None:
    out = io.StringIO()
    write_audit(out, "csv", iter([ENTRY]))
    assert out.getvalue().splitlines() == [
        "id,at,campaign,kind,phone,lead_id,call_uuid,details",
        "1,2026-12-06T18:00:00+00:00,spring,dnc_hit,'+12125550100,3,,{}",
    ]
    out = io.StringIO()
    write_audit(out, "json", iter([]))
    assert out.getvalue() == "[\n]\n"
