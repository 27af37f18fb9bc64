"""Every IVR node type end to end on simulated calls over ESL, through the real App wiring.

Each call is routed (``RouteTarget.IVR``) to a flow written into a temporary dialplans dir
that the App loads at start. The tests check what FreeSWITCH is told to do (the
``sendmsg`` executes and ``api`` lines of that call), the digits pressed (the CDR's
``ivr_path`` inputs), the path through the nodes, the final action, and the caller
hanging up in every node that waits on FreeSWITCH.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gevent.pywsgi import WSGIServer

from callcenter.app import App
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.records import CdrRecord, RecordingRecord
from callcenter.store.repos import RecordingRepository
from callcenter.vocabulary import Disposition, HangupBy, QueueOutcome, RouteTarget
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import add_route, settled, wait_cdr
from tests.integration.calls.test_queues import entries, setup_queue
from tests.support import until

BEEP = "tone_stream://%(500,0,800)"
ANY_KEYS = "[0-9A-Da-d*#]+"  # what a menu or collect attempt lets FreeSWITCH accept
HOLD = "tone_stream://%(20000,0,440)"  # 20 simulated seconds: 1 s real at time_scale 0.05


def pagd(prompt: str, *, min_digits: int = 1, max_digits: int = 1, timeout_ms: int = 2000) -> str:
    """The ``play_and_get_digits`` of one menu / collect attempt (one try, ``#``)."""
    return (
        f"play_and_get_digits {min_digits} {max_digits} 1 {timeout_ms} # {prompt} "
        f"silence_stream://1 cc_digits {ANY_KEYS} {timeout_ms // 2}"
    )


QUERIES = ("api uuid_exists ",)  # the engine checking a leg is still there: not an action


def sent(sim: Simulator, uuid: str) -> list[str]:
    """Everything sent to FreeSWITCH about ``uuid``: ``app arg`` of each sendmsg execute
    (``hangup CAUSE`` for hangups) and the ``api``/``bgapi`` lines naming the call, less
    the read-only ``QUERIES`` (their timing is not the flow's)."""
    out: list[str] = []
    for command in sim.core.commands:
        if command.line.startswith(QUERIES):
            continue
        if command.line == f"sendmsg {uuid}":
            h = dict(command.headers)
            if h.get("call-command") == "hangup":
                out.append(f"hangup {h.get('hangup-cause', '')}")
            else:
                arg = h.get("execute-app-arg")
                name = h.get("execute-app-name", "")
                out.append(f"{name} {arg}" if arg is not None else name)
        elif command.line.startswith(("api ", "bgapi ")) and uuid in command.line:
            out.append(command.line)
    return out


def path_of(cdr: CdrRecord) -> list[tuple[str, str, str]]:
    return [(p["flow"], p["node"], p["result"]) for p in cdr.ivr_path]


def node_count(app: App, flow: str, node: str, event: str) -> float:
    labels = {"flow": flow, "node": node, "event": event}
    return app.registry.get_sample_value("callcenter_ivr_node_total", labels) or 0.0


def outcome_count(app: App, flow: str, outcome: str) -> float:
    labels = {"flow": flow, "outcome": outcome}
    return app.registry.get_sample_value("callcenter_ivr_outcomes_total", labels) or 0.0


def flows_dir(tmp_path: Path, **flows: str) -> Path:
    folder = tmp_path / "dialplans"
    folder.mkdir(exist_ok=True)
    for name, text in flows.items():
        (folder / f"{name}.yaml").write_text(text)
    return folder


_DIDS = itertools.count(7500)  # routes stay in the module's database: one DID per call


def start(engine: EngineFactory, folder: Path, flow: str) -> tuple[App, str]:
    """The App loading ``folder``; a new DID routed to ``flow``."""
    app = engine(CALLCENTER_DIALPLANS_DIR=str(folder))
    assert flow in app.flows.names()
    did = str(next(_DIDS))
    add_route(app, did, RouteTarget.IVR, flow)
    until(lambda: app.connections["fs1"].connected)
    return app, did


def voicemail_path(app: App, box: str, uuid: str) -> str:
    return str(app.settings.recordings_dir.absolute() / "voicemail" / box / f"{uuid}.wav")


# -- a local CRM ---------------------------------------------------------------------------


class Crm:
    """A gevent WSGI server on 127.0.0.1:0 answering JSON; remembers the paths asked."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.server = WSGIServer(("127.0.0.1", 0), self.handle, log=None, error_log=None)
        self.server.start()

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def handle(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.paths.append(environ["PATH_INFO"])
        body = json.dumps({"name": "Ann", "account": {"tier": "platinum"}}).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]


@pytest.fixture
def crm() -> Iterator[Crm]:
    server = Crm()
    try:
        yield server
    finally:
        server.server.stop(timeout=1)


# -- 1. one call through every node type ---------------------------------------------------

TOUR = """\
version: 1
name: tour
start: intro
language: en
sounds: /snd
variables: {{brand: Acme}}
nodes:
  intro:
    type: play
    prompts: [intro.wav, "tone_stream://%(200,0,440)", {{silence: 300}}, {{tts: "Hi ${{brand}}"}}]
    next: setvars
  setvars: {{type: set, variables: {{tier: gold, who: "${{caller_id_number}}"}}, next: by_var}}
  by_var:
    type: branch
    cases:
      - {{when: {{variable: tier, equals: silver}}, goto: bye}}
      - {{when: {{variable: tier, equals: gold}}, goto: by_caller}}
    default: bye
  by_caller:
    type: branch
    cases:
      - {{when: {{caller_id: '^\\+33'}}, goto: bye}}
      - {{when: {{caller_id: '^\\+1555'}}, goto: hours}}
    default: bye
  hours:
    type: schedule
    timezone: UTC
    weekly: {{mon-sun: ["00:00-24:00"]}}
    open: holiday
    closed: bye
  holiday:
    type: schedule
    timezone: UTC
    weekly: {{mon-sun: ["00:00-24:00"]}}
    holidays: ["{today}", "{tomorrow}"]
    open: bye
    closed: lang
  lang: {{type: language, language: fr, next: amount}}
  amount: {{type: say, text: "42", kind: number, next: main_menu}}
  main_menu:
    type: menu
    greet_long: menu-long.wav
    greet_short: menu-short.wav
    invalid_sound: invalid.wav
    timeout: 2
    options: {{"1": account, "2": bye}}
  account:
    type: collect
    prompt: account.wav
    invalid_prompt: bad-account.wav
    variable: account
    min: 6
    max: 8
    regex: '^4\\d{{5,7}}$'
    timeout: 2
    next: crm
    on_failure: bye
  crm:
    type: http
    url: "http://127.0.0.1:{port}/accounts/${{account}}"
    method: GET
    timeout: 3
    map: {{customer: name, tier: account.tier}}
    next: by_tier
    on_error: bye
  by_tier:
    type: branch
    cases:
      - {{when: {{variable: tier, equals: platinum}}, goto: to_tail}}
    default: bye
  to_tail: {{type: goto_flow, flow: tail}}
  bye: {{type: hangup}}
"""

TAIL = """\
version: 1
name: tail
start: thanks
language: en
sounds: /snd
variables: {customer: nobody}
nodes:
  thanks: {type: play, prompts: [{tts: "Thanks ${customer}"}], next: vm}
  vm: {type: voicemail, box: sales, greeting: leave.wav, max_seconds: 3, silence_seconds: 2}
"""


def test_one_call_through_every_node_type(
    sim: Simulator, engine: EngineFactory, tmp_path: Path, crm: Crm
) -> None:
    today = datetime.now(UTC).date()
    tour = TOUR.format(today=today, tomorrow=today + timedelta(days=1), port=crm.port)
    app, did = start(engine, flows_dir(tmp_path, tour=tour, tail=TAIL), "tour")
    # menu: an invalid key, a timeout, then 1; account: refused by the regex, then accepted
    behaviour = CallerBehaviour(digits=("9", "", "1", "123456#", "412345#"))
    uuid = sim.place_call(did, "+15551234567", "Ann", behaviour=behaviour)
    cdr = wait_cdr(app, uuid, timeout=30)
    record = voicemail_path(app, "sales", uuid)

    assert sent(sim, uuid) == [
        "answer",
        "set tts_engine=flite",  # FreeSWITCH speaks say: only with an engine set
        "set tts_voice=kal",
        "playback file_string:///snd/en/intro.wav!tone_stream://%(200,0,440)"
        "!silence_stream://300!say:Hi Acme",
        "set default_language=fr",
        "say fr NUMBER pronounced 42",
        pagd("/snd/fr/menu-long.wav"),  # greet_long on the first pass
        "playback /snd/fr/invalid.wav",  # after the invalid key
        pagd("/snd/fr/menu-short.wav"),  # greet_short on the retries: times out
        pagd("/snd/fr/menu-short.wav"),  # 1
        pagd("/snd/fr/account.wav", min_digits=6, max_digits=8),  # 123456: not ^4...
        "playback /snd/fr/bad-account.wav",
        pagd("/snd/fr/account.wav", min_digits=6, max_digits=8),  # 412345
        "playback say:Thanks Ann",  # the CRM's answer, carried into the other flow
        "playback /snd/fr/leave.wav",  # the language chosen stays for the rest of the call
        f"playback {BEEP}",
        f"record {record} 3 200 2",
        "hangup NORMAL_CLEARING",
    ]
    assert crm.paths == ["/accounts/412345"]

    assert path_of(cdr) == [
        ("tour", "intro", "played"),
        ("tour", "setvars", "set"),
        ("tour", "by_var", "case 2"),
        ("tour", "by_caller", "case 2"),
        ("tour", "hours", "open"),
        ("tour", "holiday", "closed"),
        ("tour", "lang", "fr"),
        ("tour", "amount", "said"),
        ("tour", "main_menu", "invalid"),
        ("tour", "main_menu", "timeout"),
        ("tour", "main_menu", "1"),
        ("tour", "account", "invalid"),
        ("tour", "account", "ok"),
        ("tour", "crm", "ok"),
        ("tour", "by_tier", "case 1"),
        ("tour", "to_tail", "goto_flow tail"),
        ("tail", "thanks", "played"),
        ("tail", "vm", "voicemail"),
    ]
    inputs = [(p["node"], p.get("input")) for p in cdr.ivr_path if p["type"] in ("menu", "collect")]
    assert inputs == [
        ("main_menu", "9"), ("main_menu", None), ("main_menu", "1"),
        ("account", "123456"), ("account", "412345"),
    ]  # fmt: skip
    types = {p["type"] for p in cdr.ivr_path}
    assert types == {
        "play", "set", "branch", "schedule", "language", "say", "menu", "collect", "http",
        "goto_flow", "voicemail",
    }  # fmt: skip

    # the final action: a voicemail, recorded and kept with the CDR
    assert cdr.disposition is Disposition.VOICEMAIL
    assert cdr.hangup_by is HangupBy.SYSTEM and cdr.hangup_cause == "NORMAL_CLEARING"
    assert cdr.ivr_ms > 0
    with app.database.session_scope() as session:
        [recording] = RecordingRepository(session).for_call(uuid)
    assert recording.path == record and recording.ended_at is not None
    assert node_count(app, "tour", "main_menu", "invalid") == 1
    assert node_count(app, "tour", "main_menu", "timeout") == 1
    assert node_count(app, "tour", "account", "invalid") == 1
    assert node_count(app, "tail", "vm", "completed") == 1
    assert outcome_count(app, "tour", "goto_flow") == 0  # only the call's final action counts
    assert outcome_count(app, "tail", "voicemail") == 1
    until(lambda: settled(app))


# -- 2. the other final actions ------------------------------------------------------------

ENDINGS = """\
version: 1
name: endings
start: pick
sounds: /snd
nodes:
  pick:
    type: menu
    greet_long: pick.wav
    exit_sound: goodbye.wav
    timeout: 2
    options: {"1": rejected, "2": agent, "3": sales, "9": exit}
  rejected: {type: hangup, cause: CALL_REJECTED}
  agent: {type: transfer, extension: "1001"}
  sales: {type: queue, queue: sales, priority: 5, skills: {english: 3}}
"""

PICK = pagd("/snd/en/pick.wav")


@pytest.fixture
def endings(engine: EngineFactory, tmp_path: Path) -> tuple[App, str]:
    return start(engine, flows_dir(tmp_path, endings=ENDINGS), "endings")


def test_hangup_node_hangs_up_with_its_cause(sim: Simulator, endings: tuple[App, str]) -> None:
    app, did = endings
    uuid = sim.place_call(did, "100", behaviour=CallerBehaviour(digits=("1",)))
    cdr = wait_cdr(app, uuid, timeout=30)
    assert sent(sim, uuid) == ["answer", PICK, "hangup CALL_REJECTED"]
    assert path_of(cdr) == [("endings", "pick", "1"), ("endings", "rejected", "hangup")]
    assert cdr.hangup_cause == "CALL_REJECTED" and cdr.hangup_by is HangupBy.SYSTEM
    assert outcome_count(app, "endings", "hangup") == 1
    until(lambda: settled(app))


def test_transfer_node_rings_the_extension_and_bridges(
    sim: Simulator, endings: tuple[App, str]
) -> None:
    app, did = endings
    sim.register_agent("1001", AgentBehaviour(answer_delay=0.5))
    behaviour = CallerBehaviour(digits=("2",), talk_time=1.0)
    uuid = sim.place_call(did, "100", behaviour=behaviour)
    cdr = wait_cdr(app, uuid, timeout=30)
    commands = sent(sim, uuid)
    assert commands[:4] == ["answer", PICK, "ring_ready", commands[3]]
    assert commands[3].startswith("bgapi originate {") and "}user/1001@" in commands[3]
    assert commands[4] == "answer"
    assert commands[5].startswith(f"api uuid_bridge {uuid} ")
    assert path_of(cdr) == [("endings", "pick", "2"), ("endings", "agent", "transfer")]
    assert cdr.disposition is Disposition.ANSWERED
    assert cdr.agent_extension == "1001" and cdr.hangup_by is HangupBy.CALLER
    assert cdr.talk_ms >= 900
    until(lambda: settled(app))


def test_queue_node_enters_the_queue_with_its_priority_and_skills(
    sim: Simulator, endings: tuple[App, str]
) -> None:
    app, did = endings
    sim.register_agent("3101", AgentBehaviour(answer_delay=0.3))  # english 2: not enough
    sim.register_agent("3102", AgentBehaviour(answer_delay=0.3))  # english 4
    setup_queue(
        app, "sales", {"3101": {"english": 2}, "3102": {"english": 4}}, did="7399",
        music_on_hold="tone_stream://%(200,800,350);loops=-1",
    )  # fmt: skip
    app.dispatcher.board.agents["3101"].idle_since = -1e9  # would be first without skills
    behaviour = CallerBehaviour(digits=("3",), talk_time=1.0)
    uuid = sim.place_call(did, "100", behaviour=behaviour)
    cdr = wait_cdr(app, uuid, timeout=30)
    commands = sent(sim, uuid)
    assert commands[:3] == ["answer", PICK, "answer"]
    # the caller's place is kept on its channel (an engine restart resumes it), then music
    assert commands[3].startswith(f"api uuid_setvar_multi {uuid} cc_queue=sales;")
    assert ";cc_queue_priority=5;" in commands[3]
    assert commands[4] == "playback tone_stream://%(200,800,350);loops=-1"
    [originate] = [c for c in commands if c.startswith("bgapi originate")]
    assert "cc_queue=sales" in originate and "}user/3102@" in originate
    assert path_of(cdr) == [("endings", "pick", "3"), ("endings", "sales", "queue")]
    assert cdr.disposition is Disposition.ANSWERED
    assert (cdr.queue, cdr.agent_extension) == ("sales", "3102")
    [entry] = entries(app, "sales")
    assert entry.priority == 5 and entry.outcome is QueueOutcome.ANSWERED
    assert outcome_count(app, "endings", "queue") == 1
    until(lambda: settled(app))


def test_exit_target_plays_the_exit_sound_then_hangs_up(
    sim: Simulator, endings: tuple[App, str]
) -> None:
    app, did = endings
    uuid = sim.place_call(did, "100", behaviour=CallerBehaviour(digits=("9",)))
    cdr = wait_cdr(app, uuid, timeout=30)
    assert sent(sim, uuid) == [
        "answer", PICK, "playback /snd/en/goodbye.wav", "hangup NORMAL_CLEARING",
    ]  # fmt: skip
    assert path_of(cdr) == [("endings", "pick", "9")]
    assert cdr.ivr_path[0]["next"] == "exit"
    assert cdr.hangup_cause == "NORMAL_CLEARING" and cdr.hangup_by is HangupBy.SYSTEM
    until(lambda: settled(app))


def test_exit_after_max_timeouts(sim: Simulator, endings: tuple[App, str]) -> None:
    app, did = endings
    """No key at all: three timeouts (FreeSWITCH's default), then on_max_timeouts: exit."""
    uuid = sim.place_call(did, "100", behaviour=CallerBehaviour(digits=()))
    cdr = wait_cdr(app, uuid, timeout=30)
    # no greet_short: greet_long again on each pass
    assert sent(sim, uuid) == [
        "answer",
        PICK,
        PICK,
        PICK,
        "playback /snd/en/goodbye.wav",
        "hangup NORMAL_CLEARING",
    ]
    assert path_of(cdr) == [("endings", "pick", "timeout")] * 3
    assert cdr.ivr_path[-1]["next"] == "exit"
    until(lambda: settled(app))


NAVIGATION = """\
version: 1
name: nav
start: top_menu
sounds: /snd
nodes:
  top_menu: {type: menu, greet_long: top.wav, timeout: 2, options: {"1": sub1, "2": bye}}
  sub1: {type: menu, greet_long: sub1.wav, timeout: 2, options: {"1": sub2, "*": top}}
  sub2: {type: menu, greet_long: sub2.wav, timeout: 2, options: {"0": back}}
  bye: {type: hangup, cause: NORMAL_CLEARING}
"""


def test_back_and_top_move_between_menus(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app, did = start(engine, flows_dir(tmp_path, nav=NAVIGATION), "nav")
    behaviour = CallerBehaviour(digits=("1", "1", "0", "*", "2"))
    uuid = sim.place_call(did, "100", behaviour=behaviour)
    cdr = wait_cdr(app, uuid, timeout=30)
    assert sent(sim, uuid) == [
        "answer",
        pagd("/snd/en/top.wav"),
        pagd("/snd/en/sub1.wav"),
        pagd("/snd/en/sub2.wav"),  # 0: back
        pagd("/snd/en/sub1.wav"),  # *: top
        pagd("/snd/en/top.wav"),  # 2
        "hangup NORMAL_CLEARING",
    ]
    # ``next`` keeps the special target (back, top); a final action has none
    assert [(p["node"], p["result"], p.get("next")) for p in cdr.ivr_path] == [
        ("top_menu", "1", "sub1"),
        ("sub1", "1", "sub2"),
        ("sub2", "0", "back"),
        ("sub1", "*", "top"),
        ("top_menu", "2", "bye"),
        ("bye", "hangup", None),
    ]
    until(lambda: settled(app))


# -- 3. the caller hangs up in every node that waits on FreeSWITCH -------------------------

HANGUPS = """\
version: 1
name: h_{node}
start: first
sounds: /snd
nodes:
  first: {{type: set, variables: {{seen: "yes"}}, next: {node}}}
  play: {{type: play, prompts: "{hold}", next: bye}}
  say: {{type: say, text: "123456789", kind: digits, next: bye}}
  menu: {{type: menu, greet_long: "{hold}", options: {{"1": bye}}}}
  collect: {{type: collect, prompt: "{hold}", variable: acct, min: 4, next: bye}}
  voicemail: {{type: voicemail, box: support, greeting: leave.wav, max_seconds: 60}}
  bye: {{type: hangup}}
"""

WAITING = [
    ("play", "playback", [f"playback {HOLD}"]),
    ("say", "say", ["say en NUMBER iterated 123456789"]),
    ("menu", "play_and_get_digits", [pagd(HOLD, timeout_ms=10000)]),
    ("collect", "play_and_get_digits", [pagd(HOLD, min_digits=4, max_digits=4, timeout_ms=10000)]),
]


@pytest.mark.parametrize(("node", "fs_app", "commands"), WAITING, ids=[w[0] for w in WAITING])
def test_caller_hangs_up_in_a_waiting_node(
    sim: Simulator,
    engine: EngineFactory,
    tmp_path: Path,
    node: str,
    fs_app: str,
    commands: list[str],
) -> None:
    flow = f"h_{node}"
    folder = flows_dir(tmp_path, **{flow: HANGUPS.format(node=node, hold=HOLD)})
    app, did = start(engine, folder, flow)
    behaviour = CallerBehaviour(hangup_at_app=fs_app, hangup_at_app_delay=0.5)
    uuid = sim.place_call(did, "100", behaviour=behaviour)
    cdr = wait_cdr(app, uuid, timeout=30)
    assert sent(sim, uuid) == ["answer", *commands]  # and no hangup from the engine
    assert cdr.hangup_by is HangupBy.CALLER and cdr.hangup_cause == "NORMAL_CLEARING"
    assert cdr.disposition is Disposition.IVR_COMPLETED
    # the node the caller left closes the path with result "hangup"
    assert [(p["node"], p["result"], p.get("next")) for p in cdr.ivr_path] == [
        ("first", "set", node),
        (node, "hangup", None),
    ]
    assert node_count(app, flow, node, "entered") == 1
    assert node_count(app, flow, node, "hangup") == 1
    assert node_count(app, flow, node, "completed") == 0
    assert outcome_count(app, flow, "hangup") == 0  # the flow never reached a final action
    until(lambda: settled(app))


def hang_up_in_voicemail(
    sim: Simulator, engine: EngineFactory, tmp_path: Path, fs_app: str
) -> tuple[App, str, CdrRecord]:
    """A call reaching the voicemail node; the caller hangs up 0.5 s into ``fs_app``."""
    folder = flows_dir(tmp_path, h_voicemail=HANGUPS.format(node="voicemail", hold=HOLD))
    app, did = start(engine, folder, "h_voicemail")
    behaviour = CallerBehaviour(hangup_at_app=fs_app, hangup_at_app_delay=0.5)
    uuid = sim.place_call(did, "100", behaviour=behaviour)
    return app, uuid, wait_cdr(app, uuid, timeout=30)


def recordings(app: App, uuid: str) -> list[RecordingRecord]:
    with app.database.session_scope() as session:
        return list(RecordingRepository(session).for_call(uuid))


def test_caller_hangs_up_during_the_voicemail_greeting(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app, uuid, cdr = hang_up_in_voicemail(sim, engine, tmp_path, "playback")
    # no beep, no record, no hangup from the engine: the caller was gone
    assert sent(sim, uuid) == ["answer", "playback /snd/en/leave.wav"]
    assert cdr.hangup_by is HangupBy.CALLER and cdr.hangup_cause == "NORMAL_CLEARING"
    assert cdr.disposition is Disposition.IVR_COMPLETED  # no message: not "voicemail"
    assert recordings(app, uuid) == []
    # the final action is chosen, then the caller leaves during its greeting
    assert path_of(cdr) == [
        ("h_voicemail", "first", "set"),
        ("h_voicemail", "voicemail", "voicemail"),
        ("h_voicemail", "voicemail", "hangup"),
    ]
    assert node_count(app, "h_voicemail", "voicemail", "entered") == 1
    until(lambda: settled(app))


def test_caller_hangs_up_while_recording_a_voicemail(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    """Hanging up after the message is how a voicemail normally ends: the message stays."""
    app, uuid, cdr = hang_up_in_voicemail(sim, engine, tmp_path, "record")
    path = voicemail_path(app, "support", uuid)
    # no hangup from the engine: the caller was gone
    assert sent(sim, uuid) == [
        "answer", "playback /snd/en/leave.wav", f"playback {BEEP}", f"record {path} 60 200 5",
    ]  # fmt: skip
    assert cdr.hangup_by is HangupBy.CALLER and cdr.hangup_cause == "NORMAL_CLEARING"
    assert cdr.disposition is Disposition.VOICEMAIL
    assert path_of(cdr) == [
        ("h_voicemail", "first", "set"),
        ("h_voicemail", "voicemail", "voicemail"),
    ]
    [recording] = recordings(app, uuid)
    assert recording.path == path and recording.ended_at is not None
    assert recording.duration_ms is not None and 450 <= recording.duration_ms < 60_000
    assert node_count(app, "h_voicemail", "voicemail", "entered") == 1
    assert outcome_count(app, "h_voicemail", "voicemail") == 1
    until(lambda: settled(app))


@pytest.mark.parametrize(
    ("fs_app", "event"),
    [("playback", "hangup"), ("record", "completed")],
    ids=["greeting", "record"],
)
def test_hang_up_in_voicemail_is_counted_in_the_node(
    sim: Simulator, engine: EngineFactory, tmp_path: Path, fs_app: str, event: str
) -> None:
    """Leaving during the greeting is a hang-up in the node; hanging up while recording is
    how a caller ends a message, so the node completed."""
    app, _uuid, _cdr = hang_up_in_voicemail(sim, engine, tmp_path, fs_app)
    until(lambda: settled(app))
    assert node_count(app, "h_voicemail", "voicemail", event) == 1
    other = "completed" if event == "hangup" else "hangup"
    assert node_count(app, "h_voicemail", "voicemail", other) == 0
