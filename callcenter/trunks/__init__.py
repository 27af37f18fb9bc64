"""Trunks: how calls leave the call center through SIP gateways (outbound routes)."""

from callcenter.trunks.outbound import Dialout, OutboundRoute, pick

__all__ = ["Dialout", "OutboundRoute", "pick"]
