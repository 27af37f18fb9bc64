"""/agents: CRUD, skills, status changes, live state, pagination."""

from __future__ import annotations

from datetime import UTC, datetime

from callcenter.acd.board import AgentSlot, Board, Member, QueueSpec, Ticket
from callcenter.api.live import BoardReader
from callcenter.vocabulary import AgentState, AgentStatus, QueueStrategy
from tests.integration.api.conftest import Client


def test_create_show_update_delete(api: Client) -> None:
    made = api("POST", "/agents", body={"extension": "1001", "name": "Ann", "skills": {"en": 5}})
    assert made.status_code == 201, made.text
    assert made.json["agent"]["skills"] == {"en": 5}
    assert len(made.json["sip_password"]) >= 10  # generated, shown once
    again = api("POST", "/agents", body={"extension": "1001"})
    assert (again.status_code, again.json["code"]) == (409, "agent_exists")
    shown = api("GET", "/agents/1001")
    assert shown.status_code == 200
    assert shown.json["name"] == "Ann" and shown.json["queues"] == []
    changed = api("PATCH", "/agents/1001", body={"name": "Ann Smith", "wrapup_seconds": 30})
    assert (changed.json["name"], changed.json["wrapup_seconds"]) == ("Ann Smith", 30)
    nothing = api("PATCH", "/agents/1001", body={})
    assert (nothing.status_code, nothing.json["code"]) == (409, "no_change")
    assert (
        api(
            "PUT", "/agents/1001/sip-password", body={"sip_password": "n3w-s3cret-Phone"}
        ).status_code
        == 200
    )
    assert api("DELETE", "/agents/1001").status_code == 204
    gone = api("GET", "/agents/1001")
    assert (gone.status_code, gone.json["code"]) == (404, "agent_not_found")


def test_bad_fields_are_422_naming_the_field(api: Client) -> None:
    answer = api("POST", "/agents", body={"extension": "10 01"})
    assert answer.status_code == 422
    assert answer.json["code"] == "invalid_argument"
    assert answer.json["detail"].startswith("extension:")
    typed = api("POST", "/agents", body={"extension": "1001", "wrapup_seconds": "soon"})
    assert typed.status_code == 422
    assert typed.json["errors"][0]["field"] == "body.wrapup_seconds"
    missing = api("POST", "/agents", body={})
    assert missing.json["errors"][0]["field"] == "body.extension"
    weak = api("POST", "/agents", body={"extension": "1001", "sip_password": "1001100110"})
    assert (weak.status_code, weak.json["code"]) == (422, "invalid_argument")


def test_malformed_json_is_400_and_a_non_json_body_415(api: Client) -> None:
    json_type = {"Content-Type": "application/json"}
    bad = api("POST", "/agents", raw=b"{nope", headers=json_type)
    assert (bad.status_code, bad.json["code"]) == (400, "body_invalid")
    text_type = {"Content-Type": "text/plain"}
    text = api("POST", "/agents", raw=b"extension=1", headers=text_type)
    assert (text.status_code, text.json["code"]) == (415, "body_not_json")


def test_skills(api: Client) -> None:
    api("POST", "/agents", body={"extension": "1001"})
    assert api("PUT", "/agents/1001/skills/english", body={"level": 7}).json["skills"] == {
        "english": 7
    }
    assert api("PUT", "/agents/1001/skills/english", body={"level": 101}).status_code == 422
    assert api("DELETE", "/agents/1001/skills/english").json["skills"] == {}


def test_login_pause_ready_logout_with_conflicts(api: Client) -> None:
    api("POST", "/agents", body={"extension": "1001"})
    paused = api("POST", "/agents/1001/pause", token="operate", body={"reason": "lunch"})
    assert (paused.status_code, paused.json["code"]) == (409, "agent_not_logged_in")
    assert api("POST", "/agents/1001/login", token="operate").json["status"] == "available"
    again = api("POST", "/agents/1001/login", token="operate")
    assert (again.status_code, again.json["code"]) == (409, "agent_already_logged_in")
    paused = api("POST", "/agents/1001/pause", token="operate", body={"reason": "lunch"})
    assert (paused.json["status"], paused.json["pause_reason"]) == ("paused", "lunch")
    assert api("POST", "/agents/1001/pause", token="operate").json["code"] == "agent_already_paused"
    assert api("POST", "/agents/1001/ready", token="operate").json["status"] == "available"
    assert api("POST", "/agents/1001/logout", token="operate").json["status"] == "logged_out"
    history = api("GET", "/agents/1001").json["history"]
    assert [h["status"] for h in history] == ["logged_out", "available", "paused", "available"]
    unknown = api("POST", "/agents/9999/login", token="operate")
    assert (unknown.status_code, unknown.json["code"]) == (404, "agent_not_found")


def test_live_state_comes_from_the_board(make_client) -> None:  # type: ignore[no-untyped-def]
    board, now = Board(), [100.0]
    since = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    board.configure(
        [], [AgentSlot("1001", AgentStatus.AVAILABLE, status_at=since, wrapup_seconds=20)], now[0]
    )
    api = make_client(live=BoardReader(lambda read, timeout=2.0: read(board, now[0])))
    api("POST", "/agents", body={"extension": "1001"})
    now[0] = 142.5
    live = api("GET", "/agents/1001").json["live"]
    assert live["state"] == "idle" and live["state_seconds"] == 42.5
    board.agents["1001"].enter(AgentState.WRAP_UP, now[0] - 5)  # as the board's changes do
    board.agents["1001"].ready_at = now[0] + 15
    listed = api("GET", "/agents").json["items"][0]
    assert listed["state"] == "wrap_up"  # the board's, fresher than the stored one
    assert listed["live"]["state_seconds"] == 5.0 and listed["live"]["ready_in_seconds"] == 15.0
    assert api("GET", "/agents/1001").json["live"]["state"] == "wrap_up"


def test_an_agent_the_engine_does_not_know_has_no_live_state(api: Client) -> None:
    api("POST", "/agents", body={"extension": "1001"})
    assert api("GET", "/agents/1001").json["live"] is None


def test_pages_follow_the_cursor(api: Client) -> None:
    for ext in ("1005", "1001", "1004", "1002", "1003"):
        api("POST", "/agents", body={"extension": ext})
    seen, cursor, pages = [], None, 0
    while True:
        query = f"limit=2&cursor={cursor}" if cursor else "limit=2"
        answer = api("GET", "/agents", query_string=query)
        seen += [a["extension"] for a in answer.json["items"]]
        pages += 1
        cursor = answer.json["next"]
        if cursor is None:
            assert "link" not in answer.headers
            break
        assert (
            answer.headers["link"].endswith('>; rel="next"') and "cursor=" in answer.headers["link"]
        )
    assert seen == ["1001", "1002", "1003", "1004", "1005"] and pages == 3
    bad = api("GET", "/agents", query_string="cursor=not-a-cursor")
    assert (bad.status_code, bad.json["code"]) == (400, "cursor_invalid")


def test_time_in_state_is_known_in_every_state(make_client) -> None:  # type: ignore[no-untyped-def]
    board, now = Board(), [10.0]
    spec = QueueSpec("sales", QueueStrategy.RING_ALL, (Member("1001"), Member("1002")))
    agents = [AgentSlot("1001", AgentStatus.AVAILABLE), AgentSlot("1002", AgentStatus.AVAILABLE)]
    board.configure([spec], agents, 0.0)
    api = make_client(live=BoardReader(lambda read, timeout=2.0: read(board, now[0])))
    for ext in ("1001", "1002"):
        api("POST", "/agents", body={"extension": ext})

    def live() -> dict[str, tuple[str, float]]:
        items = api("GET", "/agents").json["items"]
        return {a["extension"]: (a["live"]["state"], a["live"]["state_seconds"]) for a in items}

    ticket = Ticket("t1", "call-1", "sales")
    board.join(ticket, 2.0)
    board.match(4.0)  # both phones ring
    assert live() == {"1001": ("offering", 6.0), "1002": ("offering", 6.0)}
    board.offer_failed(ticket, "1002", "ORIGINATOR_CANCEL", 7.0)
    board.answered(ticket, "1001", 7.0)
    now[0] = 37.5
    assert live() == {"1001": ("in_call", 30.5), "1002": ("idle", 30.5)}
    shown = api("GET", "/agents/1001").json["live"]
    assert (shown["state"], shown["state_seconds"]) == ("in_call", 30.5)
