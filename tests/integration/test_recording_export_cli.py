"""`recording export -o FILE`: a path that cannot be written is a one-line error, an existing
file is kept unless --force, and a failed export leaves no file behind."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from callcenter.store import migrate
from callcenter.store.database import Database
from callcenter.store.models import Recording


@pytest.fixture
def stored(tmp_path: Path) -> tuple[str, int]:
    audio = tmp_path / "rec" / "export-cli.wav"
    audio.parent.mkdir()
    audio.write_bytes(b"RIFF-audio")
    url = f"sqlite:///{tmp_path / 'rec.db'}"
    database = Database(url)
    migrate.upgrade(database)
    with database.session_scope() as s:
        row = Recording(call_uuid="export-cli-1", path=str(audio),
                        started_at=datetime(2026, 12, 1, tzinfo=UTC))  # fmt: skip
        s.add(row)
        s.flush()
        number = row.id
    database.dispose()
    return url, number


def _export(url: str, *args: str) -> Any:
    from callcenter.cli import main

    env = {"CALLCENTER_DATABASE_URL": url, "CALLCENTER_API_URL": ""}
    return CliRunner().invoke(main, ["recording", "export", *args], env=env)


def test_an_unwritable_path_is_a_one_line_error(stored: tuple[str, int], tmp_path: Path) -> None:
    url, number = stored
    done = _export(url, str(number), "-o", str(tmp_path / "nonexistent" / "x.wav"))
    assert done.exit_code == 1 and isinstance(done.exception, SystemExit)  # not an OSError
    assert "--output" in done.output and "No such file or directory" in done.output


def test_an_existing_file_is_kept_unless_force(stored: tuple[str, int], tmp_path: Path) -> None:
    url, number = stored
    out = tmp_path / "x.wav"
    out.write_bytes(b"keep me")
    refused = _export(url, str(number), "-o", str(out))
    assert refused.exit_code == 1 and "exists (--force replaces it)" in refused.output
    assert out.read_bytes() == b"keep me"
    done = _export(url, str(number), "-o", str(out), "--force")
    assert done.exit_code == 0, done.output
    assert out.read_bytes() == b"RIFF-audio"


def test_a_failed_export_leaves_no_file(stored: tuple[str, int], tmp_path: Path) -> None:
    url, _ = stored
    out = tmp_path / "y.wav"
    done = _export(url, "999999", "-o", str(out))
    assert done.exit_code == 1
    assert not out.exists() and list(tmp_path.glob(".y.wav*")) == []
