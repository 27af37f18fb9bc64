"""The package layering, read from the sources (``ast``), so a new import that breaks it fails.

- ``callcenter.ivr`` never imports ``callcenter.esl``: IVR flows use the engine's value
  grammar (``callcenter.grammar``) and vocabulary (``callcenter.vocabulary``).
- ``callcenter.acd`` and ``callcenter.ivr`` do not import each other, at module level or
  lazily inside a function: the IVR reaches a queue through ``calls.features.QueueEntry``.
- ``callcenter.grammar`` and ``callcenter.vocabulary`` import nothing of the engine's I/O.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "callcenter"


def imports_of(package: str) -> dict[str, set[str]]:
    """Every module each file of ``package`` imports (``from x import y`` counts ``x`` and
    ``x.y``), anywhere in the file."""
    found: dict[str, set[str]] = {}
    files = [ROOT / f"{package}.py"] if (ROOT / f"{package}.py").exists() else []
    files += sorted((ROOT / package).glob("*.py")) if (ROOT / package).is_dir() else []
    for path in files:
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(ROOT.parent))] = names
    return found


def offenders(package: str, forbidden: str) -> list[str]:
    return sorted(
        f"{path} imports {name}"
        for path, names in imports_of(package).items()
        for name in names
        if name == forbidden or name.startswith(forbidden + ".")
    )


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("ivr", "callcenter.esl"),
        ("ivr", "callcenter.acd"),
        ("acd", "callcenter.ivr"),
        ("grammar", "callcenter.esl"),
        ("vocabulary", "callcenter.esl"),
        ("calls/intents", "callcenter.acd"),
    ],
)
def test_package_does_not_import(package: str, forbidden: str) -> None:
    assert offenders(package, forbidden) == []


def test_the_rule_sees_an_import_inside_a_function() -> None:
    source = "def f():\n    from callcenter.esl import commands\n"
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    assert "callcenter.esl" in names
    assert imports_of("ivr"), "no IVR module found: the rule would pass on nothing"


def test_esl_still_offers_the_grammar_and_the_causes() -> None:
    from callcenter import grammar, vocabulary
    from callcenter.esl import quoting
    from callcenter.esl import vocabulary as esl_vocabulary

    assert quoting.token is grammar.token and quoting.VAR_NAME is grammar.VAR_NAME
    assert esl_vocabulary.HangupCause is vocabulary.HangupCause
