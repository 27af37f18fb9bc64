"""Failover: which failures of one trunk send the call to the next one. Pure.

A route's trunks are tried in order. A failure that means "this carrier could not" (its
gateway is down or not loaded on the node, it answered 503, it never answered the INVITE)
tries the next trunk; the
callee's own answer (busy, no answer, declined) never does: another carrier would ring the
same busy phone. ``sip:5xx`` stands for any SIP 5xx final response, whatever cause
FreeSWITCH mapped it to (``variable_sip_term_status`` of the failed leg).
"""

from __future__ import annotations

from collections.abc import Iterable

from callcenter.errors import InvalidOutboundRoute
from callcenter.vocabulary import HangupCause

SIP_5XX = "sip:5xx"
DEFAULT_CAUSES: frozenset[str] = frozenset(
    {
        "NORMAL_TEMPORARY_FAILURE",
        "NETWORK_OUT_OF_ORDER",
        "GATEWAY_DOWN",
        "INVALID_GATEWAY",  # the node has no such gateway (not rendered and applied there)
        "NO_ROUTE_DESTINATION",
        "RECOVERY_ON_TIMER_EXPIRE",
        SIP_5XX,
    }
)
# the callee answered: the same on every carrier (configuring them is refused)
CALLEE_CAUSES: frozenset[str] = frozenset(
    {
        "USER_BUSY",
        "NO_ANSWER",
        "NO_USER_RESPONSE",
        "CALL_REJECTED",
        "ORIGINATOR_CANCEL",
        "NORMAL_CLEARING",
        "SUBSCRIBER_ABSENT",
        "UNALLOCATED_NUMBER",
        "NUMBER_CHANGED",
    }
)
MAX_TRUNKS = 8


def check_causes(causes: Iterable[str]) -> frozenset[str]:
    """FreeSWITCH hangup causes (and ``sip:5xx``) a route fails over on; an empty list
    means the defaults. The callee's answers are refused, naming them."""
    given = [c.strip() for c in causes if c.strip()]
    if not given:
        return DEFAULT_CAUSES
    for cause in given:
        if cause != SIP_5XX and cause not in HangupCause.__members__:
            raise InvalidOutboundRoute(
                f"failover_causes: {cause[:40]!r} is not a FreeSWITCH hangup cause "
                f"(e.g. NORMAL_TEMPORARY_FAILURE, GATEWAY_DOWN) nor {SIP_5XX}",
                field="failover_causes",
            )
        if cause in CALLEE_CAUSES:
            raise InvalidOutboundRoute(
                f"failover_causes: {cause} is the callee's answer: another trunk would get "
                "the same one",
                field="failover_causes",
            )
    return frozenset(given)


def causes_text(causes: frozenset[str]) -> str:
    """As stored: empty for the defaults, else the causes sorted, comma-separated."""
    return "" if causes == DEFAULT_CAUSES else ",".join(sorted(causes))


def parse_causes(text: str) -> frozenset[str]:
    return check_causes(text.split(","))


def fails_over(cause: str, sip_status: str, causes: frozenset[str]) -> bool:
    """Whether a failed attempt (``cause``, the far end's final SIP ``sip_status`` if any)
    should be tried on the next trunk."""
    if cause in CALLEE_CAUSES:
        return False
    if cause in causes:
        return True
    return SIP_5XX in causes and len(sip_status) == 3 and sip_status.startswith("5")
