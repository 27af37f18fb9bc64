"""FreeSWITCH's posted CDRs (sessions-3, s17-xml-cdr) read as the engine's CdrRecord."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callcenter.cdr.xml_cdr import (
    InvalidXmlCdr,
    document_from_post,
    parse_document,
    to_cdr,
)
from callcenter.vocabulary import CdrSource, Disposition, HangupBy, LegRole

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "xml_cdr"
ERR_LOG_FILE = FIXTURES / "s17-xml-cdr-err-log-dir-a_eb498acd-3e9e-4fd7-aa37-72ea2abb5b46.cdr.xml"


def recorded_post(number: int) -> tuple[str, dict[str, str], bytes]:
    """(request line, headers, body) of ``s17-xml-cdr-post-<number>-*.txt``."""
    (path,) = FIXTURES.glob(f"s17-xml-cdr-post-{number}-*.txt")
    head, _, body = path.read_bytes().partition(b"\n\n")
    lines = head.decode().splitlines()[1:]  # the first is the sink's "# received" clock
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return lines[0], headers, body


def parsed_post(number: int) -> tuple[str, bytes]:
    _, headers, body = recorded_post(number)
    return headers["Content-Type"], document_from_post(body, headers["Content-Type"])


@pytest.mark.parametrize(
    ("number", "uuid"),
    [
        (1, "2cce5460-2e51-48f6-bedb-d74e44ceaaa7"),
        (2, "684e03c8-6471-4238-9e93-ee90545a56f9"),
        (3, "c9aa12ed-d772-445f-bd21-1dc4353ad94c"),
        (4, "c94ffa86-7add-4c39-8068-1664d674a1c8"),
    ],
)
def test_every_recorded_post_gives_its_call_uuid(number: int, uuid: str) -> None:
    line, _, _ = recorded_post(number)
    assert line.startswith(f"POST /cdr?uuid=a_{uuid} ")
    _, document = parsed_post(number)
    cdr = parse_document(document)
    assert cdr.uuid == uuid
    assert cdr.switchname == "fs1"
    assert cdr.managed


def test_encode_true_and_false_give_the_same_kind_of_document() -> None:
    kinds = {parsed_post(n)[0] for n in (1, 2, 3, 4)}
    assert kinds == {"application/x-www-form-urlencoded", "application/x-www-form-plaintext"}
    for number in (1, 2, 3, 4):
        assert parsed_post(number)[1].startswith(b'<?xml version="1.0"?>\n<cdr ')


def test_inbound_call_hung_up_by_the_engine() -> None:
    record = to_cdr(parse_document(parsed_post(1)[1]), "fs1")
    assert record is not None
    assert record.source is CdrSource.FREESWITCH
    assert record.call_uuid == "2cce5460-2e51-48f6-bedb-d74e44ceaaa7"
    assert (record.from_number, record.from_name, record.did) == (
        "15551234567",
        "Alice Caller",
        "5100",
    )
    assert record.hangup_cause == "NORMAL_CLEARING"
    assert record.hangup_by is HangupBy.SYSTEM  # sip_hangup_disposition send_bye
    assert record.disposition is not Disposition.ANSWERED  # answered by the engine, never bridged
    assert record.started_at == datetime(2026, 12, 6, 5, 42, 41, 586744, tzinfo=UTC)
    assert record.answered_at is not None and record.ring_ms == 19
    assert record.total_ms == 1039
    assert [leg.role for leg in record.legs] == [LegRole.CALLER]


@pytest.mark.parametrize("number", [2, 4])
def test_bridged_call_names_its_agent_leg(number: int) -> None:
    parsed = parse_document(parsed_post(number)[1])
    record = to_cdr(parsed, "fs1")
    assert record is not None
    assert record.disposition is Disposition.ANSWERED
    assert record.agent_extension == "1001"
    caller, agent = record.legs
    assert caller.role is LegRole.CALLER and agent.role is LegRole.AGENT
    assert agent.leg_uuid == parsed.agent_uuid and agent.agent_extension == "1001"
    assert agent.answered_at is not None
    assert record.talk_ms > 1900


def test_err_log_dir_file_is_the_raw_document() -> None:
    body = ERR_LOG_FILE.read_bytes()
    for content_type in ("text/xml", "application/x-www-form-plaintext", ""):
        document = document_from_post(body, content_type)
        assert parse_document(document).uuid == "eb498acd-3e9e-4fd7-aa37-72ea2abb5b46"


def test_base64_encoding() -> None:
    document = ERR_LOG_FILE.read_bytes()
    body = b"cdr=" + base64.b64encode(document)
    assert document_from_post(body, "application/x-www-form-base64-encoded") == document


def _document(variables: str, root: str = "cdr") -> bytes:
    return f"<{root}><variables>{variables}</variables></{root}>".encode()


def test_agent_legs_and_unmanaged_channels_are_not_calls() -> None:
    base = "<uuid>u1</uuid><start_uepoch>1</start_uepoch><end_uepoch>2</end_uepoch>"
    agent = parse_document(
        _document(base + "<cc_managed>true</cc_managed><cc_role>agent</cc_role>")
    )
    assert to_cdr(agent, "fs1") is None
    assert to_cdr(parse_document(_document(base)), "fs1") is None
    caller = parse_document(_document(base + "<cc_managed>true</cc_managed>"))
    record = to_cdr(caller, "fs1")
    assert record is not None and record.disposition is Disposition.ABANDONED


def test_a_waiting_caller_who_hung_up_is_abandoned_in_its_queue() -> None:
    variables = (
        "<uuid>u2</uuid><cc_managed>true</cc_managed><cc_queue>sales</cc_queue>"
        "<cc_queue_joined>1500000</cc_queue_joined><start_uepoch>1000000</start_uepoch>"
        "<answer_uepoch>1100000</answer_uepoch><end_uepoch>9000000</end_uepoch>"
        "<sip_hangup_disposition>recv_bye</sip_hangup_disposition>"
    )
    record = to_cdr(parse_document(_document(variables)), "fs1")
    assert record is not None
    assert (record.queue, record.disposition, record.hangup_by) == (
        "sales",
        Disposition.ABANDONED,
        HangupBy.CALLER,
    )
    assert record.queue_wait_ms == 7500


def test_a_callbacks_record_is_its_queues_and_its_agents() -> None:
    # as the engine's own (docs/cdr.md, "Queue callbacks"): the posted leg is the agent's,
    # the leg it was bridged to the customer's (it had been taken for the agent)
    variables = (
        "<uuid>u5</uuid><cc_managed>true</cc_managed><cc_role>caller</cc_role>"
        "<cc_entry>callback</cc_entry><cc_queue>care</cc_queue><cc_agent>4101</cc_agent>"
        "<cc_callback_number>15554010001</cc_callback_number><direction>outbound</direction>"
        "<destination_number>4101</destination_number><start_uepoch>1000000</start_uepoch>"
        "<answer_uepoch>1100000</answer_uepoch><bridge_uepoch>3000000</bridge_uepoch>"
        "<bridge_uuid>u6</bridge_uuid><end_uepoch>9000000</end_uepoch>"
        "<sip_hangup_disposition>recv_bye</sip_hangup_disposition>"
    )
    record = to_cdr(parse_document(_document(variables)), "fs1")
    assert record is not None
    found = (record.queue, record.agent_extension, record.to_number, record.disposition,
             record.hangup_by, record.queue_wait_ms, record.talk_ms)  # fmt: skip
    assert found == ("care", "4101", "15554010001", Disposition.ANSWERED, HangupBy.AGENT, 0, 6000)
    assert [leg.role for leg in record.legs] == [LegRole.OUTBOUND, LegRole.OUTBOUND]


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"hello", "application/x-www-form-urlencoded", "neither"),
        (b"cdr=%3Ccdr", "application/x-www-form-urlencoded", "not well-formed"),
        (b"cdr=<a/>&x=1", "application/x-www-form-urlencoded", "more than the cdr field"),
        (b"cdr=<a/>", "multipart/form-data", "Content-Type"),
        (b"<variables/>", "text/xml", "root element"),
        (b"<cdr/>", "text/xml", "no <variables>"),
        (b"<cdr><variables/></cdr>", "text/xml", "uuid"),
        (
            b'<!DOCTYPE cdr [<!ENTITY a "aa">]><cdr><variables><uuid>&a;</uuid></variables></cdr>',
            "text/xml",
            "DTD",
        ),
        (
            b'<!DOCTYPE cdr SYSTEM "file:///etc/passwd"><cdr/>',
            "text/xml",
            "DTD",
        ),
    ],
)
def test_malformed_posts_are_refused_with_a_reason(
    body: bytes, content_type: str, reason: str
) -> None:
    with pytest.raises(InvalidXmlCdr, match=reason):
        parse_document(document_from_post(body, content_type))


def test_a_call_without_times_is_refused() -> None:
    cdr = parse_document(_document("<uuid>u3</uuid><cc_managed>true</cc_managed>"))
    with pytest.raises(InvalidXmlCdr, match="start_uepoch"):
        to_cdr(cdr, "fs1")


def test_a_time_in_non_ascii_digits_is_refused_not_a_crash() -> None:
    # "²".isdigit() is True and int("²") raises ValueError: it killed the backstop greenlet
    body = "<uuid>u4</uuid><cc_managed>true</cc_managed><start_uepoch>²</start_uepoch>"
    cdr = parse_document(_document(body))
    with pytest.raises(InvalidXmlCdr, match="start_uepoch"):
        to_cdr(cdr, "fs1")
