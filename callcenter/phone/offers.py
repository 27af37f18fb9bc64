"""What an agent's phone is told about a queue call it is offered, and the per-agent settings
that shape it. ``offer_variables`` is pure; ``AgentPhones`` reads the settings.

- The display: the caller ID name ``<queue>: <caller's name or number>`` (``sales: Alice``)
  and the caller's number; whatever the caller sent is scrubbed, then quoted by the
  originate builder (a caller name can contain anything).
- Auto-answer (per agent): ``sip_h_Call-Info=answer-after=0``, the header headsets and desk
  phones answer by themselves on.
- Whisper (per agent): played to the agent's leg once it answers, before the bridge; the
  queue's name is spoken through the TTS engine (``tts_engine``/``tts_voice`` settings).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from callcenter import grammar as q
from callcenter.errors import ConfigError, DatabaseUnavailable
from callcenter.recording.policy import Policy
from callcenter.recording.policy import parse as parse_policy
from callcenter.services.checks import WHISPER_QUEUE
from callcenter.store.database import Database
from callcenter.store.repos import AgentRepository

log = logging.getLogger(__name__)

AUTO_ANSWER_HEADER = "sip_h_Call-Info"
AUTO_ANSWER = "answer-after=0"
DISPLAY_MAX = 60  # characters a desk phone's display line can take, at most


@dataclass(frozen=True, slots=True)
class AgentPhone:
    extension: str
    name: str = ""
    auto_answer: bool = False
    whisper: str | None = None
    caller_id: str | None = None
    recording: str | None = None  # overrides the queue's recording policy (recording.policy)


def display_name(queue: str, caller_name: str, caller_number: str) -> str:
    who = " ".join(q.scrub(caller_name).split()) or q.scrub(caller_number) or "unknown"
    return f"{queue}: {who}"[:DISPLAY_MAX].strip()


def offer_variables(
    queue: str, caller_name: str, caller_number: str, phone: AgentPhone | None
) -> dict[str, str]:
    """The originate variables of the offer to ``phone`` for a caller of ``queue``."""
    variables = {
        "origination_caller_id_name": display_name(queue, caller_name, caller_number),
        "origination_caller_id_number": q.scrub(caller_number, "") or "unknown",
    }
    if phone is not None and phone.auto_answer:
        variables[AUTO_ANSWER_HEADER] = AUTO_ANSWER
    return variables


def whisper_prompt(phone: AgentPhone | None, queue: str) -> str | None:
    """What the agent hears before the bridge: a file, the queue's name spoken, or None."""
    if phone is None or not phone.whisper:
        return None
    if phone.whisper == WHISPER_QUEUE:
        words = q.scrub(queue.replace("_", " ").replace("-", " ").replace(".", " "))
        return f"say:{words}" if words else None
    return phone.whisper


class AgentPhones:
    """Every agent's phone settings, read from the database again after an operator changed
    an agent (``changed``, from the change feed) or at the latest every ``ttl`` seconds; the
    last table when the database is away. (Read every 5 s at the first offer after, it was
    most of a quiet engine's own database work.)"""

    def __init__(self, database: Database, *, ttl: float = 300.0) -> None:
        self.database = database
        self.ttl = ttl
        self._phones: Mapping[str, AgentPhone] = {}
        self._loaded_at = float("-inf")
        self._changes = 0  # changes told so far: a read begun before the last is stale

    def changed(self, extension: str) -> None:
        """An operator changed agent ``extension``: read the table again at the next use
        (also when a read is under way: it may have begun before the change was committed)."""
        self._loaded_at = float("-inf")
        self._changes += 1

    def get(self, extension: str) -> AgentPhone | None:
        if time.monotonic() - self._loaded_at > self.ttl:
            self._reload()
        return self._phones.get(extension)

    def policy(self, extension: str) -> Policy | None:
        """The agent's recording override (None: the queue's policy)."""
        phone = self.get(extension)
        if phone is None or not phone.recording:
            return None
        try:
            return parse_policy(phone.recording, f"agent {extension} recording")
        except ConfigError as exc:  # written around the service: the queue's, said loudly
            log.error("%s; the queue's policy applies", exc)
            return None

    def _reload(self) -> None:
        changes = self._changes
        try:
            with self.database.session_scope() as session:
                agents = AgentRepository(session).all()
        except DatabaseUnavailable as exc:
            log.warning("agents' phone settings not reloaded, keeping the last: %s", exc)
        else:
            self._phones = {
                a.extension: AgentPhone(
                    a.extension,
                    a.display_name,
                    a.auto_answer,
                    a.whisper,
                    a.outbound_caller_id,
                    a.recording_policy,
                )
                for a in agents
            }
        if changes == self._changes:  # else read again at the next use
            self._loaded_at = time.monotonic()
