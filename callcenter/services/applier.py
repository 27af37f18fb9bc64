"""What an engine does with each change of the feed: the targeted message, by kind.

- ``agent`` (key: extension) -> the ACD's ``agent_changed(extension)``; op ``wrapup_end``
  (``*25``) -> ``end_wrapup(extension)``
- ``queue`` (key: name) -> the ACD's ``queue_changed(name)``, then ``queue_flows(name)``:
  the IVR flows rejected for naming a queue not stored yet are checked again
- ``route`` / ``outbound_route`` / ``flow`` -> reload that table (or the flows) only
- ``webhook`` -> look at the endpoints again (deliveries, and what the outbox writes)
- ``trunk`` (key: name) -> the trunk watch: reload the trunks; op ``remove`` -> ``killgw``,
  op ``apply`` -> ``reloadxml``, ``rescan``, ``killgw`` of the gone, ``reloadacl``
- ``call`` (key: call uuid) -> the ``CallCommands`` port, which finds the engine's call
  manager holding the call; an engine that does not hold it does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from callcenter.calls.intents import BridgeAgent, CallIntent, Hangup, Supervise, Transfer
from callcenter.recording.state import Action, RecordingCommand
from callcenter.services.changes import Change, ChangeKind

log = logging.getLogger(__name__)


class Acd(Protocol):
    def agent_changed(self, extension: str) -> None: ...

    def queue_changed(self, name: str) -> None: ...

    def end_wrapup(self, extension: str) -> None: ...


class CallCommands(Protocol):
    def send(self, uuid: str, op: str, details: Mapping[str, Any]) -> bool:
        """True when this engine holds the live call and took the operation."""


class ChangeApplier:
    def __init__(
        self,
        acd: Acd,
        *,
        routes: Callable[[], object],
        outbound_routes: Callable[[], object],
        flows: Callable[[], object],
        calls: CallCommands,
        before_acd: Callable[[], object] | None = None,
        agent_settings: Callable[[str], object] = lambda extension: None,
        webhooks: Callable[[], object] = lambda: None,
        trunks: Callable[[Change], object] = lambda change: None,
        campaigns: Callable[[Change], object] = lambda change: None,
        queue_flows: Callable[[str], object] = lambda name: None,
    ) -> None:
        """``before_acd``: run before the ACD reads an agent or queue back (the engine's
        own writes land first)."""
        self.acd = acd
        self.calls = calls
        self.before_acd = before_acd
        self.agent_settings = agent_settings  # what else caches agents (their phones')
        self._reloads: dict[str, Callable[[], object]] = {
            ChangeKind.ROUTE: routes,
            ChangeKind.OUTBOUND_ROUTE: outbound_routes,
            ChangeKind.TRUNK_GROUP: outbound_routes,  # the table holds the groups too
            ChangeKind.FLOW: flows,
            ChangeKind.WEBHOOK: webhooks,
        }
        self.trunks = trunks  # the trunk watch: reload its directory, apply, killgw
        self.campaigns = campaigns  # the dialer: campaign and do-not-call changes
        self.queue_flows = queue_flows  # the flows rejected: a queue they name may exist now

    def __call__(self, change: Change) -> None:
        log.info(
            "change %d: %s %s %s by %s", change.id, change.kind, change.op, change.key, change.actor
        )
        if change.kind in (ChangeKind.AGENT, ChangeKind.QUEUE):
            if self.before_acd is not None:
                self.before_acd()
            if change.kind == ChangeKind.AGENT and change.op == "wrapup_end":
                self.acd.end_wrapup(change.key)
            elif change.kind == ChangeKind.AGENT:
                self.agent_settings(change.key)
                self.acd.agent_changed(change.key)
            else:
                self.acd.queue_changed(change.key)
                self.queue_flows(change.key)
        elif change.kind == ChangeKind.TRUNK:
            self.trunks(change)
        elif change.kind in (ChangeKind.CAMPAIGN, ChangeKind.DNC):
            self.campaigns(change)
        elif change.kind in self._reloads:
            self._reloads[change.kind]()
        elif change.kind == ChangeKind.CALL:
            if not self.calls.send(change.key, change.op, change.details):
                log.info("change %d: call %s is not held by this engine", change.id, change.key)
        else:  # written by a newer version: nothing here knows it
            log.warning("change %d of unknown kind %r ignored", change.id, change.kind)


class IntentTaker(Protocol):
    """What ``ManagerCalls`` needs of a ``CallManager``."""

    def send_intent(self, uuid: str, intent: CallIntent | Supervise | RecordingCommand) -> bool: ...


def intent_of(
    op: str, details: Mapping[str, Any]
) -> CallIntent | Supervise | RecordingCommand | None:
    """The call's intent for a ``call`` change (None: an op this version does not know)."""
    by = str(details.get("by", ""))
    if op == "hangup":
        return Hangup(str(details.get("cause") or "NORMAL_CLEARING"), by)
    if op == "transfer":
        return Transfer(str(details.get("target", "")), by)
    if op == "bridge_agent":
        return BridgeAgent(str(details.get("extension", "")), by)
    if op == "supervise":
        return Supervise(
            int(details.get("session") or 0), str(details.get("supervisor", "")),
            str(details.get("mode", "")), str(details.get("leg", "")),
            str(details.get("agent_leg", "")), by,
        )  # fmt: skip
    if op.startswith("record_") and op.removeprefix("record_") in set(Action):
        return RecordingCommand(Action(op.removeprefix("record_")), by)
    return None


class ManagerCalls:
    """The call port: each ``call`` change becomes an intent (``calls.intents``) put in the
    mailbox of the call's actor by the manager that holds it; the actor carries it out."""

    def __init__(self, managers: Callable[[], Iterable[IntentTaker]]) -> None:
        self.managers = managers

    def send(self, uuid: str, op: str, details: Mapping[str, Any]) -> bool:
        intent = intent_of(op, details)
        if intent is None:
            log.warning("call %s: operation %r unknown to this engine; ignored", uuid, op)
            return False
        return any(manager.send_intent(uuid, intent) for manager in self.managers())
