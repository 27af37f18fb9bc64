"""Menus behave like FreeSWITCH's ivr.conf menus."""

from __future__ import annotations

import dataclasses

import pytest

from callcenter.errors import CallGone
from callcenter.ivr import plan
from callcenter.ivr.runtime import HangupOutcome, QueueOutcome
from tests.unit.ivr_run.helpers import HERE, FakePort, f, flow, hangup, menu, queue, run


def test_defaults_are_freeswitch_ones() -> None:
    m = menu("main", {"1": "sales"})
    assert (m.timeout, m.inter_digit_timeout) == (10.0, 5.0)
    assert (m.max_failures, m.max_timeouts, m.digit_len) == (3, 3, 1)
    assert (m.on_max_failures, m.on_max_timeouts, m.terminators) == ("exit", "exit", "#")


def test_each_attempt_is_one_try_with_the_menu_timeouts() -> None:
    port = FakePort(["1"])
    outcome, _ = run(flow("main", menu("main", {"1": "sales"}), queue()), port)
    assert isinstance(outcome, QueueOutcome) and outcome.queue == "sales"
    collect = next(c for c in port.calls if c[0] == "collect")
    assert collect[1] == "/snd/en/main-long.wav"
    kw = collect[2]
    assert (kw["tries"], kw["timeout"], kw["digit_timeout"]) == (1, 10.0, 5.0)
    assert (kw["min_digits"], kw["max_digits"], kw["terminators"]) == (1, 1, "#")


def test_greet_long_first_then_short_invalid_and_timeouts_counted_apart() -> None:
    m = menu("main", {"1": "sales"}, invalid_sound=f("invalid.wav"))
    port = FakePort(["9", "", "1"])
    outcome, rec = run(flow("main", m, queue()), port)
    assert isinstance(outcome, QueueOutcome)
    assert port.played() == [
        "/snd/en/main-long.wav",
        "/snd/en/invalid.wav",
        "/snd/en/main-short.wav",
        "/snd/en/main-short.wav",
    ]
    assert rec.results()[:3] == [("main", "invalid"), ("main", "timeout"), ("main", "1")]
    assert (rec.count("main", "invalid"), rec.count("main", "timeout")) == (1, 1)
    assert rec.steps[0].input == "9" and rec.steps[2].next == "sales"


def test_no_greet_short_repeats_greet_long() -> None:
    m = menu("main", {"1": "sales"}, greet_short=())
    port = FakePort(["", "1"])
    run(flow("main", m, queue()), port)
    assert port.played() == ["/snd/en/main-long.wav", "/snd/en/main-long.wav"]


def test_max_failures_plays_exit_sound_and_hangs_up() -> None:
    m = menu("main", {"1": "sales"}, invalid_sound=f("bad.wav"), exit_sound=f("goodbye.wav"))
    port = FakePort(["7", "8", "9"])
    outcome, rec = run(flow("main", m, queue()), port)
    assert isinstance(outcome, HangupOutcome)
    assert (outcome.reason, outcome.cause) == ("exit", "NORMAL_CLEARING")
    assert port.played()[-2:] == ["/snd/en/bad.wav", "/snd/en/goodbye.wav"]
    assert rec.count("main", "invalid") == 3 and rec.steps[-1].next == "exit"


def test_max_timeouts_goes_to_its_target() -> None:
    m = menu("main", {"1": "sales"}, max_timeouts=2, on_max_timeouts="operator")
    port = FakePort(["", ""])
    outcome, rec = run(flow("main", m, queue(), queue("operator", "ops")), port)
    assert isinstance(outcome, QueueOutcome) and outcome.queue == "ops"
    assert rec.count("main", "timeout") == 2 and rec.count("main", "invalid") == 0


def test_digit_len_and_terminator() -> None:
    m = menu("main", {"42": "sales"}, digit_len=3)
    port = FakePort(["42#"])
    outcome, rec = run(flow("main", m, queue()), port)
    assert isinstance(outcome, QueueOutcome) and rec.steps[0].input == "42"


def test_regex_option_captures_fill_set_variables() -> None:
    option = plan.MenuOption(
        keys=r"^\*(\d)(\d\d)$", target="sales", regex=True,
        set=(("dept", "$1"), ("ext", "x$2-${caller_id_number}")),
    )  # fmt: skip
    m = menu("main", {}, options=(option,), digit_len=4)
    outcome, _ = run(flow("main", m, queue()), FakePort(["*123"]))
    assert outcome.variables["dept"] == "1"
    assert outcome.variables["ext"] == "x23-+15551234567"


def test_back_top_and_exit() -> None:
    main = menu("main", {"1": "sub", "0": "done"})
    sub = menu("sub", {"1": "deep", "*": "back"})
    deep = menu("deep", {"*": "back", "0": "top", "9": "exit"}, exit_sound=f("bye.wav"))
    nodes = (main, sub, deep, queue("done", "q"))
    # main -> sub -> deep -> back(sub) -> back(main) -> 1 sub -> 1 deep -> top(main) -> 0
    outcome, rec = run(flow("main", *nodes), FakePort(["1", "1", "*", "*", "1", "1", "0", "0"]))
    assert isinstance(outcome, QueueOutcome)
    visited = [s.node for s in rec.steps]
    assert visited == ["main", "sub", "deep", "sub", "main", "sub", "deep", "main", "done"]
    port = FakePort(["1", "1", "9"])
    outcome, _ = run(flow("main", *nodes), port)
    assert isinstance(outcome, HangupOutcome) and outcome.reason == "exit"
    assert port.played()[-1] == "/snd/en/bye.wav"


def test_caller_gone_in_a_menu_counts_hangup_and_propagates() -> None:
    port = FakePort([])  # no digits: the caller hangs up during the first attempt
    recorder_flow = flow("main", menu("main", {"1": "sales"}), queue())
    with pytest.raises(CallGone):
        run(recorder_flow, port)


def test_hangup_is_counted_for_the_node() -> None:
    from callcenter.ivr.interpreter import Interpreter
    from callcenter.ivr.runtime import Caller
    from tests.unit.ivr_run.helpers import Recorder

    p = plan.Play(name="hello", where=HERE, prompts=f("hello.wav"), next="main")
    port = FakePort(["1"], gone_on=("play", 1))
    rec = Recorder()
    with pytest.raises(CallGone):
        Interpreter(port, Caller(uuid="u"), listener=rec).run(
            flow("hello", p, menu("main", {"1": "sales"}), queue())
        )
    assert rec.events == [("main", "hello", "entered"), ("main", "hello", "hangup")]


def test_tts_greeting_plays_before_a_silent_collect() -> None:
    m = menu("main", {"1": "sales"}, greet_long=(plan.Prompt(tts="Press one, ${caller_id_name}!"),))
    port = FakePort(["1"])
    run(flow("main", m, queue()), port)
    # FreeSWITCH plays say: only with tts_engine set on the channel: mod_flite by default
    assert port.calls[1:4] == [
        ("set", "tts_engine", "flite"),
        ("set", "tts_voice", "kal"),
        ("play", "say:Press one, Alice."),
    ]
    assert port.calls[4][1] == "silence_stream://1"


def test_tts_engine_and_voice_from_the_flow_then_the_engine() -> None:
    m = menu("main", {"1": "sales"}, greet_long=(plan.Prompt(tts="Hello"),))
    port = FakePort(["1"])
    own = dataclasses.replace(flow("main", m, queue()), tts=plan.Tts("cepstral", "Allison"))
    run(own, port, tts=plan.Tts("flite", "slt"))
    assert ("set", "tts_engine", "cepstral") in port.calls
    assert ("set", "tts_voice", "Allison") in port.calls
    port = FakePort(["1"])
    run(flow("main", m, queue()), port, tts=plan.Tts("flite", "slt"))
    assert ("set", "tts_voice", "slt") in port.calls
    assert sum(1 for c in port.calls if c[:2] == ("set", "tts_engine")) == 1  # once a call


def test_several_prompts_become_one_file_string() -> None:
    greet = (*f("a.wav"), plan.Prompt(silence_ms=500), *f("tone_stream://%(100,0,440)"))
    port = FakePort(["1"])
    run(flow("main", menu("main", {"1": "sales"}, greet_long=greet), queue()), port)
    assert port.calls[1][1] == (
        "file_string:///snd/en/a.wav!silence_stream://500!tone_stream://%(100,0,440)"
    )


def test_loop_guard_stops_a_flow_that_never_waits_for_input() -> None:
    a = plan.Play(name="a", where=HERE, prompts=(), next="b")
    b = plan.Play(name="b", where=HERE, prompts=(), next="a")
    from callcenter.ivr.interpreter import Limits

    outcome, rec = run(flow("a", a, b), FakePort(), limits=Limits(silent_visits=10))
    assert isinstance(outcome, HangupOutcome) and outcome.reason == "loop_guard"
    assert len(rec.steps) == 10


def test_digits_reset_the_loop_guard() -> None:
    from callcenter.ivr.interpreter import Limits

    m = menu("main", {"1": "p"})
    p = plan.Play(name="p", where=HERE, prompts=(), next="main")
    outcome, _ = run(flow("main", m, p, hangup()), FakePort(["1"] * 8 + ["x"] * 3),
                     limits=Limits(silent_visits=3))  # fmt: skip
    assert isinstance(outcome, HangupOutcome) and outcome.reason == "exit"
