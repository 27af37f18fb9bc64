"""The calls' engine fixtures: the simulator over TCP, the engine, PostgreSQL."""

from tests.integration.calls.conftest import calls_db_url, engine, sim

__all__ = ["calls_db_url", "engine", "sim"]
