"""/trunks over the API, and `callcenter trunk ...` locally and through a running engine:
the same answers, and the password never printed back (CLI, API, audit, change rows)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from callcenter.app import App
from callcenter.cli import main
from callcenter.services import tokens
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from tests.integration.api.conftest import Client
from tests.integration.api.test_engine_api import engine, engine_db_url  # noqa: F401  (fixtures)

SECRET = "Zq9-very-secret"


def test_trunks_api(api: Client, db: Database) -> None:
    body = {"name": "api-c1", "proxy": "sip.example.net:5061", "transport": "tls",
            "register": True, "username": "u1", "password": SECRET, "codecs": ["pcma"],
            "country": "de", "inbound_cidrs": ["198.51.100.0/28"], "max_cps": 2.5}  # fmt: skip
    assert api("POST", "/trunks", token="read", body=body).status_code == 403
    made = api("POST", "/trunks", body=body)
    assert made.status_code == 201, made.text
    assert SECRET not in made.text and made.json["password_set"] is True
    assert (made.json["codecs"], made.json["country"], made.json["register"]) == (
        ["PCMA"],
        "DE",
        True,
    )
    assert api("POST", "/trunks", body=body).status_code == 409
    bad = api("POST", "/trunks", body={**body, "name": "api-c2", "inbound_cidrs": ["10.0.0.1/8"]})
    assert (bad.status_code, bad.json["code"]) == (422, "trunk_invalid")
    assert bad.json["errors"][0]["field"] == "body.inbound_cidrs"
    hostile = api("POST", "/trunks", body={**body, "name": "api-c3", "password": "a${x}"})
    assert hostile.status_code == 422 and "a${x}" not in hostile.text
    shown = api("GET", "/trunks/api-c1", token="read")
    assert shown.status_code == 200 and SECRET not in shown.text
    changed = api("PATCH", "/trunks/api-c1", body={"max_channels": 30, "register": False})
    assert (changed.json["max_channels"], changed.json["register"]) == (30, False)
    assert changed.json["max_cps"] == 2.5  # what was not given stays
    listed = api("GET", "/trunks", token="read")
    assert [t["name"] for t in listed.json["items"]] == ["api-c1"] and SECRET not in listed.text
    status = api("GET", "/trunk-status", token="read").json["items"]
    assert status == [{"trunk": "api-c1", "node": None, "state": "unknown", "ping": None,
                       "up": None, "since": None, "detail": "not seen yet"}]  # fmt: skip
    assert api("POST", "/trunk-apply", token="read").status_code == 403
    assert api("POST", "/trunk-apply").json == {"applied": True}
    assert api("DELETE", "/trunks/api-c1").status_code == 204
    assert api("GET", "/trunks/api-c1").json["code"] == "trunk_not_found"
    _never_stored_in_clear(db)


def _never_stored_in_clear(db: Database) -> None:
    with db.session_scope() as session:
        for table in ("audit_log", "engine_changes"):
            dumped = " ".join(str(r) for r in session.execute(text(f"SELECT * FROM {table}")))
            assert SECRET not in dumped, table


@pytest.mark.parametrize("where", ["local", "remote"])
def test_trunk_cli_round_trip(
    where: str,
    engine: App,  # noqa: F811
    engine_db_url: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    if where == "local":
        env = {"CALLCENTER_DATABASE_URL": engine_db_url}
    else:
        secret = tokens.create(engine.database, Actor("cli", "t"), "trk-remote", "admin").secret
        env = {"CALLCENTER_API_URL": f"http://127.0.0.1:{engine.metrics.port}",
               "CALLCENTER_API_TOKEN": secret}  # fmt: skip
    name = f"cli-{where}"

    def cli(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)
        return result.exit_code, result.output

    def shown_json() -> dict[str, Any]:
        result = CliRunner().invoke(main, ["trunk", "show", name, "--json"], env=env)
        found: dict[str, Any] = json.loads(result.stdout)  # stdout only: no engine log lines
        return found

    caplog.set_level(logging.DEBUG)
    cidrs = ["--inbound-cidr", "203.0.113.0/29", "--inbound-cidr", "203.0.113.8/29"]
    auth = ["--register", "--username", "u", "--password", SECRET]
    code, out = cli("trunk", "add", name, "--proxy", "sip.example.net", *auth,
                    "--codecs", "PCMU,PCMA", *cidrs)  # fmt: skip
    assert code == 0, out
    code, out = cli("trunk", "add", f"{name}-x", "--proxy", "sip.example.net:0")
    assert code != 0 and "port 0 is not in 1..65535" in out
    code, out = cli("trunk", "set", name, "--max-cps", "4", "--password-stdin", stdin=SECRET + "\n")
    assert code == 0 and "max_cps, password" in out
    code, out = cli("trunk", "show", name)
    assert code == 0 and "password_set: True" in out and "max_cps: 4.0" in out
    assert "inbound_cidrs: 203.0.113.0/29,203.0.113.8/29" in out
    shown = shown_json()
    assert shown["codecs"] == ["PCMU", "PCMA"] and "password" not in shown
    code, out = cli("trunk", "set", name, "--max-cps", "0", "--no-inbound-cidrs")
    assert code == 0, out
    shown = shown_json()
    assert (shown["max_cps"], shown["inbound_cidrs"]) == (None, [])
    code, out = cli("trunk", "list")
    assert code == 0 and name in out
    code, out = cli("trunk", "status", name)
    assert code == 0 and "unknown" in out
    code, out = cli("trunk", "apply")
    assert code == 0 and "trunk apply sent to the running engines\n" in out
    code, out = cli("trunk", "remove", name)
    assert code == 0 and f"trunk {name} removed\n" in out
    assert SECRET not in caplog.text
    _never_stored_in_clear(engine.database)
