"""FreeSWITCH's own CDR (mod_xml_cdr) as the engine's CdrRecord: pure, no I/O.

What FreeSWITCH posts (sessions-3, s17-xml-cdr): ``POST <url>?uuid=a_<uuid>`` with a body
that depends on the ``encode`` parameter of ``xml_cdr.conf``:

- ``true``: ``application/x-www-form-urlencoded``, ``cdr=`` + the URL-encoded document;
- ``false``: ``application/x-www-form-plaintext``, ``cdr=`` + the raw document (an ``&``
  in a value would break a form parser: it is taken whole, never split on ``&``);
- ``base64``: ``application/x-www-form-base64-encoded``, ``cdr=`` + base64;
- ``textxml``: ``text/xml``, the raw document.

The err-log-dir file (``a_<uuid>.cdr.xml``, written when every try failed) is the raw
document, so posting such a file back as ``text/xml`` imports it.

The document is ``<cdr core-uuid= switchname=>`` with ``variables`` (values URL-encoded)
and ``callflow`` elements (newest first; the caller's original profile is
``profile_index="1"``). It is parsed with the standard library's expat after refusing any
DTD: no DOCTYPE means no entity can be declared, so none can expand or reach a file.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, unquote_to_bytes

from callcenter.cdr.builder import build_cdr
from callcenter.cdr.timeline import CallTimeline
from callcenter.errors import CallCenterError
from callcenter.store.records import CdrRecord
from callcenter.vocabulary import CdrSource, Direction, LegRole

MAX_DOCUMENT_BYTES = 1024 * 1024  # FreeSWITCH's are 14-25 KB; a long app_log stays far below

# the variables the CDR is built from (the document holds ~170)
_WANTED = frozenset(
    {
        "uuid", "direction", "cc_managed", "cc_role", "cc_did", "cc_entry", "cc_queue",
        "cc_queue_joined", "hangup_cause", "sip_hangup_disposition", "start_uepoch",
        "answer_uepoch", "bridge_uepoch", "end_uepoch", "bridge_uuid", "last_bridge_to",
        "bridge_hangup_cause", "caller_id_name", "caller_id_number", "destination_number",
        "cc_agent", "cc_callback_number",
    }
)  # fmt: skip


class InvalidXmlCdr(CallCenterError):
    code = "xml_cdr_invalid"


@dataclass(frozen=True, slots=True)
class XmlCdr:
    """What the engine needs of one FreeSWITCH CDR document."""

    uuid: str
    switchname: str
    variables: dict[str, str] = field(default_factory=dict)
    caller_id_name: str = ""
    caller_id_number: str = ""
    destination_number: str = ""
    agent_number: str = ""  # the originatee's destination: the agent's extension
    agent_uuid: str = ""

    @property
    def managed(self) -> bool:
        """A call the engine would have taken: tagged by the dialplan, not one of its legs."""
        return self.variables.get("cc_managed") == "true" and self.variables.get("cc_role", "") in (
            "",
            str(LegRole.CALLER),
        )


def document_from_post(body: bytes, content_type: str) -> bytes:
    """The XML document inside a mod_xml_cdr POST body, by its Content-Type."""
    kind = content_type.partition(";")[0].strip().lower()
    stripped = body.lstrip()
    if kind in ("text/xml", "application/xml") or stripped.startswith(b"<"):
        return stripped
    if not body.startswith(b"cdr="):
        raise InvalidXmlCdr("body is neither cdr=<document> nor an XML document")
    payload = body[4:]
    if kind == "application/x-www-form-urlencoded":
        if b"&" in payload:  # FreeSWITCH encodes every & in the document; a second field is not its
            raise InvalidXmlCdr("form body has more than the cdr field")
        return unquote_to_bytes(payload.replace(b"+", b" "))
    if kind == "application/x-www-form-base64-encoded":
        try:
            return base64.b64decode(payload.rstrip(b"\x00"), validate=False)
        except (binascii.Error, ValueError) as exc:
            raise InvalidXmlCdr(f"cdr field is not base64: {exc}") from exc
    if kind == "application/x-www-form-plaintext":
        return payload
    raise InvalidXmlCdr(f"unexpected Content-Type {kind or '(none)'!r}")


def parse_document(document: bytes) -> XmlCdr:
    if len(document) > MAX_DOCUMENT_BYTES:
        raise InvalidXmlCdr(f"document larger than {MAX_DOCUMENT_BYTES} bytes")
    if b"<!doctype" in document.lower() or b"<!entity" in document.lower():
        raise InvalidXmlCdr("document has a DTD (FreeSWITCH never sends one)")
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise InvalidXmlCdr(f"not well-formed XML: {exc}") from exc
    if root.tag != "cdr":
        raise InvalidXmlCdr(f"root element is <{root.tag}>, not <cdr>")
    block = root.find("variables")
    if block is None:
        raise InvalidXmlCdr("no <variables> element")
    variables = {child.tag: unquote(child.text or "") for child in block if child.tag in _WANTED}
    uuid = variables.get("uuid", "")
    if not uuid or len(uuid) > 64 or not uuid.isprintable():
        raise InvalidXmlCdr("no usable uuid variable")
    profile, originatee = _caller_profile(root)
    return XmlCdr(
        uuid=uuid,
        switchname=root.get("switchname", ""),
        variables=variables,
        caller_id_name=_text(profile, "caller_id_name") or variables.get("caller_id_name", ""),
        caller_id_number=_text(profile, "caller_id_number")
        or variables.get("caller_id_number", ""),
        destination_number=_text(profile, "destination_number")
        or variables.get("destination_number", ""),
        agent_number=_text(originatee, "destination_number"),
        agent_uuid=_text(originatee, "uuid"),
    )


def _caller_profile(root: ET.Element) -> tuple[ET.Element | None, ET.Element | None]:
    """The caller's original profile (profile_index 1) and the latest originatee (the agent
    leg a ``uuid_bridge`` joined, listed in the newest callflow)."""
    flows = root.findall("callflow")
    first = next((f for f in flows if f.get("profile_index") == "1"), flows[-1] if flows else None)
    profile = first.find("caller_profile") if first is not None else None
    originatee = None
    for flow in flows:  # newest first
        originatee = flow.find("caller_profile/originatee/originatee_caller_profile")
        if originatee is not None:
            break
    return profile, originatee


def _text(element: ET.Element | None, tag: str) -> str:
    if element is None:
        return ""
    found = element.find(tag)
    return (found.text or "") if found is not None else ""


def _us(variables: dict[str, str], name: str) -> int | None:
    value = variables.get(name, "")
    # isascii: "²".isdigit() is True and int("²") raises (a hostile post, an err-log file)
    return int(value) if value.isascii() and value.isdigit() and int(value) > 0 else None


def to_cdr(cdr: XmlCdr, node: str) -> CdrRecord | None:
    """The CDR the engine would have written, as far as FreeSWITCH's record tells it;
    None for a channel that is not a managed call (an agent leg, an unmanaged call)."""
    if not cdr.managed:
        return None
    v = cdr.variables
    started = _us(v, "start_uepoch")
    ended = _us(v, "end_uepoch") or started
    if started is None or ended is None:
        raise InvalidXmlCdr(f"call {cdr.uuid}: no start_uepoch/end_uepoch")
    direction = Direction.OUTBOUND if v.get("direction") == "outbound" else Direction.INBOUND
    timeline = CallTimeline(
        call_uuid=cdr.uuid, node=node, direction=direction,
        did=v.get("cc_did") or cdr.destination_number,
    )  # fmt: skip
    role = LegRole.CALLER if direction is Direction.INBOUND else LegRole.OUTBOUND
    caller = timeline.add_leg(
        cdr.uuid, role, direction,
        from_number=cdr.caller_id_number, from_name=cdr.caller_id_name,
        to_number=cdr.destination_number,
    )  # fmt: skip
    caller.created_us = started
    caller.answered_us = _us(v, "answer_uepoch")
    caller.bridged_us = _us(v, "bridge_uepoch")
    caller.hangup_us = caller.ended_us = ended
    caller.hangup_cause = v.get("hangup_cause") or "NORMAL_CLEARING"
    caller.hangup_disposition = v.get("sip_hangup_disposition", "")
    timeline.hangup_order.append(cdr.uuid)
    # a queue's callback: this is the agent's leg, the one it was bridged to the customer's
    callback = v.get("cc_entry") == "callback" and bool(v.get("cc_agent"))
    other_uuid = v.get("bridge_uuid") or v.get("last_bridge_to") or cdr.agent_uuid
    if caller.bridged_us is not None and other_uuid and other_uuid != cdr.uuid:
        if callback:
            other = timeline.add_leg(other_uuid, LegRole.OUTBOUND, Direction.OUTBOUND)
        else:
            other = timeline.agent_leg(other_uuid, cdr.agent_number)
            other.agent_extension = cdr.agent_number or None
        # only A legs are posted: the other leg's own times are not in this document
        other.created_us = other.answered_us = other.bridged_us = caller.bridged_us
        other.hangup_cause = v.get("bridge_hangup_cause") or None
    queue = v.get("cc_queue")
    if queue and callback:
        timeline.called_back(queue, v["cc_agent"], v.get("cc_callback_number") or "")
    elif queue:
        timeline.queue = queue
        timeline.queue_joined_us = _us(v, "cc_queue_joined")
    return replace(build_cdr(timeline, now_us=ended), source=CdrSource.FREESWITCH)
