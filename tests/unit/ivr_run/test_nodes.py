"""Every other node type on a fake port."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from callcenter.ivr import plan
from callcenter.ivr.interpreter import Interpreter
from callcenter.ivr.runtime import (
    Caller,
    GotoFlowOutcome,
    HangupOutcome,
    QueueOutcome,
    TransferOutcome,
    VoicemailOutcome,
)
from tests.unit.ivr_run.helpers import HERE, FakePort, Recorder, f, flow, hangup, queue, run


def collect(**kw: object) -> plan.Collect:
    fields: dict[str, object] = {
        "name": "account", "where": HERE, "prompt": f("enter.wav"), "variable": "acct",
        "next": "sales", "on_failure": "bye", "min_digits": 4, "max_digits": 6,
        "regex": r"^\d{4,6}$", "invalid_prompt": f("again.wav"),
    }  # fmt: skip
    fields.update(kw)
    return plan.Collect(**fields)  # type: ignore[arg-type]


def test_collect_retries_then_stores_the_variable() -> None:
    port = FakePort(["12", "", "123456"])
    outcome, rec = run(flow("account", collect(), queue(), hangup()), port)
    assert isinstance(outcome, QueueOutcome) and outcome.variables["acct"] == "123456"
    assert rec.results()[:3] == [("account", "invalid"), ("account", "timeout"), ("account", "ok")]
    assert port.played() == [
        "/snd/en/enter.wav", "/snd/en/again.wav", "/snd/en/enter.wav", "/snd/en/again.wav",
        "/snd/en/enter.wav",
    ]  # fmt: skip
    kw = port.calls[1][2]
    assert (kw["tries"], kw["min_digits"], kw["max_digits"]) == (1, 4, 6)


def test_collect_out_of_tries_goes_to_on_failure() -> None:
    outcome, rec = run(flow("account", collect(tries=2), queue(), hangup()), FakePort(["1", "2"]))
    assert isinstance(outcome, HangupOutcome) and outcome.node == "bye"
    assert rec.steps[1].next == "bye" and rec.count("account", "invalid") == 2


def test_secret_collect_never_reaches_the_path_nor_the_outcome() -> None:
    port = FakePort(["99", "4321"])
    outcome, rec = run(flow("account", collect(secret=True), queue(), hangup()), port)
    assert all(s.input is None for s in rec.steps)
    assert "4321" not in repr(rec.steps) and "99" not in repr([s.details() for s in rec.steps])
    assert "acct" not in outcome.variables
    assert port.calls.count(("set", "cc_digits", "")) == 1  # the accepted PIN, wiped


def test_set_and_say_with_interpolation_made_safe() -> None:
    nodes = (
        plan.SetVariables(name="s", where=HERE, variables=(("amount", "12${x}"),), next="say"),
        plan.Say(name="say", where=HERE, text="${amount}", kind="money", next="bye"),
        hangup(),
    )
    outcome, _ = run(flow("s", *nodes, variables=(("x", ".50"),)), port := FakePort())
    assert ("say", "12.50", "CURRENCY", "pronounced", "en") in port.calls
    assert outcome.variables["amount"] == "12.50"


def test_hostile_caller_name_is_scrubbed_before_freeswitch() -> None:
    p = plan.Play(name="p", where=HERE, prompts=(plan.Prompt(tts="hi ${caller_id_name}"),),
                  next="bye")  # fmt: skip
    port = FakePort()
    who = Caller(uuid="u", name="${system(rm -rf /)}'x")
    run(flow("p", p, hangup()), port, caller=who)
    played = port.calls[1][1]
    assert "${" not in played and "'" not in played


def test_language_changes_the_sound_prefix_and_default_language() -> None:
    nodes = (
        plan.Language(name="fr", where=HERE, language="fr", next="hello"),
        plan.Play(name="hello", where=HERE, prompts=f("hello.wav"), next="n"),
        plan.Say(name="n", where=HERE, text="42", kind="digits", next="bye"),
        hangup(),
    )
    outcome, _ = run(flow("fr", *nodes), port := FakePort())
    assert ("set", "default_language", "fr") in port.calls
    assert ("play", "/snd/fr/hello.wav") in port.calls
    assert ("say", "42", "NUMBER", "iterated", "fr") in port.calls
    assert outcome.language == "fr" and outcome.variables["language"] == "fr"


def branch_flow() -> plan.Flow:
    cases = (
        plan.BranchCase(plan.Condition(variable="vip", equals="yes"), "vip"),
        plan.BranchCase(plan.Condition(caller_id=r"^\+44"), "uk"),
        plan.BranchCase(plan.Condition(did="^800", schedule="hours"), "tollfree_open"),
    )
    hours = plan.Schedule(
        name="hours", where=HERE, timezone="UTC",
        weekly=((plan.TimeRange(time(9), time(17)),),) * 7,
        holidays=(), exceptions=(), open="bye", closed="bye",
    )  # fmt: skip
    return flow(
        "b",
        plan.Branch(name="b", where=HERE, cases=cases, default="other"),
        hours, queue("vip", "vip"), queue("uk", "uk"), queue("tollfree_open", "tf"),
        queue("other", "other"), hangup(),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("number", "did", "hour", "variables", "queue_name"),
    [
        ("+15550001", "5000", 10, {"vip": "yes"}, "vip"),
        ("+4420000", "5000", 10, {}, "uk"),
        ("+15550001", "8001", 10, {}, "tf"),
        ("+15550001", "8001", 20, {}, "other"),
        ("+15550001", "5000", 10, {}, "other"),
    ],
)
def test_branch_cases_in_order(
    number: str, did: str, hour: int, variables: dict[str, str], queue_name: str
) -> None:
    the_flow = replace(branch_flow(), variables=tuple(variables.items()))
    port = FakePort(at=datetime(2026, 3, 2, hour, tzinfo=UTC))
    outcome, _ = run(the_flow, port, caller=Caller(uuid="u", number=number, did=did))
    assert isinstance(outcome, QueueOutcome) and outcome.queue == queue_name


def test_terminal_outcomes() -> None:
    vm = plan.Voicemail(name="vm", where=HERE, box="sales", greeting=f("leave.wav"),
                        max_seconds=60)  # fmt: skip
    outcome, _ = run(flow("vm", vm), FakePort())
    assert isinstance(outcome, VoicemailOutcome)
    assert (outcome.box, outcome.greeting, outcome.max_seconds) == (
        "sales",
        ("/snd/en/leave.wav",),
        60,
    )
    t = plan.Transfer(name="t", where=HERE, extension="1001")
    outcome, _ = run(flow("t", t), FakePort())
    assert isinstance(outcome, TransferOutcome) and outcome.extension == "1001"
    q = plan.Queue(name="q", where=HERE, queue="support", priority=5, skills=(("fr", 3),))
    outcome, rec = run(flow("q", q), FakePort())
    assert isinstance(outcome, QueueOutcome) and (outcome.priority, outcome.skills) == (
        5,
        (("fr", 3),),
    )
    assert rec.events == [("main", "q", "entered"), ("main", "q", "completed")]
    outcome, _ = run(flow("bye", hangup(cause="USER_BUSY")), FakePort())
    assert isinstance(outcome, HangupOutcome) and outcome.cause == "USER_BUSY"


def test_goto_flow_continues_in_the_other_flow_keeping_variables() -> None:
    first = flow("s", plan.SetVariables(name="s", where=HERE, variables=(("a", "1"),), next="g"),
                 plan.GotoFlow(name="g", where=HERE, flow="second"))  # fmt: skip
    second = flow("q", queue("q", "support"), name="second", variables=(("b", "${a}2"),))
    outcome, rec = run(first, FakePort(), flows={"second": second})
    assert isinstance(outcome, QueueOutcome) and outcome.flow == "second"
    assert (outcome.variables["a"], outcome.variables["b"]) == ("1", "12")
    assert [s.flow for s in rec.steps] == ["main", "main", "second"]


def test_goto_flow_without_a_catalog_is_the_outcome_and_unknown_flow_hangs_up() -> None:
    first = flow("g", plan.GotoFlow(name="g", where=HERE, flow="gone"))
    port = FakePort()
    outcome = Interpreter(port, Caller(uuid="u"), listener=Recorder()).run(first)
    assert isinstance(outcome, GotoFlowOutcome) and outcome.target_flow == "gone"
    outcome, _ = run(first, FakePort(), flows={})
    assert isinstance(outcome, HangupOutcome) and outcome.reason == "unknown_flow"


def test_schedule_node_open_and_closed() -> None:
    hours = plan.Schedule(
        name="hours", where=HERE, timezone="Europe/Paris",
        weekly=((plan.TimeRange(time(9), time(18)),),) * 5 + ((), ()),
        holidays=(date(2026, 12, 25),), exceptions=(), open="sales", closed="bye",
    )  # fmt: skip
    at = datetime(2026, 12, 24, 8, 30, tzinfo=UTC)  # 09:30 in Paris, a Thursday
    outcome, rec = run(flow("hours", hours, queue(), hangup()), FakePort(at=at))
    assert isinstance(outcome, QueueOutcome) and rec.steps[0].result == "open"
    at = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)  # Christmas
    outcome, rec = run(flow("hours", hours, queue(), hangup()), FakePort(at=at))
    assert isinstance(outcome, HangupOutcome) and rec.steps[0].result == "closed"


def test_a_language_given_as_a_sounds_path_sets_the_language_code() -> None:
    nodes = (
        plan.Language(name="fr", where=HERE, language="fr/ca/june", next="hello"),
        plan.Play(name="hello", where=HERE, prompts=f("hello.wav"), next="bye"),
        hangup(),
    )
    outcome, _ = run(flow("fr", *nodes), port := FakePort())
    assert ("set", "default_language", "fr") in port.calls  # a code for mod_say and phrases
    assert ("play", "/snd/fr/ca/june/hello.wav") in port.calls  # the path for the files
    assert outcome.language == "fr/ca/june"


@pytest.mark.parametrize(
    "hostile",
    [
        "http://evil.example/x",  # a URL of the caller's choosing
        "../../../../etc/passwd",
        "/etc/passwd",
        "a b",
        "x" * 65,
        "local_stream:/x",
    ],
)
def test_a_variable_in_a_file_path_cannot_choose_the_path_or_a_url(hostile: str) -> None:
    # issue 10 finding 11: a file: built from a caller's display name let the caller pick it
    nodes = (
        plan.Play(name="p", where=HERE, prompts=f("greetings/${who}.wav"), next="q"),
        plan.Play(name="q", where=HERE, prompts=f("${who}"), next="bye"),
        hangup(),
    )
    port = FakePort()
    run(flow("p", *nodes, variables=(("who", "${caller_id_name}"),)), port,
        caller=Caller(uuid="u", name=hostile))  # fmt: skip
    assert port.played() == ["silence_stream://1", "silence_stream://1"]


def test_safe_values_fill_a_file_path() -> None:
    nodes = (
        plan.Play(name="p", where=HERE, prompts=f("did/${did}-${who}.wav"), next="q"),
        plan.Play(name="q", where=HERE, prompts=f("/srv/${language}/x.wav"), next="bye"),
        hangup(),
    )
    port = FakePort()
    run(flow("p", *nodes, variables=(("who", "gold_1"),)), port)
    assert port.played() == ["/snd/en/did/5000-gold_1.wav", "/srv/en/x.wav"]
