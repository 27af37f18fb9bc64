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

from sqlalchemy.exc import SQLAlchemyError

from callcenter.errors import CallCenterError, DomainError
from callcenter.ivr.registry import queue_names, stored_queue_names
from callcenter.ivr.validate import Catalog, load_flows
from callcenter.ivr.validate_graph import MissingAudio
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited
from callcenter.store.database import Database, first_line
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
    """Every flow of these files and folders, with each problem at ``file:line:col``; a
    dialplans_dir that does not exist holds none (an engine without IVR is not a broken one)."""
    if isinstance(paths, Path) and not paths.exists():
        return Catalog()
    return load_flows(paths, queues=queues, sounds_root=sounds_root, missing_audio=missing_audio)


def reload(db: Database, who: Actor, dialplans_dir: Path) -> FlowsReloaded:
    """Check every flow of ``dialplans_dir`` as an engine will, then tell every running
    engine to load them (new calls get the new versions, calls inside a flow keep theirs)."""
    catalog = validate(dialplans_dir, queues=queue_names(db))
    warnings = tuple(str(w) for w in catalog.warnings)
    if catalog.errors:
        raise FlowsInvalid(tuple(str(e) for e in catalog.errors), warnings)
    names = tuple(sorted(catalog.flows))
    with db.session_scope() as session:
        details = {"flows": list(names)}
        audited(session, who, "flow.reload", "", details, kind=FLOW, op="reload")
    return FlowsReloaded(names, warnings)


@dataclass(frozen=True, slots=True)
class FlowsListed:
    flows: list[FlowListing]  # the valid flows of the files
    rejected: tuple[str, ...]  # files with an error (their flows are not listed)
    errors: tuple[str, ...]  # file:line:col: path: message, for each rejected file
    notes: tuple[str, ...]  # what could not be said (load times unknown)


def list_flows(db: Database, dialplans_dir: Path) -> FlowsListed:
    """The valid flows of ``dialplans_dir`` (their files' versions) and when an engine first
    loaded each version, with every rejected file and its errors. Nothing is loaded: this
    reads the files as an engine would, and runs no flow."""
    catalog = validate(dialplans_dir)
    files = {error.where.file for error in catalog.errors}
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
        FlowListing(f.name, f.version, f.checksum, f.source, loaded.get((f.name, f.checksum)))
        for f in sorted(catalog.flows.values(), key=lambda f: f.name)
    ]
    errors = tuple(str(e) for e in catalog.errors)
    return FlowsListed(listing, tuple(sorted(files)), errors, tuple(notes))


def checked_queues(db: Database) -> tuple[list[str] | None, str]:
    """The queue names flows are checked against, as ``reload`` and an engine check them:
    the stored queues; None (any name goes) with the reason when they are not checked."""
    try:
        names = stored_queue_names(db)
    except (CallCenterError, SQLAlchemyError) as exc:
        reason = exc.message if isinstance(exc, CallCenterError) else first_line(exc)
        return None, f"queue names not checked: {reason}"
    if not names:
        return None, "queue names not checked: no queue is stored yet (an engine takes any name)"
    return names, ""
