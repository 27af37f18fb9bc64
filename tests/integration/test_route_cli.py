"""``callcenter route add``: every target, DID and description checked before anything is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from callcenter.store.database import Database
from callcenter.store.models import Agent, AuditEntry, Queue, Route
from callcenter.store.repos import AgentRepository, QueueRepository, RouteRepository
from tests.integration.test_cli import run

FLOW = "version: 1\nstart: a\nnodes:\n  a: {type: hangup}\n"


@pytest.fixture
def env(pg_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The CLI on the run's database with one queue, one agent and one flow; cleaned
    afterwards."""
    (tmp_path / "main.yaml").write_text(FLOW)
    database = Database(pg_url)
    with database.session_scope() as session:
        QueueRepository(session).add("routeq")
        AgentRepository(session).add("1001")
    yield {"CALLCENTER_DATABASE_URL": pg_url, "CALLCENTER_DIALPLANS_DIR": str(tmp_path)}
    with database.session_scope() as session:
        session.execute(delete(Route))
        session.execute(delete(Queue).where(Queue.name == "routeq"))
        session.execute(delete(Agent).where(Agent.extension == "1001"))
        session.execute(delete(AuditEntry).where(AuditEntry.action.like("route.%")))
    database.dispose()


def stored(pg_url: str) -> list[tuple[str, str]]:
    database = Database(pg_url)
    with database.session_scope() as session:
        rows = [(r.did, f"{r.target_type}:{r.target}") for r in RouteRepository(session).all()]
    database.dispose()
    return rows


def test_good_targets_are_stored(env: dict[str, str], pg_url: str) -> None:
    for did, target in [("5000", "playback:tone_stream://%(2000,0,440)"), ("5001", "queue:routeq"),
                        ("5002", "ivr:main"), ("+33140000000", "extension:1001"),
                        ("5999", "hangup:CALL_REJECTED")]:  # fmt: skip
        result = run(["route", "add", did, target], env)
        assert (result.exit_code, result.stdout) == (0, f"route {did} -> {target}\n")
    listed = json.loads(run(["route", "list", "--json"], env).stdout)
    assert [r["did"] for r in listed] == ["+33140000000", "5000", "5001", "5002", "5999"]


def test_an_extension_target_must_be_an_agent(env: dict[str, str], pg_url: str) -> None:
    result = run(["route", "add", "5003", "extension:1009"], env)
    assert result.exit_code == 1
    assert "no agent '1009' (known: 1001) [route_agent_unknown]" in result.output
    assert stored(pg_url) == []


def test_a_120_kb_did_is_one_line_not_a_traceback(env: dict[str, str], pg_url: str) -> None:
    # issue 10 finding 9: the did column is 128 characters; PostgreSQL raised a DataError
    result = run(["route", "add", "1" * 120_000, "hangup"], env)
    assert result.exit_code == 1
    assert result.output == (
        f"error: did: '{'1' * 40}...' is 120000 characters long (at most 128) [route_invalid]\n"
    )
    assert stored(pg_url) == []


@pytest.mark.parametrize(
    ("target", "message"),
    [
        # issue 10 finding 11: all six were stored; the caller was failed at call time
        ("playback:${system(id)}", "target: 'playback:${system(id)}': ${ is not allowed"
                                   " (FreeSWITCH would expand it) [route_invalid]"),
        ("extension:1001,user/2000", "target: '1001,user/2000' is not an extension"
                                     " (1-32 of A-Z a-z 0-9 . _ -) [route_invalid]"),
        ("hangup:NOT_A_CAUSE", "target: 'NOT_A_CAUSE' is not a FreeSWITCH hangup cause (e.g."
                               " CALL_REJECTED, USER_BUSY, NORMAL_TEMPORARY_FAILURE)"
                               " [route_invalid]"),
        ("queue:nosuchqueue", "target: no queue 'nosuchqueue' (known: "),
        ("ivr:nosuchflow", "target: no loaded flow 'nosuchflow' (known: main)"
                           " [route_flow_unknown]"),
        ("playback:", "target: playback needs a file or source, e.g."
                      " playback:ivr/ivr-welcome.wav [route_invalid]"),
    ],
)  # fmt: skip
def test_bad_targets_are_refused_and_nothing_is_stored(
    env: dict[str, str], pg_url: str, target: str, message: str
) -> None:
    run(["route", "add", "7000", "hangup:USER_BUSY"], env)
    result = run(["route", "add", "7001", target], env)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {message}") and result.output.count("\n") == 1
    assert stored(pg_url) == [("7000", "hangup:USER_BUSY")]  # what was there is untouched


def test_a_flow_that_cannot_be_checked_is_said(env: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "none"
    empty.mkdir()
    elsewhere = {**env, "CALLCENTER_DIALPLANS_DIR": str(empty)}
    result = run(["route", "add", "5002", "ivr:main"], elsewhere)
    assert result.exit_code == 0
    why = f"no flow files in dialplans_dir {empty}"
    assert f"warning: ivr:main: flow 'main' not checked ({why})" in result.output


def test_a_long_description_is_refused(env: dict[str, str], pg_url: str) -> None:
    result = run(["route", "add", "5000", "hangup", "--description", "x" * 501], env)
    assert result.exit_code == 1 and "description: 501 characters long" in result.output
    assert stored(pg_url) == []


def test_config_check_refuses_what_route_add_refuses(env: dict[str, str]) -> None:
    result = run(["config", "check"], {**env, "CALLCENTER_DEFAULT_ROUTE": "queue:"})
    assert result.exit_code == 1
    assert result.output == (
        "error: environment variable CALLCENTER_DEFAULT_ROUTE: queue needs a queue, "
        "e.g. queue:support [config_invalid]\n"
    )
    for route, code in [("queue:nosuchqueue", "route_queue_unknown"),
                        ("ivr:nosuchflow", "route_flow_unknown")]:  # fmt: skip
        result = run(["config", "check"], {**env, "CALLCENTER_DEFAULT_ROUTE": route})
        assert result.exit_code == 1 and result.output.startswith("error: default_route: no ")
        assert result.output.endswith(f"[{code}]\n")
    for route in ("queue:routeq", "ivr:main"):
        result = run(["config", "check"], {**env, "CALLCENTER_DEFAULT_ROUTE": route})
        assert result.exit_code == 0 and result.output.startswith("ok: "), result.output


def test_config_check_says_what_it_could_not_check(env: dict[str, str]) -> None:
    down = {**env, "CALLCENTER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    result = run(["config", "check"], {**down, "CALLCENTER_DEFAULT_ROUTE": "queue:routeq"})
    assert result.exit_code == 0
    first = result.output.splitlines()[0]
    assert first.startswith("warning: queue:routeq: queue 'routeq' not checked (queues unknown: ")


def test_the_engine_leaves_out_a_bad_stored_route(env: dict[str, str], pg_url: str) -> None:
    from callcenter.calls.routing import RouteTable, Target
    from callcenter.vocabulary import RouteTarget

    database = Database(pg_url)
    with database.session_scope() as session:  # written around the CLI, or before its checks
        RouteRepository(session).add("8000", RouteTarget.PLAYBACK, "${system(id)}")
        RouteRepository(session).add("8001", RouteTarget.EXTENSION, "1001")
    default = Target(RouteTarget.HANGUP, "UNALLOCATED_NUMBER")
    table = RouteTable(database, default)
    assert table.resolve("8001") == Target(RouteTarget.EXTENSION, "1001")
    assert table.resolve("8000") == default  # never sent to FreeSWITCH
    assert table.problems == [
        "route '8000' left out: target: 'playback:${system(id)}': ${ is not allowed "
        "(FreeSWITCH would expand it)"
    ]
    assert stored(pg_url)[0] == ("8000", "playback:${system(id)}")  # left as it was
    database.dispose()


def test_route_test_says_which_route_and_why_in_germany(env: dict[str, str]) -> None:
    de = {**env, "CALLCENTER_DEFAULT_COUNTRY": "DE"}
    for args in (
        ["0301234", "queue:routeq"],
        ["+4930123400-+4930123499", "extension:1001", "--match", "range"],
        ["+4989", "hangup:CALL_REJECTED", "--match", "prefix"],
        ["\\+49800\\d{7}", "ivr:main", "--match", "regex"],
    ):
        assert run(["route", "add", *args], de).exit_code == 0, args
    expected = {
        "0049301234": "0049301234 -> queue:routeq (exact 0301234 (0049301234 read as +49301234))",
        "030123450": "030123450 -> extension:1001 "
        "(in range +4930123400-+4930123499 (030123450 read as +4930123450))",
        "0891234567": "0891234567 -> hangup:CALL_REJECTED (prefix +4989 (0891234567 read "
        "as +49891234567))",
        "08001234567": "08001234567 -> ivr:main (regex \\+49800\\d{7} (08001234567 read as "
        "+498001234567))",
    }
    for number, line in expected.items():
        result = run(["route", "test", number], de)
        assert result.output == line + "\n", number
    nowhere = run(["route", "test", "+33140000000"], de).output
    assert nowhere.endswith("(default: no route matches)\n")
    same = run(["route", "add", "+49301234", "queue:routeq"], de)
    assert same.exit_code == 1 and "which route '0301234' already takes" in same.output
    bad = run(["route", "add", "+4930123499-+4930123400", "queue:routeq", "--match", "range"], de)
    assert bad.exit_code == 1 and "comes after" in bad.output
    listed = json.loads(run(["route", "list", "--json"], de).stdout)
    assert {r["did"]: r["match"] for r in listed}["+4989"] == "prefix"
