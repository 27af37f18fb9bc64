"""A call from an agent's phone, simulated, against the recorded one (sessions-3/s18)."""

from __future__ import annotations

from typing import Any

from callcenter.phone.identity import agent_of
from callcenter.sim.events import SimEvent
from callcenter.sim.simulator import Simulator
from tests.support import until
from tests.unit.sim.fixtures import events

RECORDED = "s18-agent-feature-code.events.jsonl"
IDENTITY = (
    "variable_cc_entry", "variable_cc_did", "variable_sip_authorized", "variable_user_name",
    "variable_domain_name", "variable_sip_auth_username", "variable_sip_auth_realm",
    "variable_user_context", "variable_sofia_profile_name", "Caller-Context",
    "Caller-Destination-Number", "Caller-Caller-ID-Number", "Caller-Username", "Channel-Name",
)  # fmt: skip


def recorded_park() -> dict[str, Any]:
    return next(e for e in events(RECORDED) if e["Event-Name"] == "CHANNEL_PARK")


def simulated_park(authenticated: bool = True, dest: str = "*21") -> dict[str, Any]:
    parks: list[SimEvent] = []
    with Simulator(time_scale=0.05, seed=3) as sim:
        sim.on_event(lambda e: parks.append(e) if e.name == "CHANNEL_PARK" else None)
        sim.phone_call("1001", dest, authenticated=authenticated)
        until(lambda: parks)
    return dict(parks[0].as_dict())


def test_the_park_of_a_phones_feature_code_is_the_recorded_one() -> None:
    real, sim = recorded_park(), simulated_park()
    assert {k: sim.get(k) for k in IDENTITY} == {k: real.get(k) for k in IDENTITY}
    missing = {k for k in real if k.startswith("variable_")} - set(sim)
    assert missing == set()  # every variable the real park carries
    assert agent_of(real.get, "callcenter") == agent_of(sim.get, "callcenter") == "1001"


def test_a_phone_that_did_not_authenticate_names_no_agent() -> None:
    park = simulated_park(authenticated=False)
    assert park["Caller-Caller-ID-Number"] == "1001"  # says so, proves nothing
    assert agent_of(park.get, "callcenter") is None


def test_other_numbers_dialled_are_agent_outbound() -> None:
    park = simulated_park(dest="15551234567")
    assert park["variable_cc_entry"] == "agent_outbound"
    assert park["variable_cc_did"] == "15551234567"
