"""The simulator's mod_xml_cdr against sessions-3 s17: what is posted, to whom, and what a
receiver that is down costs (retries, err-log-dir, CHANNEL_HANGUP_COMPLETE held back)."""

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

import time
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gevent.pywsgi import WSGIServer

from callcenter.cdr.xml_cdr import document_from_post, parse_document, to_cdr
from callcenter.sim import Simulator
from callcenter.sim.events import SimEvent
from callcenter.sim.xml_cdr import XmlCdrConfig
from callcenter.vocabulary import Disposition, LegRole
from tests.integration.sim.conftest import TIME_SCALE
from tests.integration.sim.rawesl import RawESL
from tests.support import until

ORIGINATE = "{{origination_uuid={b},cc_managed=true,cc_role=agent}}user/1001@callcenter &park()"


class Sink:
    """An HTTP receiver that keeps what it is sent and answers ``status``."""

    def __init__(self, status: str = "200 OK") -> None:
        self.status = status
        self.posts: list[dict[str, Any]] = []
        self.server = WSGIServer(("127.0.0.1", 0), self._app, log=None)
        self.server.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/cdr"

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.posts.append(
            {
                "path": environ["PATH_INFO"],
                "query": environ["QUERY_STRING"],
                "content_type": environ.get("CONTENT_TYPE", ""),
                "authorization": environ.get("HTTP_AUTHORIZATION", ""),
                "user_agent": environ.get("HTTP_USER_AGENT", ""),
                "body": environ["wsgi.input"].read(),
            }
        )
        start_response(self.status, [("Content-Type", "text/plain")])
        return [b""]


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink()
    try:
        yield server
    finally:
        server.server.stop(timeout=1)


def times_of(sim: Simulator) -> dict[tuple[str, str], float]:
    """(event name, uuid) -> when the simulator emitted it (monotonic), from now on."""
    seen: dict[tuple[str, str], float] = {}

    def note(event: SimEvent) -> None:
        seen.setdefault((event.name, event.unique_id), time.monotonic())

    sim.core.hub.listen(note)
    return seen


def test_only_a_legs_are_posted_as_freeswitch_posts_them(
    sim: Simulator, esl: RawESL, sink: Sink
) -> None:
    sim.enable_xml_cdr(XmlCdrConfig(url=sink.url, credentials="fs:pw"))
    a = sim.place_call("5100", "15551234567", "Alice Caller")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=a))
    esl.sendmsg(a, "answer")
    b = str(uuidlib.uuid4())
    esl.api(f"originate {ORIGINATE.format(b=b)}")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=b))
    assert esl.api(f"uuid_bridge {a} {b}") == f"+OK {b}\n"
    until(lambda: esl.find("CHANNEL_BRIDGE", Unique_ID=a))
    assert sim.hangup(a)
    until(
        lambda: (
            esl.find("CHANNEL_DESTROY", Unique_ID=b) and esl.find("CHANNEL_DESTROY", Unique_ID=a)
        )
    )
    (post,) = sink.posts  # the agent leg, bridged as B, is not posted
    assert (post["path"], post["query"]) == ("/cdr", f"uuid=a_{a}")
    assert post["content_type"] == "application/x-www-form-urlencoded"
    assert post["authorization"] == "Basic ZnM6cHc="
    assert post["user_agent"] == "freeswitch-xml/1.0"
    assert post["body"].startswith(b"cdr=%3C%3Fxml%20version%3D%221.0%22%3F%3E%0A%3Ccdr%20")
    parsed = parse_document(document_from_post(post["body"], post["content_type"]))
    assert parsed.uuid == a and parsed.switchname == "fs1" and parsed.managed
    assert parsed.agent_uuid == b and parsed.agent_number == "1001"
    record = to_cdr(parsed, "fs1")
    assert record is not None
    assert record.disposition is Disposition.ANSWERED and record.agent_extension == "1001"
    assert [leg.role for leg in record.legs] == [LegRole.CALLER, LegRole.AGENT]
    assert (record.from_number, record.from_name, record.did) == (
        "15551234567",
        "Alice Caller",
        "5100",
    )


def test_an_originated_leg_never_bridged_is_posted(sim: Simulator, esl: RawESL, sink: Sink) -> None:
    sim.enable_xml_cdr(XmlCdrConfig(url=sink.url))
    b = str(uuidlib.uuid4())
    esl.api(f"originate {ORIGINATE.format(b=b)}")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=b))
    esl.api(f"uuid_kill {b}")
    until(lambda: esl.find("CHANNEL_DESTROY", Unique_ID=b))
    (post,) = sink.posts
    assert post["query"] == f"uuid=a_{b}"
    parsed = parse_document(document_from_post(post["body"], post["content_type"]))
    assert to_cdr(parsed, "fs1") is None  # cc_role=agent: not a call of its own


def test_a_receiver_down_costs_retries_then_the_err_log_dir_file(
    sim: Simulator, esl: RawESL, sink: Sink, tmp_path: Path
) -> None:
    sink.status = "503 Service Unavailable"
    errors = tmp_path / "xml_cdr"
    poster = sim.enable_xml_cdr(
        XmlCdrConfig(url=sink.url, retries=2, delay=2.0, err_log_dir=errors)
    )
    assert poster is not None
    seen = times_of(sim)
    a = sim.place_call("5100", "15551234567", "Alice Caller")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=a))
    assert sim.hangup(a)
    until(lambda: esl.find("CHANNEL_DESTROY", Unique_ID=a))
    assert len(sink.posts) == 3  # one try and two retries, as s17-xml-cdr-log
    assert poster.failed == 1 and poster.posted == 0
    saved = errors / f"a_{a}.cdr.xml"
    assert saved.read_bytes().startswith(b'<?xml version="1.0"?>\n<cdr ')
    assert parse_document(saved.read_bytes()).uuid == a
    # CHANNEL_HANGUP_COMPLETE waited for the tries: retries x delay (simulated seconds)
    held = seen[("CHANNEL_HANGUP_COMPLETE", a)] - seen[("CHANNEL_HANGUP", a)]
    assert held >= 2 * 2.0 * TIME_SCALE * 0.9


def test_a_receiver_that_is_up_holds_nothing_back(sim: Simulator, esl: RawESL, sink: Sink) -> None:
    poster = sim.enable_xml_cdr(XmlCdrConfig(url=sink.url))
    assert poster is not None
    a = sim.place_call("5100", "15551234567")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=a))
    assert sim.hangup(a)
    until(lambda: esl.find("CHANNEL_DESTROY", Unique_ID=a))
    assert poster.posted == 1 and poster.failed == 0 and len(sink.posts) == 1


def test_off_by_default(sim: Simulator, esl: RawESL) -> None:
    assert sim.core.xml_cdr is None
    a = sim.place_call("5100", "15551234567")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=a))
    assert sim.hangup(a)
    until(lambda: esl.find("CHANNEL_DESTROY", Unique_ID=a))
