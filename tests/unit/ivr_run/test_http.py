"""The http node against a local WSGI server: success, POST, timeout, 500, bad JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import gevent
import pytest
from gevent.pywsgi import WSGIServer

from callcenter.ivr import plan
from callcenter.ivr.http import HttpLookupFailed, fetch_json
from callcenter.ivr.runtime import HangupOutcome, QueueOutcome
from tests.unit.ivr_run.helpers import HERE, FakePort, flow, hangup, queue, run

SEEN: list[dict[str, Any]] = []


def crm(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    SEEN.append({"method": environ["REQUEST_METHOD"], "path": path,
                 "query": environ.get("QUERY_STRING", ""),
                 "body": environ["wsgi.input"].read(length) if length else b""})  # fmt: skip
    if path == "/slow":
        gevent.sleep(2)
    if path == "/error":
        start_response("500 Internal Server Error", [("Content-Type", "application/json")])
        return [b'{"error": "boom"}']
    if path == "/html":
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<html>not json</html>"]
    start_response("200 OK", [("Content-Type", "application/json")])
    answer = {"customer": {"name": "Bob", "tier": "gold", "accounts": [{"id": 7}], "vip": True}}
    return [json.dumps(answer).encode()]


@pytest.fixture
def base() -> Iterator[str]:
    SEEN.clear()
    server = WSGIServer(("127.0.0.1", 0), crm, log=None)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.stop(timeout=1)


def lookup(url: str, **kw: Any) -> plan.Flow:
    node = plan.HttpLookup(
        name="crm", where=HERE, url=url, method=kw.pop("method", "GET"), next="sales",
        on_error="bye", timeout=kw.pop("timeout", 1.0),
        map=(("name", "customer.name"), ("acct", "customer.accounts.0.id"),
             ("vip", "customer.vip"), ("missing", "customer.nope")),
        **kw,
    )  # fmt: skip
    return flow("crm", node, queue(), hangup())


def test_get_maps_answer_fields_and_encodes_url_values(base: str) -> None:
    the_flow = lookup(base + "/customers?number=${caller_id_number}&name=${caller_id_name}")
    outcome, rec = run(the_flow, FakePort(http=fetch_json))
    assert isinstance(outcome, QueueOutcome)
    variables = outcome.variables
    assert (variables["name"], variables["acct"], variables["vip"]) == ("Bob", "7", "true")
    assert variables["missing"] == ""
    assert SEEN[0]["query"] == "number=%2B15551234567&name=Alice"
    assert rec.steps[0].result == "ok"


def test_post_sends_a_json_body(base: str) -> None:
    the_flow = lookup(base + "/lookup", method="POST", body=(("number", "${caller_id_number}"),))
    outcome, _ = run(the_flow, FakePort(http=fetch_json))
    assert isinstance(outcome, QueueOutcome)
    assert SEEN[0]["method"] == "POST"
    assert json.loads(SEEN[0]["body"]) == {"number": "+15551234567"}


@pytest.mark.parametrize("path", ["/slow", "/error", "/html"])
def test_errors_go_to_on_error(base: str, path: str) -> None:
    outcome, rec = run(lookup(base + path, timeout=0.3), FakePort(http=fetch_json))
    assert isinstance(outcome, HangupOutcome) and outcome.node == "bye"
    assert rec.steps[0].result == "error"


def test_connection_refused_and_bad_scheme_are_lookup_failures() -> None:
    with pytest.raises(HttpLookupFailed):
        fetch_json("GET", "http://127.0.0.1:9/x", None, 0.5)
    with pytest.raises(HttpLookupFailed):
        fetch_json("GET", "file:///etc/passwd", None, 0.5)
