"""Trunk groups over the API and the CLI (locally and through a running engine): stored,
audited, a change row for the engines; a route naming one; what is refused and why."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from callcenter.app import App
from callcenter.cli import main
from callcenter.services import tokens, trunks
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.models import EngineChange
from callcenter.store.repos import AuditLog, RouteRepository
from callcenter.trunks.spec import TrunkSpec
from callcenter.vocabulary import RouteTarget
from tests.integration.api.conftest import Client
from tests.integration.api.test_engine_api import engine, engine_db_url  # noqa: F401  (fixtures)

WHO = Actor("cli", "t")


def _trunks(db: Database, *names: str) -> None:
    for name in names:
        trunks.add(db, WHO, TrunkSpec(name, "sip.example.net"))


def test_trunk_groups_api(api: Client, db: Database) -> None:
    _trunks(db, "ga-1", "ga-2")
    body = {"name": "ga", "members": ["ga-1", "ga-2"], "strategy": "round-robin"}
    assert api("POST", "/trunk-groups", token="read", body=body).status_code == 403
    made = api("POST", "/trunk-groups", body=body)
    assert made.status_code == 201, made.text
    assert made.json == body
    assert api("POST", "/trunk-groups", body=body).status_code == 409
    unknown = api("POST", "/trunk-groups", body={**body, "name": "gb", "members": ["ga-9"]})
    assert (unknown.status_code, unknown.json["code"]) == (422, "trunk_group_invalid")
    assert unknown.json["errors"][0]["field"] == "body.members" and "ga-9" in unknown.text
    bad = api("POST", "/trunk-groups", body={**body, "name": "gb", "strategy": "random"})
    assert bad.status_code == 422
    changed = api("PATCH", "/trunk-groups/ga", body={"members": ["ga-2", "ga-1"]})
    assert changed.json == {"name": "ga", "members": ["ga-2", "ga-1"], "strategy": "round-robin"}
    changed = api("PATCH", "/trunk-groups/ga", body={"strategy": "least-busy"})
    assert (changed.json["members"], changed.json["strategy"]) == (["ga-2", "ga-1"], "least-busy")
    listed = api("GET", "/trunk-groups", token="read").json["items"]
    assert [g["name"] for g in listed] == ["ga"]
    route = {"name": "ga-route", "pattern": r"^\+49\d+$", "group": "ga"}
    assert api("POST", "/outbound-routes", body=route).status_code == 201
    assert api("GET", "/outbound-routes/ga-route").json["group"] == "ga"
    tested = api("POST", "/outbound-test", body={"number": "+49301234"})
    assert tested.status_code == 200, tested.text
    assert tested.json["group"] == "ga"
    assert {tested.json["gateway"], *tested.json["failover"]} == {"ga-1", "ga-2"}
    in_use = api("DELETE", "/trunk-groups/ga")
    assert (in_use.status_code, in_use.json["code"]) == (409, "trunk_group_in_use")
    member = api("DELETE", "/trunks/ga-1")
    assert (member.status_code, member.json["code"]) == (409, "trunk_in_group")
    assert api("DELETE", "/outbound-routes/ga-route").status_code == 204
    assert api("DELETE", "/trunk-groups/ga").status_code == 204
    assert api("GET", "/trunk-groups/ga").json["code"] == "trunk_group_not_found"
    with db.session_scope() as session:
        actions = [e.action for e in AuditLog(session).recent() if e.target == "ga"]
        kinds = session.scalars(select(EngineChange.op).where(EngineChange.kind == "trunk_group"))
        ops = list(kinds)
    assert actions == ["trunk_group.remove", "trunk_group.set", "trunk_group.set",
                       "trunk_group.add"]  # fmt: skip
    assert ops == ["add", "set", "set", "remove"]


@pytest.mark.parametrize("where", ["local", "remote"])
def test_trunk_group_cli_round_trip(
    where: str,
    engine: App,  # noqa: F811
    engine_db_url: str,  # noqa: F811
) -> None:
    if where == "local":
        env = {"CALLCENTER_DATABASE_URL": engine_db_url}
    else:
        secret = tokens.create(engine.database, WHO, "grp-remote", "admin").secret
        env = {"CALLCENTER_API_URL": f"http://127.0.0.1:{engine.metrics.port}",
               "CALLCENTER_API_TOKEN": secret}  # fmt: skip
    group, a, b = f"g-{where}", f"g-{where}-a", f"g-{where}-b"
    _trunks(engine.database, a, b)

    def cli(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        return result.exit_code, result.output

    code, out = cli("trunk", "group", "add", group, "--member", a, "--member", b)
    assert code == 0 and f"trunk group {group} added: {a}, {b} (in-order)" in out, out
    code, out = cli("trunk", "group", "add", f"{group}-x", "--member", "nope")
    assert code != 0 and "no trunk 'nope'" in out
    code, out = cli("trunk", "group", "set", group, "--strategy", "round-robin")
    assert code == 0 and "(round-robin)" in out, out
    code, out = cli("trunk", "group", "show", group)
    assert code == 0 and f"members: {a},{b}" in out and "strategy: round-robin" in out
    code, out = cli("trunk", "group", "list", "--json")
    assert code == 0 and {"name": group, "strategy": "round-robin", "members": [a, b]} in [
        g for g in json.loads(out[out.index("[") :])
    ]
    code, out = cli("route", "outbound", "add", f"r-{where}", "--match", r"^\+33\d+$",
                    "--group", group)  # fmt: skip
    assert code == 0, out
    code, out = cli("trunk", "remove", a)
    assert code != 0 and "member of trunk group" in out
    code, out = cli("trunk", "group", "remove", group)
    assert code != 0 and f"r-{where}" in out
    code, out = cli("route", "outbound", "remove", f"r-{where}")
    assert code == 0, out
    code, out = cli("trunk", "group", "remove", group)
    assert code == 0 and f"trunk group {group} removed" in out


def test_a_route_names_a_group_or_gateways(engine_db_url: str) -> None:  # noqa: F811
    env = {"CALLCENTER_DATABASE_URL": engine_db_url}
    add = ["route", "outbound", "add", "x", "--match", r"^\d+$"]
    for extra in ([], ["--gateway", "a", "--group", "g"], ["--group", "g", "--failover", "b"]):
        result = CliRunner().invoke(main, [*add, *extra], env=env)
        assert result.exit_code == 2, result.output
    result = CliRunner().invoke(main, [*add, "--group", "no-such-group"], env=env)
    assert result.exit_code == 1 and "no trunk group 'no-such-group'" in result.output


def test_route_test_reads_the_did_in_the_arriving_trunks_country(
    api: Client,
    db: Database,
    engine_db_url: str,  # noqa: F811
) -> None:
    trunks.add(db, WHO, TrunkSpec("rt-fr", "sip.example.net", country="FR"))
    with db.session_scope() as session:
        RouteRepository(session).add("+33140000001", RouteTarget.HANGUP, "USER_BUSY")
    found = api("GET", "/routes/0140000001/test?trunk=rt-fr", token="read")
    assert found.status_code == 200, found.text
    assert (found.json["by"], found.json["route"]) == ("route", "+33140000001")
    assert "read as +33140000001" in found.json["why"]
    unknown = api("GET", "/routes/0140000001/test?trunk=nope", token="read")
    assert unknown.json["code"] == "trunk_not_found"
    env = {"CALLCENTER_DATABASE_URL": engine_db_url, "CALLCENTER_DEFAULT_COUNTRY": "DE"}
    other = Database(engine_db_url)  # the CLI's (the API's engine has a database of its own)
    trunks.add(other, WHO, TrunkSpec("rt-fr", "sip.example.net", country="FR"))
    with other.session_scope() as session:
        RouteRepository(session).add("+33140000001", RouteTarget.HANGUP, "USER_BUSY")
    other.dispose()
    local = CliRunner().invoke(main, ["route", "test", "0140000001", "--trunk", "rt-fr"], env=env)
    assert "-> hangup:USER_BUSY (exact +33140000001" in local.output, local.output
    german = CliRunner().invoke(main, ["route", "test", "0140000001"], env=env)
    assert "(default:" in german.output  # read in DE: +49140000001, no route
