"""``callcenter route outbound`` through click's runner, against a real PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from callcenter.store.database import Database
from callcenter.store.models import AuditEntry, OutboundRoute
from callcenter.store.repos import AuditLog
from tests.integration.test_cli import run


@pytest.fixture
def env(pg_url: str) -> Iterator[dict[str, str]]:
    """The CLI on the run's database; the routes and audit entries it made go afterwards."""
    yield {"CALLCENTER_DATABASE_URL": pg_url}
    database = Database(pg_url)
    with database.session_scope() as session:
        session.execute(delete(OutboundRoute))
        session.execute(delete(AuditEntry).where(AuditEntry.action.like("outbound_route.%")))
    database.dispose()


def audit_actions(pg_url: str) -> list[tuple[str, str]]:
    database = Database(pg_url)
    with database.session_scope() as session:
        entries = AuditLog(session).recent()
    database.dispose()
    return [(e.action, e.target) for e in reversed(entries) if e.action.startswith("outbound")]


@pytest.mark.parametrize("command", [[], ["add"], ["list"], ["remove"], ["disable"], ["test"]])
def test_every_outbound_command_has_help_with_an_example(command: list[str]) -> None:
    result = run(["route", "outbound", *command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    assert "outbound" in run(["route", "--help"]).output


def test_add_list_test_disable_remove(env: dict[str, str], pg_url: str) -> None:
    add = ["route", "outbound", "add"]
    result = run([*add, "intl", "--match", r"^00(\d+)$", "--gateway", "carrier",
                  "--format", "+$1", "--caller-id", "+4930999"], env)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "intl" in result.output
    assert run([*add, "any", "--match", r"^\d+$", "--gateway", "fallback",
                "--priority", "1000"], env).exit_code == 0  # fmt: skip

    rows = json.loads(run(["route", "outbound", "list", "--json"], env).stdout)
    assert [(r["name"], r["priority"], r["format"]) for r in rows] == [
        ("intl", 100, "+$1"), ("any", 1000, "$0"),
    ]  # fmt: skip
    assert rows[0]["caller_id"] == "+4930999" and rows[0]["enabled"] is True
    table = run(["route", "outbound", "list"], env).output
    assert table.splitlines()[0].split()[:3] == ["NAME", "PRIORITY", "MATCH"]

    result = run(["route", "outbound", "test", "0049301234"], env)
    assert result.exit_code == 0
    assert result.output == "intl: sofia/gateway/carrier/+49301234 (caller ID +4930999)\n"
    assert run(["route", "outbound", "test", "5551234"], env).output == (
        "any: sofia/gateway/fallback/5551234\n"
    )

    assert run(["route", "outbound", "disable", "intl"], env).exit_code == 0
    result = run(["route", "outbound", "test", "0049301234"], env)
    assert result.output == "any: sofia/gateway/fallback/0049301234\n"
    assert run(["route", "outbound", "disable", "intl", "--enable"], env).exit_code == 0
    assert run(["route", "outbound", "remove", "intl"], env).exit_code == 0
    assert run(["route", "outbound", "remove", "any"], env).exit_code == 0
    assert run(["route", "outbound", "list"], env).output.strip() == "(none)"
    assert audit_actions(pg_url) == [
        ("outbound_route.add", "intl"), ("outbound_route.add", "any"),
        ("outbound_route.disable", "intl"), ("outbound_route.enable", "intl"),
        ("outbound_route.remove", "intl"), ("outbound_route.remove", "any"),
    ]  # fmt: skip


def one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    return str(lines[0])


def test_no_route_and_bad_numbers_are_one_line_errors(env: dict[str, str]) -> None:
    line = one_line_error(run(["route", "outbound", "test", "0049301234"], env))
    assert line == "error: no outbound route matches 0049301234 [no_outbound_route]"
    line = one_line_error(run(["route", "outbound", "test", "0049 30}'"], env))
    assert "is not a number to dial" in line and line.endswith("[number_invalid]")
    line = one_line_error(run(["route", "outbound", "test", "0049\n30"], env))
    assert "[number_invalid]" in line


def test_duplicates_and_missing_names(env: dict[str, str]) -> None:
    args = ["route", "outbound", "add", "intl", "--match", r"^00\d+$", "--gateway", "carrier"]
    assert run(args, env).exit_code == 0
    assert one_line_error(run(args, env)).endswith("[outbound_route_exists]")
    for command in (["remove", "nope"], ["disable", "nope"]):
        line = one_line_error(run(["route", "outbound", *command], env))
        assert line == "error: no outbound route 'nope' [outbound_route_not_found]"


@pytest.mark.parametrize(
    ("options", "option", "message"),
    [
        (["--match", "^00(\\d+"], "--match", "not a valid regular expression"),
        (["--format", "+$1 ${x}"], "--format", "use $0-$9"),
        (["--format", "+$2"], "--format", "$2 but the pattern has 1 group"),
        (["--gateway", "carrier/x"], "--gateway", "not a gateway name"),
        (["--gateway", "car rier"], "--gateway", "whitespace"),
        (["--caller-id", "+1 555"], "--caller-id", "not a caller ID number"),
        (["--priority", "-5"], "--priority", "not in 0..1000000"),
    ],
)
def test_bad_options_are_named(
    env: dict[str, str], options: list[str], option: str, message: str
) -> None:
    values = {"--match": r"^00(\d+)$", "--gateway": "carrier"}
    values.update(dict(zip(options[::2], options[1::2], strict=True)))
    args = [part for pair in values.items() for part in pair]
    result = run(["route", "outbound", "add", "intl", *args], env)
    assert result.exit_code == 2
    assert f"Invalid value for {option}" in result.output and message in result.output
    # the option is named once: not "--gateway: gateway: gateway: whitespace ..."
    detail = result.output.split(f"Invalid value for {option}: ", 1)[1]
    assert not re.match(r"[a-z_]+: ", detail), detail
    assert json.loads(run(["route", "outbound", "list", "--json"], env).stdout) == []


def test_a_pattern_that_backtracks_catastrophically_is_refused(env: dict[str, str]) -> None:
    # issue 10 finding 10: accepted, then `route outbound test` ran for more than 20 s
    add = ["route", "outbound", "add", "r1"]
    result = run([*add, "--match", r"(\d+)+$", "--gateway", "gw"], env)
    assert result.exit_code == 2
    refused = "Invalid value for --match: a repeat of variable count inside the repeat +"
    assert refused in result.output
    assert json.loads(run(["route", "outbound", "list", "--json"], env).stdout) == []


def test_a_stored_pattern_that_backtracks_is_never_run(env: dict[str, str], pg_url: str) -> None:
    from callcenter.store.repos import OutboundRouteRepository

    database = Database(pg_url)
    with database.session_scope() as session:  # written around the CLI, or before the check
        OutboundRouteRepository(session).add("r1", r"(\d+)+$", "gw", priority=1)
        OutboundRouteRepository(session).add("r2", r"^1\d+#$", "gw2", priority=2)
    database.dispose()
    number = "1111111111111111111111111111111#"
    result = run(["route", "outbound", "test", number], env)
    assert result.exit_code == 0
    logged, shown = result.output.splitlines()
    assert "ERROR" in logged and "outbound route 'r1' left out: pattern: a repeat" in logged
    assert shown == f"r2: sofia/gateway/gw2/{number}"


def test_failover_trunks_and_causes(env: dict[str, str]) -> None:
    add = ["route", "outbound", "add", "de", "--match", r"^\+49\d+$", "--gateway", "carrier-a"]
    more = ["--failover", "carrier-b", "--failover", "carrier-c", "--failover-on", "GATEWAY_DOWN"]
    assert run([*add, *more], env).exit_code == 0
    assert run(["route", "outbound", "test", "+49301234"], env).output == (
        "de: sofia/gateway/carrier-a/+49301234, then carrier-b, carrier-c\n"
    )
    found = json.loads(run(["route", "outbound", "test", "+49301234", "--json"], env).stdout)
    assert (found["failover"], found["failover_causes"]) == (
        ["carrier-b", "carrier-c"],
        ["GATEWAY_DOWN"],
    )
    rows = json.loads(run(["route", "outbound", "list", "--json"], env).stdout)
    assert rows[0]["gateway"] == "carrier-a,carrier-b,carrier-c"
    busy = run([*add[:3], "x", *add[4:], "--failover-on", "USER_BUSY"], env)
    assert busy.exit_code == 2 and "Invalid value for --failover-on" in busy.output
    assert "callee's answer" in busy.output
    twice = run([*add[:3], "y", *add[4:], "--failover", "carrier-a"], env)
    assert twice.exit_code == 2 and "listed twice" in twice.output
