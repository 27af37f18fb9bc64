"""SIP trunks: add, change, remove, list, status, apply. Each change reaches every running
engine as a ``trunk`` change (its trunk watch reloads the trunks, ``killgw`` a removed one);
``apply`` asks them to make FreeSWITCH read the rendered files.

The password is stored (FreeSWITCH needs it in the gateway file) and never returned:
``view`` is what the CLI and the API show, with ``password_set`` instead; audit entries and
change rows say ``"password": "(set)"`` at most.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from callcenter.errors import DomainError
from callcenter.services import in_use
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind, audited
from callcenter.store.database import Database
from callcenter.store.repos import TrunkGroupRepository, TrunkRepository
from callcenter.store.repos.trunks import TrunkStateRecord
from callcenter.trunks.checks import InvalidTrunk, check, check_name
from callcenter.trunks.spec import TrunkSpec
from callcenter.trunks.state import trunk_up

TRUNK = ChangeKind.TRUNK
SECRET = "(set)"
CHANGEABLE = frozenset(f.name for f in fields(TrunkSpec)) - {"name"}


@dataclass(frozen=True, slots=True)
class TrunkStatus:
    trunk: str
    register: bool
    enabled: bool
    nodes: tuple[TrunkStateRecord, ...]  # what each FreeSWITCH node last said

    @property
    def up(self) -> bool | None:
        """Registered (a registering trunk) or reachable everywhere; None: never seen."""
        if not self.nodes:
            return None
        return all(trunk_up(self.register, s.state, s.ping_status) for s in self.nodes)


def view(spec: TrunkSpec) -> dict[str, Any]:
    """What may be shown of a trunk: every field but the password (``password_set``)."""
    shown: dict[str, Any] = {}
    for f in fields(spec):
        value = getattr(spec, f.name)
        if f.name == "password":
            shown["password_set"] = bool(value)
            continue
        shown[f.name] = list(value) if isinstance(value, tuple) else value
        if f.name in ("transport", "number_style"):
            shown[f.name] = str(value)
    return shown


def _audit_details(spec: TrunkSpec, only: Mapping[str, Any] | None = None) -> dict[str, Any]:
    details = view(spec)
    details.pop("password_set")
    if only is not None:
        details = {k: v for k, v in details.items() if k in only}
    if spec.password and (only is None or "password" in only):
        details["password"] = SECRET
    return details


def add(db: Database, who: Actor, spec: TrunkSpec) -> TrunkSpec:
    """Store a new trunk, checked first (``InvalidTrunk`` names the bad field)."""
    checked = check(spec)
    with db.session_scope() as session:
        stored = TrunkRepository(session).add(checked)
        audited(session, who, "trunk.add", stored.name, _audit_details(stored), kind=TRUNK)
    return stored


def update(db: Database, who: Actor, name: str, changes: Mapping[str, Any]) -> TrunkSpec:
    """Change some fields of trunk ``name``; the whole trunk is checked again."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise InvalidTrunk(
            sorted(unknown)[0], f"not a trunk field ({', '.join(sorted(CHANGEABLE))})"
        )
    with db.session_scope() as session:
        repo = TrunkRepository(session)
        checked = check(replace(repo.get(check_name(name)), **changes))
        stored = repo.replace(checked)
        details = _audit_details(stored, changes)
        audited(session, who, "trunk.set", name, details, kind=TRUNK)
    return stored


def remove(db: Database, who: Actor, name: str) -> None:
    """Delete trunk ``name``; the engines ``killgw`` its gateway at once. Refused while a
    running campaign, an outbound route (``trunk_in_use``) or a trunk group names it."""
    with db.session_scope() as session:
        in_use.not_dialling(
            session,
            f"trunk {name!r}",
            "carries the calls of",
            "give them other trunks",
            "trunk_in_use",
            trunk=name,
        )
        in_use.not_dialled_through(session, name)
        groups = TrunkGroupRepository(session).with_member(name)
        if groups:
            raise DomainError(
                f"trunk {name!r} is a member of trunk group(s) {', '.join(groups)}: "
                "take it out first (callcenter trunk group set)",
                code="trunk_in_group",
            )
        TrunkRepository(session).delete(name)
        audited(session, who, "trunk.remove", name, kind=TRUNK)


def apply(db: Database, who: Actor) -> None:
    """Ask every running engine to make FreeSWITCH take the rendered gateways and ACL
    (``reloadxml``, ``killgw`` of gateways no longer stored or changed since, then
    ``sofia profile callcenter-carriers rescan`` and ``reloadacl``)."""
    with db.session_scope() as session:
        audited(session, who, "trunk.apply", "", kind=TRUNK)


def list_trunks(db: Database) -> list[TrunkSpec]:
    with db.session_scope() as session:
        return TrunkRepository(session).all()


def get(db: Database, name: str) -> TrunkSpec:
    with db.session_scope() as session:
        return TrunkRepository(session).get(name)


def status(db: Database, name: str | None = None) -> list[TrunkStatus]:
    """Each trunk (or only ``name``) with what each FreeSWITCH node last said of it."""
    with db.session_scope() as session:
        repo = TrunkRepository(session)
        specs = [repo.get(name)] if name is not None else repo.all()
        states = repo.states()
    return [
        TrunkStatus(s.name, s.register, s.enabled, tuple(r for r in states if r.trunk == s.name))
        for s in specs
    ]


def status_rows(found: Sequence[TrunkStatus]) -> list[dict[str, Any]]:
    """One row per trunk and node, as `trunk status` and ``/trunk-status`` show them."""
    rows: list[dict[str, Any]] = []
    for item in found:
        if not item.nodes:
            rows.append({"trunk": item.trunk, "node": None, "state": "unknown", "ping": None,
                         "up": None, "since": None, "detail": "not seen yet"})  # fmt: skip
        for node in item.nodes:
            rows.append({
                "trunk": item.trunk, "node": node.node, "state": node.state,
                "ping": node.ping_status,
                "up": trunk_up(item.register, node.state, node.ping_status),
                "since": node.changed_at.isoformat(timespec="seconds"), "detail": node.detail,
            })  # fmt: skip
    return rows
