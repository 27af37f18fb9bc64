"""`callcenter queue` and the agent status commands through click's runner, on PostgreSQL.

A changing command must reach every running engine through the change feed (one
``engine_changes`` row per change), never through a signal: a small child process that
records every SIGHUP it gets stands in for an engine of this host, and must get none.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from callcenter.cli import main
from callcenter.store.database import Database
from callcenter.store.records import QueueStayRecord
from callcenter.store.repos import AgentRepository, AuditLog, QueueRepository
from callcenter.store.repos.acd_state import AcdStateRepository
from callcenter.vocabulary import AgentState, AgentStatus, QueueOutcome
from tests.conftest import migrated_database
from tests.support import until

DIALPLANS = Path(__file__).parents[2] / "dialplans"
# rows an operator command can touch, in a stable order: compared before and after bad input
STORED = {
    "agents": "SELECT extension, display_name, status, state, pause_reason, routing FROM agents",
    "agent_skills": "SELECT agent_id, skill, level FROM agent_skills",
    "agent_status_history": "SELECT agent_id, status, state, reason FROM agent_status_history",
    "queues": "SELECT name, strategy, max_wait_seconds, max_callers, agent_ring_seconds, "
    "service_level_seconds, music_on_hold, overflow_target, routing FROM queues",
    "queue_members": "SELECT queue_id, agent_id, tier, position FROM queue_members",
    "queue_skills": "SELECT queue_id, skill, min_level FROM queue_skills",
    "audit_log": "SELECT actor, action, target FROM audit_log",
}
HUP_RECORDER = """
import pathlib, signal, sys, time
log = pathlib.Path(sys.argv[1])
def hup(signum, frame):
    with log.open("a") as f:
        f.write("HUP\\n")
signal.signal(signal.SIGHUP, hup)
log.write_text("ready\\n")
while True:
    time.sleep(0.05)
"""


class FakeEngine:
    """A child process that counts the SIGHUPs it gets."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen([sys.executable, "-c", HUP_RECORDER, str(log)])
        until(lambda: log.exists() and log.read_text().startswith("ready"), timeout=10)

    @property
    def pid(self) -> int:
        return self.process.pid

    def hups(self) -> int:
        return self.log.read_text().splitlines().count("HUP")

    def wait_hups(self, count: int) -> None:
        until(lambda: self.hups() >= count)
        assert self.hups() == count

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=5)


@pytest.fixture(scope="module")
def acd_db_url() -> Iterator[str]:
    with migrated_database("cc_cli_acd") as url:
        yield url


@pytest.fixture
def database(acd_db_url: str) -> Iterator[Database]:
    """The module's database, emptied of agents, queues and audit entries before each test."""
    database = Database(acd_db_url)
    with database.engine.begin() as conn:
        conn.execute(
            text("TRUNCATE agents, queues, audit_log, engine_changes RESTART IDENTITY CASCADE")
        )
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def env(database: Database, acd_db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "CALLCENTER_DATABASE_URL": acd_db_url,
        "CALLCENTER_DATA_DIR": str(tmp_path),
        "CALLCENTER_DIALPLANS_DIR": str(DIALPLANS),
        "CALLCENTER_LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[FakeEngine]:
    """The fake engine, named by <data_dir>/callcenter.pid as the real one does."""
    fake = FakeEngine(tmp_path / "hups.log")
    (tmp_path / "callcenter.pid").write_text(f"{fake.pid}\n")
    try:
        yield fake
    finally:
        fake.stop()


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def ok(args: list[str], env: dict[str, str]) -> Result:
    result = run(args, env)
    assert result.exit_code == 0, result.output
    return result


def as_json(args: list[str], env: dict[str, str]) -> Any:
    return json.loads(ok([*args, "--json"], env).stdout)


def stored(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    with database.engine.connect() as conn:
        return {
            table: sorted(tuple(map(str, row)) for row in conn.execute(text(query)))
            for table, query in STORED.items()
        }


def changes(database: Database) -> list[tuple[str, str, str]]:
    """The change rows, oldest first: (kind, key, op)."""
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, key, op FROM engine_changes ORDER BY id"))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def expect_changes(database: Database, count: int, engine: FakeEngine) -> None:
    """``count`` changes sent to the engines so far, and no signal to this host's engine."""
    assert len(changes(database)) == count, changes(database)
    assert engine.hups() == 0


def audit(database: Database) -> list[tuple[str, str, dict[str, Any]]]:
    with database.session_scope() as session:
        return [(r.action, r.target, r.details) for r in reversed(AuditLog(session).recent(100))]


# -- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["queue"],
        ["queue", "add"],
        ["queue", "set"],
        ["queue", "list"],
        ["queue", "show"],
        ["queue", "remove"],
        ["queue", "entries"],
        ["queue", "member"],
        ["queue", "member", "add"],
        ["queue", "member", "set"],
        ["queue", "member", "remove"],
        ["queue", "skill"],
        ["queue", "skill", "require"],
        ["queue", "skill", "drop"],
        ["agent", "login"],
        ["agent", "logout"],
        ["agent", "pause"],
        ["agent", "ready"],
        ["agent", "skill"],
        ["agent", "show"],
        ["agent", "set"],
        ["agent", "failure-policy"],
        ["call"],
        ["call", "list"],
        ["call", "show"],
        ["call", "hangup"],
        ["call", "transfer"],
        ["call", "bridge"],
        ["reload"],
        ["route", "test"],
    ],
)
def test_every_acd_command_has_help_with_an_example(args: list[str]) -> None:
    result = CliRunner().invoke(main, [*args, "--help"], env={})
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_queue_is_a_main_command() -> None:
    assert "queue" in CliRunner().invoke(main, ["--help"], env={}).output


# -- queues ----------------------------------------------------------------------------------


def test_queue_lifecycle(env: dict[str, str], engine: FakeEngine, database: Database) -> None:
    ok(["agent", "add", "1001", "--name", "Ann"], env)
    ok(["agent", "add", "1002", "--name", "Bob"], env)
    expect_changes(database, 2, engine)

    result = ok(
        ["queue", "add", "sales", "--strategy", "round_robin", "--max-wait", "300",
         "--max-callers", "10", "--ring-seconds", "15", "--service-level", "30",
         "--moh", "local_stream://sales", "--overflow", "ivr:support"],
        env,
    )  # fmt: skip
    assert "queue sales added" in result.output
    assert "SIGHUP" not in result.output
    expect_changes(database, 3, engine)
    ok(["queue", "add", "support"], env)  # every setting at its default
    expect_changes(database, 4, engine)

    listed = {q["name"]: q for q in as_json(["queue", "list"], env)}
    assert listed["sales"]["strategy"] == "round_robin"
    assert listed["sales"]["max_wait_seconds"] == 300
    assert listed["sales"]["max_callers"] == 10
    assert listed["sales"]["agent_ring_seconds"] == 15
    assert listed["sales"]["service_level_seconds"] == 30
    assert listed["sales"]["music_on_hold"] == "local_stream://sales"
    assert listed["sales"]["overflow_target"] == "ivr:support"
    assert listed["support"]["strategy"] == "longest_idle"
    assert listed["support"]["overflow_target"] is None

    ok(["queue", "member", "add", "sales", "1001"], env)
    ok(["queue", "member", "add", "sales", "1002", "--tier", "2", "--position", "3"], env)
    ok(["queue", "skill", "require", "sales", "english", "--min-level", "3"], env)
    ok(["queue", "skill", "require", "sales", "french"], env)
    ok(["agent", "login", "1001"], env)
    expect_changes(database, 9, engine)

    shown = as_json(["queue", "show", "sales"], env)
    assert shown["name"] == "sales" and shown["strategy"] == "round_robin"
    stored = ("extension", "tier", "position", "status", "state")
    assert [{k: m[k] for k in stored} for m in shown["members"]] == [
        {"extension": "1001", "tier": 1, "position": 1, "status": "available", "state": "idle"},
        {"extension": "1002", "tier": 2, "position": 3, "status": "logged_out", "state": "idle"},
    ]
    assert [(m["call"], m["caller"]) for m in shown["members"]] == [(None, None), (None, None)]
    assert all(m["for_s"] >= 0 for m in shown["members"]) and shown["waiting"] == []
    assert shown["required_skills"] == {"english": 3, "french": 1}
    assert shown["entries"] == []
    text_out = ok(["queue", "show", "sales"], env).output
    assert "round_robin" in text_out and "english" in text_out and "logged_out" in text_out

    # set changes only what is given
    ok(["queue", "set", "sales", "--strategy", "ring_all", "--no-overflow"], env)
    ok(["queue", "skill", "require", "sales", "english", "--min-level", "5"], env)  # again
    shown = as_json(["queue", "show", "sales"], env)
    assert shown["strategy"] == "ring_all" and shown["overflow_target"] is None
    assert shown["max_wait_seconds"] == 300 and shown["music_on_hold"] == "local_stream://sales"
    assert shown["required_skills"] == {"english": 5, "french": 1}

    ok(["queue", "member", "remove", "sales", "1002"], env)
    ok(["queue", "skill", "drop", "sales", "french"], env)
    shown = as_json(["queue", "show", "sales"], env)
    assert [m["extension"] for m in shown["members"]] == ["1001"]
    assert shown["required_skills"] == {"english": 5}
    expect_changes(database, 13, engine)

    ok(["queue", "remove", "support"], env)
    expect_changes(database, 14, engine)
    assert [q["name"] for q in as_json(["queue", "list"], env)] == ["sales"]
    assert "sales" in ok(["queue", "list"], env).output

    actions = [(action, target) for action, target, _ in audit(database)]
    assert actions[2:] == [
        ("queue.add", "sales"),
        ("queue.add", "support"),
        ("queue.member.add", "sales"),
        ("queue.member.add", "sales"),
        ("queue.skill.require", "sales"),
        ("queue.skill.require", "sales"),
        ("agent.login", "1001"),
        ("queue.set", "sales"),
        ("queue.skill.require", "sales"),
        ("queue.member.remove", "sales"),
        ("queue.skill.drop", "sales"),
        ("queue.remove", "support"),
    ]
    queue_set = next(d for a, _, d in audit(database) if a == "queue.set")
    assert queue_set["strategy"] == {"from": "round_robin", "to": "ring_all"}
    assert queue_set["overflow_target"] == {"from": "ivr:support", "to": None}


def test_queue_member_set_changes_a_tier(env: dict[str, str], database: Database) -> None:
    # only `member add/remove` existed: a tier could not be changed
    ok(["agent", "add", "6441"], env)
    ok(["queue", "add", "iu-cli"], env)
    ok(["queue", "member", "add", "iu-cli", "6441"], env)
    done = ok(["queue", "member", "set", "iu-cli", "6441", "--tier", "2"], env)
    assert "queue iu-cli: agent 6441 tier 2, position 1\n" in done.output
    ok(["queue", "member", "set", "iu-cli", "6441", "--position", "4"], env)
    [member] = as_json(["queue", "show", "iu-cli"], env)["members"]
    assert (member["tier"], member["position"]) == (2, 4)
    assert run(["queue", "member", "set", "iu-cli", "6441"], env).exit_code == 2
    ok(["agent", "add", "6442"], env)
    result = run(["queue", "member", "set", "iu-cli", "6442", "--tier", "2"], env)
    assert result.exit_code == 1 and "[queue_member_not_found]" in result.output
    queue_set = [d for a, _, d in audit(database) if a == "queue.member.set"]
    assert queue_set == [
        {"extension": "6441", "tier": {"from": 1, "to": 2}},
        {"extension": "6441", "position": {"from": 1, "to": 4}},
    ]


def test_what_routes_and_queues_send_calls_to_must_exist(env: dict[str, str]) -> None:
    # `queue remove support` answered 0 while route 5004 pointed at it; overflow targets
    # and transfer targets naming nothing were stored or sent
    ok(["queue", "add", "iu-help"], env)
    ok(["route", "add", "6460", "queue:iu-help"], env)
    result = run(["queue", "remove", "iu-help"], env)
    assert result.exit_code == 1 and "route 6460" in result.output
    assert "[queue_in_use]" in result.output
    for args in (["queue", "add", "iu-q9", "--overflow", "queue:nosuch"],
                 ["queue", "set", "iu-help", "--overflow", "queue:nosuch"],
                 ["queue", "set", "iu-help", "--overflow", "ivr:nosuch"]):  # fmt: skip
        result = run(args, env)
        assert result.exit_code == 1 and "overflow_target: no " in result.output, args
    uuid = "2dd37390-bb90-434e-9327-2cd597661498"
    result = run(["call", "transfer", uuid, "extension:6499"], env)
    assert result.exit_code == 1 and "[agent_not_found]" in result.output


def test_queue_entries_newest_first(
    env: dict[str, str], engine: FakeEngine, database: Database
) -> None:
    ok(["queue", "add", "sales"], env)
    with database.session_scope() as session:
        queues = QueueRepository(session)
        first = queues.join("sales", "00000000-0000-0000-0000-000000000001")
        queues.leave(first, QueueOutcome.ABANDONED, reason="caller hung up")
        queues.join("sales", "00000000-0000-0000-0000-000000000002")
    rows = as_json(["queue", "entries", "sales"], env)
    assert [r["call_uuid"][-1] for r in rows] == ["2", "1"]
    assert rows[1]["outcome"] == "abandoned" and rows[1]["reason"] == "caller hung up"
    assert rows[1]["wait_seconds"] is not None and rows[0]["wait_seconds"] is None
    assert len(as_json(["queue", "entries", "sales", "--limit", "1"], env)) == 1
    assert len(as_json(["queue", "show", "sales"], env)["entries"]) == 2
    assert as_json(["queue", "show", "sales", "--entries", "0"], env)["entries"] == []
    assert "caller hung up" in ok(["queue", "entries", "sales"], env).output
    expect_changes(database, 1, engine)  # reading notifies nobody


# -- agents ----------------------------------------------------------------------------------


def test_agent_status_lifecycle(
    env: dict[str, str], engine: FakeEngine, database: Database
) -> None:
    ok(["agent", "add", "1001", "--name", "Ann", "--skill", "english=5"], env)
    with database.session_scope() as session:  # stored by older builds: `agent add` refuses it
        session.execute(text("UPDATE agents SET display_name = 'Ann \x1b[2J'"))
    ok(["queue", "add", "sales"], env)
    ok(["queue", "member", "add", "sales", "1001", "--tier", "2"], env)
    expect_changes(database, 3, engine)
    with database.session_scope() as session:  # the engine's part: the agent is on a call
        AgentRepository(session).set_status("1001", AgentStatus.LOGGED_OUT, AgentState.IN_CALL)

    assert "available" in ok(["agent", "login", "1001"], env).output
    assert "paused (lunch)" in ok(["agent", "pause", "1001", "--reason", "lunch"], env).output
    shown = as_json(["agent", "show", "1001"], env)
    assert (shown["status"], shown["state"], shown["pause_reason"]) == (
        "paused",
        "in_call",
        "lunch",
    )
    ok(["agent", "ready", "1001"], env)
    ok(["agent", "logout", "1001"], env)
    expect_changes(database, 7, engine)

    shown = as_json(["agent", "show", "1001"], env)
    assert shown["status"] == "logged_out" and shown["pause_reason"] is None
    assert shown["state"] == "in_call"  # status only: the engine owns the state
    assert shown["queues"] == [{"queue": "sales", "tier": 2, "position": 1}]
    assert [(h["status"], h["reason"]) for h in shown["history"]] == [
        ("logged_out", None),
        ("available", None),
        ("paused", "lunch"),
        ("available", None),
        ("logged_out", None),  # the engine's own change above
    ]
    for _ in range(4):
        ok(["agent", "login", "1001"], env)
        ok(["agent", "logout", "1001"], env)
    assert len(as_json(["agent", "show", "1001"], env)["history"]) == 10

    text_out = ok(["agent", "show", "1001"], env).output
    assert "\x1b" not in text_out and "\\x1b[2J" in text_out  # a name cannot drive the terminal
    assert "sales" in text_out and "english" in text_out

    actions = [a for a, target, _ in audit(database) if target == "1001"]
    assert actions[:5] == ["agent.add", "agent.login", "agent.pause", "agent.ready", "agent.logout"]
    pause_details = next(d for a, _, d in audit(database) if a == "agent.pause")
    assert pause_details == {"from": "available", "to": "paused", "reason": "lunch"}


def test_agent_skills(env: dict[str, str], engine: FakeEngine, database: Database) -> None:
    ok(["agent", "add", "1001"], env)
    ok(["agent", "skill", "1001", "english", "80"], env)
    ok(["agent", "skill", "1001", "french", "0"], env)
    ok(["agent", "skill", "1001", "english", "90"], env)  # again: changes the level
    assert as_json(["agent", "show", "1001"], env)["skills"] == {"english": 90, "french": 0}
    ok(["agent", "skill", "1001", "french", "--remove"], env)
    assert as_json(["agent", "show", "1001"], env)["skills"] == {"english": 90}
    expect_changes(database, 5, engine)
    assert [(a, d) for a, _, d in audit(database)][1:] == [
        ("agent.skill", {"skill": "english", "level": 80}),
        ("agent.skill", {"skill": "french", "level": 0}),
        ("agent.skill", {"skill": "english", "level": 90}),
        ("agent.skill.remove", {"skill": "french"}),
    ]


@pytest.mark.parametrize(
    ("setup", "args", "code"),
    [
        ([], ["agent", "logout", "1001"], "agent_not_logged_in"),
        ([], ["agent", "pause", "1001"], "agent_not_logged_in"),
        ([], ["agent", "ready", "1001"], "agent_not_logged_in"),
        (["login"], ["agent", "login", "1001"], "agent_already_logged_in"),
        (["login"], ["agent", "ready", "1001"], "agent_not_paused"),
        (["login", "pause"], ["agent", "pause", "1001"], "agent_already_paused"),
        (["login", "pause"], ["agent", "login", "1001"], "agent_already_logged_in"),
    ],
)
def test_a_status_change_from_the_wrong_status_is_refused(
    env: dict[str, str], database: Database, setup: list[str], args: list[str], code: str
) -> None:
    ok(["agent", "add", "1001"], env)
    for action in setup:
        ok(["agent", action, "1001"], env)
    before = stored(database)
    result = run(args, env)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert result.output.startswith("error: ") and f"[{code}]" in result.output
    assert stored(database) == before


# -- bad input -------------------------------------------------------------------------------

HOSTILE = ["10\n01", "1001 1002", "1001;reboot", "$(id)", "${sofia_profile}", "x" * 65, "\u210c"]


@pytest.mark.parametrize(
    "args",
    [
        ["queue", "add", "new", "--strategy", "fastest"],
        ["queue", "add", "new", "--max-wait", "-1"],
        ["queue", "add", "new", "--max-callers", "-5"],
        ["queue", "add", "new", "--ring-seconds", "0"],
        ["queue", "add", "new", "--service-level", "ten"],
        ["queue", "add", "new", "--max-wait", "99999999999"],
        ["queue", "add", "new", "--overflow", "voicemail:1001"],
        ["queue", "add", "new", "--overflow", "queue:"],
        ["queue", "add", "new", "--overflow", "queue:new"],
        ["queue", "add", "new", "--overflow", "extension:10\n01"],
        ["queue", "add", "new", "--overflow", "playback:/tmp/a b.wav"],
        ["queue", "add", "new", "--overflow", "hangup:normal clearing"],
        ["queue", "add", "new", "--moh", "local_stream://moh\nbgapi originate"],
        ["queue", "add", "new", "--moh", "${system(id)}"],
        ["queue", "add", "sales"],
        ["queue", "set", "sales"],
        ["queue", "set", "sales", "--overflow", "ivr:x", "--no-overflow"],
        ["queue", "set", "sales", "--strategy", "fastest"],
        ["queue", "set", "nope", "--max-wait", "5"],
        ["queue", "show", "nope"],
        ["queue", "entries", "nope"],
        ["queue", "entries", "sales", "--limit", "0"],
        ["queue", "remove", "nope"],
        ["queue", "member", "add", "nope", "1001"],
        ["queue", "member", "add", "sales", "9999"],
        ["queue", "member", "add", "sales", "1001"],
        ["queue", "member", "add", "sales", "1002", "--tier", "0"],
        ["queue", "member", "add", "sales", "1002", "--position", "-1"],
        ["queue", "member", "remove", "sales", "1002"],
        ["queue", "member", "remove", "nope", "1001"],
        ["queue", "skill", "require", "sales", "english", "--min-level", "101"],
        ["queue", "skill", "require", "sales", "English"],
        ["queue", "skill", "require", "nope", "english"],
        ["queue", "skill", "drop", "sales", "german"],
        ["agent", "login", "9999"],
        ["agent", "logout", "9999"],
        ["agent", "pause", "1001", "--reason", ""],
        ["agent", "pause", "1001", "--reason", "x" * 65],
        ["agent", "pause", "1001", "--reason", "lunch\r\nEvent-Name: CUSTOM"],
        ["agent", "pause", "1001", "--reason", "lunch\x1b[2J"],
        ["agent", "ready", "9999"],
        ["agent", "skill", "1001", "english"],
        ["agent", "skill", "1001", "english", "5", "--remove"],
        ["agent", "skill", "1001", "english", "101"],
        ["agent", "skill", "1001", "english", "-1"],
        ["agent", "skill", "1001", "english", "high"],
        ["agent", "skill", "1001", "English", "5"],
        ["agent", "skill", "1001", "german", "--remove"],
        ["agent", "skill", "9999", "english", "5"],
        ["agent", "show", "9999"],
        ["agent", "add", "1003", "--skill", "Eng lish=5"],
        ["queue", "set", "sales", "--relax", "after 30s: english => 50"],
        ["queue", "set", "sales", "--relax", "english >= 50"],
        ["queue", "set", "sales", "--join-empty", "asleep"],
        ["queue", "set", "sales", "--exit-key", "0", "--exit-target", "nowhere:x"],
        ["queue", "set", "sales", "--exit-key", "00"],
        ["queue", "set", "sales", "--exit-key", "5", "--callback-key", "5"],
        ["queue", "set", "sales", "--callback-min-digits", "12", "--callback-max-digits", "8"],
        ["queue", "set", "sales", "--callback-whisper", "two words.wav"],
        ["queue", "set", "sales", "--strategy", "loudest"],
        ["queue", "set", "sales", "--pause-reason", "a\x1bb"],
        ["agent", "failure-policy", "1001", "--pause-reason", "bad\rreason"],
        ["agent", "failure-policy", "1001"],
        *(["queue", "add", name] for name in HOSTILE),
        *(["queue", "show", name] for name in HOSTILE),
        *(["queue", "member", "add", "sales", ext] for ext in HOSTILE),
        *(["agent", command, ext] for ext in HOSTILE for command in ("login", "show")),
        *(["agent", "skill", "1001", skill, "5"] for skill in HOSTILE),
    ],
)
def test_bad_input_is_one_error_line_and_changes_nothing(
    env: dict[str, str], database: Database, tmp_path: Path, args: list[str]
) -> None:
    ok(["agent", "add", "1001", "--skill", "english=5"], env)
    ok(["agent", "add", "1002"], env)
    ok(["queue", "add", "sales"], env)
    ok(["queue", "member", "add", "sales", "1001"], env)
    ok(["queue", "skill", "require", "sales", "english"], env)
    before = stored(database)

    result = run(args, env)

    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.lower().startswith("error:")]
    assert len(errors) == 1, result.output
    assert "\n" not in errors[0] and "\x1b" not in result.output and "\r" not in result.output
    assert stored(database) == before


# -- telling the engine ----------------------------------------------------------------------


def test_changes_reach_the_engines_through_the_feed(
    env: dict[str, str], database: Database, engine: FakeEngine
) -> None:
    """One change row per change, keyed by what changed, naming who did it; no signal."""
    ok(["queue", "add", "sales"], env)
    ok(["agent", "add", "1001"], env)
    ok(["agent", "login", "1001"], env)
    ok(["agent", "pause", "1001", "--reason", "lunch"], env)
    ok(["queue", "member", "add", "sales", "1001"], env)
    ok(["agent", "show", "1001"], env)  # reading changes nothing
    assert changes(database) == [
        ("queue", "sales", "add"),
        ("agent", "1001", "add"),
        ("agent", "1001", "login"),
        ("agent", "1001", "pause"),
        ("queue", "sales", "member"),
    ]
    with database.engine.connect() as conn:
        actors = set(conn.execute(text("SELECT actor FROM engine_changes")).scalars())
        details = conn.execute(
            text("SELECT details FROM engine_changes WHERE op = 'pause'")
        ).scalar_one()
    assert len(actors) == 1 and next(iter(actors)).startswith("cli:")
    assert (json.loads(details) if isinstance(details, str) else details)["reason"] == "lunch"
    assert engine.hups() == 0


def test_a_refused_change_sends_nothing(env: dict[str, str], database: Database) -> None:
    ok(["agent", "add", "1001"], env)
    assert run(["agent", "pause", "1001"], env).exit_code == 1  # not logged in
    assert run(["queue", "member", "add", "nope", "1001"], env).exit_code == 1
    assert changes(database) == [("agent", "1001", "add")]


def test_reload_signals_the_engine_of_this_host(
    env: dict[str, str], engine: FakeEngine, tmp_path: Path
) -> None:
    """`callcenter reload` stays the SIGHUP path: reload everything."""
    result = ok(["reload"], env)
    assert f"engine {engine.pid} asked to reload everything (SIGHUP)" in result.output
    engine.wait_hups(1)
    ok(["reload", "--pid", str(engine.pid)], env)
    engine.wait_hups(2)


def test_a_stale_pid_file_names_no_engine(
    env: dict[str, str], engine: FakeEngine, tmp_path: Path
) -> None:
    """A pid file left by a crash: the process now holding that pid started after it."""
    pid_file = tmp_path / "callcenter.pid"
    long_ago = time.time() - 3600
    os.utime(pid_file, (long_ago, long_ago))
    result = run(["reload"], env)
    assert result.exit_code == 1 and "stale" in result.output
    pid_file.write_text(f"{engine.pid}\n")  # written after the engine started: it is the one
    assert "asked to reload" in ok(["reload"], env).output
    engine.wait_hups(1)


def test_reload_without_an_engine_is_an_error(env: dict[str, str], tmp_path: Path) -> None:
    result = run(["reload"], env)
    assert result.exit_code == 1
    assert "no running engine found" in result.output
    dead = _a_dead_pid()
    result = run(["reload", "--pid", str(dead)], env)
    assert result.exit_code == 1
    assert f"error: no engine with pid {dead} [engine_not_running]" in result.output
    for pid in ("0", "-1"):
        result = run(["reload", "--pid", pid], env)
        assert result.exit_code == 1 and "[invalid_pid]" in result.output


def test_ivr_reload_sends_a_flow_change(
    env: dict[str, str], database: Database, engine: FakeEngine
) -> None:
    result = ok(["ivr", "reload"], env)
    assert "sent to every running engine" in result.output
    assert changes(database) == [("flow", "", "reload")]
    assert engine.hups() == 0


def test_ivr_reload_checks_queue_names_against_the_database(
    env: dict[str, str], database: Database, engine: FakeEngine
) -> None:
    """As the engine will: once queues exist, a flow naming another one is not sent."""
    ok(["queue", "add", "sales"], env)
    expect_changes(database, 1, engine)
    result = run(["ivr", "reload"], env)
    assert result.exit_code == 1
    assert "unknown queue 'support'" in result.output and "not reloaded" in result.output
    expect_changes(database, 1, engine)
    for name in ("support", "vip"):
        ok(["queue", "add", name], env)
    expect_changes(database, 3, engine)
    assert "sent to every running engine" in ok(["ivr", "reload"], env).output
    expect_changes(database, 4, engine)


def _a_dead_pid() -> int:
    """The pid of a child that has exited and been reaped (not reused within a test)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=10)
    return child.pid


def test_the_fake_engine_dies_on_sigterm_only(tmp_path: Path) -> None:
    fake = FakeEngine(tmp_path / "hups.log")
    try:
        os.kill(fake.pid, signal.SIGHUP)
        fake.wait_hups(1)
        assert fake.process.poll() is None
    finally:
        fake.stop()


def test_queue_announcements_are_set_and_merged(env: dict[str, str]) -> None:
    ok(["queue", "add", "care", "--announce-every", "45", "--announce", "custom/busy.wav"], env)
    shown = as_json(["queue", "show", "care"], env)
    assert shown["announce_position_seconds"] == 45
    assert shown["announcements"] == {"periodic": "custom/busy.wav"}
    ok(["queue", "set", "care", "--position-prompt", "custom/you-are.wav"], env)
    shown = as_json(["queue", "show", "care"], env)
    assert shown["announcements"] == {
        "periodic": "custom/busy.wav", "position": "custom/you-are.wav",
    }  # fmt: skip
    result = run(["queue", "set", "care", "--announce", "bad file.wav"], env)
    assert result.exit_code == 2 and "--announce" in result.output
    bad = run(["queue", "set", "care", "--announce-every", "-1"], env)
    assert bad.exit_code == 2
    assert as_json(["queue", "show", "care"], env)["announce_position_seconds"] == 45


def test_queue_routing_rules_through_the_cli(env: dict[str, str], database: Database) -> None:
    ok(["queue", "add", "care", "--strategy", "agent-with-fewest-calls"], env)
    result = ok(
        ["queue", "set", "care", "--strategy", "rrmemory", "--relax", "after 30s: english>=50",
         "--tier-wait", "20", "--tier-wait-multiply", "--max-no-answer", "2",
         "--max-wait-no-agent", "60", "--no-agent-grace", "5",
         "--join-empty", "paused,unavailable"],
        env,
    )  # fmt: skip
    assert "strategy=rrmemory" in result.output and "tier_wait_seconds=20" in result.output
    shown = as_json(["queue", "show", "care"], env)
    assert shown["strategy"] == "rrmemory"
    assert shown["routing"] == {
        "relax": "after 30s: english >= 50", "tier_wait_seconds": 20, "tier_wait_multiply": True,
        "max_no_answer": 2, "max_wait_no_agent_seconds": 60, "no_agent_grace_seconds": 5,
        "join_empty": "paused,unavailable",
    }  # fmt: skip
    bad = run(
        ["queue", "set", "care", "--relax", "after 30s: english >= 50; after 10s: any x"], env
    )
    assert bad.exit_code == 1 and "relax rule 2" in bad.output and "increasing" in bad.output
    ok(["queue", "set", "care", "--reset", "relax", "--reset", "join_empty"], env)
    routing = as_json(["queue", "show", "care"], env)["routing"]
    assert "relax" not in routing and "join_empty" not in routing
    ok(["agent", "add", "1001"], env)
    result = ok(["agent", "failure-policy", "1001", "--no-answer-delay", "5"], env)
    assert "no_answer_delay=5" in result.output
    assert audit(database)[-1] == ("agent.failure_policy", "1001", {"no_answer_delay": 5})


def test_queue_callbacks_through_the_cli(env: dict[str, str], database: Database) -> None:
    ok(["queue", "add", "back"], env)
    result = ok(
        ["queue", "set", "back", "--callback-key", "5", "--callback-attempts", "2",
         "--callback-retry", "300", "--callback-whisper", "say:callback"],
        env,
    )  # fmt: skip
    assert "callback_key=5" in result.output and "callback_attempts=2" in result.output
    assert as_json(["queue", "show", "back"], env)["routing"] == {
        "callback_key": "5", "callback_attempts": 2, "callback_retry_seconds": 300,
        "callback_whisper": "say:callback",
    }  # fmt: skip
    joined = datetime.now(UTC)
    with database.session_scope() as session:
        AcdStateRepository(session).save_stays([
            QueueStayRecord("t-back", "back", "c-back", 0, 1, joined, callback_number="15550102000",
                            callback_attempts=1, callback_result="no_answer"),
        ])  # fmt: skip
    [entry] = as_json(["queue", "entries", "back"], env)
    assert (entry["outcome"], entry["callback"]) == (None, "15550102000 x1 no_answer")
    ok(["queue", "set", "back", "--reset", "callback_key"], env)
    assert "callback_key" not in as_json(["queue", "show", "back"], env)["routing"]


# -- agent set, route test, live calls -------------------------------------------------------


def test_agent_set_changes_what_is_given(env: dict[str, str], database: Database) -> None:
    ok(["agent", "add", "1001", "--name", "Ann", "--wrapup", "5"], env)
    result = ok(["agent", "set", "1001", "--wrapup", "20", "--pin", "4321"], env)
    assert "agent 1001: name 'Ann', wrap-up 20s, PIN set" in result.output
    shown = as_json(["agent", "show", "1001"], env)
    assert (shown["name"], shown["wrapup_seconds"], shown["pin"]) == ("Ann", 20, True)
    result = run(["agent", "set", "1001"], env)
    assert result.exit_code == 1 and "[no_change]" in result.output
    assert changes(database) == [("agent", "1001", "add"), ("agent", "1001", "set")]
    assert audit(database)[-1] == ("agent.set", "1001", {"wrapup_seconds": 20, "pin": "changed"})


def test_agent_set_phone_settings(env: dict[str, str], database: Database) -> None:
    ok(["agent", "add", "1002", "--name", "Bo"], env)
    result = ok(["agent", "set", "1002", "--auto-answer", "--whisper", "queue"], env)
    assert "auto-answer on, whisper queue, caller ID the route's" in result.output
    ok(["agent", "set", "1002", "--caller-id", "+33180000000"], env)
    shown = as_json(["agent", "show", "1002"], env)
    assert (shown["auto_answer"], shown["whisper"], shown["caller_id"]) == (
        True, "queue", "+33180000000",
    )  # fmt: skip
    result = ok(["agent", "set", "1002", "--no-auto-answer", "--whisper", ""], env)
    assert "auto-answer off, whisper none" in result.output
    result = run(["agent", "set", "1002", "--whisper", "two words"], env)
    assert result.exit_code == 1 and "whisper:" in result.output
    assert audit(database)[-1][:2] == ("agent.set", "1002")


def test_route_test_names_the_target(env: dict[str, str]) -> None:
    ok(["queue", "add", "sales"], env)
    ok(["route", "add", "5100", "queue:sales"], env)
    assert "5100 -> queue:sales" in ok(["route", "test", "5100"], env).output
    found = as_json(["route", "test", "5999"], env)
    assert found == {
        "did": "5999",
        "target": "hangup:UNALLOCATED_NUMBER",
        "by": "default",
        "route": "",
        "why": "no route matches",
    }


def test_call_commands_without_live_calls(env: dict[str, str], database: Database) -> None:
    assert as_json(["call", "list"], env) == []
    assert "(none)" in ok(["call", "list"], env).output
    uuid = "2dd37390-bb90-434e-9327-2cd597661497"
    for args in (
        ["call", "show", uuid],
        ["call", "hangup", uuid],
        ["call", "transfer", uuid, "queue:sales"],
        ["call", "bridge", uuid, "1001"],
    ):
        result = run(args, env)
        assert result.exit_code == 1, args
        assert result.output.count("\n") == 1 and "[" in result.output, result.output
    result = run(["call", "hangup", uuid, "--cause", "nope"], env)
    assert result.exit_code == 1 and "[invalid_argument]" in result.output
    result = run(["call", "transfer", uuid, "voicemail:1"], env)
    assert result.exit_code == 1 and "[invalid_argument]" in result.output
    assert changes(database) == []


def test_queue_wait_prompts_and_rejoin_window(env: dict[str, str]) -> None:
    ok(["queue", "add", "care", "--rejoin-window", "120"], env)
    ok(["queue", "set", "care", "--wait-prompt", "custom/about.wav",
        "--wait-less-prompt", "custom/less.wav"], env)  # fmt: skip
    shown = as_json(["queue", "show", "care"], env)
    assert shown["rejoin_window_seconds"] == 120
    assert shown["announcements"] == {
        "wait_about": "custom/about.wav",
        "wait_less": "custom/less.wav",
    }
    assert run(["queue", "set", "care", "--rejoin-window", "90000"], env).exit_code == 2
    assert run(["queue", "set", "care", "--wait-prompt", "bad file.wav"], env).exit_code == 2
