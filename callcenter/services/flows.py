"""IVR flows: check the YAML files, list them, and have every running engine load them.

The flows live in files (``dialplans_dir``), not in the database: a reload checks them as
an engine will (queue names against the queues stored) and, when none has an error,
writes one ``flow`` change that makes every running engine reload its flows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from callcenter.errors import CallCenterError, DomainError
from callcenter.ivr.registry import FlowRegistry, queue_names
from callcenter.ivr.validate import Catalog, load_flows
from callcenter.ivr.validate_graph import MissingAudio
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited
from callcenter.store.database import Database
from callcenter.store.repos import IvrFlowRepository

FLOW = ChangeKind.FLOW


class FlowsInvalid(DomainError):
    """Some flow has an error: nothing is sent and every engine keeps its current flows."""

    code = "flows_invalid"

    def __init__(self, errors: tuple[str, ...], warnings: tuple[str, ...] = ()) -> None:
        super().__init__(
            f"{len(errors)} error(s) in the flows: not reloaded, engines keep their flows"
        )
        self.errors = errors
        self.warnings = warnings


@dataclass(frozen=True, slots=True)
class FlowsReloaded:
    flows: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FlowListing:
    name: str
    version: str
    checksum: str
    source: str
    loaded_at: datetime | None  # when an engine first loaded this version; None: never


def validate(
    paths: Path | Iterable[Path],
    *,
    queues: Collection[str] | None = None,
    sounds_root: Path | None = None,
    missing_audio: MissingAudio = "warning",
) -> Catalog:
    """Every flow of these files and folders, with each problem at ``file:line:col``."""
    return load_flows(paths, queues=queues, sounds_root=sounds_root, missing_audio=missing_audio)


def reload(db: Database, who: Actor, dialplans_dir: Path) -> FlowsReloaded:
    """Check every flow of ``dialplans_dir`` as an engine will, then tell every running
    engine to load them (new calls get the new versions, calls inside a flow keep theirs)."""
    registry = FlowRegistry(dialplans_dir, queues=lambda: queue_names(db))
    result = registry.reload()
    if not result.ok:
        raise FlowsInvalid(result.errors, result.warnings)
    names = tuple(registry.names())
    with db.session_scope() as session:
        details = {"flows": list(names)}
        audited(session, who, "flow.reload", "", details, kind=FLOW, op="reload")
    return FlowsReloaded(names, result.warnings)


def list_flows(db: Database, dialplans_dir: Path) -> tuple[list[FlowListing], list[str]]:
    """The flows of ``dialplans_dir`` and when an engine first loaded each version, with
    the notes to show (load times unknown when the database cannot say)."""
    registry = FlowRegistry(dialplans_dir)
    result = registry.reload()
    if not result.ok:
        raise FlowsInvalid(result.errors, result.warnings)
    notes: list[str] = []
    loaded: dict[tuple[str, str], datetime] = {}
    try:
        with db.session_scope() as session:
            loaded = {
                (r.name, r.checksum): r.loaded_at for r in IvrFlowRepository(session).latest()
            }
    except CallCenterError as exc:
        notes.append(f"load times unknown: {exc.message}")
    listing = [
        FlowListing(i.name, i.version, i.checksum, i.source, loaded.get((i.name, i.checksum)))
        for i in registry.list()
    ]
    return listing, notes
