"""``eavesdrop <uuid>``: a supervisor's leg joins another leg's media (sessions-3 s15).

No audio is routed here; the events are FreeSWITCH's: the target gets ``MEDIA_BUG_START``
(``Media-Bug-Function: eavesdrop``, ``Media-Bug-Target: <target>``) and the supervisor's leg a
``CALL_UPDATE``; the supervisor's DTMF (mode keys 0 1 2 3) shows only as DTMF events on its
own leg. The app returns when the supervisor hangs up (``MEDIA_BUG_STOP`` on the target
before the app's EXECUTE_COMPLETE) or when the target leg is gone (its HANGUP_COMPLETE
first, then ``MEDIA_BUG_STOP``); an originate ``&eavesdrop(...)`` then hangs the supervisor
up (``send_bye``), as recorded.
"""

from __future__ import annotations

from callcenter.sim.session import Session, Signal

POLL = 0.5  # simulated seconds between looks at the target


def eavesdrop(session: Session, arg: str) -> str:
    target = session.core.sessions.get(arg.strip())
    if target is None or target.chan.gone:
        return "_none_"
    bug = (("Media-Bug-Function", "eavesdrop"), ("Media-Bug-Target", target.uuid))
    target.emit("MEDIA_BUG_START", lead=bug)
    seen = target.chan.profile  # the party the target talks to, as the supervisor's phone shows
    sent = (("Sent-Callee-ID-Name", seen.callee_id_name), ("Sent-Callee-ID-Number",
            seen.callee_id_number))  # fmt: skip
    session.emit("CALL_UPDATE", lead=(("Direction", "SEND"), *sent))
    while not session.hungup.is_set():
        if _gone(target):
            target.destroyed.wait(timeout=session.core.clock.real(5.0))
            break
        item = session.next_dtmf(POLL)
        if item == Signal.HANGUP:
            break
    _emit_after_destroy(target, "MEDIA_BUG_STOP", bug)
    return "_none_"


def _gone(target: Session) -> bool:
    return bool(target.chan.gone)


def _emit_after_destroy(target: Session, name: str, lead: tuple[tuple[str, str], ...]) -> None:
    """The target's MEDIA_BUG_STOP comes even after its HANGUP_COMPLETE (s15 run 2)."""
    factory = target.core.factory
    target.core.hub.emit(factory.channel_event(name, target.chan, lead=lead))
