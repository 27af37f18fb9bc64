"""`callcenter token create|list|revoke` against a real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from callcenter.cli import main
from callcenter.services import tokens
from callcenter.store import migrate
from callcenter.store.database import Database
from tests.conftest import create_database, drop_database


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A database of its own: the CLI commits, and the session's database stays clean."""
    url = create_database("cc_tokens")
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()
    try:
        yield url
    finally:
        drop_database(url)


def run(pg_url: str, *args: str) -> tuple[int, str]:
    env = {"CALLCENTER_DATABASE_URL": pg_url}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_create_prints_the_secret_once_then_list_and_revoke(pg_url: str) -> None:
    code, out = run(pg_url, "token", "create", "cli-crm", "--scope", "operate")
    assert code == 0, out
    secret = out.strip().splitlines()[-1]
    database = Database(pg_url)
    try:
        assert tokens.authenticate(database, secret).name == "cli-crm"
        code, out = run(pg_url, "token", "list")
        assert code == 0 and "cli-crm" in out and "operate" in out
        assert secret not in out
        code, out = run(pg_url, "token", "create", "cli-crm", "--scope", "read")
        assert code == 1 and "[token_exists]" in out
        code, out = run(pg_url, "token", "revoke", "cli-crm")
        assert code == 0 and "revoked" in out
        code, out = run(pg_url, "token", "list", "--json")
        assert '"revoked_at": null' not in out.split('"cli-crm"')[1].split("}")[0]
    finally:
        tokens_left = [t.name for t in tokens.list_tokens(database)]
        database.dispose()
    assert "cli-crm" in tokens_left


def test_a_bad_scope_is_a_usage_error(pg_url: str) -> None:
    code, out = run(pg_url, "token", "create", "x", "--scope", "root")
    assert code == 2 and "--scope" in out
