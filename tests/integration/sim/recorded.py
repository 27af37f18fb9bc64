"""Per-channel event-name sequences of the recorded real FreeSWITCH sessions."""

from __future__ import annotations

from tests.integration.sim.rawesl import EventMsg, _label
from tests.unit.sim.fixtures import events

ALL_ONLY = frozenset({"PRIVATE_COMMAND", "CODEC", "API"})


def recorded_events(name: str) -> list[EventMsg]:
    return [
        EventMsg(body["Event-Name"], body, body.get("_body"))
        for body in events(name)
        if body.get("Event-Name") not in ALL_ONLY
    ]


def sequence(evts: list[EventMsg], uuid: str) -> list[str]:
    return [
        _label(e) for e in evts if e.headers.get("Unique-ID") == uuid and e.name not in ALL_ONLY
    ]


def channel_uuids(evts: list[EventMsg]) -> list[str]:
    out: list[str] = []
    for e in evts:
        if e.name == "CHANNEL_CREATE" and e.headers["Unique-ID"] not in out:
            out.append(e.headers["Unique-ID"])
    return out


def controller_part(labels: list[str]) -> list[str]:
    """What the controller's commands produce, without what the vanilla config of the
    sessions-2 recordings adds: the `public` context's own set/export pairs, and late
    negotiation's PROGRESS_MEDIA + cs:EARLY when the caller is answered. The simulator
    plays freeswitch-conf, where media is negotiated at the INVITE and `answer` goes
    straight to ANSWER (sessions-3; test_event_cost pins that order exactly)."""
    dropped = ("EXEC(set)", "DONE(set)", "EXEC(export)", "DONE(export)")
    out: list[str] = []
    for label in labels:
        if label in dropped:
            continue
        if label == "cs:EARLY" or (label == "PROGRESS_MEDIA" and out[-1:] == ["EXEC(answer)"]):
            continue
        out.append(label)
    return out
