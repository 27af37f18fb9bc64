"""/routes and /outbound-routes."""

from __future__ import annotations

from tests.integration.api.conftest import Client


def test_routes(api: Client) -> None:
    api("POST", "/queues", body={"name": "sales"})
    made = api(
        "POST", "/routes", body={"did": "+15550001", "target": "queue:sales", "description": "main"}
    )
    assert made.status_code == 201, made.text
    assert (made.json["route"], made.json["unverified"]) == ("queue:sales", None)
    nowhere = api("POST", "/routes", body={"did": "+15550002", "target": "queue:nope"})
    assert nowhere.status_code in (404, 422) and nowhere.json["code"]
    flow = api("POST", "/routes", body={"did": "+15550003", "target": "ivr:main"})
    assert flow.status_code == 201 and "flows" in flow.json["unverified"]
    assert api("POST", "/routes", body={"did": "+15550001", "target": "hangup"}).status_code == 409
    assert api("GET", "/routes/+15550001").json["description"] == "main"
    assert api("GET", "/routes/+15550001/test").json == {
        "did": "+15550001",
        "target": "queue:sales",
        "by": "route",
        "route": "+15550001",
        "why": "exact +15550001",
    }
    assert api("PATCH", "/routes/+15550001", body={"enabled": False}).json["enabled"] is False
    assert api("GET", "/routes/+15550001/test").json["by"] == "default"
    assert [r["did"] for r in api("GET", "/routes").json["items"]] == ["+15550001", "+15550003"]
    assert api("DELETE", "/routes/+15550001").status_code == 204
    assert api("GET", "/routes/+15550001").json["code"] == "route_not_found"


def test_routes_check_flows_the_engine_knows(make_client) -> None:  # type: ignore[no-untyped-def]
    class Flows:
        def names(self) -> list[str]:
            return ["main"]

    api = make_client(flows=Flows())
    assert (
        api("POST", "/routes", body={"did": "1", "target": "ivr:main"}).json["unverified"] is None
    )
    unknown = api("POST", "/routes", body={"did": "2", "target": "ivr:other"})
    assert unknown.status_code in (404, 422)


def test_outbound_routes(api: Client) -> None:
    body = {"name": "national", "pattern": r"^\+1(\d{10})$", "gateway": "carrier-a", "priority": 10}
    made = api("POST", "/outbound-routes", body=body)
    assert made.status_code == 201, made.text
    api("POST", "/outbound-routes", body={**body, "name": "backup", "priority": 20})
    assert [r["name"] for r in api("GET", "/outbound-routes").json["items"]] == [
        "national",
        "backup",
    ]
    evil = api("POST", "/outbound-routes", body={**body, "name": "evil", "pattern": "(a+)+$"})
    assert (evil.status_code, evil.json["code"]) == (422, "outbound_route_invalid")
    dial = api("POST", "/outbound-test", body={"number": "+15551234567"})
    assert dial.json["dial_string"] == "sofia/gateway/carrier-a/+15551234567"
    assert (
        api("POST", "/outbound-test", body={"number": "+4412"}).json["code"] == "no_outbound_route"
    )
    assert api("POST", "/outbound-test", body={"number": "12;x"}).json["code"] == "number_invalid"
    assert (
        api("PATCH", "/outbound-routes/national", body={"enabled": False}).json["enabled"] is False
    )
    assert api("GET", "/outbound-routes/national").json["enabled"] is False
    assert api("DELETE", "/outbound-routes/national").status_code == 204
    assert api("GET", "/outbound-routes/national").status_code == 404


def test_range_prefix_routes_and_why(api: Client) -> None:
    api("POST", "/queues", body={"name": "block"})
    body = {"did": "+12025557000-+12025557099", "target": "queue:block", "match": "range"}
    assert api("POST", "/routes", body=body).json["match"] == "range"
    prefix = {"did": "+1202555", "target": "hangup:CALL_REJECTED", "match": "prefix"}
    assert api("POST", "/routes", body=prefix).status_code == 201
    found = api("GET", "/routes/+12025557042/test").json
    assert (found["target"], found["route"]) == ("queue:block", "+12025557000-+12025557099")
    assert found["why"] == "in range +12025557000-+12025557099"
    assert api("GET", "/routes/+12025558042/test").json["why"] == "prefix +1202555"
    bad = api("POST", "/routes", body={**body, "did": "+12025557099-+12025557000"})
    assert bad.status_code == 422 and "comes after" in bad.json["detail"]
    odd = api("POST", "/routes", body={**body, "did": "+12025559", "match": "fuzzy"})
    assert odd.status_code == 422 and "fuzzy" in odd.json["detail"]


def test_outbound_failover_trunks_and_causes(api: Client) -> None:
    body = {
        "name": "de",
        "pattern": r"^\+49\d+$",
        "gateway": "carrier-a",
        "failover": ["carrier-b", "carrier-c"],
        "failover_causes": ["GATEWAY_DOWN", "sip:5xx"],
    }
    made = api("POST", "/outbound-routes", body=body)
    assert made.status_code == 201, made.text
    assert made.json["failover"] == ["carrier-b", "carrier-c"]
    assert made.json["failover_causes"] == ["GATEWAY_DOWN", "sip:5xx"]
    busy = api(
        "POST", "/outbound-routes", body={**body, "name": "x", "failover_causes": ["USER_BUSY"]}
    )
    assert busy.status_code == 422 and "callee's answer" in busy.json["detail"]
    twice = api("POST", "/outbound-routes", body={**body, "name": "y", "failover": ["carrier-a"]})
    assert twice.status_code == 422 and "twice" in twice.json["detail"]
