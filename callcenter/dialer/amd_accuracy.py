"""How well ``amd`` tells people from machines on the simulator's called parties.

Each answered far end the traffic model draws (``sim.traffic``: people who say "hello?" and
wait, talkers, people who pause first; machines with and without a beep) is run through
the simulator's own replay of ``wait_for_silence`` and mod_avmd's beep
(``sim.listening``, the code the simulator runs on a live leg) and through ``amd.classify``.
Counted: false positives (people called machines: abandoned live answers under the TSR and
Ofcom), false negatives (machines sent to agents), and the time to a person's verdict after
the end of their greeting (the safe harbor's 2 s run from there).
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.dialer.amd import AmdSettings, Heard, Verdict, classify, quiet_at, spoke_at
from callcenter.sim.behaviour import Voice
from callcenter.sim.listening import DETECTION, hear, listen
from callcenter.sim.traffic import TrafficModel

START = 0.1  # seconds from the answer to detect_audio's first frame (park, avmd_start)
START_NEXT = 0.04  # from detect_audio's return to wait_for_silence's first frame


@dataclass(frozen=True)
class Accuracy:
    people: int
    machines: int
    false_positives: int  # people classed as machines
    false_negatives: int  # machines classed as people
    person_verdict_mean: float  # seconds after a person's greeting ended
    person_verdict_p95: float
    machine_verdict_mean: float  # seconds after the answer

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.people if self.people else 0.0

    @property
    def false_negative_rate(self) -> float:
        return self.false_negatives / self.machines if self.machines else 0.0

    @property
    def accuracy(self) -> float:
        total = self.people + self.machines
        right = total - self.false_positives - self.false_negatives
        return right / total if total else 0.0


def judge(settings: AmdSettings, voice: Voice, start: float = START) -> tuple[Verdict, float]:
    """(the verdict on one called party, its time after the answer)."""
    first = hear(voice, start, settings.speech_frames, settings.first_word_ms)
    first_at = start + first.seconds
    if first.timeout:
        heard = Heard(None, None, first_at)
    else:
        began = first_at + START_NEXT
        end = listen(voice, began, settings.silence_frames, 1, settings.window_ms)
        at = began + end.seconds
        quiet = quiet_at(settings, at, end.timeout, end.listen_hits, first_at)
        heard = Heard(spoke_at(settings, first_at), quiet, at)
    beep = voice.beep_at
    found = classify(
        settings, heard, beep + DETECTION if settings.avmd and beep is not None else None
    )
    return found.verdict, found.seconds


def measure(settings: AmdSettings, model: TrafficModel, calls: int) -> Accuracy:
    """Draw ``calls`` far ends; judge the answered ones."""
    people = machines = false_pos = false_neg = 0
    person_waits: list[float] = []
    machine_times: list[float] = []
    for _ in range(calls):
        voice = model.far_end().voice
        if voice is None:
            continue
        verdict, seconds = judge(settings, voice)
        if voice.machine:
            machines += 1
            false_neg += verdict is Verdict.HUMAN
            machine_times.append(seconds)
        else:
            people += 1
            false_pos += verdict is Verdict.MACHINE
            person_waits.append(max(0.0, seconds - voice.greeting_end))
    person_waits.sort()
    p95 = person_waits[int(0.95 * (len(person_waits) - 1))] if person_waits else 0.0
    return Accuracy(
        people=people,
        machines=machines,
        false_positives=false_pos,
        false_negatives=false_neg,
        person_verdict_mean=sum(person_waits) / len(person_waits) if person_waits else 0.0,
        person_verdict_p95=p95,
        machine_verdict_mean=sum(machine_times) / len(machine_times) if machine_times else 0.0,
    )
