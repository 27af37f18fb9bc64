"""`callcenter ivr validate`: issues as file:line:col, a summary, exit 1 on errors, --json."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from callcenter.cli import main

GOOD = "version: 1\nstart: a\nnodes:\n  a: {type: play, prompts: gone.wav, next: b}\n  b: {type: hangup}\n"  # noqa: E501
BAD = "version: 1\nstart: a\nnodes:\n  a: {type: play, prompts: x.wav, next: nowhere}\n"


def run(*args: str) -> tuple[int, str]:
    """Queue names given: the database is not asked (tests/integration/test_ivr_cli.py)."""
    queues = () if "--queue" in args else ("--queue", "sales")
    result = CliRunner().invoke(main, ["ivr", "validate", *queues, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_valid_flow_exits_0_with_a_summary(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    code, out = run(str(tmp_path / "good.yaml"))
    assert (code, out) == (0, "1 flow(s) valid, 0 invalid: 0 error(s), 0 warning(s)\n")


def test_strict_audio_and_errors_exit_1(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "good.yaml").write_text(GOOD.replace("version: 1", "version: 1\nsounds: s"))
    code, out = run(str(tmp_path / "good.yaml"))
    assert code == 0 and out.startswith(f"warning: {tmp_path}/good.yaml:5:28: nodes.a.prompts:")
    code, out = run("--strict-audio", str(tmp_path / "good.yaml"))
    assert code == 1 and out.startswith(f"{tmp_path}/good.yaml:5:28: nodes.a.prompts: audio")


def test_errors_are_listed_with_a_summary(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    code, out = run(str(tmp_path))
    assert code == 1
    assert out.splitlines() == [
        f"{tmp_path}/bad.yaml:4:41: nodes.a.next: unknown target 'nowhere'",
        "0 flow(s) valid, 1 invalid: 1 error(s), 0 warning(s)",
    ]


def test_json_output(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    (tmp_path / "good.yaml").write_text(GOOD)
    code, out = run("--json", "--queue", "sales", str(tmp_path))
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert [f["name"] for f in report["flows"]] == ["good"]
    assert report["errors"] == [
        {
            "file": f"{tmp_path}/bad.yaml",
            "line": 4,
            "column": 41,
            "path": "nodes.a.next",
            "message": "unknown target 'nowhere'",
            "severity": "error",
        }
    ]


def test_hostile_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "evil.yaml").write_text("a: !!python/object/apply:os.system ['touch pwned']\n")
    code, out = run(str(tmp_path / "evil.yaml"))
    assert code == 1
    assert out.splitlines()[0].startswith(f"{tmp_path}/evil.yaml:1:4: tags are not allowed")
    assert not (Path.cwd() / "pwned").exists()


def test_control_characters_are_escaped_in_output(tmp_path: Path) -> None:
    (tmp_path / "esc.yaml").write_text(
        'version: 1\nstart: a\nnodes:\n  "a\\e[31m": {type: hangup}\n'
    )
    _, out = run(str(tmp_path / "esc.yaml"))
    assert "\x1b" not in out and "\\x1b" in out


def test_no_flow_files(tmp_path: Path) -> None:
    code, out = run(str(tmp_path))
    assert code == 1 and "no flow files" in out


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(main, ["ivr", "validate", "--help"])
    assert "callcenter ivr validate --strict-audio" in result.output


def test_a_nul_byte_is_one_located_error_not_a_traceback(tmp_path: Path) -> None:
    # issue 10 finding 7: `ivr validate` printed a yaml.reader.ReaderError traceback
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "nul.yaml").write_bytes(GOOD.replace("gone.wav", "go\x00ne.wav").encode())
    code, out = run(str(tmp_path))
    assert code == 1
    assert out.splitlines() == [
        f"{tmp_path}/nul.yaml:4:30: control character U+0000 is not allowed in a YAML file "
        '(remove it, or write it as an escape in a double-quoted string, e.g. "\\t")',
        "1 flow(s) valid, 1 invalid: 1 error(s), 0 warning(s)",
    ]


def test_without_queue_names_or_a_database_it_says_what_it_did_not_check(
    tmp_path: Path,
) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    env = {"CALLCENTER_DATA_DIR": str(tmp_path / "var")}
    result = CliRunner().invoke(main, ["ivr", "validate", str(tmp_path)], env=env)
    assert result.exit_code == 0
    assert result.stderr == (
        f"note: queue names not checked: no database at {tmp_path}/var/callcenter.db\n"
    )
    assert not (tmp_path / "var").exists()  # a check creates no database
