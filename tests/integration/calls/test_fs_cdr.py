"""FreeSWITCH's own CDRs as the backstop (issue 10, finding 4): the simulator posts what
mod_xml_cdr posts to the engine's /fs/cdr, over real TCP, into a real PostgreSQL."""

from __future__ import annotations

import base64
import http.client
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url

from callcenter.app import App
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.sim.tcpcut import TcpCut
from callcenter.sim.xml_cdr import XmlCdrConfig
from callcenter.store.database import Database
from callcenter.store.models import Cdr
from callcenter.vocabulary import CdrSource, Disposition, HangupBy, LegRole, RouteTarget
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import add_route, cdr_of, settled, wait_cdr
from tests.support import until

CREDENTIALS = "freeswitch:0f1e2d3c4b5a"
HOLD = "0.3"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "xml_cdr"
ERR_LOG_FILE = FIXTURES / "s17-xml-cdr-err-log-dir-a_eb498acd-3e9e-4fd7-aa37-72ea2abb5b46.cdr.xml"
RECORDED_UUID = "eb498acd-3e9e-4fd7-aa37-72ea2abb5b46"


def backstopped(engine: EngineFactory, sim: Simulator, **env: str) -> App:
    """An engine taking FreeSWITCH's CDRs, and the simulator posting them to it."""
    app = engine(CALLCENTER_FS_CDR_CREDENTIALS=CREDENTIALS, CALLCENTER_FS_CDR_HOLD=HOLD, **env)
    url = f"http://127.0.0.1:{app.metrics.port}/fs/cdr"
    sim.enable_xml_cdr(XmlCdrConfig(url=url, credentials=CREDENTIALS, retries=2, delay=2.0))
    return app


def metric(app: App, name: str, **labels: str) -> float:
    return app.registry.get_sample_value(name, labels) or 0.0


def cdr_rows(app: App, uuid: str) -> int:
    with app.database.session_scope() as session:
        return int(session.scalar(select(func.count()).where(Cdr.call_uuid == uuid)) or 0)


def post(
    app: App,
    body: bytes,
    *,
    credentials: str | None = CREDENTIALS,
    content_type: str = "text/xml",
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, float]:
    """(status, body, seconds taken) of one POST to /fs/cdr."""
    sent = {"Content-Type": content_type, **(headers or {})}
    if credentials is not None:
        sent["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    connection = http.client.HTTPConnection("127.0.0.1", app.metrics.port, timeout=10)
    started = time.monotonic()
    try:
        connection.request("POST", "/fs/cdr?uuid=a_test", body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.read(), time.monotonic() - started
    finally:
        connection.close()


def test_a_call_inside_an_esl_outage_gets_freeswitchs_cdr_marked(
    sim: Simulator, engine: EngineFactory
) -> None:
    proxy = TcpCut(("127.0.0.1", sim.port))
    try:
        app = backstopped(
            engine, sim, CALLCENTER_ESL_NODES=f"fs1=esl://:s3cret-test@127.0.0.1:{proxy.port}"
        )
        until(lambda: app.connections["fs1"].connected)
        proxy.cut()
        until(lambda: not app.connections["fs1"].connected)
        # the whole call happens while the engine cannot see it: parked, caller gives up
        uuid = sim.place_call(
            "7601", "15557601", "Olga Outage", behaviour=CallerBehaviour(patience=2.0)
        )
        until(lambda: not sim.channels)
        assert metric(app, "callcenter_fs_cdr_posts_total", outcome="accepted") == 1
        assert cdr_of(app, uuid) is None  # held: the node is not connected
        proxy.restore()
        cdr = wait_cdr(app, uuid)
        assert cdr.source is CdrSource.FREESWITCH
        assert (cdr.from_number, cdr.from_name, cdr.did) == ("15557601", "Olga Outage", "7601")
        assert cdr.answered_at is None
        assert cdr.disposition is Disposition.ABANDONED
        assert cdr.total_ms >= 1900  # the caller's 2 s of patience
        assert [leg.role for leg in cdr.legs] == [LegRole.CALLER]
        until(lambda: metric(app, "callcenter_fs_cdrs_reconciled_total", result="written") == 1)
        assert cdr_rows(app, uuid) == 1
        assert not list((app.settings.data_dir / "fs-cdr").glob("*.json"))
    finally:
        proxy.stop()


def test_a_normal_call_has_exactly_one_cdr_the_engines(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = backstopped(engine, sim)
    add_route(app, "7602", RouteTarget.EXTENSION, "1602")
    sim.register_agent("1602", AgentBehaviour(answer_delay=0.5))
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7602", "15557602", behaviour=CallerBehaviour(talk_time=1.0))
    cdr = wait_cdr(app, uuid)
    assert cdr.source is CdrSource.ENGINE
    assert cdr.disposition is Disposition.ANSWERED and cdr.hangup_by is HangupBy.CALLER
    # FreeSWITCH posted the caller's leg only (the agent's was bridged: a B leg)
    until(lambda: metric(app, "callcenter_fs_cdrs_reconciled_total", result="engine_had") == 1)
    assert metric(app, "callcenter_fs_cdr_posts_total", outcome="accepted") == 1
    assert metric(app, "callcenter_fs_cdrs_reconciled_total", result="written") == 0
    assert cdr_rows(app, uuid) == 1
    assert wait_cdr(app, uuid).source is CdrSource.ENGINE
    until(lambda: settled(app))


def test_a_call_that_ended_during_an_esl_drop_keeps_the_engines_cdr(
    sim: Simulator, engine: EngineFactory
) -> None:
    proxy = TcpCut(("127.0.0.1", sim.port))
    try:
        app = backstopped(
            engine, sim, CALLCENTER_ESL_NODES=f"fs1=esl://:s3cret-test@127.0.0.1:{proxy.port}"
        )
        add_route(app, "7603", RouteTarget.PLAYBACK, "tone_stream://%(600000,0,440)")
        until(lambda: app.connections["fs1"].connected)
        uuid = sim.place_call("7603", "15557603")
        until(lambda: uuid in app.managers["fs1"].actors)
        proxy.cut()
        until(lambda: not app.connections["fs1"].connected)
        sim.hangup(uuid)  # FreeSWITCH posts now; the engine still holds the call live
        until(lambda: not sim.channels)
        until(lambda: metric(app, "callcenter_fs_cdr_posts_total", outcome="accepted") == 1)
        proxy.restore()  # the resync closes the call with the engine's own CDR
        until(lambda: metric(app, "callcenter_fs_cdrs_reconciled_total", result="engine_had") == 1)
        assert wait_cdr(app, uuid).source is CdrSource.ENGINE
        assert cdr_rows(app, uuid) == 1
    finally:
        proxy.stop()


@pytest.mark.parametrize(
    ("credentials", "body", "content_type", "status"),
    [
        (None, ERR_LOG_FILE.read_bytes(), "text/xml", 401),
        ("freeswitch:wrong", ERR_LOG_FILE.read_bytes(), "text/xml", 401),
        (CREDENTIALS, b"cdr=%3Cnot%20xml", "application/x-www-form-urlencoded", 400),
        (CREDENTIALS, b"\x00\xff garbage", "application/octet-stream", 400),
        (CREDENTIALS, b'<!DOCTYPE cdr [<!ENTITY x "y">]><cdr/>', "text/xml", 400),
        (CREDENTIALS, b"cdr=" + b"A" * (4 * 1024 * 1024), "application/x-www-form-plaintext", 413),
    ],
    ids=["no-auth", "wrong-auth", "not-xml", "garbage", "dtd", "huge"],
)
def test_bad_posts_are_refused_and_nothing_is_kept(
    engine: EngineFactory, credentials: str | None, body: bytes, content_type: str, status: int
) -> None:
    app = engine(CALLCENTER_FS_CDR_CREDENTIALS=CREDENTIALS, CALLCENTER_FS_CDR_HOLD="0")
    answer, _, _ = post(app, body, credentials=credentials, content_type=content_type)
    assert answer == status
    assert metric(app, "callcenter_fs_cdrs_held") == 0
    assert not list((app.settings.data_dir / "fs-cdr").glob("*"))
    assert cdr_rows(app, RECORDED_UUID) == 0


def test_without_configured_credentials_every_post_is_refused(engine: EngineFactory) -> None:
    app = engine()
    assert post(app, ERR_LOG_FILE.read_bytes())[0] == 401
    assert post(app, ERR_LOG_FILE.read_bytes(), credentials=":")[0] == 401


def test_posts_from_outside_fs_cdr_allow_are_forbidden(engine: EngineFactory) -> None:
    app = engine(CALLCENTER_FS_CDR_CREDENTIALS=CREDENTIALS, CALLCENTER_FS_CDR_ALLOW="10.9.9.0/24")
    assert post(app, ERR_LOG_FILE.read_bytes())[0] == 403  # from 127.0.0.1
    assert metric(app, "callcenter_fs_cdr_posts_total", outcome="forbidden") == 1
    assert not list((app.settings.data_dir / "fs-cdr").glob("*"))


def test_only_post_is_accepted(engine: EngineFactory) -> None:
    app = engine(CALLCENTER_FS_CDR_CREDENTIALS=CREDENTIALS)
    connection = http.client.HTTPConnection("127.0.0.1", app.metrics.port, timeout=10)
    connection.request("GET", "/fs/cdr")
    assert connection.getresponse().status == 405


def test_the_endpoint_answers_at_once_while_the_database_is_down(
    engine: EngineFactory, calls_db_url: str
) -> None:
    url = make_url(calls_db_url)
    proxy = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    try:
        cut_url = url.set(port=proxy.port).render_as_string(hide_password=False)
        app = engine(
            database_url=cut_url,
            CALLCENTER_FS_CDR_CREDENTIALS=CREDENTIALS,
            CALLCENTER_FS_CDR_HOLD="0.1",
            CALLCENTER_ESL_NODES="",
        )
        app.writer.retry_min, app.writer.retry_max = 0.05, 0.2
        proxy.cut()
        # an err-log-dir file posted back as it is (the documented import)
        status, answer, seconds = post(app, ERR_LOG_FILE.read_bytes())
        assert (status, answer) == (200, b"accepted\n")
        # not a benchmark: a receiver that waited on the database would take its timeouts
        assert seconds < 1.0
        until(lambda: metric(app, "callcenter_cdrs_spooled_total") == 1)  # the writer spooled it
        proxy.restore()
        cdr = wait_cdr(app, RECORDED_UUID, timeout=20)
        assert cdr.source is CdrSource.FREESWITCH
        assert cdr_rows(app, RECORDED_UUID) == 1
        # posted again (FreeSWITCH retried, or an import ran twice): still one CDR
        assert post(app, ERR_LOG_FILE.read_bytes())[0] == 200
        until(lambda: metric(app, "callcenter_fs_cdrs_reconciled_total", result="engine_had") == 1)
        assert cdr_rows(app, RECORDED_UUID) == 1
    finally:
        proxy.stop()
        _delete_cdr(calls_db_url, RECORDED_UUID)  # the module's other tests expect none


def _delete_cdr(url: str, uuid: str) -> None:
    database = Database(url)
    with database.session_scope() as session:
        session.execute(delete(Cdr).where(Cdr.call_uuid == uuid))
    database.dispose()


def test_a_call_while_the_engine_is_down_is_imported_from_the_err_log_dir(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    errors = tmp_path / "fs-err-log-dir"
    # nothing listens there: FreeSWITCH tries 3 times, then writes the err-log-dir file
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    sim.enable_xml_cdr(XmlCdrConfig(url=f"http://127.0.0.1:{port}/fs/cdr", err_log_dir=errors))
    uuid = sim.place_call("7604", "15557604", behaviour=CallerBehaviour(patience=1.0))
    until(lambda: (errors / f"a_{uuid}.cdr.xml").is_file(), timeout=10)
    (errors / "a_garbage.cdr.xml").write_bytes(b"<cdr><variables>")
    app = backstopped(engine, sim, CALLCENTER_FS_CDR_IMPORT_DIR=str(errors))
    cdr = wait_cdr(app, uuid)
    assert cdr.source is CdrSource.FREESWITCH and cdr.did == "7604"
    assert metric(app, "callcenter_fs_cdr_files_imported_total", outcome="accepted") == 1
    assert metric(app, "callcenter_fs_cdr_files_imported_total", outcome="rejected") == 1
    assert sorted(p.name for p in errors.iterdir()) == ["a_garbage.cdr.xml.rejected"]


def test_a_call_adopted_after_a_restart_keeps_the_engines_cdr(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = backstopped(engine, sim)
    add_route(first, "7605", RouteTarget.EXTENSION, "1605")
    sim.register_agent("1605", AgentBehaviour(answer_delay=0.5))
    until(lambda: first.connections["fs1"].connected)
    uuid = sim.place_call("7605", "15557605")
    until(lambda: any(c.uuid == uuid and c.partner for c in sim.channels))
    first.stop("restart")  # the call stays up in FreeSWITCH
    second = backstopped(engine, sim)
    until(lambda: uuid in second.managers["fs1"].actors)  # adopted
    sim.hangup(uuid)  # FreeSWITCH posts at once; the engine closes the call from its events
    until(lambda: metric(second, "callcenter_fs_cdrs_reconciled_total", result="engine_had") == 1)
    cdr = wait_cdr(second, uuid)
    assert cdr.source is CdrSource.ENGINE and cdr.agent_extension == "1605"
    assert metric(second, "callcenter_fs_cdrs_reconciled_total", result="written") == 0
    assert cdr_rows(second, uuid) == 1
