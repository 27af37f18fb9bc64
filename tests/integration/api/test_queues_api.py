"""/queues: CRUD, members, skills, waiting callers from the board, entries."""

from __future__ import annotations

from datetime import UTC, datetime

from callcenter.acd.board import AgentSlot, Board, Member, QueueSpec, Ticket
from callcenter.acd.ewt import HandleTimes
from callcenter.api.live import BoardReader
from callcenter.store.database import Database
from callcenter.store.records import QueueStayRecord
from callcenter.store.repos.acd_state import AcdStateRepository
from callcenter.vocabulary import AgentStatus, QueueOutcome
from tests.integration.api.conftest import Client

FAILED = QueueOutcome.CALLBACK_FAILED


def test_create_show_update_delete(api: Client) -> None:
    made = api(
        "POST", "/queues", body={"name": "sales", "strategy": "ring_all", "max_wait_seconds": 120}
    )
    assert made.status_code == 201, made.text
    assert (made.json["strategy"], made.json["max_wait_seconds"]) == ("ring_all", 120)
    assert made.json["waiting"] is None  # no engine in this process
    assert api("POST", "/queues", body={"name": "sales"}).json["code"] == "queue_exists"
    changed = api("PATCH", "/queues/sales", body={"overflow_target": "queue:sales"})
    assert (changed.status_code, changed.json["code"]) == (422, "invalid_argument")
    api("POST", "/queues", body={"name": "support"})
    changed = api("PATCH", "/queues/sales", body={"overflow_target": "queue:support"})
    assert changed.json["overflow_target"] == "queue:support"
    cleared = api("PATCH", "/queues/sales", body={"clear_overflow": True})
    assert cleared.json["overflow_target"] is None
    bad = api("PATCH", "/queues/sales", body={"strategy": "loudest"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "body.strategy"
    assert [q["name"] for q in api("GET", "/queues").json["items"]] == ["sales", "support"]
    assert api("DELETE", "/queues/sales").status_code == 204
    assert api("GET", "/queues/sales").json["code"] == "queue_not_found"


def test_members_and_skills(api: Client) -> None:
    api("POST", "/agents", body={"extension": "1001"})
    api("POST", "/queues", body={"name": "sales"})
    member = api("PUT", "/queues/sales/members/1001", body={"tier": 2, "position": 3})
    assert member.json["members"] == [{"extension": "1001", "tier": 2, "position": 3}]
    shown = api("GET", "/queues/sales").json
    assert shown["member_states"][0]["status"] == "logged_out"
    assert api("GET", "/agents/1001").json["queues"] == [
        {"queue": "sales", "tier": 2, "position": 3}
    ]
    assert api("PUT", "/queues/sales/members/9999", body={}).json["code"] == "agent_not_found"
    assert api("PUT", "/queues/sales/members/1001", body={"tier": 100}).status_code == 422
    patched = api("PATCH", "/queues/sales/members/1001", body={"position": 5})
    assert patched.json["members"] == [{"extension": "1001", "tier": 2, "position": 5}]
    assert api("DELETE", "/queues/sales/members/1001").json["members"] == []
    gone = api("PATCH", "/queues/sales/members/1001", body={"tier": 1})  # not made a member
    assert (gone.status_code, gone.json["code"]) == (404, "queue_member_not_found")
    assert api("GET", "/queues/sales").json["members"] == []
    skilled = api("PUT", "/queues/sales/skills/english", body={"min_level": 3})
    assert skilled.json["required_skills"] == {"english": 3}
    assert api("DELETE", "/queues/sales/skills/english").json["required_skills"] == {}


def test_a_members_tier_and_position_are_put_again(api: Client) -> None:
    # a second PUT answered 409 already_exists: a tier could not be changed
    api("POST", "/agents", body={"extension": "1001"})
    api("POST", "/queues", body={"name": "sales"})
    made = api("PUT", "/queues/sales/members/1001", body={"tier": 1, "position": 1})
    assert made.status_code == 200, made.text
    moved = api("PUT", "/queues/sales/members/1001", body={"tier": 2, "position": 3})
    assert moved.status_code == 200, moved.text
    assert moved.json["members"] == [{"extension": "1001", "tier": 2, "position": 3}]
    again = api("PUT", "/queues/sales/members/1001", body={"tier": 2, "position": 3})
    assert again.json == moved.json


def test_overflow_targets_must_exist(api: Client) -> None:
    # PATCH {"overflow_target": "queue:nosuch"} answered 200, POST with ivr:nosuch 201
    api("POST", "/queues", body={"name": "q1"})
    nosuch = api("PATCH", "/queues/q1", body={"overflow_target": "queue:nosuch"})
    assert (nosuch.status_code, nosuch.json["code"]) == (422, "route_queue_unknown")
    assert "no queue 'nosuch'" in nosuch.json["detail"]
    made = api("POST", "/queues", body={"name": "q2", "overflow_target": "queue:nosuch"})
    assert made.json["code"] == "route_queue_unknown"
    assert api("GET", "/queues/q2").json["code"] == "queue_not_found"


def test_flows_the_engine_serves_are_checked(make_client) -> None:  # type: ignore[no-untyped-def]
    class Flows:
        def names(self) -> list[str]:
            return ["main"]

    api = make_client(flows=Flows())
    made = api("POST", "/queues", body={"name": "q3", "overflow_target": "ivr:nosuch"})
    assert (made.status_code, made.json["code"]) == (422, "route_flow_unknown")
    made = api("POST", "/queues", body={"name": "q3", "overflow_target": "ivr:main"})
    assert made.status_code == 201, made.text


def test_a_queue_a_route_or_an_overflow_sends_calls_to_is_not_deleted(api: Client) -> None:
    # DELETE answered 204 while route 5004 pointed at queue:support: every call to 5004
    # was then rejected, and nothing said why
    api("POST", "/queues", body={"name": "support"})
    api("POST", "/queues", body={"name": "sales", "overflow_target": "queue:support"})
    assert api("POST", "/routes", body={"did": "5004", "target": "queue:support"}).status_code \
        == 201  # fmt: skip
    gone = api("DELETE", "/queues/support")
    assert (gone.status_code, gone.json["code"]) == (409, "queue_in_use")
    assert "route 5004, queue sales (overflow)" in gone.json["detail"]
    assert api("GET", "/routes/5004/test").json["target"] == "queue:support"
    api("DELETE", "/routes/5004")
    api("PATCH", "/queues/sales", body={"clear_overflow": True})
    assert api("DELETE", "/queues/support").status_code == 204


def test_waiting_callers_with_position_and_wait(make_client) -> None:  # type: ignore[no-untyped-def]
    board, wall = Board(), [1_000.0]
    board.configure([QueueSpec("sales")], [AgentSlot("1001", AgentStatus.PAUSED)], 0.0)
    for i, (uuid, priority) in enumerate((("a", 0), ("b", 0), ("c", 5))):
        ticket = Ticket(f"t{i}", uuid, "sales", priority)
        ticket.since_us = int((990 + i) * 1_000_000)
        board.join(ticket, 0.0)
    api = make_client(
        live=BoardReader(lambda read, timeout=2.0: read(board, 0.0), wall=lambda: wall[0])
    )
    api("POST", "/queues", body={"name": "sales"})
    callers = api("GET", "/queues/sales/callers").json["callers"]
    assert [(c["call_uuid"], c["position"]) for c in callers] == [("c", 1), ("a", 2), ("b", 3)]
    assert [c["waited_seconds"] for c in callers] == [8.0, 10.0, 9.0]
    assert api("GET", "/queues").json["items"][0]["waiting"] == 3
    assert api("GET", "/queues/none/callers").json["code"] == "queue_not_found"


def test_waiting_callers_with_their_expected_wait(make_client) -> None:  # type: ignore[no-untyped-def]
    board, times = Board(), HandleTimes()
    members = (Member("1001"), Member("1002"))
    agents = [AgentSlot(e, AgentStatus.AVAILABLE) for e in ("1001", "1002")]
    board.configure([QueueSpec("sales", members=members)], agents, 0.0)
    for agent in board.agents.values():
        agent.ticket = "talking"
    for i in range(2):
        ticket = Ticket(f"t{i}", f"c{i}", "sales")
        ticket.since_us = i + 1
        board.join(ticket, 0.0)
    live = BoardReader(lambda read, timeout=2.0: read(board, 0.0), handle_times=times)
    api = make_client(live=live)
    api("POST", "/queues", body={"name": "sales"})
    callers = api("GET", "/queues/sales/callers").json["callers"]
    assert [c["expected_wait_seconds"] for c in callers] == [None, None]  # no call handled
    times.record("sales", 200.0)
    callers = api("GET", "/queues/sales/callers").json["callers"]
    assert [c["expected_wait_seconds"] for c in callers] == [50.0, 150.0]


def test_wait_settings(api: Client) -> None:
    made = api("POST", "/queues", body={"name": "care", "rejoin_window_seconds": 120,
                                        "wait_prompt": "custom/wait-about.wav"})  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json["rejoin_window_seconds"] == 120
    assert made.json["announcements"] == {"wait_about": "custom/wait-about.wav"}
    changed = api("PATCH", "/queues/care", body={"wait_more_prompt": "custom/more.wav"})
    assert changed.json["announcements"] == {
        "wait_about": "custom/wait-about.wav", "wait_more": "custom/more.wav",
    }  # fmt: skip
    bad = api("PATCH", "/queues/care", body={"rejoin_window_seconds": 86_401})
    assert (bad.status_code, bad.json["code"]) == (422, "invalid_argument")


def test_callers_need_an_engine(api: Client) -> None:
    api("POST", "/queues", body={"name": "sales"})
    answer = api("GET", "/queues/sales/callers")
    assert (answer.status_code, answer.json["code"]) == (503, "engine_not_running")


def test_entries(api: Client) -> None:
    api("POST", "/queues", body={"name": "sales"})
    assert api("GET", "/queues/sales/entries", query_string="limit=5").json == {"items": []}
    assert api("GET", "/queues/sales/entries", query_string="limit=0").status_code == 422


def test_callback_settings_and_a_callbacks_entry(api: Client, db: Database) -> None:
    api("POST", "/queues", body={"name": "back"})
    changed = api(
        "PATCH", "/queues/back", body={"routing": {"callback_key": "5", "callback_attempts": 2}}
    )
    assert changed.json["routing"] == {"callback_key": "5", "callback_attempts": 2}, changed.text
    bad = api("PATCH", "/queues/back", body={"routing": {"callback_key": "5", "exit_key": "5"}})
    assert (bad.status_code, bad.json["code"]) == (422, "invalid_argument")
    with db.session_scope() as session:
        AcdStateRepository(session).save_stays([
            QueueStayRecord("t-api", "back", "c-api", 0, 1, datetime.now(UTC), outcome=FAILED,
                            callback_number="15550102000", callback_attempts=2,
                            callback_result="busy"),
        ])  # fmt: skip
    [entry] = api("GET", "/queues/back/entries").json["items"]
    assert (entry["outcome"], entry["callback_number"], entry["callback_attempts"]) == (
        "callback_failed", "15550102000", 2,
    )  # fmt: skip
    assert entry["callback_result"] == "busy"


def test_routing_rules_are_set_checked_and_reset(api: Client) -> None:
    made = api(
        "POST", "/queues",
        body={"name": "care", "strategy": "rrmemory",
              "routing": {"relax": "after 30s: english>=50", "tier_wait_seconds": 20}},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json["strategy"] == "rrmemory"
    assert made.json["routing"] == {"relax": "after 30s: english >= 50", "tier_wait_seconds": 20}
    bad = api("PATCH", "/queues/care", body={"routing": {"relax": "after 30s: english => 5"}})
    assert (bad.status_code, bad.json["code"]) == (422, "invalid_argument")
    assert "relax rule 1" in bad.json["detail"] and "english => 5" in bad.json["detail"]
    bad = api("PATCH", "/queues/care", body={"routing": {"join_empty": "asleep"}})
    assert bad.status_code == 422 and "join_empty" in bad.json["detail"]
    changed = api(
        "PATCH", "/queues/care",
        body={"routing": {"relax": None, "max_no_answer": 2, "join_empty": "paused"}},
    )  # fmt: skip
    assert changed.json["routing"] == {
        "tier_wait_seconds": 20, "max_no_answer": 2, "join_empty": "paused",
    }  # fmt: skip


def test_an_agents_failure_policy_overrides(api: Client) -> None:
    api("POST", "/agents", body={"extension": "1002"})
    path = "/agents/1002/failure-policy"
    set_ = api("PATCH", path, body={"no_answer_delay": 5, "max_no_answer": 1})
    assert set_.status_code == 200, set_.text
    assert set_.json["failure_policy"] == {"no_answer_delay": 5, "max_no_answer": 1}
    reset = api("PATCH", path, body={"max_no_answer": None})
    assert reset.json["failure_policy"] == {"no_answer_delay": 5}
    bad = api("PATCH", path, body={"busy_delay": 99999})
    assert (bad.status_code, bad.json["code"]) == (422, "invalid_argument")
