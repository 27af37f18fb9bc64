"""Answering-machine detection: the verdict on fixed detector results, and its accuracy
on the simulator's called parties (sim.listening's replay of FreeSWITCH's detectors)."""

import pytest

from callcenter.dialer.amd import (
    AmdSettings,
    Detection,
    Heard,
    Reason,
    Verdict,
    classify,
    quiet_at,
    spoke_at,
)
from callcenter.dialer.amd_accuracy import judge, measure
from callcenter.sim import Simulator, Voice
from callcenter.sim.traffic import TrafficModel, TrafficProfile

S = AmdSettings()
H, M = Verdict.HUMAN, Verdict.MACHINE


@pytest.mark.parametrize(
    ("heard", "beep", "expected"),
    [
        (Heard(0.4, 1.3, 2.2), None, Detection(H, Reason.SHORT_GREETING, 2.2)),
        (Heard(2.0, 3.9, 4.8), None, Detection(H, Reason.SHORT_GREETING, 4.8)),  # late "hello?"
        (Heard(0.4, 2.41, 3.3), None, Detection(M, Reason.LONG_GREETING, 3.3)),
        (Heard(0.4, None, 3.5), None, Detection(M, Reason.LONG_GREETING, 3.5)),
        (Heard(None, None, 2.6), None, Detection(H, Reason.SILENCE, 2.6)),
        (Heard(0.4, 1.3, 2.2), 1.9, Detection(M, Reason.BEEP, 1.9)),  # the beep came first
        (Heard(0.4, 1.3, 2.2), 5.0, Detection(H, Reason.SHORT_GREETING, 2.2)),  # too late
        (None, None, Detection(H, Reason.NOT_RUN, 0.0)),
        (None, 3.0, Detection(M, Reason.BEEP, 3.0)),
    ],
)
def test_classify(heard: Heard | None, beep: float | None, expected: Detection) -> None:
    assert classify(S, heard, beep) == expected


def test_silence_can_be_called_a_machine() -> None:
    settings = AmdSettings(silence_is=Verdict.MACHINE)
    assert classify(settings, Heard(None, None, 2.6)).verdict is M


def test_arguments_are_freeswitch_frames() -> None:
    assert S.detect_audio() == "200 5 2500"
    assert S.wait_for_silence() == "200 20 1 3000"  # 2 s + 20 frames + 25 frames + 100 ms
    assert S.settle == pytest.approx(0.9)
    assert spoke_at(S, 1.0) == pytest.approx(0.88)
    assert quiet_at(S, 3.0, False, 0, 1.0) == pytest.approx(2.1)
    assert quiet_at(S, 4.0, True, 150, 1.0) is None  # still speaking
    assert quiet_at(S, 4.0, True, 1, 1.0) == 1.0  # over before wait_for_silence listened


@pytest.mark.parametrize("field", ["threshold", "speech_ms", "first_word_ms", "silence_ms"])
def test_bad_settings_name_the_field(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        AmdSettings(**{field: 0})  # type: ignore[arg-type]


def test_judge_follows_the_voice() -> None:
    assert judge(S, Voice(silence=0.3, speech=0.8))[0] is H
    assert judge(S, Voice(silence=1.8, speech=0.6))[0] is H
    assert judge(S, Voice(silence=0.2, speech=3.0))[0] is M  # a talker
    assert judge(S, Voice(machine=True, speech=1.2, beep_gap=0.3, patience=None)) == (
        M, pytest.approx(0.3 + 1.2 + 0.3 + 0.16),
    )  # fmt: skip
    assert judge(S, Voice(machine=True, speech=1.2, patience=None))[0] is H  # no beep


def test_accuracy_on_the_simulators_called_parties() -> None:
    """The figures docs/dialer.md states (seed 1, 20,000 dials of the default mix)."""
    profile = TrafficProfile(
        outbound_busy=0.08, outbound_no_answer=0.35, outbound_machine=0.25, outbound_failed=0.04
    )
    found = measure(S, TrafficModel(Simulator(), profile, seed=1), 20_000)
    assert (found.people, found.machines) == (5542, 5069)
    assert 0.07 < found.false_positive_rate < 0.08  # the talkers
    assert found.false_negative_rate < 0.005
    assert found.person_verdict_p95 < 1.0  # of the 2 s safe harbor
    no_avmd = measure(AmdSettings(avmd=False), TrafficModel(Simulator(), profile, seed=1), 20_000)
    assert no_avmd.false_negative_rate > found.false_negative_rate
