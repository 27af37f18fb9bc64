"""The package list in pyproject.toml is written by hand (migrations/ maps into the package)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _declared() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["tool"]["setuptools"]["packages"])


def test_every_package_directory_is_declared() -> None:
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "callcenter").rglob("__init__.py")
    }
    missing = found - _declared()
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


def test_migrations_install_inside_the_package() -> None:
    assert {"callcenter._migrations", "callcenter._migrations.versions"} <= _declared()
    assert (ROOT / "migrations" / "__init__.py").exists()
    assert (ROOT / "migrations" / "versions" / "__init__.py").exists()


def test_console_script_points_at_main() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["scripts"]["callcenter"] == "callcenter.__main__:main"
