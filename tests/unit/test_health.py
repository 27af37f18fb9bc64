"""/healthz: every reason to be degraded is named; ok only when there is none."""

from __future__ import annotations

from callcenter.metrics.health import Facts, SpoolGrowth, assess

DB = {"reachable": True, "dialect": "postgresql", "spooling": False}
NODE = {"connected": True, "reconnects": 0, "calls": 0}


def test_all_well_is_ok() -> None:
    report = assess(Facts(True, DB, {"fs1": NODE}, flows_live=2))
    assert report["status"] == "ok" and report["reasons"] == []
    assert report["ivr"] == {"flows": 2, "rejected": {}}


def test_rejected_flows_are_degraded_with_the_file() -> None:
    # issue 10 finding 12: /healthz said 200 while every flow was rejected
    errors = ("d/main.yaml:3:5: nodes.x: unknown target 'y'", "d/main.yaml:4:1: more")
    report = assess(Facts(True, DB, {}, flows_rejected={"d/main.yaml": errors}))
    assert report["status"] == "degraded"
    assert report["reasons"] == ["IVR flow file rejected: d/main.yaml (2 error(s))"]
    assert report["ivr"]["rejected"] == {"d/main.yaml": list(errors)}


def test_every_reason_is_listed() -> None:
    down = {"connected": False, "reconnects": 3, "calls": 0}
    facts = Facts(
        False, {**DB, "reachable": False}, {"fs1": NODE, "fs2": down},
        flows_failure="IVR reload failed: OSError()",
        route_problems=["routes not loaded: database unreachable"],
        spool_bytes=4096, spool_growing=True,
    )  # fmt: skip
    assert assess(facts)["reasons"] == [
        "database unreachable",
        "ESL node fs2 not connected",
        "IVR reload failed: OSError()",
        "routes not loaded: database unreachable",
        "spool growing (4096 bytes waiting for the database)",
    ]


def test_spool_growth_is_seen_between_two_looks() -> None:
    growth = SpoolGrowth()
    assert growth.observe(0) is False
    assert growth.observe(100) is True
    assert growth.observe(100) is False  # stable: not growing
    assert growth.observe(40) is False  # replaying


def test_a_registering_trunk_down_is_degraded() -> None:
    problem = "trunk carrier-a not registered on fs1 (FAIL_WAIT, 503 Service Unavailable)"
    report = assess(Facts(True, DB, {"fs1": NODE}, trunk_problems=[problem]))
    assert (report["status"], report["reasons"]) == ("degraded", [problem])
    assert report["trunks"] == {"problems": [problem]}
