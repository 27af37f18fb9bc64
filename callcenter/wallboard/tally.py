"""The queue figures a wallboard shows that the live board does not keep: per queue, the
callers who left it in the last ``window`` seconds, and per agent the caller it is ringing
for or talking to. Fed by the event bus; pure.

``counts`` tallies the stays that ended in the window with ``kpi.formulas.tally_stays``
under the queue's own T and short-abandon threshold; the wallboard then computes service
level by the queue's ``sl_formula`` and the abandon rate with ``kpi.formulas``, as the live
metrics and the reports do (docs/kpis.md).

The bus calls ``on_event`` in the publishing greenlet; every update is a few dict and deque
operations with no yield, and readers copy what they show, so no one sees half an update.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callcenter.events.types import Event, EventType
from callcenter.kpi import formulas as f
from callcenter.kpi.formulas import QueueTally
from callcenter.vocabulary import AgentState

WINDOW = 3600.0
KEEP = 50_000  # stays remembered per queue, and callers waiting across queues


# the event types ``Tally._note`` reads: the only ones the bus hands it (``Tally.EVENTS``)
_TALLIED = frozenset({
    EventType.QUEUE_JOINED, EventType.QUEUE_LEFT, EventType.AGENT_OFFERED,
    EventType.AGENT_ANSWERED, EventType.AGENT_STATE_CHANGED, EventType.CALL_ENDED,
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class OnCall:
    call_uuid: str
    number: str
    name: str
    ringing: bool  # offered, not answered yet


class Tally:
    EVENTS = _TALLIED

    def __init__(self, window: float = WINDOW, keep: int = KEEP) -> None:
        self.window = window
        self._keep = keep
        self._joined: dict[tuple[str, str], float] = {}
        self._stays: dict[str, deque[tuple[float, f.Stay]]] = {}  # (left at, the stay)
        self._calls: dict[str, OnCall] = {}

    def on_event(self, event: Event) -> None:
        kind = event.type
        if kind not in _TALLIED:
            return  # call.created, call.answered, ivr.node...: nothing of them is shown
        data = {"outcome": getattr(event, "outcome", None), "state": getattr(event, "state", None)}
        self._note(
            str(kind), event.at.timestamp(), event.call_uuid, event.queue,
            event.agent_extension, event.caller_number, event.caller_name, data,
        )  # fmt: skip

    def on_doc(self, doc: dict[str, Any]) -> None:
        """An event as the SSE stream and webhooks carry it (``Event.to_dict``)."""
        at = datetime.fromisoformat(str(doc["at"]).replace("Z", "+00:00")).timestamp()
        self._note(
            str(doc["type"]), at, doc.get("call_uuid"), doc.get("queue"),
            doc.get("agent_extension"), doc.get("caller_number"), doc.get("caller_name"),
            doc.get("data") or {},
        )  # fmt: skip

    def _note(
        self,
        kind: str,
        at: float,
        call: str | None,
        queue: str | None,
        agent: str | None,
        number: str | None,
        name: str | None,
        data: dict[str, Any],
    ) -> None:
        if kind == EventType.QUEUE_JOINED and call and queue:
            self._joined[(call, queue)] = at
            if len(self._joined) > self._keep:
                del self._joined[next(iter(self._joined))]
        elif kind == EventType.QUEUE_LEFT and call and queue:
            joined = self._joined.pop((call, queue), at)
            stays = self._stays.get(queue)
            if stays is None:
                stays = self._stays[queue] = deque(maxlen=self._keep)
            outcome, wait = str(data.get("outcome") or ""), max(0.0, at - joined)
            stays.append((at, f.Stay(queue, call, outcome, wait)))
        elif kind in (EventType.AGENT_OFFERED, EventType.AGENT_ANSWERED) and call and agent:
            ringing = kind == EventType.AGENT_OFFERED
            self._calls[agent] = OnCall(call, number or "", name or "", ringing)
        elif kind == EventType.AGENT_STATE_CHANGED and agent:
            if data.get("state") == AgentState.IDLE:
                self._calls.pop(agent, None)
        elif kind == EventType.CALL_ENDED and call:
            for extension in [a for a, c in self._calls.items() if c.call_uuid == call]:
                del self._calls[extension]

    def counts(self, queue: str, threshold: float, short: float, now: float) -> QueueTally:
        """The counts of the queue's stays that ended in the window: ``threshold`` its T,
        ``short`` its short-abandon seconds."""
        since = now - self.window
        ended = (stay for left_at, stay in self._stays.get(queue, ()) if left_at >= since)
        return f.tally_stays(ended, threshold, short)

    def on_call(self, agent: str) -> OnCall | None:
        return self._calls.get(agent)
