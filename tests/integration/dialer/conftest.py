"""The engine over the simulator and PostgreSQL, as the calls tests have it."""

from tests.integration.calls.conftest import calls_db_url, engine, sim

__all__ = ["calls_db_url", "engine", "sim"]
