"""FreeSWITCH's a1-hash: md5 of ``user:domain:password``, so the password is never stored."""

from __future__ import annotations

import hashlib


def a1_hash(extension: str, domain: str, password: str) -> str:
    return hashlib.md5(
        f"{extension}:{domain}:{password}".encode(), usedforsecurity=False
    ).hexdigest()
