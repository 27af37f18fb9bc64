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
from callcenter.errors import CallCenterError


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
