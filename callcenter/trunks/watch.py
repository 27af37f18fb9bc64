"""The trunks inside the engine: the live ``TrunkDirectory``, and each gateway's state.

``TrunkWatch`` owns both, in one greenlet fed by a bounded mailbox:

- the ESL reader hands it ``CUSTOM sofia::gateway_state`` / ``gateway_add`` /
  ``gateway_delete`` events (``offer_event``: never blocks, drops and counts when full);
- a (re)connected node: ``sofia xmlstatus gateway NAME`` for every trunk (FreeSWITCH
  does not replay states to a new socket);
- a ``trunk`` change of the feed: the trunks are read again; ``remove`` -> ``killgw`` now;
  ``apply`` -> ``reloadxml``, ``killgw`` of the profile's gateways no longer stored and of
  the trunks ``set`` since the last apply, then (once those are deleted)
  ``sofia profile callcenter-carriers rescan``, ``reloadacl`` and the status again.

Each state change sets ``callcenter_trunk_registered`` / ``callcenter_trunk_up``
(labels node, trunk: only stored trunks' names), is saved in ``trunk_states`` (what
``trunk status`` reads) and published as ``trunk.state_changed``. ``problems`` is what
``/healthz`` reports: a registering trunk that is not REGED on a connected node.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from types import MappingProxyType
from typing import Any, Protocol

import gevent
from gevent.queue import Empty, Full, Queue
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.exc import SQLAlchemyError

from callcenter.errors import CallCenterError, ESLError
from callcenter.esl import commands
from callcenter.esl.events import Event
from callcenter.events.types import TrunkStateChanged
from callcenter.services.changes import Change
from callcenter.store.database import Database
from callcenter.store.repos import TrunkRepository
from callcenter.trunks.checks import InvalidTrunk, check
from callcenter.trunks.gateways import PROFILE
from callcenter.trunks.spec import TrunkSpec
from callcenter.trunks.state import (
    ABSENT,
    ADD,
    DELETE,
    STATE,
    GatewayState,
    from_event,
    from_xmlstatus,
    trunk_up,
)

log = logging.getLogger(__name__)

RESCAN_WAIT = 10.0  # seconds to wait for changed gateways' deletion before a rescan
SUBSCRIPTION = ("CUSTOM", STATE, ADD, DELETE)  # after the plain event names: CUSTOM last


class Api(Protocol):
    """What the watch needs of an ``ESLConnection``."""

    @property
    def connected(self) -> bool: ...

    def api(self, line: str, timeout: float | None = None, *, check: bool = True) -> str: ...


class Publisher(Protocol):
    def publish(self, event: Any) -> None: ...


class TrunkStateMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["node", "trunk"]
        self.registered = Gauge(
            "callcenter_trunk_registered",
            "1 while the trunk's gateway is REGED on the node (sofia::gateway_state), else 0.",
            labels, registry=registry,
        )  # fmt: skip
        self.up = Gauge(
            "callcenter_trunk_up",
            "1 while the trunk can carry calls from the node: REGED for a registering trunk, "
            "OPTIONS ping UP for the others; else 0.",
            labels, registry=registry,
        )  # fmt: skip
        self.dropped = Counter(
            "callcenter_trunk_events_dropped_total",
            "Gateway events dropped because the trunk watch's mailbox was full.",
            registry=registry,
        )


class TrunkWatch:
    def __init__(
        self,
        database: Database,
        metrics: TrunkStateMetrics,
        events: Publisher,
        *,
        profile: str = PROFILE,
        mailbox_size: int = 1000,
    ) -> None:
        self.database = database
        self.metrics = metrics
        self.events = events
        self.profile = profile
        self.nodes: dict[str, Api] = {}
        self._mailbox: Queue = Queue(mailbox_size)
        self._trunks: Mapping[str, TrunkSpec] = MappingProxyType({})
        self._states: Mapping[tuple[str, str], GatewayState] = MappingProxyType({})
        self._loaded: set[tuple[str, str]] = set()  # (node, gateway) of our profile, seen
        self._changed: set[str] = set()  # trunks set since the last apply: killgw, rescan
        self._awaiting: dict[str, set[str]] = {}  # node -> changed gateways being deleted
        self._greenlet: Any = None

    # -- TrunkDirectory ---------------------------------------------------------------
    def get(self, name: str) -> TrunkSpec | None:
        return self._trunks.get(name)

    def all(self) -> Iterable[TrunkSpec]:
        return self._trunks.values()

    @property
    def states(self) -> Mapping[tuple[str, str], GatewayState]:
        return self._states

    # -- what others send it (never blocks) ------------------------------------------
    def bind(self, node: str, connection: Api) -> None:
        self.nodes[node] = connection

    def on_event(self, node: str, event: Event) -> bool:
        """True when it was a gateway event (taken); the ESL reader's side."""
        if event.name != "CUSTOM" or event.subclass not in (STATE, ADD, DELETE):
            return False
        self._put(("event", node, event))
        return True

    def on_connected(self, node: str) -> None:
        self._put(("connected", node, None))

    def changed(self, change: Change) -> None:
        self._put(("change", change.op, change))

    def request_reload(self) -> None:
        """SIGHUP, or the change feed resyncing: read the stored trunks again."""
        self._put(("reload", "", None))

    def _put(self, message: tuple[str, str, Any]) -> None:
        try:
            self._mailbox.put_nowait(message)
        except Full:
            self.metrics.dropped.inc()

    # -- the owner's greenlet ---------------------------------------------------------
    def start(self) -> None:
        try:
            self.reload()
        except (CallCenterError, SQLAlchemyError) as exc:  # read again on the next change
            log.warning("trunks not loaded at start: %s", exc)
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)
            self._greenlet.link_exception(lambda g: log.error("trunk watch died: %r", g.exception))

    def stop(self, timeout: float = 2.0) -> None:
        greenlet, self._greenlet = self._greenlet, None
        if greenlet is not None:
            greenlet.kill(timeout=timeout)

    def _run(self) -> None:
        while True:
            try:
                kind, key, payload = self._mailbox.get(timeout=60.0)
            except Empty:
                continue
            try:
                self._handle(kind, key, payload)
            except (CallCenterError, SQLAlchemyError) as exc:  # the handler's boundary
                log.warning("trunk watch: %s %s not handled: %s", kind, key, exc)
            except Exception:  # a bug must not end the watch: logged with its traceback
                log.exception("trunk watch: %s %s failed", kind, key)

    def _handle(self, kind: str, key: str, payload: Any) -> None:
        if kind == "event":
            found = from_event(payload)
            if found is not None:
                self._observe(key, found[0], found[1])
            self._track(key, payload)  # after: a delete awaited rescans, then reads the state
        elif kind == "connected":
            self._read_status(key)
        elif kind == "change":
            self._apply_change(payload)
        elif kind == "reload":
            self.reload()
        elif kind == "rescan" and key in self._awaiting:  # the deletes took too long
            log.warning("trunks on %s: %s not deleted in time; rescanning", key,
                        ", ".join(sorted(self._awaiting[key])))  # fmt: skip
            self._rescan(key)

    def _track(self, node: str, event: Event) -> None:
        """Which gateways of the carriers profile the node has loaded (for ``killgw``)."""
        gateway = event.get("Gateway") or ""
        if event.subclass == ADD and event.get("profile-name") == self.profile:
            self._loaded.add((node, gateway))
        elif event.subclass == DELETE:
            self._loaded.discard((node, gateway))
            waiting = self._awaiting.get(node)
            if waiting is not None and gateway in waiting:
                waiting.discard(gateway)
                if not waiting:
                    self._rescan(node)

    def reload(self) -> None:
        """The stored trunks (a row that fails the checks is left out, logged)."""
        with self.database.session_scope() as session:
            rows = TrunkRepository(session).all()
        trunks: dict[str, TrunkSpec] = {}
        for row in rows:
            try:
                trunks[row.name] = check(row)
            except InvalidTrunk as exc:
                log.error("trunk %r left out: %s", row.name, exc.message)
        gone = set(self._trunks) - set(trunks)
        self._trunks = MappingProxyType(trunks)
        for name in gone:
            self._forget(name)

    def _apply_change(self, change: Change) -> None:
        self.reload()
        if change.op == "remove":
            killgw = commands.sofia_profile(self.profile, "killgw", change.key)
            self._each_node(lambda node, api: api.api(killgw, check=False))
        elif change.op == "set":
            self._changed.add(change.key)
        elif change.op == "apply":
            self._each_node(self._apply)
            self._changed.clear()

    def _apply(self, node: str, api: Api) -> None:
        """``reloadxml``; ``killgw`` the gateways no longer stored and those changed since
        the last apply (``rescan`` adds new gateways, it never re-reads a loaded one); then,
        once FreeSWITCH has deleted the changed ones (``sofia::gateway_delete``, about 2 s;
        at most ``RESCAN_WAIT``), ``rescan``, ``reloadacl`` and the status again."""
        api.api(commands.reloadxml())
        listed = api.api(commands.sofia_status(), check=False)
        loaded = {gateway for (n, gateway) in self._loaded if n == node}
        loaded |= set(re.findall(rf"^\s*{re.escape(self.profile)}::(\S+)\tgateway\t", listed, re.M))
        enabled = {t.name for t in self._trunks.values() if t.enabled}
        changed = loaded & enabled & self._changed
        gone = loaded - enabled
        for name in sorted(gone | changed):
            api.api(commands.sofia_profile(self.profile, "killgw", name), check=False)
        log.info("trunks on %s: killgw %s", node, ", ".join(sorted(gone | changed)) or "none")
        if not changed:
            self._rescan(node)
            return
        self._awaiting[node] = set(changed)  # rescanned when their gateway_delete comes
        later = gevent.spawn_later(RESCAN_WAIT, self._put, ("rescan", node, None))
        later.link_exception(lambda g: log.error("trunk rescan timer: %r", g.exception))

    def _rescan(self, node: str) -> None:
        self._awaiting.pop(node, None)
        api = self.nodes.get(node)
        if api is None or not api.connected:
            return
        api.api(commands.sofia_profile(self.profile, "rescan"))
        api.api(commands.reloadacl(), check=False)
        self._read_status(node)

    def _each_node(self, action: Callable[[str, Api], object]) -> None:
        for node, api in list(self.nodes.items()):
            if not api.connected:
                continue
            try:
                action(node, api)
            except ESLError as exc:
                log.warning("trunks on %s: %s", node, exc)

    def _read_status(self, node: str) -> None:
        api = self.nodes.get(node)
        if api is None or not api.connected:
            return
        for trunk in list(self._trunks.values()):
            if not trunk.enabled:
                continue
            body = api.api(commands.sofia_gateway_status(trunk.name), check=False)
            state = from_xmlstatus(body)
            if state.state != ABSENT:
                self._loaded.add((node, trunk.name))
            self._observe(node, trunk.name, state)

    def _observe(self, node: str, gateway: str, state: GatewayState) -> None:
        spec = self._trunks.get(gateway)
        previous = self._states.get((node, gateway))
        if spec is None and previous is None:
            return  # not one of ours (another profile's gateway): never a metric label
        states = dict(self._states)
        states[(node, gateway)] = state
        self._states = MappingProxyType(states)
        if spec is None or previous == state:
            return
        up = trunk_up(spec.register, state.state, state.ping_status)
        self.metrics.registered.labels(node=node, trunk=gateway).set(state.state == "REGED")
        self.metrics.up.labels(node=node, trunk=gateway).set(up)
        if (
            previous is None
            or previous.state != state.state
            or previous.ping_status != state.ping_status
        ):
            log.info("trunk %s on %s: %s ping %s %s", gateway, node, state.state,
                     state.ping_status, state.detail)  # fmt: skip
            self.events.publish(TrunkStateChanged(
                trunk=gateway, node=node, state=state.state, ping_status=state.ping_status,
                previous=previous.state if previous else None, registered=state.state == "REGED",
                up=up, detail=state.detail,
            ))  # fmt: skip
        self._save(node, gateway, state)

    def _save(self, node: str, gateway: str, state: GatewayState) -> None:
        try:
            with self.database.session_scope() as session:
                TrunkRepository(session).save_state(
                    node, gateway, state.state, state.ping_status, state.detail
                )
        except (CallCenterError, SQLAlchemyError) as exc:  # the state stays in memory
            log.warning("trunk %s state not saved: %s", gateway, exc)

    def _forget(self, name: str) -> None:
        states = {k: v for k, v in self._states.items() if k[1] != name}
        for node, trunk in set(self._states) - set(states):
            for gauge in (self.metrics.registered, self.metrics.up):
                with suppress(KeyError):  # never set: nothing to remove
                    gauge.remove(node, trunk)
        self._states = MappingProxyType(states)

    def problems(self) -> list[str]:
        """For ``/healthz``: each registering trunk not REGED on a connected node."""
        out = []
        for (node, name), state in sorted(self._states.items()):
            spec = self._trunks.get(name)
            api = self.nodes.get(node)
            if spec is None or not spec.enabled or not spec.register or api is None:
                continue
            if api.connected and state.state != "REGED":
                detail = f", {state.detail}" if state.detail else ""
                out.append(f"trunk {name} not registered on {node} ({state.state}{detail})")
        return out
