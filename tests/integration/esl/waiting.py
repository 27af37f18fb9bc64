"""The suite's one polling wait (never a bare sleep), re-exported for these tests."""

from tests.support import until

__all__ = ["until"]
