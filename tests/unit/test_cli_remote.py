"""The CLI's remote mode: which path a command takes, and problem+json to one line."""

from __future__ import annotations

import io
import json
import urllib.error
from email.message import Message
from typing import Any

import click
import pytest
from click.testing import CliRunner

from callcenter.cli import remote
from callcenter.cli.remote import RemoteApi
from callcenter.errors import CallCenterError, NotFound


def _group() -> tuple[click.Group, list[str]]:
    calls: list[str] = []

    @click.group()
    @click.option("--api-url")
    @click.option("--api-token")
    @click.pass_context
    def root(ctx: click.Context, api_url: str | None, api_token: str | None) -> None:
        ctx.meta[remote.META] = remote.connect(api_url, api_token)

    @root.group()
    def agent() -> None:
        pass

    @agent.command("pause")
    @click.argument("extension")
    @click.option("--reason")
    def pause(extension: str, reason: str | None) -> None:
        calls.append(f"local pause {extension} {reason}")

    @agent.command("purge")
    def purge() -> None:
        calls.append("local purge")

    @root.group()
    def ivr() -> None:
        pass

    @ivr.command("validate")
    def validate() -> None:
        calls.append("local validate")

    @ivr.command("reload")
    def reload() -> None:
        calls.append("local reload")

    def remote_pause(api: RemoteApi, extension: str, reason: str | None) -> None:
        calls.append(f"remote pause {extension} {reason} via {api.base}")

    def remote_reload(api: RemoteApi) -> None:
        calls.append("remote reload")

    commands = {("agent", "pause"): remote_pause, ("ivr", "reload"): remote_reload}
    remote.install(root, commands)
    return root, calls


REMOTE = ["--api-url", "http://pbx1:9464", "--api-token", "cc_x"]


def test_without_an_api_url_commands_run_locally() -> None:
    root, calls = _group()
    for args in (["agent", "pause", "1001", "--reason", "lunch"], ["agent", "purge"]):
        assert CliRunner().invoke(root, args).exit_code == 0
    assert calls == ["local pause 1001 lunch", "local purge"]


def test_with_an_api_url_the_twin_runs_and_others_in_its_group_are_refused() -> None:
    root, calls = _group()
    result = CliRunner().invoke(root, [*REMOTE, "agent", "pause", "1001"])
    assert result.exit_code == 0
    assert calls == ["remote pause 1001 None via http://pbx1:9464/api/v1"]
    refused = CliRunner().invoke(root, [*REMOTE, "agent", "purge"])
    assert isinstance(refused.exception, CallCenterError)
    assert refused.exception.code == "remote_unsupported"
    # a local-files group keeps its other commands local
    assert CliRunner().invoke(root, [*REMOTE, "ivr", "validate"]).exit_code == 0
    assert CliRunner().invoke(root, [*REMOTE, "ivr", "reload"]).exit_code == 0
    assert calls[1:] == ["local validate", "remote reload"]


@pytest.mark.parametrize(
    ("url", "token", "message"),
    [
        ("http://pbx1:9464", None, "needs both"),
        (None, "cc_x", "needs both"),
        ("pbx1:9464", "cc_x", r"is not an http\(s\)://host:port URL"),
    ],
)
def test_half_or_bad_configuration_is_a_usage_error(
    url: str | None, token: str | None, message: str
) -> None:
    with pytest.raises(click.UsageError, match=message):
        remote.connect(url, token)


def _http_error(status: int, body: bytes) -> urllib.error.HTTPError:
    return urllib.error.HTTPError("http://x", status, "Conflict", Message(), io.BytesIO(body))


def test_a_problem_becomes_the_same_error_as_a_local_one(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = {
        "status": 409,
        "detail": "agent 1001 is already paused",
        "code": "agent_already_paused",
    }

    def refuse(*_: Any, **__: Any) -> Any:
        raise _http_error(409, json.dumps(problem).encode())

    monkeypatch.setattr(remote.urllib.request, "urlopen", refuse)
    with pytest.raises(CallCenterError) as info:
        RemoteApi("http://pbx1:9464", "cc_x").request("POST", "/agents/1001/pause")
    assert (info.value.message, info.value.code) == (problem["detail"], "agent_already_paused")

    def proxy_page(*_: Any, **__: Any) -> Any:
        raise _http_error(502, b"<html>bad gateway</html>")

    monkeypatch.setattr(remote.urllib.request, "urlopen", proxy_page)
    with pytest.raises(CallCenterError) as info:
        RemoteApi("http://pbx1:9464", "cc_x").request("GET", "/agents")
    assert info.value.code == "http_502"


def test_unreachable_and_timeouts_say_where(monkeypatch: pytest.MonkeyPatch) -> None:
    def timeout(*_: Any, **kw: Any) -> Any:
        assert kw["timeout"] == 10.0  # every call has one
        raise urllib.error.URLError(TimeoutError("timed out"))

    monkeypatch.setattr(remote.urllib.request, "urlopen", timeout)
    with pytest.raises(CallCenterError) as info:
        RemoteApi("http://pbx1:9464/api/v1/", "cc_x").request("GET", "/agents")
    assert info.value.code == "api_unreachable"
    assert (
        "http://pbx1:9464/api/v1" in info.value.message
        and "no answer within 10 s" in info.value.message
    )


def test_items_follow_the_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = {None: {"items": [1, 2], "next": "c1"}, "c1": {"items": [3], "next": None}}
    asked: list[dict[str, Any]] = []

    def request(
        self: RemoteApi, method: str, path: str, body: Any = None, query: Any = None
    ) -> Any:
        asked.append(dict(query))
        return pages[query.get("cursor")]

    monkeypatch.setattr(RemoteApi, "request", request)
    api = RemoteApi("http://pbx1:9464", "cc_x")
    assert list(api.items("/agents")) == [1, 2, 3]
    assert list(api.items("/agents", most=2)) == [1, 2]
    assert asked[-1]["limit"] == 2


HOOK = {
    "id": 3, "url": "https://crm.example.com/cc", "events": ["call.ended"], "enabled": True,
    "status": "retrying", "attempts": 2, "next_attempt_at": None, "last_error": "HTTP 500",
    "delivered": 7, "last_delivered_at": None, "dead_letters": 1,
    "created_at": "2026-01-01T00:00:00Z", "created_by": "api:desk",
}  # fmt: skip
DEAD = {
    "id": 17, "webhook_id": 3, "event_seq": 9, "event_id": "e-17", "event_type": "call.ended",
    "attempts": 30, "last_error": "HTTP 500", "dead_at": "2026-01-02T00:00:00Z",
    "state": "replay_pending", "replay_requested_at": None, "replayed_at": None, "payload": {},
}  # fmt: skip


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any, Any]]:
    """The engine's API as the webhook twins see it: each request recorded, canned answers."""
    asked: list[tuple[str, str, Any, Any]] = []

    def request(
        self: RemoteApi, method: str, path: str, body: Any = None, query: Any = None
    ) -> Any:
        asked.append((method, path, body, {k: v for k, v in (query or {}).items() if v}))
        if path == "/webhooks" and method == "POST":
            return {**HOOK, "status": "ok", "secret": None if body["secret"] else "s3cr3t-once"}
        if path == "/webhooks":
            return {"items": [HOOK], "next": None}
        if path == "/dead-letters":
            return {"items": [DEAD], "next": None}
        if path.endswith("/replay"):
            return {"webhook_id": 3, "replaying": body["ids"] or [17, 18]}
        return None if method == "DELETE" else HOOK

    monkeypatch.setattr(RemoteApi, "request", request)
    return asked


def test_webhook_commands_go_through_the_api(fake_api: list[tuple[str, str, Any, Any]]) -> None:
    from callcenter.cli import main

    def cli(*args: str) -> str:
        env = {"CALLCENTER_API_URL": "http://pbx1:9464", "CALLCENTER_API_TOKEN": "cc_x"}
        result = CliRunner().invoke(main, ["webhook", *args], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    out = cli("add", HOOK["url"], "--events", "call.ended")
    assert out == f"webhook 3 -> {HOOK['url']} (call.ended)\nsecret (shown once): s3cr3t-once\n"
    assert fake_api[-1][2] == {"url": HOOK["url"], "events": ["call.ended"], "secret": None}
    made = json.loads(cli("add", HOOK["url"], "--secret", "x" * 16, "--json"))
    assert "secret" not in made and fake_api[-1][2]["events"] == []  # "*": every type
    listed = json.loads(cli("list", "--json"))
    assert listed[0]["status"] == "retrying (2 failed)" and listed[0]["dead"] == 1
    assert "https://crm.example.com/cc" in cli("list")
    assert cli("disable", "3") == "webhook 3 disabled\n"
    assert fake_api[-1][:3] == ("PATCH", "/webhooks/3", {"enabled": False})
    assert cli("enable", "3") == "webhook 3 enabled\n"
    assert cli("remove", "3") == f"webhook 3 removed ({HOOK['url']})\n"
    assert fake_api[-1][:2] == ("DELETE", "/webhooks/3")
    dead = json.loads(cli("dead", "3", "--all", "--json"))
    assert dead[0]["state"] == "replay pending" and dead[0]["webhook"] == 3
    assert fake_api[-1][3] == {"webhook_id": 3, "include_replayed": "true", "limit": 500}
    assert cli("replay", "3") == "webhook 3: 2 dead letter(s) to replay\n"
    assert json.loads(cli("replay", "3", "17", "--json")) == {"webhook": 3, "replaying": [17]}
    assert fake_api[-1][:3] == ("POST", "/webhooks/3/replay", {"ids": [17]})


def test_queue_member_set_keeps_what_is_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    # it read the members, then PUT (which makes a member): one removed meanwhile came back
    from callcenter.cli import main

    asked: list[tuple[str, str, Any]] = []

    def request(self: RemoteApi, method: str, path: str, body: Any = None, **_: Any) -> Any:
        asked.append((method, path, body))
        if path.endswith("/1002"):
            raise NotFound("agent '1002' is not a member", code="queue_member_not_found")
        return {"members": [{"extension": "1001", "tier": 2, "position": 4}]}

    monkeypatch.setattr(RemoteApi, "request", request)
    env = {"CALLCENTER_API_URL": "http://pbx1:9464", "CALLCENTER_API_TOKEN": "cc_x"}
    args = ["queue", "member", "set", "sales", "1001", "--tier", "2"]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.output == "queue sales: agent 1001 tier 2, position 4\n"
    assert asked == [("PATCH", "/queues/sales/members/1001", {"tier": 2, "position": None})]
    args = ["queue", "member", "set", "sales", "1002", "--tier", "2"]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 1 and "[queue_member_not_found]" in result.output
