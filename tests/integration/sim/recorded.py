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
    """Drop the dialplan's own set/export pairs (the recording ran the `public` context)."""
    return [
        label
        for label in labels
        if label not in ("EXEC(set)", "DONE(set)", "EXEC(export)", "DONE(export)")
    ]
