"""Webhook signatures: ``Callcenter-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The HMAC is of ``"<t>.<raw body>"`` with the webhook's secret. A receiver recomputes it over
the bytes it received, compares in constant time, and refuses a timestamp too far from its
own clock (a replayed old delivery).
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Callcenter-Signature"
TOLERANCE = 300  # seconds a receiver accepts between t and its own clock


def signature(secret: str, body: bytes, t: int) -> str:
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def verify(secret: str, body: bytes, header: str, now: float, tolerance: int = TOLERANCE) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    t = parts.get("t", "")
    if not t.isdigit() or abs(now - int(t)) > tolerance:
        return False
    expected = signature(secret, body, int(t)).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
