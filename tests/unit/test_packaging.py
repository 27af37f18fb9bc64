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


def test_the_demo_installs_the_engine_alone_and_the_tests_bring_the_dev_tools() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = " ".join(data["project"]["dependencies"]).lower()
    dev = data["project"]["optional-dependencies"]["dev"]
    for tool in ("pytest", "mypy", "ruff", "hypothesis"):
        assert tool not in runtime and any(d.startswith(tool) for d in dev), tool
    rules = {
        line.split(":", 1)[0]: line.split(":", 1)[1].split("##")[0].split()
        for line in (ROOT / "Makefile").read_text().splitlines()
        if ":" in line and not line.startswith(("\t", "#", " ")) and "=" not in line.split(":")[0]
    }
    assert rules["demo"] == ["$(ENGINE)"] and rules["db-upgrade"] == ["$(ENGINE)"]
    for target in ("test", "lint", "typecheck", "fmt", "install"):
        assert rules[target] == ["$(STAMP)"], target
    makefile = (ROOT / "Makefile").read_text()
    engine_recipe = makefile.split("$(ENGINE): pyproject.toml", 1)[1].split("\n\n", 1)[0]
    assert "pip install --quiet -e ." in engine_recipe and "[dev]" not in engine_recipe
