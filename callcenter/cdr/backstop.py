"""FreeSWITCH's CDRs as the backstop: a call the engine has no CDR for gets FreeSWITCH's.

FreeSWITCH posts a call's CDR at hang-up, before CHANNEL_HANGUP_COMPLETE, so usually before
the engine has built its own from the events. The engine's is the better one (IVR path,
queue, wrap-up), so FreeSWITCH's is held: accepted at once (a file in ``inbox``, so a
restart keeps it), then, ``hold`` seconds later, handed to the writer only if

- no live call of the engine has that UUID (one adopted after a restart, or one whose end
  the engine has not seen yet because ESL is down, writes its own CDR when it ends), and
- the ESL node it came from is connected (a reconnect's resync closes the calls that
  ended meanwhile, with the engine's CDR), and
- the database holds no CDR for it (checked when the database answers). A trunk attempt
  the engine failed over to the next trunk is a leg of its call's CDR: whichever of the two
  is written first, the writer deletes FreeSWITCH's once both are stored
  (``repos.cdrs.write_cdrs``).

The writer inserts CDRs once per call UUID and keeps the order records were handed to it
(spool included), and the engine hands a call's CDR over before the call stops being live:
whichever way the checks race, an engine CDR that exists is written first and
FreeSWITCH's, later, is a no-op. A post the checks keep holding longer than ``hold_max``
is written anyway (a call stuck in the engine should not cost its CDR).

What FreeSWITCH could not post (the engine down for longer than its retries) it writes to
its err-log-dir and never sends again. When that directory is visible here
(``fs_cdr_import_dir``), its ``*.cdr.xml`` files are imported at start and every
``import_every`` seconds: each is held like a post, then removed; one that does not parse
is renamed ``*.rejected`` and logged.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import gevent
from gevent.event import Event
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import select

from callcenter.cdr.xml_cdr import MAX_DOCUMENT_BYTES, InvalidXmlCdr, parse_document, to_cdr
from callcenter.errors import DatabaseUnavailable
from callcenter.paths import replace_atomically
from callcenter.store.codec import decode_record, encode
from callcenter.store.database import Database
from callcenter.store.models import Cdr
from callcenter.store.records import CdrRecord

log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class CdrSink(Protocol):
    def write_cdr(self, cdr: CdrRecord) -> None: ...

    def flush(self, timeout: float = 10.0) -> bool: ...


class BackstopMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.posts = Counter(
            "callcenter_fs_cdr_posts_total",
            "CDR posts from FreeSWITCH (mod_xml_cdr) by outcome: accepted (held for "
            "reconciliation), ignored (not a managed call: an agent leg, an unmanaged "
            "channel), forbidden (address not in fs_cdr_allow), unauthorized, too_large, "
            "malformed, bad_method.",
            ["outcome"],
            registry=registry,
        )
        self.imported = Counter(
            "callcenter_fs_cdr_files_imported_total",
            "Files read from FreeSWITCH's err-log-dir (CDRs it could not post), by outcome: "
            "accepted, ignored (not a managed call), rejected (renamed *.rejected).",
            ["outcome"],
            registry=registry,
        )
        self.reconciled = Counter(
            "callcenter_fs_cdrs_reconciled_total",
            "FreeSWITCH CDRs after their hold, by result: written (the engine had none; "
            "marked source=freeswitch), engine_had (the engine's own CDR was there).",
            ["result"],
            registry=registry,
        )
        self.held = Gauge(
            "callcenter_fs_cdrs_held",
            "FreeSWITCH CDRs accepted and waiting for the engine's own CDR of their call.",
            registry=registry,
        )


class CdrBackstop:
    def __init__(
        self,
        inbox: Path,
        writer: CdrSink,
        metrics: BackstopMetrics,
        *,
        is_live: Callable[[str], bool],
        node_ready: Callable[[str], bool],
        database: Database | None = None,
        hold: float = 30.0,
        hold_max: float = 3600.0,
        import_dir: Path | None = None,
        import_every: float = 60.0,
        node_for: Callable[[str], str] = lambda switchname: switchname,
    ) -> None:
        self.inbox = inbox
        self.writer = writer
        self.metrics = metrics
        self.is_live = is_live
        self.node_ready = node_ready
        self.database = database
        self.hold = hold
        self.hold_max = max(hold_max, hold)
        self.import_dir = import_dir
        self.import_every = import_every
        self.node_for = node_for
        self._next_import = 0.0
        self._held: dict[str, tuple[CdrRecord, float]] = {}  # uuid -> (cdr, first due)
        self._due: list[tuple[float, str]] = []  # heap of (due, uuid)
        self._wake = Event()
        self._greenlet: gevent.Greenlet[Any] | None = None
        metrics.held.set_function(lambda: len(self._held))

    # -- the receiver's side ----------------------------------------------------------

    def accept(self, cdr: CdrRecord) -> None:
        """Keep the CDR (a file, so a restart keeps it) and decide after the hold."""
        self._store(cdr)
        self._schedule(cdr, time.monotonic() + self.hold)

    def _schedule(self, cdr: CdrRecord, due: float) -> None:
        first = self._held.get(cdr.call_uuid)
        self._held[cdr.call_uuid] = (cdr, first[1] if first else due)
        heapq.heappush(self._due, (due, cdr.call_uuid))
        self._wake.set()

    def _path(self, uuid: str) -> Path:
        name = uuid if _SAFE_NAME.fullmatch(uuid) else hashlib.sha256(uuid.encode()).hexdigest()
        return self.inbox / f"{name}.json"

    def _store(self, cdr: CdrRecord) -> None:
        self.inbox.mkdir(parents=True, exist_ok=True)
        path = self._path(cdr.call_uuid)
        # survives the process; a power cut may lose the last seconds (FreeSWITCH's own
        # copy in its err-log-dir does not), and no fsync blocks the calls meanwhile
        replace_atomically(path, json.dumps(encode(cdr)).encode(), durable=False)

    def _forget(self, uuid: str) -> None:
        self._held.pop(uuid, None)
        self._path(uuid).unlink(missing_ok=True)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        self._load()
        self._spawn()

    def _spawn(self) -> None:
        self._greenlet = gevent.spawn(self._run)
        self._greenlet.link_exception(self._crashed)

    def _crashed(self, greenlet: gevent.Greenlet[Any]) -> None:
        """A bug must not stop the backstop for good: log it and start again (what it held
        is still in ``_held`` and its inbox files)."""
        log.error("FreeSWITCH CDR backstop died: %r; restarting", greenlet.exception)
        gevent.sleep(1.0)
        self._spawn()

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=2.0)
            self._greenlet = None

    def _load(self) -> None:
        """What a previous run accepted and had not decided yet: held again from now."""
        if not self.inbox.is_dir():
            return
        due = time.monotonic() + self.hold
        for path in sorted(self.inbox.glob("*.json")):
            try:
                cdr = decode_record("CdrRecord", json.loads(path.read_text()))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                log.error("FreeSWITCH CDR %s cannot be read back (%s); left in place", path, exc)
                continue
            self._schedule(cdr, due)
        if self._held:
            log.info("FreeSWITCH CDRs: %d held from the last run", len(self._held))

    # -- the backstop greenlet ------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.clear()
            if self.import_dir is not None and time.monotonic() >= self._next_import:
                self._next_import = time.monotonic() + self.import_every
                try:
                    self.import_files()
                except OSError as exc:
                    log.warning("FreeSWITCH err-log-dir %s not imported: %s", self.import_dir, exc)
            waits = [self._due[0][0]] if self._due else []
            if self.import_dir is not None:
                waits.append(self._next_import)
            wait = min(waits) - time.monotonic() if waits else None
            if wait is None or wait > 0:
                self._wake.wait(timeout=wait)
                continue
            ready = self._pop_due()
            if ready:
                try:
                    self.reconcile(ready)
                except Exception:  # the greenlet's boundary: retry these later
                    log.exception("FreeSWITCH CDRs: reconciliation failed; retrying")
                    for cdr in ready:
                        self._schedule(cdr, time.monotonic() + max(self.hold, 1.0))

    def import_files(self, limit: int = 1000) -> int:
        """Take up to ``limit`` files FreeSWITCH wrote to its err-log-dir; return how many."""
        if self.import_dir is None or not self.import_dir.is_dir():
            return 0
        taken = 0
        for path in sorted(self.import_dir.glob("*.cdr.xml"))[:limit]:
            outcome = self._import(path)
            self.metrics.imported.labels(outcome=outcome).inc()
            taken += 1
        if taken:
            log.info("FreeSWITCH err-log-dir %s: %d CDR file(s) imported", self.import_dir, taken)
        return taken

    def _import(self, path: Path) -> str:
        try:
            with path.open("rb") as handle:
                document = handle.read(MAX_DOCUMENT_BYTES + 1)
            parsed = parse_document(document)
            cdr = to_cdr(parsed, self.node_for(parsed.switchname))
        except InvalidXmlCdr as exc:
            log.error("FreeSWITCH CDR file %s rejected: %s", path, exc)
            path.rename(path.with_name(path.name + ".rejected"))
            return "rejected"
        if cdr is not None:
            self.accept(cdr)  # kept in the inbox first: then the file may go
        path.unlink(missing_ok=True)
        return "accepted" if cdr is not None else "ignored"

    def _pop_due(self) -> list[CdrRecord]:
        now = time.monotonic()
        ready: dict[str, CdrRecord] = {}
        while self._due and self._due[0][0] <= now:
            _, uuid = heapq.heappop(self._due)
            held = self._held.get(uuid)
            if held is None or uuid in ready:
                continue
            cdr, first_due = held
            overdue = now - first_due >= self.hold_max - self.hold
            if not overdue and (self.is_live(uuid) or not self.node_ready(cdr.node)):
                heapq.heappush(self._due, (now + max(self.hold / 4, 0.05), uuid))
                continue
            if overdue:
                log.warning("call %s: the engine never closed it; FreeSWITCH's CDR goes in", uuid)
            ready[uuid] = cdr
        return list(ready.values())

    def reconcile(self, cdrs: Sequence[CdrRecord]) -> None:
        """Hand the writer FreeSWITCH's CDR of each call the engine has none for."""
        self.writer.flush(5.0)  # the engine's CDRs handed over so far go first
        had = self._existing([c.call_uuid for c in cdrs])
        for cdr in cdrs:
            if cdr.call_uuid in had:
                self.metrics.reconciled.labels(result="engine_had").inc()
                log.debug("call %s: the engine's CDR stands; FreeSWITCH's dropped", cdr.call_uuid)
            else:
                self.writer.write_cdr(cdr)
                self.metrics.reconciled.labels(result="written").inc()
                log.info(
                    "call %s: no CDR from the engine; FreeSWITCH's written (%s, %s)",
                    cdr.call_uuid, cdr.disposition, cdr.hangup_cause,
                )  # fmt: skip
            self._forget(cdr.call_uuid)

    def _existing(self, uuids: list[str]) -> set[str]:
        """The calls among ``uuids`` the database has a CDR for; empty when it is away (the
        writer's order and its insert-once still keep the engine's CDR first)."""
        if self.database is None or not uuids:
            return set()
        try:
            with self.database.session_scope() as session:
                rows = session.scalars(select(Cdr.call_uuid).where(Cdr.call_uuid.in_(uuids)))
                return set(rows)
        except DatabaseUnavailable as exc:
            log.info("FreeSWITCH CDRs: database away (%s); handing them to the writer", exc)
            return set()
