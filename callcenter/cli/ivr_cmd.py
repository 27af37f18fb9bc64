from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from callcenter.cli import Context, emit_table, pass_context
from callcenter.errors import ConfigError
from callcenter.ivr import graph as ivr_graph
from callcenter.ivr import plan
from callcenter.ivr.http import fetch_json
from callcenter.ivr.simulate import offline_http, simulate
from callcenter.ivr.validate import Catalog, Issue, flow_files, load_flow, load_flows


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
    help="A queue that exists (repeatable); when given, other queue names are errors and "
    "the database is not asked.",
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

    Queue names are checked as `ivr reload` and the engine check them: against the queues
    stored in the database (none stored yet: any name goes), or against --queue. When the
    database cannot say, the check is skipped with "note: queue names not checked: WHY".

    \b
    Examples:
      callcenter ivr validate
      callcenter ivr validate dialplans/main.yaml dialplans/support.yaml
      callcenter ivr validate --strict-audio --queue sales --queue support --json
    """
    targets = list(paths) or [_dialplans_dir(ctx)]
    files = flow_files(targets)
    if not files:
        raise click.ClickException(f"no flow files (*.yaml, *.yml) in {_names(targets)}")
    checked, not_checked = (list(queues), "") if queues else _stored_queues(ctx)
    catalog = load_flows(
        files,
        queues=checked,
        sounds_root=sounds_root,
        missing_audio="error" if strict_audio else "warning",
    )
    if as_json:
        report = _report(catalog, files)
        report["not_checked"] = [not_checked] if not_checked else []
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for issue in sorted(catalog.errors + catalog.warnings, key=_order):
            prefix = "warning: " if issue.severity == "warning" else ""
            click.echo(_printable(prefix + str(issue)), err=issue.severity == "error")
        if not_checked:
            click.echo(f"note: {not_checked}", err=True)
        click.echo(_summary(catalog, len(files)))
    if catalog.errors:
        raise SystemExit(1)


def _stored_queues(ctx: Context) -> tuple[list[str] | None, str]:
    """The queue names to check flows against, as `ivr reload` and an engine check them
    (the database's), or None and what was not checked. A SQLite file that does not exist
    is neither created nor imported for (no database: validate reads YAML files only)."""
    url = ctx.settings.database_url
    file = url.removeprefix("sqlite:///").partition("?")[0] if url.startswith("sqlite:///") else ""
    if file and file != ":memory:" and not Path(file).exists():
        return None, f"queue names not checked: no database at {file}"
    from callcenter.services import flows as flows_service  # the database: only now

    return flows_service.checked_queues(ctx.database)


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


def _dialplans_dir(ctx: Context) -> Path:
    """The configured flows folder, or a one-line error naming the directory looked at."""
    folder = ctx.settings.dialplans_dir
    if not folder.is_dir():
        origin = (
            f"relative paths in {ctx.settings.config_file} are relative to its directory"
            if ctx.settings.config_file is not None
            else "a relative dialplans_dir is relative to the current directory"
        )
        raise ConfigError(
            f"dialplans_dir {folder} is not a directory ({origin}); set dialplans_dir in the "
            "settings file or CALLCENTER_DIALPLANS_DIR, or name the files",
            code="dialplans_dir_missing",
        )
    return folder


def _catalog_or_exit(ctx: Context) -> Catalog:
    catalog = load_flows(_dialplans_dir(ctx))
    for issue in sorted(catalog.errors, key=_order):
        click.echo(_printable(str(issue)), err=True)
    return catalog


def _one_flow(ctx: Context, name: str) -> tuple[plan.Flow, Catalog]:
    """FLOW by name (from dialplans_dir) or as a path to one .yaml file."""
    is_file = name.endswith((".yaml", ".yml")) and Path(name).is_file()
    if is_file and not ctx.settings.dialplans_dir.is_dir():
        catalog = load_flows([])  # one file given: the flows folder is not needed
    else:
        catalog = _catalog_or_exit(ctx)
    if is_file:
        result = load_flow(Path(name))
        for issue in result.errors:
            click.echo(_printable(str(issue)), err=True)
        if result.flow is None:
            raise SystemExit(1)
        return result.flow, catalog
    if name not in catalog.flows:
        if catalog.errors:
            raise SystemExit(1)
        known = ", ".join(sorted(catalog.flows)) or "none"
        raise click.ClickException(f"no flow named {name!r} (loaded: {known})")
    return catalog.flows[name], catalog


@ivr.command("graph")
@click.argument("flow_name", metavar="FLOW")
@click.option(
    "--format", "fmt", type=click.Choice(["dot", "mermaid", "svg", "png"]), default="dot",
    show_default=True, help="svg and png need Graphviz's `dot`.",
)  # fmt: skip
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of standard output.")  # fmt: skip
@pass_context
def graph(ctx: Context, flow_name: str, fmt: str, output: Path | None) -> None:
    """Draw a flow: its nodes (name and type) and where each input leads.

    \b
    Examples:
      callcenter ivr graph main --format mermaid
      callcenter ivr graph main --format svg -o main.svg
      callcenter ivr graph dialplans/support.yaml | dot -Tpng > support.png
    """
    flow, _ = _one_flow(ctx, flow_name)
    if fmt in ("dot", "mermaid"):
        text = ivr_graph.to_dot(flow) if fmt == "dot" else ivr_graph.to_mermaid(flow)
        data = text.encode()
    else:
        data = ivr_graph.render(flow, fmt)
    if output is not None:
        output.write_bytes(data)
        click.echo(f"{flow.name}: {fmt} written to {output}")
    elif fmt == "png" and sys.stdout.isatty():
        raise click.ClickException("a PNG is binary: give --output FILE or redirect the output")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@ivr.command("simulate")
@click.argument("flow_name", metavar="FLOW")
@click.option("--digits", default="", metavar="KEYS,KEYS,...",
              help="What the caller presses at each prompt waiting for digits, comma "
                   "separated; an empty entry presses nothing (timeout). When they run "
                   "out the caller hangs up.")  # fmt: skip
@click.option("--caller", default="+15550000000", show_default=True, help="Caller ID number.")
@click.option("--did", default="", help="The number dialled.")
@click.option("--at", "at", metavar="ISO-TIME",
              help="When the call happens, e.g. 2026-12-25T20:00 (local to each schedule "
                   "unless it carries an offset). Default: now.")  # fmt: skip
@click.option(
    "--live-http",
    is_flag=True,
    help="Let http nodes call the real URLs (default: they take on_error without calling out).",
)
@pass_context
def simulate_cmd(
    ctx: Context, flow_name: str, digits: str, caller: str, did: str, at: str | None,
    live_http: bool,
) -> None:  # fmt: skip
    """Walk a flow without telephony and print each step and the final action.

    \b
    Examples:
      callcenter ivr simulate main --digits 1,4#, --caller +15551234567 --at 2026-12-25T20:00
      callcenter ivr simulate main --digits 1,3,412345# --live-http
    """
    flow, catalog = _one_flow(ctx, flow_name)
    try:
        when = datetime.fromisoformat(at) if at else None
    except ValueError as exc:
        raise click.BadParameter(f"{at!r} is not an ISO time (2026-12-25T20:00)") from exc
    keys = digits.split(",") if digits else []
    outcome = simulate(
        flow, keys, flows=catalog.flows.__getitem__, caller=caller, did=did, at=when,
        echo=lambda line: click.echo(_printable(line)),
        http=fetch_json if live_http else offline_http,
    )  # fmt: skip
    if outcome is None:
        click.echo("final: caller hung up")


@ivr.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_context
def list_flows(ctx: Context, as_json: bool) -> None:
    """The valid flows in dialplans_dir: name, the file's version (file_version), checksum
    and when an engine first loaded that version (from the database; "-" when no engine
    has loaded it yet). Each file with an error is reported (FILE:LINE:COL: PATH: MESSAGE)
    and the exit status is then 1; the valid flows are listed all the same.

    The version is the file's, which an engine runs only once it has loaded it. With
    --api-url (CALLCENTER_API_URL) the engine is asked: the list then shows the version
    it runs (running_version) beside the file's.

    \b
    Examples:
      callcenter ivr list
      callcenter ivr list --json
      callcenter --api-url http://pbx1:9464 --api-token cc_... ivr list
    """
    from callcenter.services import flows as flows_service  # the database: not for validate

    found = flows_service.list_flows(ctx.database, _dialplans_dir(ctx))
    for note in found.notes:
        click.echo(f"warning: {note}", err=True)
    rows = [
        {"name": i.name, "file_version": i.version, "checksum": i.checksum[:12],
         "source": i.source, "loaded_at": i.loaded_at}
        for i in found.flows
    ]  # fmt: skip
    emit_table(rows, ["name", "file_version", "checksum", "source", "loaded_at"], as_json)
    rejected_files(found.errors, len(found.rejected))


def rejected_files(errors: Sequence[str], files: int) -> None:
    """After a listing: each error of the rejected files, then exit 1 (nothing: go on)."""
    if not errors:
        return
    for error in errors:
        click.echo(_printable(error), err=True)
    click.echo(f"{files} file(s) rejected: their flows are not listed", err=True)
    raise SystemExit(1)


@ivr.command("reload")
@pass_context
def reload_flows(ctx: Context) -> None:
    """Validate every flow, then have every running engine load them (within a second).

    The flows are checked as an engine checks them (queue names against the queues
    stored). New calls get the new versions; calls already inside a flow keep theirs. With
    any error nothing is sent and the engines keep their current flows. Each engine reads
    its own dialplans_dir: keep them alike on every host.

    \b
    Example:
      callcenter ivr reload
    """
    from callcenter.services import flows as flows_service
    from callcenter.services.flows import FlowsInvalid

    try:
        done = flows_service.reload(ctx.database, ctx.who, _dialplans_dir(ctx))
    except FlowsInvalid as exc:
        for line in (*exc.errors, *(f"warning: {w}" for w in exc.warnings)):
            click.echo(_printable(line), err=True)
        click.echo("not reloaded: the engines keep their current flows", err=True)
        raise SystemExit(1) from exc
    for warning in done.warnings:
        click.echo(_printable(f"warning: {warning}"), err=True)
    click.echo(f"{len(done.flows)} flow(s) valid; sent to every running engine")
