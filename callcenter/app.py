"""Composition root: builds every part from Settings by hand, starts and stops them in order."""

from __future__ import annotations

import functools
import gc
import logging
import os
import signal
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from prometheus_client import CollectorRegistry

from callcenter.acd.callback_calls import CallbackCalls, CallbackDialer
from callcenter.acd.dispatcher import Dispatcher
from callcenter.acd.metrics import AcdMetrics, floor
from callcenter.acd.on_call import QueueRunner
from callcenter.api import app as api
from callcenter.api.routing import bearer
from callcenter.calls.features import run_target
from callcenter.calls.manager import CallManager, CallOptions
from callcenter.calls.metrics import CallMetrics
from callcenter.calls.routing import RouteTable, parse_target
from callcenter.cdr.backstop import BackstopMetrics, CdrBackstop
from callcenter.cdr.receiver import PATH as FS_CDR_PATH
from callcenter.cdr.receiver import XmlCdrReceiver
from callcenter.dialer.amd import SUBSCRIPTION as AMD_EVENTS
from callcenter.dialer.amd import NodeAmd
from callcenter.dialer.calls import DialerCalls
from callcenter.dialer.metrics import DialerMetrics
from callcenter.dialer.placing import NodeRing
from callcenter.dialer.runner import Dialer
from callcenter.dialer.sessions import SUBSCRIPTION as SESSION_EVENTS
from callcenter.dialer.sessions import SessionBudget
from callcenter.errors import ConfigError, DatabaseUnavailable, MigrationError
from callcenter.esl import ESLConnection, EventRouter
from callcenter.esl.vocabulary import DEFAULT_EVENTS, EventName
from callcenter.events.bus import BusMetrics, EventBus
from callcenter.events.delivery import DeliveryOptions, WebhookDelivery, WebhookMetrics
from callcenter.events.outbox import DurableOutbox, Subscriptions
from callcenter.events.relay import OutboxRelay
from callcenter.events.sse import EventStream, StreamMetrics
from callcenter.ivr.metrics import IvrMetrics
from callcenter.ivr.on_call import IvrRunner
from callcenter.ivr.plan import Tts
from callcenter.ivr.registry import FlowRegistry, ReloadResult, queue_names
from callcenter.ivr.warning_digest import WarningDigest
from callcenter.kpi.live import LiveKpis
from callcenter.kpi.rollup import KpiRollup
from callcenter.metrics.esl import ESLMetrics
from callcenter.metrics.health import Facts, SpoolGrowth, assess
from callcenter.metrics.http import MetricsServer
from callcenter.metrics.registry import build_registry
from callcenter.paths import ensure_dir, write_text
from callcenter.phone.codes import feature_codes
from callcenter.phone.offers import AgentPhones
from callcenter.phone.on_call import PhoneOptions, PhoneRunner
from callcenter.recording.checker import RecordingChecker
from callcenter.recording.engine import Recordings
from callcenter.recording.metrics import RecordingMetrics
from callcenter.recording.on_call import Recorder
from callcenter.recording.template import parse as parse_template
from callcenter.services import supervision
from callcenter.services.applier import ChangeApplier, ManagerCalls
from callcenter.services.feed import ChangeFeed, FeedMetrics
from callcenter.settings import Settings
from callcenter.store import migrate
from callcenter.store.cache import LocalCache
from callcenter.store.database import Database
from callcenter.store.spool import Spool
from callcenter.store.writer import DurableWriter, WriterMetrics
from callcenter.trunks.limiter import TrunkLimiter
from callcenter.trunks.metrics import TrunkMetrics
from callcenter.trunks.table import OutboundRoutes
from callcenter.trunks.trunking import Trunking
from callcenter.trunks.watch import SUBSCRIPTION as TRUNK_EVENTS
from callcenter.trunks.watch import TrunkStateMetrics, TrunkWatch
from callcenter.wallboard import web as wallboard_web
from callcenter.wallboard.tally import Tally

log = logging.getLogger(__name__)


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        registry: CollectorRegistry | None = None,
        database: Database | None = None,
    ) -> None:
        self.settings = settings
        self._flow_warnings = WarningDigest()  # each said once per run, not on every reload
        self.registry = registry or build_registry()
        self.database = database or Database(settings.database_url)
        self.metrics = MetricsServer(settings.metrics_listen, self.registry, self.health)
        self.esl_metrics = ESLMetrics(self.registry)
        self.call_metrics = CallMetrics(self.registry)
        self.router = EventRouter(metrics=self.esl_metrics)
        self.writer = DurableWriter(
            self.database,
            Spool(settings.spool_dir),
            WriterMetrics(self.registry),
            max_delay=settings.writer_window,
        )
        # one bus for every event: durable (the outbox, through the writer), SSE, webhooks
        self.events = EventBus(BusMetrics(self.registry))
        subscriptions = Subscriptions()  # the outbox writes what a webhook wants
        self.events.subscribe(DurableOutbox(self.writer, subscriptions))
        self.event_stream = EventStream(  # at /api/v1/events: the API checks the read scope
            self.events, lambda environ: True, metrics=StreamMetrics(self.registry)
        )
        self.event_relay = OutboxRelay(self.database, self.events, self.event_stream)
        self.webhooks = WebhookDelivery(
            self.database,
            WebhookMetrics(self.registry),
            DeliveryOptions(
                timeout=settings.webhook_timeout,
                retry_min=settings.webhook_retry_min,
                retry_max=settings.webhook_retry_max,
                retry_for=settings.webhook_retry_for,
            ),
            subscriptions=subscriptions,
        )
        # routes, queues and agents as last loaded, for a start without the database
        self.cache = LocalCache(settings.data_dir / "cache")
        self.routes = RouteTable(
            self.database,
            parse_target(settings.default_route),
            cache=self.cache,
            country=settings.default_country or None,
        )
        self.acd_metrics = AcdMetrics(self.registry)
        # live KPIs (docs/kpis.md): stays from the ACD's hooks, CDRs and agents from the bus
        known_reasons = {r for _, r in settings.pause_reasons}
        known_reasons |= {settings.pause_default_reason, "no_answer"}
        self.kpis = LiveKpis(self.registry, pause_reasons=known_reasons)
        self.acd_metrics.kpis = self.kpis
        self.events.subscribe(self.kpis.on_event, LiveKpis.EVENTS)
        self.dispatcher = Dispatcher(
            self.database, self.writer, self.acd_metrics, cache=self.cache, events=self.events
        )
        self.kpis.floor = functools.partial(self.dispatcher.read, floor)
        self.phones = AgentPhones(self.database)  # per-agent offer and caller-ID settings
        self.queues = QueueRunner(
            self.dispatcher,
            park_timeout=settings.park_timeout,
            phones=self.phones,
            tts=(settings.tts_engine, settings.tts_voice),
        )
        # the trunks: the live TrunkDirectory, and each gateway's state from FreeSWITCH
        self.trunks = TrunkWatch(self.database, TrunkStateMetrics(self.registry), self.events)
        self.trunk_metrics = TrunkMetrics(self.registry)
        self.trunk_limiter = TrunkLimiter(
            on_channels=lambda t, n: self.trunk_metrics.channels.labels(t).set(n)
        )
        self.trunking = Trunking(
            self.trunks,
            settings.default_country or None,
            self.trunk_limiter,
            self.trunk_metrics,
        )
        self.outbound = OutboundRoutes(self.database, trunking=self.trunking)
        self.phone = PhoneRunner(
            self.database,
            PhoneOptions(
                feature_codes(
                    settings.feature_codes, settings.pause_reasons, settings.pause_default_reason
                ),
                pin_max_failures=settings.pin_max_failures,
                pin_lockout_seconds=settings.pin_lockout_seconds,
                tts=(settings.tts_engine, settings.tts_voice),
                outbound_caller_id=settings.outbound_caller_id,
            ),
            phones=self.phones,
            routes=self.outbound,
        )
        self.ivr_metrics = IvrMetrics(self.registry)
        self.flows = FlowRegistry(
            settings.dialplans_dir,
            database=self.database,
            queues=self._queue_names,
        )
        self.ivr = IvrRunner(
            self.flows,
            self.ivr_metrics,
            voicemail_dir=settings.recordings_dir.absolute() / "voicemail",
            outbound=self.outbound,
            queue=self.queues,
            tts=Tts(settings.tts_engine, settings.tts_voice),
        )
        target_runner = functools.partial(run_target, ivr=self.ivr, queue=self.queues)
        # callbacks that keep the caller's place (docs/waiting.md): the agent first, then out
        self.callback_dialer = CallbackDialer(
            self.dispatcher,
            lambda: next((c for c in self.connections.values() if c.connected), None),
            settings.agents_domain,
        )
        self.dispatcher.callback_port = self.callback_dialer
        self.callback_calls = CallbackCalls(
            self.dispatcher, self.outbound, tts=(settings.tts_engine, settings.tts_voice),
            caller_id=settings.outbound_caller_id,
        )  # fmt: skip
        self.queues.route = target_runner  # where a queue's overflow target sends callers
        # outbound campaigns (docs/dialer.md): a runner per running campaign, and its calls'
        dial_node = NodeRing(lambda: self.connections.values())  # AMD's node when none given
        # FreeSWITCH's sessions per second, per node: the campaigns' new lines within them
        # (read at each connect, counted from each node's CHANNEL_CREATE; docs/dialer.md)
        self.sessions = SessionBudget(
            lambda: self.connections.values(), lambda: self.dialer.clock,
            cap=settings.sessions_per_second or None,
        )  # fmt: skip
        self.dialer = Dialer(
            self.database, self.dispatcher, self.outbound, self.sessions,
            metrics=DialerMetrics(self.registry), agents_domain=settings.agents_domain,
            router=self.router, cdrs=self.writer.write_cdr, publish=self.events.publish,
        )  # fmt: skip
        # an agent free: its line placed at once
        self.events.subscribe(self.dialer.on_event, Dialer.EVENTS)
        self.dialer_calls = DialerCalls(
            self.dialer, self.dispatcher, target_runner, amd_settings=NodeAmd(dial_node),
            tts=(settings.tts_engine, settings.tts_voice),
        )  # fmt: skip
        # campaign.call_ended at a call's end
        self.events.subscribe(self.dialer_calls.on_event, DialerCalls.EVENTS)
        # recording (docs/recording.md): per policy from the bridge, each file checked after
        # its call off the call path, retention applied daily
        self.kpi_rollup = KpiRollup(self.database)  # the reports' totals (docs/kpis.md)
        self.recording_metrics = RecordingMetrics(self.registry)
        recordings_root = settings.recordings_dir.absolute()
        self.recordings = Recordings(
            Recorder(
                recordings_root,
                parse_template(settings.recording_template),
                self.phones,
                self.phone.options.codes,  # *27 / *28 pressed during a call
                self.writer.write_recording,  # a live file's row: a restart adopts it
            ),
            RecordingChecker(
                self.database, self.events, self.recording_metrics, flush=self.writer.flush
            ),
            self.database,
            self.recording_metrics,
            recordings_root,
            settings.recording_keep_days,
        )
        self.queues.recorder = self.recordings.recorder
        options = CallOptions(
            command_timeout=settings.esl_command_timeout, agents_domain=settings.agents_domain
        )
        self.managers: dict[str, CallManager] = {}
        self.connections: dict[str, ESLConnection] = {}
        for node in settings.esl_nodes:
            manager = CallManager(
                node.name,
                self.router,
                self.routes,
                self.writer,
                self.database,
                self.call_metrics,
                target_runner,
                options=options,
                presence=self.dispatcher,
                events=self.events,
                dial_out=self.ivr.transfer_out,  # number: transfers of live calls
                phone=self.phone,  # what agents' phones dial: feature codes, calls
                supervision_finish=functools.partial(supervision.finish, self.database),
                callback=self.callback_calls,
                dialer=self.dialer_calls,
            )
            connection = ESLConnection(
                node,
                on_event=functools.partial(self._on_event, manager, node.name),
                on_connected=functools.partial(self._on_connected, manager, node.name),
                metrics=self.esl_metrics,
                # the CUSTOM subclasses last
                events=(*DEFAULT_EVENTS, *SESSION_EVENTS, *TRUNK_EVENTS, *AMD_EVENTS),
                command_timeout=settings.esl_command_timeout,
            )
            manager.bind(connection)
            manager.on_leg = self.trunking.on_leg  # a trunk's channels counted and freed
            manager.arrived_on = self.trunking.arrived_on  # DID and caller in its country
            self.trunks.bind(node.name, connection)
            manager.recordings = self.recordings
            self.managers[node.name] = manager
            self.connections[node.name] = connection
        backstop_metrics = BackstopMetrics(self.registry)
        self.cdr_backstop = CdrBackstop(
            settings.data_dir / "fs-cdr",
            self.writer,
            backstop_metrics,
            is_live=lambda uuid: any(uuid in m.actors for m in self.managers.values()),
            node_ready=self._node_ready,
            database=self.database,
            hold=settings.fs_cdr_hold,
            import_dir=settings.fs_cdr_import_dir if settings.fs_cdr_import_dir.parts else None,
            node_for=self._node_for,
        )
        self.metrics.routes[FS_CDR_PATH] = XmlCdrReceiver(
            settings.fs_cdr_credentials,
            self.cdr_backstop,
            backstop_metrics,
            node_for=self._node_for,
            allow=settings.fs_cdr_allow,
        )
        # what operators change (CLI, API), from any host: applied within a second
        self.changes = ChangeFeed(
            self.database,
            ChangeApplier(
                self.dispatcher,
                agent_settings=self.phones.changed,
                routes=self.routes.refresh,
                outbound_routes=self.outbound.reload,
                flows=self.reload_flows,
                calls=ManagerCalls(self.managers.values),
                before_acd=lambda: self.writer.flush(2.0),
                webhooks=self.webhooks.rescan,
                trunks=self.trunks.changed,
                campaigns=self.dialer.changed,
                queue_flows=self._retry_rejected_flows,
            ),
            resync=self.request_reload,
            metrics=FeedMetrics(self.registry),
        )
        # the HTTP API beside /metrics, with the event stream at /api/v1/events
        # the wallboards' queue rates and agents' callers, from the bus (docs/wallboard.md)
        self.wallboard_tally = Tally()
        self.events.subscribe(self.wallboard_tally.on_event, Tally.EVENTS)
        self.wallboard_sessions = wallboard_web.Sessions()  # its page's event-stream cookies
        self.api = api.for_engine(
            settings,
            self.database,
            self.dispatcher,
            self.flows,
            events=self.event_stream,
            kpis=self.kpis,
            tally=self.wallboard_tally,
            sessions=self.wallboard_sessions,
            dialer=self.dialer,
        )
        self.metrics.mounts[api.PREFIX] = self.api
        self.metrics.mounts[wallboard_web.PREFIX] = wallboard_web.WallboardSite(
            self.database, self.wallboard_sessions, bearer
        )
        self._stopped = Event()
        self._started = False
        self._flows_failure = ""
        self._spool_growth = SpoolGrowth(self._spool_bytes())

    def _on_event(self, manager: CallManager, node: str, event: Any) -> None:
        """The ESL reader's: gateway events to the trunk watch, the rest to the calls (a
        session created counted in the node's sessions per second first; a HEARTBEAT to
        that count only)."""
        if event.name == EventName.CHANNEL_CREATE:
            self.sessions.created(node, event.unique_id)
        elif event.name == EventName.HEARTBEAT:
            self.sessions.heartbeat(self.connections[node], event.get("Session-Per-Sec"))
            return
        if not self.trunks.on_event(node, event):
            manager.on_event(event)

    def _on_connected(self, manager: CallManager, node: str) -> None:
        manager.on_connected()
        self.trunks.on_connected(node)
        self.sessions.read_rate(self.connections[node])  # a restarted switch may have another

    def _queue_names(self) -> list[str] | None:
        """The queues flows may name: the database's, else the local cache's."""
        names = queue_names(self.database)
        if names is None and not self.database.ping():
            names = self.cache.queue_names() or None
        return names

    def _node_for(self, switchname: str) -> str:
        """The ESL node a FreeSWITCH CDR came from: named like the switch, or the only one."""
        if switchname in self.managers or len(self.managers) != 1:
            return switchname
        return next(iter(self.managers))

    def _node_ready(self, node: str) -> bool:
        """Connected, so a call of this node that ended unseen has been (or is being) closed
        by the engine; an unknown node: every node connected."""
        manager = self.managers.get(node)
        if manager is not None:
            return manager.is_connected()
        return all(m.is_connected() for m in self.managers.values())

    def health(self) -> dict[str, Any]:
        db_ok = self.database.ping()
        nodes: dict[str, dict[str, Any]] = {
            name: {
                "connected": conn.connected,
                "reconnects": conn.reconnects,
                "calls": len(self.managers[name].actors),
            }
            for name, conn in self.connections.items()
        }
        spool_bytes = self._spool_bytes()
        facts = Facts(
            database_reachable=db_ok,
            database={
                "reachable": db_ok,
                "dialect": self.database.dialect,
                "spooling": self.writer.spooling,
            },
            esl=nodes,
            flows_live=len(self.flows.names()),
            flows_rejected=self.flows.rejected,
            flows_failure=self._flows_failure,
            route_problems=self.routes.problems + self.routes.missing_flows(self.flows),
            spool_bytes=spool_bytes,
            spool_growing=self._spool_growth.observe(spool_bytes),
            trunk_problems=self.trunks.problems(),
            campaign_problems=self.dialer.problems(),
        )
        return assess(facts)

    def _spool_bytes(self) -> int:
        try:
            return self.writer.spool.path.stat().st_size
        except OSError:  # no spool file: nothing waiting
            return 0

    def check_database(self, *, upgrade: bool = False) -> None:
        """Refuse to run on a schema older than the code; a database that is down is survivable."""
        if not self.database.ping():
            log.warning("database unreachable at start; continuing, state will be spooled")
            return
        expected = migrate.head(self.database)
        if upgrade:
            migrate.upgrade(self.database)
        found = migrate.current(self.database)
        if found != expected:
            raise MigrationError(
                f"database schema is at {found or 'nothing'}, this build needs {expected}: "
                "run `callcenter db upgrade` first",
                code="schema_outdated",
            )

    def start(self, *, upgrade_db: bool = False) -> None:
        ensure_dir(self.settings.data_dir, "the data directory")
        self.check_database(upgrade=upgrade_db)
        self.changes.mark()  # before loading: a change made meanwhile is applied after
        self.writer.start()
        self.webhooks.start()
        self.event_relay.start()
        self.cdr_backstop.start()
        self.dispatcher.start()  # queues and agents, like flows, before the first call
        self.routes.refresh()  # and routes: /healthz says so when they cannot be loaded
        self.reload_flows()
        self.trunks.start()  # before the ESL nodes: their status is read for these trunks
        self.changes.start()
        self.recordings.start()
        self.kpi_rollup.start()
        write_text(self._pid_file, f"{os.getpid()}\n", "the pid file")
        self._start_metrics()
        for connection in self.connections.values():
            connection.start()
        self.dialer.start()
        self._started = True
        tune_gc()
        log.info(
            "callcenter started: database=%s nodes=%s",
            self.database.dialect,
            ",".join(n.name for n in self.settings.esl_nodes) or "none",
        )

    def stop(self, reason: str = "stop requested") -> None:
        if not self._started:
            return
        log.info("callcenter stopping: %s", reason)
        drains = [
            gevent.spawn(manager.drain, self.settings.shutdown_grace)
            for manager in self.managers.values()
        ]
        # no new calls; the lines ringing and the live calls drain together
        drains.append(gevent.spawn(self.dialer.stop, self.settings.shutdown_grace))
        gevent.joinall(drains, timeout=self.settings.shutdown_grace + 10)
        self.dialer.settle(timeout=5.0)
        for connection in self.connections.values():
            connection.stop()
        self.changes.stop()
        self.trunks.stop()
        self.callback_dialer.stop()
        self.dispatcher.stop()
        self.trunk_limiter.stop()
        self.cdr_backstop.stop()
        self.webhooks.stop()
        self.event_relay.stop()
        self.recordings.stop()
        self.kpi_rollup.stop()
        self.writer.stop()
        self.metrics.stop()
        self.database.dispose()
        self._pid_file.unlink(missing_ok=True)
        self._started = False
        gc.unfreeze()  # what start froze may be garbage now (another App in this process)
        self._stopped.set()

    def _start_metrics(self) -> None:
        try:
            self.metrics.start()
        except OSError as exc:
            self._pid_file.unlink(missing_ok=True)
            address = self.settings.metrics_listen
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise ConfigError(
                f"cannot listen for /metrics and /healthz on {address}: {reason}; another "
                f"process holds it (`ss -ltnp 'sport = :{address.port}'`) or set "
                "metrics_listen / CALLCENTER_METRICS_LISTEN",
                code="metrics_listen_failed",
            ) from exc

    @property
    def _pid_file(self) -> Path:
        """Read by `callcenter ivr reload` to find the engine to signal."""
        return self.settings.data_dir / "callcenter.pid"

    def reload_flows(self, only: Collection[str] | None = None) -> ReloadResult:
        """Load dialplans_dir (``only``: just those files, ``FlowRegistry.reload``): a
        rejected file keeps its flow's live version, the others take effect; nothing here
        stops the engine (at start or on SIGHUP)."""
        try:
            result = self.flows.reload(only)
        except Exception as exc:  # the reload's boundary: log, report, keep serving
            log.exception("IVR reload failed; the live flows stay")
            self._flows_failure = f"IVR reload failed: {exc!r}"
            return ReloadResult(ok=False, errors=(self._flows_failure,))
        self._flows_failure = ""
        for line in self._flow_warnings.lines(result.warnings):
            log.warning("IVR: %s", line)
        for error in result.errors:
            log.error("IVR: %s", error)
        return result

    def _retry_rejected_flows(self, queue: str) -> None:
        """A queue stored or changed: the flow files rejected (perhaps for naming it) are
        checked again, without waiting for `callcenter ivr reload`; only those files (the
        others' edits wait for a reload)."""
        rejected = self.flows.rejected
        if rejected and "" not in rejected:
            log.info("queue %s changed: IVR flow files rejected earlier are checked again", queue)
            self.reload_flows(only=set(rejected))

    def request_reload(self) -> None:
        """SIGHUP: the flows, the routes, and the ACD's queues and agents, as now stored."""
        greenlet = gevent.spawn(self._reload_all)
        greenlet.link_exception(lambda g: log.error("IVR reload failed: %r", g.exception))

    def _reload_all(self) -> None:
        try:
            self.writer.flush(2.0)  # the ACD's own writes land before it reads them back
            self.dispatcher.request_reload()
        except Exception:  # the reload greenlet's boundary: the flows still reload
            log.exception("SIGHUP: queues and agents not reloaded")
        self.routes.refresh()  # keeps the last table when the database is away
        self.trunks.request_reload()
        try:
            self.outbound.reload()
        except DatabaseUnavailable as exc:
            log.warning("SIGHUP: outbound routes not reloaded: %s", exc)
        self.reload_flows()

    def request_stop(self, reason: str) -> None:
        gevent.spawn(self.stop, reason)

    def install_signal_handlers(self, stop: Callable[[str], None] | None = None) -> None:
        """SIGTERM and SIGINT: ``stop`` (default: ``request_stop``); SIGHUP: reload."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            gevent.signal_handler(signum, stop or self.request_stop, signal.Signals(signum).name)
        gevent.signal_handler(signal.SIGHUP, self.request_reload)

    def wait(self, timeout: float | None = None) -> bool:
        return bool(self._stopped.wait(timeout))


GC_YOUNG = 20_000  # allocations between young collections (CPython's default: 700)


def tune_gc() -> None:
    """The garbage collector, for a long-running engine: what start built (modules, caches,
    settings) is frozen out of every later collection, and young collections come less often,
    so fewer short-lived objects (events, records) live long enough to be scanned again with
    the old ones. At 100 calls/s, 2,000 live, collections had cost 0.22 ms per call."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG, middle, old)
