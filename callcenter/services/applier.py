"""What an engine does with each change of the feed: the targeted message, by kind.

- ``agent`` (key: extension) -> the ACD's ``agent_changed(extension)``
- ``queue`` (key: name) -> the ACD's ``queue_changed(name)``
- ``route`` / ``outbound_route`` / ``flow`` -> reload that table (or the flows) only
- ``call`` (key: call uuid) -> the ``CallCommands`` port, which finds the engine's call
  manager holding the call; an engine that does not hold it does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from callcenter.errors import CallCenterError
from callcenter.esl import commands
from callcenter.services.changes import Change, ChangeKind

log = logging.getLogger(__name__)


class Acd(Protocol):
    def agent_changed(self, extension: str) -> None: ...

    def queue_changed(self, name: str) -> None: ...


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
    ) -> None:
        """``before_acd``: run before the ACD reads an agent or queue back (the engine's
        own writes land first)."""
        self.acd = acd
        self.calls = calls
        self.before_acd = before_acd
        self._reloads: dict[str, Callable[[], object]] = {
            ChangeKind.ROUTE: routes,
            ChangeKind.OUTBOUND_ROUTE: outbound_routes,
            ChangeKind.FLOW: flows,
        }

    def __call__(self, change: Change) -> None:
        log.info(
            "change %d: %s %s %s by %s", change.id, change.kind, change.op, change.key, change.actor
        )
        if change.kind in (ChangeKind.AGENT, ChangeKind.QUEUE):
            if self.before_acd is not None:
                self.before_acd()
            if change.kind == ChangeKind.AGENT:
                self.acd.agent_changed(change.key)
            else:
                self.acd.queue_changed(change.key)
        elif change.kind in self._reloads:
            self._reloads[change.kind]()
        elif change.kind == ChangeKind.CALL:
            if not self.calls.send(change.key, change.op, change.details):
                log.info("change %d: call %s is not held by this engine", change.id, change.key)
        else:  # written by a newer version: nothing here knows it
            log.warning("change %d of unknown kind %r ignored", change.id, change.kind)


class CallHolder(Protocol):
    """What ``ManagerCalls`` needs of a ``CallManager``."""

    @property
    def actors(self) -> Mapping[str, object]: ...

    @property
    def channel(self) -> Any: ...


class ManagerCalls:
    """The call port until the call actors take intents (``CallManager.send_intent``): a
    hangup is sent to the FreeSWITCH node holding the call (``uuid_kill`` with the cause;
    the call's actor then closes it as any hangup); a transfer or a bridge to an agent is
    refused with an error in the log, since only the call's actor may move it."""

    def __init__(self, managers: Callable[[], Iterable[CallHolder]]) -> None:
        self.managers = managers

    def send(self, uuid: str, op: str, details: Mapping[str, Any]) -> bool:
        for manager in self.managers():
            if uuid not in manager.actors:
                continue
            if op != "hangup":
                log.error(
                    "call %s: %s by %s not carried out: live call operations other than "
                    "hangup arrive with the call actors' intents",
                    uuid,
                    op,
                    details.get("by"),
                )
                return True
            cause = str(details.get("cause", "NORMAL_CLEARING"))
            try:
                manager.channel.api(commands.uuid_kill(uuid, cause), check=False)
            except CallCenterError as exc:
                log.error("call %s: hangup by %s failed: %s", uuid, details.get("by"), exc)
            else:
                log.info("call %s: hung up (%s) by %s", uuid, cause, details.get("by"))
            return True
        return False
