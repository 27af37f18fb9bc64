"""The dialer runtime's pure parts: outcomes of calls never answered, the campaign's agents
as the dispatcher's board has them, the safe harbor left after detection."""

from dataclasses import dataclass
from typing import Any

import pytest

from callcenter.acd.board import AgentSlot, Board, Member, QueueSpec
from callcenter.dialer import pacing
from callcenter.dialer.amd import AmdSettings, Detection, Reason, Verdict
from callcenter.dialer.calls import _budget
from callcenter.dialer.compliance import Outcome
from callcenter.dialer.estimates import TALK, Estimates
from callcenter.dialer.placing import NodeRing, dialout_for, outcome_of
from callcenter.dialer.runner import (
    AgentsView,
    CampaignSpec,
    Measuring,
    _recording,
    agents_view,
    recording_of,
)
from callcenter.dialer.vocabulary import AmdAction, CampaignMode, CampaignState
from callcenter.errors import NoOutboundRoute
from callcenter.recording import policy
from callcenter.recording.on_call import QueueRecording
from callcenter.store.models import Campaign
from callcenter.trunks.outbound import Dialout, OutboundRoute, pick
from callcenter.vocabulary import AgentState, AgentStatus


def spec(**fields: object) -> CampaignSpec:
    base: dict[str, object] = dict(
        name="c1", mode=CampaignMode.PREDICTIVE, state=CampaignState.RUNNING, agents=(),
        queue="q1", flow=None, caller_id=None, caller_id_name=None, route=None, trunks=(),
        ring_seconds=20,
        targets=pacing.Targets(), limits=pacing.Limits(), amd=AmdAction.HANGUP,
        amd_message=None, amd_flow=None, safe_harbor_message=None,
    )  # fmt: skip
    return CampaignSpec(**{**base, **fields})  # type: ignore[arg-type]


def test_outcomes_of_calls_never_answered() -> None:
    assert outcome_of("USER_BUSY") is Outcome.BUSY
    assert outcome_of("NO_ANSWER") is Outcome.NO_ANSWER
    assert outcome_of("ALLOTTED_TIMEOUT") is Outcome.NO_ANSWER
    assert outcome_of("NO_ROUTE_DESTINATION") is Outcome.FAILED
    assert outcome_of("NORMAL_CIRCUIT_CONGESTION") is Outcome.FAILED


def test_agents_view_reads_the_queue_members_states() -> None:
    board = Board()
    board.set_queue("q1", QueueSpec("q1", members=tuple(Member(e) for e in "abcde")))
    now = 100.0
    slots = {
        "a": AgentSlot("a", AgentStatus.AVAILABLE, idle_since=50.0),
        "b": AgentSlot("b", AgentStatus.AVAILABLE, idle_since=10.0),
        "c": AgentSlot("c", AgentStatus.AVAILABLE, AgentState.IN_CALL, state_since=70.0),
        "d": AgentSlot(
            "d", AgentStatus.AVAILABLE, AgentState.WRAP_UP, state_since=95.0, ready_at=110.0
        ),
        "e": AgentSlot("e", AgentStatus.LOGGED_OUT),
    }
    for name, slot in slots.items():
        kept = (slot.state, slot.idle_since, slot.state_since, slot.ready_at)
        board.set_agent(name, slot, now)  # a new agent starts idle: its live state after
        slot.state, slot.idle_since, slot.state_since, slot.ready_at = kept
    view = agents_view(spec())(board, now)
    assert view.free == ("b", "a")  # longest idle first
    assert view.busy == (30.0,) and view.wrapping == (5.0,) and view.staffed == 4
    assert view.busy_by == (("c", 30.0),)
    assert agents_view(spec(agents=("a",)))(board, now).free == ("a",)  # its own agents


@pytest.mark.parametrize(
    ("own", "queue", "expected"),
    [
        (None, "q1", policy.ON_DEMAND),  # none of its own: its queue's
        (policy.NEVER, "q1", policy.NEVER),  # its own over its queue's
        (policy.Policy(policy.Mode.SAMPLE, 20), "q1", policy.Policy(policy.Mode.SAMPLE, 20)),
        (None, None, policy.NEVER),  # agents, no queue: never
        (None, "gone", policy.NEVER),  # a queue the board does not have
        (policy.ALWAYS, None, policy.ALWAYS),
    ],
)
def test_a_campaigns_calls_are_recorded_by_its_own_policy_else_its_queues(
    own: policy.Policy | None, queue: str | None, expected: policy.Policy
) -> None:
    board = Board()
    kept = QueueRecording(policy.ON_DEMAND, "may-be-recorded.wav", ("a",))
    board.set_queue("q1", QueueSpec("q1", members=(Member("a"),), recording=kept))
    found = recording_of(spec(queue=queue, recording=own), board)
    assert found.policy == expected
    if queue == "q1":  # the rest is the queue's (its members: the agents who may take it)
        assert (found.announcement, found.members) == (kept.announcement, kept.members)


def test_a_campaigns_stored_policy_is_read_and_a_bad_one_leaves_its_queues() -> None:
    assert _recording(Campaign(name="c", recording_policy="sample:20")) == policy.Policy(
        policy.Mode.SAMPLE, 20
    )
    assert _recording(Campaign(name="c", recording_policy="on_demand")) == policy.ON_DEMAND
    assert _recording(Campaign(name="c", recording_policy=None)) is None
    assert _recording(Campaign(name="c", recording_policy="sometimes")) is None


def test_the_safe_harbor_left_after_a_verdict() -> None:
    settings = AmdSettings()
    person = Detection(Verdict.HUMAN, Reason.SHORT_GREETING, 2.0)
    silent = Detection(Verdict.HUMAN, Reason.SILENCE, 2.6)
    assert _budget(spec(), settings, person) == 2.0 - settings.settle
    assert _budget(spec(), settings, silent) == 2.0


def test_the_answer_rate_starts_from_its_prior() -> None:
    measuring = Measuring()
    assert measuring.measured().answer_rate == 0.2
    measuring.dials, measuring.live = 80, 40
    assert measuring.measured().answer_rate == (40 + 4) / 100


def test_talk_and_wrap_up_times_are_measured_from_the_agents_seen_at_each_read() -> None:
    measuring = Measuring()
    measuring.watch(AgentsView(("a",), (("b", 30.0), ("c", 100.0)), (("d", 4.0),)), 2.0)
    measuring.watch(AgentsView(("a", "d"), (("b", 32.0),), (("c", 1.0),)), 2.0)
    assert list(measuring.talk_times) == [101.0]  # c hung up between the reads
    assert list(measuring.wrap_times) == [5.0]  # d finished its wrap-up
    measuring.watch(AgentsView(("a", "c", "d"), (("b", 32.5),), ()), 0.5)  # a read 0.5 s later
    assert list(measuring.wrap_times) == [5.0, 1.25]
    assert Estimates().refit(measuring.measured()).talk is TALK  # 20 calls ended first
    measuring.talk_times.extend([60.0] * 19)
    measuring.wrap_times.extend([10.0] * 18)
    warm = Estimates().refit(measuring.measured())
    assert warm.talk.mean == (101.0 + 19 * 60.0) / 20  # the times themselves (empirical)
    assert warm.wrap.mean == (5.0 + 1.25 + 18 * 10.0) / 20
    assert warm.answer is Estimates().answer  # no answer measured yet: its prior


class Routes:
    """OutboundRoutes' read side: two routes, the cheaper one first."""

    routes = (
        OutboundRoute("cheap", r"^\+1[0-9]{10}$", "carrier1", priority=10),
        OutboundRoute("intl", r"^\+[0-9]{6,15}$", "carrier2", failover=("carrier3",)),
    )

    def resolve(self, number: str) -> Dialout:
        found = pick(self.routes, number)
        assert found is not None
        return found


def test_a_campaign_leaves_by_its_trunks_its_route_or_the_routes() -> None:
    routes: Any = Routes()
    assert dialout_for(routes, "+12125550100").route == "cheap"
    assert dialout_for(routes, "+12125550100", route="intl").gateways == ("carrier2", "carrier3")
    with pytest.raises(NoOutboundRoute, match="cheap does not take"):
        dialout_for(routes, "+442071234567", route="cheap")
    by_trunks = dialout_for(routes, "+442071234567", trunks=("t1", "t2"))
    assert (by_trunks.gateways, by_trunks.number) == (("t1", "t2"), "+442071234567")


@dataclass
class _Node:
    name: str
    connected: bool = True


def test_calls_go_out_through_the_connected_nodes_in_turn() -> None:
    nodes = [_Node("fs1"), _Node("fs2"), _Node("fs3")]
    ring = NodeRing(lambda: nodes)
    assert sorted(ring().name for _ in range(6)) == ["fs1", "fs1", "fs2", "fs2", "fs3", "fs3"]
    nodes[1].connected = False  # a node down is skipped until it is back
    assert {ring().name for _ in range(4)} == {"fs1", "fs3"}
    for node in nodes:
        node.connected = False
    assert ring() is None


def test_which_failed_originates_are_the_configurations_not_the_leads() -> None:
    from callcenter.calls.control import OriginateFailed
    from callcenter.dialer.placing import Attempts, Misconfigured, misconfigured

    def tried(*causes: str) -> Attempts:
        attempts = Attempts("leg0", "fs1")
        for i, cause in enumerate(causes):
            attempts.failed(f"leg{i}", f"sofia/gateway/t{i}/+12125550100", cause)
        return attempts

    assert misconfigured(Misconfigured("NO_ROUTE_DESTINATION", reason="no route"), None)
    fault = misconfigured(OriginateFailed("GATEWAY_DOWN", "leg1"),
                          tried("INVALID_GATEWAY", "GATEWAY_DOWN"))  # fmt: skip
    assert fault == "no usable trunk: GATEWAY_DOWN, INVALID_GATEWAY"
    for cause, causes in [
        ("USER_BUSY", ("GATEWAY_DOWN", "USER_BUSY")),  # a trunk reached the callee
        ("NO_ANSWER", ("NO_ANSWER",)),
        ("NORMAL_TEMPORARY_FAILURE", ("NORMAL_TEMPORARY_FAILURE",)),  # the carrier's, today
        ("GATEWAY_DOWN", ("NORMAL_CIRCUIT_CONGESTION", "GATEWAY_DOWN")),  # one was only full
        ("NO_ROUTE_DESTINATION", ("NO_ROUTE_DESTINATION",)),  # a bad number: the lead's
    ]:
        assert misconfigured(OriginateFailed(cause, "leg1"), tried(*causes)) == "", cause
