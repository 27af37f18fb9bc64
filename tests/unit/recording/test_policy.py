from __future__ import annotations

import uuid

import pytest

from callcenter.errors import ConfigError
from callcenter.recording import policy
from callcenter.recording.policy import Mode, Policy
from callcenter.vocabulary import RecordingPolicy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("always", Policy(Mode.ALWAYS)),
        ("never", Policy(Mode.NEVER)),
        ("on-demand", Policy(Mode.ON_DEMAND)),
        ("on_demand", Policy(Mode.ON_DEMAND)),
        ("sample:20", Policy(Mode.SAMPLE, 20)),
        (" Sample:0 ", Policy(Mode.SAMPLE, 0)),
    ],
)
def test_parse(text: str, expected: Policy) -> None:
    assert policy.parse(text) == expected
    assert policy.parse(str(expected)) == expected


@pytest.mark.parametrize(
    "text", ["", "sometimes", "sample:", "sample:101", "sample:-1", "sample:x"]
)
def test_bad_policies_name_the_value(text: str) -> None:
    with pytest.raises(ConfigError, match="queue sales record"):
        policy.parse(text, "queue sales record")


def test_sampling_is_deterministic_and_near_its_percent() -> None:
    calls = [str(uuid.UUID(int=i * 7919 + 13)) for i in range(4000)]
    picked = [c for c in calls if policy.sampled(c, 20)]
    assert picked == [c for c in calls if policy.sampled(c, 20)]  # a replay decides the same
    assert 0.17 < len(picked) / len(calls) < 0.23
    assert all(policy.sampled(c, 100) for c in calls[:50])
    assert not any(policy.sampled(c, 0) for c in calls[:50])
    assert set(picked) <= {c for c in calls if policy.sampled(c, 50)}  # nested shares


def test_the_most_specific_policy_wins() -> None:
    queue, agent, flow = policy.NEVER, policy.ALWAYS, policy.ON_DEMAND
    assert policy.effective(queue) is queue
    assert policy.effective(queue, agent) is agent
    assert policy.effective(queue, agent, flow) is flow
    assert policy.effective(queue, None, flow) is flow


@pytest.mark.parametrize("stored", list(RecordingPolicy))
def test_queue_columns_round_trip(stored: RecordingPolicy) -> None:
    chosen = policy.of_queue(stored, 30)
    assert policy.of_queue(*chosen.stored) == chosen


def test_on_demand_and_never_record_nothing_from_the_start() -> None:
    assert not policy.ON_DEMAND.records("c-1") and not policy.NEVER.records("c-1")
    assert policy.ALWAYS.records("c-1")
