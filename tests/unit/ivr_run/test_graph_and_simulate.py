"""Drawing a flow, and walking it on paper."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from callcenter.ivr import graph, plan
from callcenter.ivr.runtime import QueueOutcome, VoicemailOutcome
from callcenter.ivr.simulate import offline_http, press, simulate
from tests.unit.ivr_run.helpers import HERE, f, flow, hangup, menu, queue

DIALPLANS = Path(__file__).parents[3] / "dialplans"


def sample() -> plan.Flow:
    options = (plan.MenuOption("1", "sales"), plan.MenuOption(r"^9(\d)$", "bye", regex=True))
    return flow(
        "hours",
        plan.Schedule(name="hours", where=HERE, timezone="UTC", weekly=((),) * 7, holidays=(),
                      exceptions=(), open="main", closed="vm"),
        menu("main", {}, options=options, on_max_timeouts="vm"),
        plan.Voicemail(name="vm", where=HERE, box="b"),
        plan.GotoFlow(name="go", where=HERE, flow="support"),
        queue(), hangup(),
    )  # fmt: skip


def test_dot_has_every_node_and_labelled_edge() -> None:
    dot = graph.to_dot(sample())
    assert dot.startswith('digraph "main" {')
    assert '"main" [label="main\\n(menu)"];' in dot
    assert '"main" -> "sales" [label="1"];' in dot
    assert '"main" -> "bye" [label="/^9(\\\\d)$/"];' in dot
    assert '"main" -> "exit" [label="failure"];' in dot
    assert '"main" -> "vm" [label="timeout"];' in dot
    assert '"hours" -> "vm" [label="closed"];' in dot
    assert '"go" -> "flow:support";' in dot
    assert '"exit" [shape=ellipse];' in dot


def test_mermaid() -> None:
    text = graph.to_mermaid(sample())
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '  n0["hours<br/>(schedule)"]' in lines
    assert '  n0 -->|"open"| n1' in lines
    assert any(line.startswith("  n2[/") for line in lines)  # vm is terminal


def test_images_need_graphviz() -> None:
    if shutil.which("dot") is None:
        with pytest.raises(graph.GraphvizMissing, match="graphviz"):
            graph.render(sample(), "svg")
    else:
        assert b"<svg" in graph.render(sample(), "svg")


@pytest.mark.parametrize(
    ("keys", "expected"),
    [("1", ("1", "success")), ("", (None, "timeout")), ("12#", ("12", "success")),
     ("#", (None, "timeout")), ("1234", ("123", "success")), ("x", (None, "failure"))],
)  # fmt: skip
def test_press_is_what_play_and_get_digits_answers(
    keys: str, expected: tuple[str | None, str]
) -> None:
    digits = press(keys, 1, 3, "#", r"\d+")
    assert (digits.value, digits.result) == expected


def test_simulate_prints_each_step_and_the_final_action() -> None:
    lines: list[str] = []
    at = datetime(2026, 12, 25, 20, 0)
    outcome = simulate(sample(), [], at=at, echo=lines.append, http=offline_http)
    assert isinstance(outcome, VoicemailOutcome)
    assert "[main.hours] schedule: closed -> vm" in lines
    assert lines[-1] == "final: voicemail box b (max 120s)"


def test_simulate_a_caller_who_runs_out_of_digits_hangs_up() -> None:
    lines: list[str] = []
    m = menu("main", {"1": "sales"}, greet_long=f("hi.wav"))
    assert simulate(flow("main", m, queue()), ["5"], echo=lines.append) is None
    assert lines[-2:] == ["caller hangs up (no more digits)", "[main.main] menu: hangup"]


def test_the_shipped_examples_simulate() -> None:
    from callcenter.ivr.validate import load_flows

    catalog = load_flows(DIALPLANS)
    assert not catalog.errors
    lines: list[str] = []
    outcome = simulate(
        catalog.flows["support"], ["1"], flows=catalog.flows.__getitem__,
        at=datetime(2026, 3, 2, 10, 0), echo=lines.append, http=offline_http,
    )  # fmt: skip
    assert isinstance(outcome, QueueOutcome)
    for the_flow in catalog.flows.values():
        assert graph.to_dot(the_flow) and graph.to_mermaid(the_flow)
