"""The flows a running engine serves, by name, with hot reload.

``reload()`` validates every file, then swaps the whole set at once. A file with an error is
rejected alone: its flow keeps the version already live (none at start), the other flows
take effect, and the errors come back and stay in ``rejected`` until a reload accepts the
file (``/healthz`` reports them). An error that names no file (the folder cannot be read)
rejects the whole reload: the live set stays as it was. A call keeps the ``Flow`` object it
started with, so a reload never changes a call already inside.
Each version is recorded in the database (``ivr_flow_versions``); a database that is down
only costs that record, never the reload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from gevent.lock import BoundedSemaphore

from callcenter.errors import CallCenterError
from callcenter.ivr import plan
from callcenter.store.database import Database
from callcenter.store.repos import IvrFlowRepository, QueueRepository

log = logging.getLogger(__name__)


class LoadedCatalog(Protocol):
    @property
    def flows(self) -> Mapping[str, plan.Flow]: ...

    @property
    def errors(self) -> Iterable[object]: ...

    @property
    def warnings(self) -> Iterable[object]: ...


Loader = Callable[[Path], LoadedCatalog]


@dataclass(frozen=True, slots=True)
class FlowInfo:
    name: str
    version: str
    checksum: str
    source: str
    loaded_at: datetime


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool
    changed: tuple[str, ...] = ()  # new or changed flows now live
    removed: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()  # file:line:col: path: message
    warnings: tuple[str, ...] = field(default=())
    rejected: tuple[str, ...] = ()  # files with an error: their flows' live version stays
    kept: tuple[str, ...] = ()  # flows of rejected files still live in their earlier version


def _file_of(error: object) -> str | None:
    where = getattr(error, "where", None)
    file = getattr(where, "file", None)
    return file if isinstance(file, str) else None


class FlowRegistry:
    def __init__(
        self,
        dialplans_dir: Path,
        *,
        database: Database | None = None,
        queues: Callable[[], Collection[str] | None] | None = None,
        sounds_root: Path | None = None,
        missing_audio: str = "warning",
        loader: Loader | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.dialplans_dir = dialplans_dir
        self.database = database
        self._queues = queues
        self._sounds_root = sounds_root
        self._missing_audio = missing_audio
        self._loader = loader
        self._clock = clock
        self._flows: dict[str, plan.Flow] = {}
        self._info: dict[str, FlowInfo] = {}
        self._rejected: dict[str, tuple[str, ...]] = {}
        self._lock = BoundedSemaphore()

    def get(self, name: str) -> plan.Flow:
        """The current version of ``name``; ``KeyError`` when no such flow is loaded."""
        return self._flows[name]

    def __contains__(self, name: object) -> bool:
        return name in self._flows

    def names(self) -> list[str]:
        return sorted(self._flows)

    def list(self) -> list[FlowInfo]:
        return [self._info[name] for name in sorted(self._info)]

    @property
    def rejected(self) -> dict[str, tuple[str, ...]]:
        """Files the last reload rejected, with their errors (empty when all are live)."""
        return dict(self._rejected)

    def reload(self, only: Collection[str] | None = None) -> ReloadResult:
        """Every file of ``dialplans_dir`` checked and swapped in; with ``only`` (files), just
        those retried: every other flow keeps the version live now, even if its file
        changed on disk since (an edit nobody reloaded does not go live by the way)."""
        with self._lock:
            if self._loader is None and not self.dialplans_dir.exists() and not self._flows:
                # an engine without IVR (extensions and queues only) is not a broken one
                log.warning("dialplans_dir %s does not exist: no IVR flows", self.dialplans_dir)
                self._rejected = {}
                return ReloadResult(ok=True)
            catalog = self._load()
            errors = tuple(str(e) for e in catalog.errors)
            warnings = tuple(str(w) for w in catalog.warnings)
            files = [_file_of(e) for e in catalog.errors]
            if None in files:
                log.error(
                    "IVR reload rejected, %d error(s); the live flows stay: %s",
                    len(errors), "; ".join(errors[:5]),
                )  # fmt: skip
                self._rejected = {"": errors}
                return ReloadResult(ok=False, errors=errors, warnings=warnings)
            rejected: dict[str, tuple[str, ...]] = {}
            for file, error in zip(files, errors, strict=True):
                rejected[str(file)] = (*rejected.get(str(file), ()), error)
            new = dict(catalog.flows)
            if only is not None:  # a retry: the other files' flows as live, their errors unsaid
                rejected = {f: e for f, e in rejected.items() if f in only}
                errors = tuple(e for file_errors in rejected.values() for e in file_errors)
                new = {n: f for n, f in new.items() if f.source in only}
                new.update({n: f for n, f in self._flows.items() if f.source not in only})
            kept = {
                name: flow
                for name, flow in self._flows.items()
                if flow.source in rejected and name not in new
            }
            if rejected:
                log.error(
                    "IVR: %d file(s) rejected (%s), %d error(s): %s",
                    len(rejected), ", ".join(sorted(rejected)), len(errors),
                    "; ".join(errors[:5]),
                )  # fmt: skip
            for name in sorted(kept):
                log.warning("IVR flow %s: its file is rejected, version %s stays live",
                            name, kept[name].version)  # fmt: skip
            new.update(kept)
            changed = tuple(sorted(n for n, f in new.items() if self._checksum(n) != f.checksum))
            removed = tuple(sorted(set(self._flows) - set(new)))
            info = self._infos(new, changed)
            self._flows, self._info = new, info  # the swap: one assignment each
            self._rejected = rejected
            for name in changed:
                log.info(
                    "IVR flow %s version %s live (%s)",
                    name,
                    new[name].version,
                    info[name].checksum[:12],
                )
            for name in removed:
                log.info("IVR flow %s removed", name)
            return ReloadResult(
                ok=not errors, changed=changed, removed=removed, errors=errors,
                warnings=warnings, rejected=tuple(sorted(rejected)), kept=tuple(sorted(kept)),
            )  # fmt: skip

    def _checksum(self, name: str) -> str | None:
        flow = self._flows.get(name)
        return flow.checksum if flow is not None else None

    def _load(self) -> LoadedCatalog:
        if self._loader is not None:
            return self._loader(self.dialplans_dir)
        from callcenter.ivr.validate import load_flows  # the validator's own module

        queues = self._queues() if self._queues is not None else None
        return load_flows(
            self.dialplans_dir,
            queues=queues,
            sounds_root=self._sounds_root,
            missing_audio=self._missing_audio,  # type: ignore[arg-type]
        )

    def _infos(self, flows: Mapping[str, plan.Flow], changed: Iterable[str]) -> dict[str, FlowInfo]:
        now = self._clock()
        recorded = self._record(flows[name] for name in changed)
        info = {}
        for name, flow in flows.items():
            old = self._info.get(name)
            if old is not None and old.checksum == flow.checksum:
                info[name] = old
            else:
                at = recorded.get(name, now)
                info[name] = FlowInfo(name, flow.version, flow.checksum, flow.source, at)
        return info

    def _record(self, flows: Iterable[plan.Flow]) -> dict[str, datetime]:
        """Record each version in the database; the time it was first loaded, by name."""
        todo = list(flows)
        if self.database is None or not todo:
            return {}
        try:
            with self.database.session_scope() as session:
                repo = IvrFlowRepository(session)
                records = [repo.record_load(f.name, f.version, f.checksum, f.source) for f in todo]
        except CallCenterError as exc:  # down, or schema not migrated: the reload goes on
            log.warning("IVR flow versions not recorded in the database: %s", exc)
            return {}
        return {r.name: r.loaded_at for r in records}


def stored_queue_names(database: Database) -> list[str]:
    """Every stored queue's name; ``CallCenterError`` when the database cannot say."""
    with database.session_scope() as session:
        return [queue.name for queue in QueueRepository(session).all()]


def queue_names(database: Database) -> list[str] | None:
    """The queues flows may name. None (names not checked) when the database cannot say,
    or when no queue is configured at all (an engine without an ACD set up yet)."""
    try:
        names = stored_queue_names(database)
    except CallCenterError as exc:
        log.warning("IVR flows validated without the queue list: %s", exc)
        return None
    return names or None
