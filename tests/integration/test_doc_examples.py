"""Every `callcenter ...` example in the README and the docs runs, in the order written,
against a fresh SQLite database from the repository's root (as a reader would run them).

A line with a placeholder (`[...]`, `A | B`, `NAME`, `...`) is a synopsis, not an example.
The few examples that cannot run here are listed in NOT_HERE with the test that covers them.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from callcenter.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "dialplans" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SOUNDS = "/usr/share/freeswitch/sounds"

# example -> why it is not run here, and what covers it
NOT_HERE = {
    "callcenter serve": "runs until SIGTERM: test_metrics_http.test_serve_stops_cleanly_on_signal",
    "callcenter reload": "signals a running engine: test_cli_acd (reload, SIGHUP)",
    "callcenter top": "needs a running engine: test_wallboard.test_top_reads_a_live_engine_*",
}
DEMO = "needs `callcenter demo` running: test_metrics_http.test_the_demo_reloads_on_sighup_*"
_AT_DEMO = "CALLCENTER_DATA_DIR=var/demo"
_DEMO_PORT = f"{_AT_DEMO} CALLCENTER_METRICS_LISTEN=127.0.0.1:PORT"
NOT_HERE |= {
    f"{_DEMO_PORT} callcenter top --once": DEMO,
    f"{_DEMO_PORT} callcenter top": DEMO,
    f"{_AT_DEMO} callcenter queue list": DEMO,
    f"{_AT_DEMO} callcenter reload": DEMO,
}


def _blocks(path: Path) -> list[str]:
    lines, inside, out = path.read_text().splitlines(), False, []
    for line in lines:
        if line.startswith("```"):
            inside = not inside
            continue
        if inside:
            out.append(line.strip())
    return out


def _synopsis(line: str) -> bool:
    code = line.split(" #", 1)[0]
    return (
        re.search(r"\[(--|[A-Z])", code) is not None
        or " | " in code
        or "..." in code
        or any(re.fullmatch(r"[A-Z][A-Z0-9_]+", t) for t in code.split())
    )


def examples(path: Path) -> list[str]:
    return [
        line
        for line in _blocks(path)
        if re.match(r"^(\w+=\S+ )*callcenter ", line) and not _synopsis(line)
    ]


def _commands(line: str) -> list[tuple[dict[str, str], list[str], str | None]]:
    """``A && B > file``: each command with its variables and where its output goes."""
    tokens = shlex.split(line, comments=True)
    out, current = [], []
    for token in [*tokens, "&&"]:
        if token == "&&":
            env = {}
            while current and re.fullmatch(r"\w+=.*", current[0]):
                name, _, value = current.pop(0).partition("=")
                env[name] = value
            target = None
            if ">" in current:
                at = current.index(">")
                target, current = current[at + 1], current[:at]
            out.append((env, current[1:], target))
            current = []
        else:
            current.append(token)
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_runs(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    env = {"CALLCENTER_DATA_DIR": str(tmp_path / "var")}
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    sounds = _fake_sounds(tmp_path)
    ran = 0
    for line in examples(doc):
        if line.split(" #")[0].strip() in NOT_HERE:
            continue
        if "--format svg" in line and shutil.which("dot") is None:
            continue  # Graphviz is not installed here (the mermaid/dot forms are tested)
        for extra, args, target in _commands(line.replace(SOUNDS, str(sounds))):
            result = CliRunner().invoke(main, args, env={**env, **extra})
            assert result.exit_code == 0, f"{doc.relative_to(ROOT)}: {line}\n{result.output}"
            assert "Traceback" not in result.output
            if target is not None:
                (tmp_path / target).write_text(result.output)
            ran += 1
    if examples(doc):
        assert ran, doc


def _fake_sounds(tmp_path: Path) -> Path:
    """The shipped flows' stock FreeSWITCH sounds, as empty files: what --strict-audio
    finds on a host where the sound packages are installed."""
    root = tmp_path / "sounds"
    for flow in (ROOT / "dialplans").glob("*.yaml"):
        text = flow.read_text()
        for name in re.findall(r"[\w/.-]+\.wav", text):
            for language in ("en/us/callie", "fr/ca/june"):
                path = root / language / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
    return root


def test_synopsis_lines_are_not_taken_for_examples() -> None:
    assert _synopsis("callcenter ivr list | reload")
    assert _synopsis("callcenter route add DID TARGET")
    assert _synopsis("callcenter serve [--migrate]")
    assert not _synopsis("callcenter route outbound add n --match '^0([1-9]\\d{5,})$' --gateway g")
    assert _synopsis("CALLCENTER_DATABASE_URL=... callcenter db upgrade")
    assert not _synopsis("callcenter agent pause 1002 --reason lunch   # later: A | B")
    assert examples(ROOT / "README.md"), "the README has examples"


def test_fs_cli_examples_log_in_with_the_new_password() -> None:
    """Once freeswitch-conf's event socket is installed, `fs_cli -x` (ClueCon) is refused."""
    texts = {p: p.read_text() for p in [*DOCS, *sorted((ROOT / "freeswitch-conf").rglob("*.md"))]}
    render_help = CliRunner().invoke(main, ["fs", "render", "--help"]).output
    texts[ROOT / "fs render --help"] = render_help
    assert "fs_cli -p" in render_help
    for path, text in texts.items():
        for line in text.splitlines():
            if "fs_cli -x" in line:  # only before the install, or to show the refusal
                assert "must FAIL" in line or "before the copy" in line, f"{path}: {line}"
