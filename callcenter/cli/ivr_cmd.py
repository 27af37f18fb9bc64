from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from callcenter.cli import Context, pass_context
from callcenter.ivr.validate import Catalog, Issue, flow_files, load_flows


@click.group()
def ivr() -> None:
    """YAML IVR flows (dialplans/*.yaml): check them before they reach a call.

    The flow language is described in dialplans/README.md; dialplans/schema.json lets an
    editor check and complete flows while typing.
    """


@ivr.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--strict-audio", is_flag=True, help="A missing audio file is an error.")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="NAME",
    help="A queue that exists (repeatable); when given, other queue names are errors.",
)
@click.option(
    "--sounds-root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Look for audio files here instead of each flow's `sounds` folder.",
)
@pass_context
def validate(
    ctx: Context,
    paths: tuple[Path, ...],
    as_json: bool,
    strict_audio: bool,
    queues: tuple[str, ...],
    sounds_root: Path | None,
) -> None:
    """Check flow files (default: the configured dialplans_dir) and print every problem.

    Each problem is printed as FILE:LINE:COL: PATH: MESSAGE, warnings prefixed with
    "warning:". Exit status 1 when any flow has an error.

    \b
    Examples:
      callcenter ivr validate
      callcenter ivr validate dialplans/main.yaml dialplans/support.yaml
      callcenter ivr validate --strict-audio --queue sales --queue support --json
    """
    targets = list(paths) or [ctx.settings.dialplans_dir]
    files = flow_files(targets)
    if not files:
        raise click.ClickException(f"no flow files (*.yaml, *.yml) in {_names(targets)}")
    catalog = load_flows(
        files,
        queues=queues or None,
        sounds_root=sounds_root,
        missing_audio="error" if strict_audio else "warning",
    )
    if as_json:
        click.echo(json.dumps(_report(catalog, files), indent=2, ensure_ascii=False))
    else:
        for issue in sorted(catalog.errors + catalog.warnings, key=_order):
            prefix = "warning: " if issue.severity == "warning" else ""
            click.echo(_printable(prefix + str(issue)), err=issue.severity == "error")
        click.echo(_summary(catalog, len(files)))
    if catalog.errors:
        raise SystemExit(1)


def _order(issue: Issue) -> tuple[str, int, int]:
    return issue.where.file, issue.where.line, issue.where.column


def _names(paths: list[Path]) -> str:
    return ", ".join(str(p) for p in paths)


def _summary(catalog: Catalog, files: int) -> str:
    invalid = files - len(catalog.flows)
    return (
        f"{len(catalog.flows)} flow(s) valid, {invalid} invalid: "
        f"{len(catalog.errors)} error(s), {len(catalog.warnings)} warning(s)"
    )


def _issue(issue: Issue) -> dict[str, Any]:
    w = issue.where
    return {
        "file": w.file,
        "line": w.line,
        "column": w.column,
        "path": issue.path,
        "message": issue.message,
        "severity": issue.severity,
    }


def _report(catalog: Catalog, files: list[Path]) -> dict[str, Any]:
    flows = [
        {
            "name": f.name,
            "version": f.version,
            "source": f.source,
            "checksum": f.checksum,
            "nodes": len(f.nodes),
        }
        for f in catalog.flows.values()
    ]
    return {
        "ok": not catalog.errors,
        "files": [str(f) for f in files],
        "flows": flows,
        "errors": [_issue(i) for i in catalog.errors],
        "warnings": [_issue(i) for i in catalog.warnings],
    }


def _printable(text: str) -> str:
    # a key or value in a hostile file must not drive the admin's terminal
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
