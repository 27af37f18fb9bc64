"""Who dialled: the authenticated SIP user of the park, never the caller ID."""

from __future__ import annotations

import pytest

from callcenter.phone.identity import agent_of

PARK = {  # the identity of the recorded park (sessions-3/s18)
    "variable_cc_entry": "agent_feature",
    "variable_sip_authorized": "true",
    "variable_sofia_profile_name": "callcenter-agents",
    "variable_user_name": "1001",
    "variable_sip_auth_username": "1001",
    "variable_domain_name": "callcenter",
    "variable_sip_auth_realm": "callcenter",
    "Caller-Caller-ID-Number": "1001",
}


def test_the_authenticated_user_is_the_agent() -> None:
    assert agent_of(PARK.get, "callcenter") == "1001"
    assert agent_of({**PARK, "variable_cc_entry": "agent_outbound"}.get, "callcenter") == "1001"


@pytest.mark.parametrize(
    "change",
    [
        {"variable_sip_authorized": None},  # no digest answered
        {"variable_user_name": None},
        {"variable_user_name": "1002"},  # authenticated as 1001, directory says 1002
        {"variable_sip_auth_username": "1002"},
        {"variable_domain_name": "other"},
        {"variable_sip_auth_realm": "other"},
        {"variable_sofia_profile_name": "callcenter-carriers"},  # a carrier's call
        {"variable_cc_entry": "inbound"},
        {"variable_user_name": "10 01", "variable_sip_auth_username": "10 01"},
    ],
)
def test_anything_less_is_nobody(change: dict[str, str | None]) -> None:
    park = {k: v for k, v in {**PARK, **change}.items() if v is not None}
    assert agent_of(park.get, "callcenter") is None
