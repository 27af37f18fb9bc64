"""Random (version 4) UUIDs as text, the engine's ids for commands, legs and events.

``str(uuid.uuid4())`` builds a ``UUID`` object (its ``__init__`` checks and converts in
Python) only to print it: 21.5 k instructions an id, and a queue call makes about 15 of
them (the bus's events, every ``execute`` and ``bgapi``, the agent's leg, the queue
ticket). ``new_uuid`` writes the same text straight from 16 random bytes, in half that.
"""

from __future__ import annotations

from os import urandom
from typing import Final

# RFC 4122's variant: the top two bits of byte 8 are 10, so its first hex digit is 8-b
_VARIANT: Final = {f"{n:x}": "89ab"[n & 3] for n in range(16)}


def new_uuid() -> str:
    """What ``str(uuid.uuid4())`` returns: 122 random bits, version 4, RFC 4122 variant."""
    h = urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
