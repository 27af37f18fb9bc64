"""The simulated people at the far ends: callers pressing keys and hanging up, agents
hanging up after talking. Each reaction runs in its own supervised, bounded greenlet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callcenter.sim.behaviour import Voice
    from callcenter.sim.core import SimCore
    from callcenter.sim.session import Session


class People:
    def __init__(self, core: SimCore) -> None:
        self.core = core

    def caller_arrived(self, session: Session) -> None:
        behaviour = session.caller
        if behaviour is not None and behaviour.patience is not None:
            self.core.spawn(self._patience, session, behaviour.patience, name="patience")

    def _patience(self, session: Session, patience: float) -> None:
        clock = self.core.clock
        deadline = clock.now() + patience
        while not session.hungup.is_set() and not session.bridged.is_set():
            remaining = deadline - clock.now()
            if remaining <= 0:
                session.hangup("NORMAL_CLEARING", "recv_bye")
                return
            clock.wait(session.bridged, min(remaining, 5.0 / clock.time_scale))

    def picked_up(self, session: Session, voice: Voice) -> None:
        """A called party answered: a person hangs up when no one comes (``patience`` after
        the greeting, unless bridged by then); a machine when its recording ends."""
        if voice.machine:
            end = (voice.beep_at or voice.greeting_end) + voice.record_limit
            self.core.spawn(self._hangup_after, session, end, name="machine")
        elif voice.patience is not None:
            self.core.spawn(
                self._patience, session, voice.greeting_end + voice.patience, name="patience"
            )

    def app_started(self, session: Session, app: str) -> None:
        behaviour = session.caller
        if behaviour is None or behaviour.hangup_at_app != app:
            return
        self.core.spawn(
            self._hangup_after, session, behaviour.hangup_at_app_delay, name="hangup-at-app"
        )

    def _hangup_after(self, session: Session, delay: float) -> None:
        if not session.wait(delay):
            session.hangup("NORMAL_CLEARING", "recv_bye")

    def prompted(self, session: Session) -> None:
        """A digit collection is listening: the caller answers with its next digit string."""
        behaviour = session.caller
        index = session.collects
        session.collects += 1
        if behaviour is None or index >= len(behaviour.digits) or not behaviour.digits[index]:
            return
        self.core.spawn(
            self._press,
            session,
            behaviour.digits[index],
            behaviour.first_digit_delay,
            behaviour.digit_gap,
            name="dtmf",
        )

    def _press(self, session: Session, digits: str, first: float, gap: float) -> None:
        if session.wait(first):
            return
        for i, digit in enumerate(digits):
            if i and session.wait(gap):
                return
            session.receive_dtmf(digit)

    def send_digits(self, session: Session, digits: str, gap: float = 0.2) -> None:
        self.core.spawn(self._press, session, digits, 0.0, gap, name="dtmf")

    def bridged(self, session: Session) -> None:
        session.bridged.set()
        talk: float | None = None
        if session.caller is not None:
            talk = session.caller.talk_time
        elif session.agent is not None:
            talk = session.agent.talk_time
        if talk is not None:
            self.core.spawn(self._talk, session, talk, name="talk")

    def _talk(self, session: Session, talk: float) -> None:
        if not session.wait(talk) and session.peer is not None:
            session.hangup("NORMAL_CLEARING", "recv_bye")
