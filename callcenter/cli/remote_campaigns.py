"""The remote twins of ``callcenter campaign`` and ``callcenter dnc``: the same operations
through ``/api/v1``. A lead file is read here (its encoding, NULs, CSV syntax checked as a
local import checks them) and sent in parts of one import; the API checks each row."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any
from urllib.parse import quote

import click

from callcenter.cli import emit_json, emit_table
from callcenter.cli.campaign_cmd import (
    LISTED,
    duration,
    fields_of,
    print_summary,
    utc,
    warn_silent_abandons,
)
from callcenter.cli.campaign_leads_cmd import print_import, write_audit
from callcenter.cli.campaign_live import live_of
from callcenter.cli.csv_io import Rejects, csv_form, opened, progress_bar, source_name
from callcenter.cli.disposition_cmd import DISPOSITION_COLUMNS
from callcenter.cli.dnc_cmd import DNC_LISTED, print_dnc_import
from callcenter.cli.remote import Remote, RemoteApi
from callcenter.dialer.export import RESULT_COLUMNS, write_csv
from callcenter.dialer.importer import (
    BadLeadFile,
    Cells,
    ColumnMap,
    CsvRows,
    Rejected,
    header_refused,
    read_numbers,
    store_numbers,
)

PART_ROWS = 2000
PART_BYTES = 512 * 1024  # a request body stays well under the API's 1 MiB
DNC_PART = 5000


def _q(value: str) -> str:
    return quote(value, safe="")


def body_of(fields: dict[str, Any]) -> dict[str, Any]:
    """``CampaignSpec`` fields as the API's JSON."""
    body: dict[str, Any] = {}
    for key, value in fields.items():
        if key in ("window_start", "window_end"):
            continue
        if key == "retries":
            value = {
                str(o): {"times": r.times, "after_seconds": int(r.after.total_seconds())}
                for o, r in value.items()
            }
        elif isinstance(value, tuple):
            value = list(value)
        elif hasattr(value, "value"):
            value = value.value
        body[key] = value
    if "window_start" in fields:
        body["hours"] = f"{fields['window_start']:%H:%M}-{fields['window_end']:%H:%M}"
    return body


def campaign_create(api: RemoteApi, name: str, **options: Any) -> None:
    made = api.request("POST", "/campaigns", {"name": name, **body_of(fields_of(options, True))})
    click.echo(
        f"campaign {made['name']} created ({made['mode']}, stopped); import leads, then start it"
    )


def campaign_set(api: RemoteApi, name: str, **options: Any) -> None:
    changes = fields_of(options, False)
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    api.request("PATCH", f"/campaigns/{_q(name)}", body_of(changes))
    click.echo(f"campaign {name} changed: {', '.join(sorted(changes))}")


def campaign_list(api: RemoteApi, as_json: bool) -> None:
    rows = list(api.items("/campaigns"))
    if not as_json:
        rows = [{**r, "agents": ",".join(r["agents"]) or None} for r in rows]
    emit_table(rows, LISTED, as_json)


def campaign_show(api: RemoteApi, name: str, as_json: bool) -> None:
    found = api.request("GET", f"/campaigns/{_q(name)}")
    found.update(live_of(api, name))
    if as_json:
        emit_json(found)
    else:
        print_summary(found)


def _move(action: str, done: str) -> Remote:
    def run(api: RemoteApi, name: str) -> None:
        shown = api.request("POST", f"/campaigns/{_q(name)}/{action}")
        if action == "start":
            warn_silent_abandons(name, shown["mode"], shown.get("safe_harbor_message"))
        click.echo(f"campaign {name} {done}")

    return run


def _parts(rows: CsvRows, shown: Rejects) -> Iterator[tuple[list[str], list[list[Any]]]]:
    """The header, then parts of ``[line, cells]`` rows; rows this side rejects (not text,
    not CSV) go to ``shown`` and are counted by the caller."""
    header: list[str] | None = None
    part: list[list[Any]] = []
    size = 0
    for item in rows:
        if isinstance(item, Rejected):
            if header is None:
                raise header_refused(rows.source, item)
            shown(item)
            continue
        assert isinstance(item, Cells)
        if header is None:
            header = item.cells
            shown.columns(header)
            continue
        part.append([item.line, item.cells])
        size += len(json.dumps(item.cells)) + 12  # as the request will carry it
        if len(part) >= PART_ROWS or size >= PART_BYTES:
            yield header, part
            part, size = [], 0
    if header is None:
        raise BadLeadFile("the file is empty: the first line names the columns, e.g. phone,name")
    yield header, part


def campaign_import(
    api: RemoteApi,
    name: str,
    file: str,
    mapping: tuple[str, ...],
    region: str | None,
    encoding: str,
    delimiter: str | None,
    rejects: IO[str] | None,
    as_json: bool,
) -> None:
    columns = ColumnMap.parse(mapping)
    shown = Rejects(rejects)
    source = source_name(file)
    report: dict[str, Any] = {}
    with opened(file) as (stream, size), progress_bar(size, f"importing {file}", shown) as progress:
        rows = CsvRows(stream, encoding=encoding, delimiter=delimiter, source=source)
        for header, part in _parts(rows, shown):
            body = {
                "source": source,
                "header": header,
                "rows": part,
                "map": dict(columns.columns) or None,
                "region": region,
                "import_id": report.get("import_id"),
            }
            report = api.request("POST", f"/campaigns/{_q(name)}/leads", body)
            for r in report["rejected_rows"]:
                shown(Rejected(r["line"], r["reason"]))
            progress(rows.read_bytes)
    local = shown.count - report["rejected"]  # rows rejected here never reached the API
    report = {k: v for k, v in report.items() if k != "rejected_rows"}
    report["rows"] += local
    report["rejected"] += local
    shown.close()
    print_import(name, report, as_json)
    shown.refuse_all(report["rows"])


def _pages(api: RemoteApi, path: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    query = dict(query)
    while True:
        page = api.request("GET", path, query={**query, "limit": 5000})
        yield from page["items"]
        if not page.get("next"):
            return
        query["cursor"] = page["next"]


def campaign_export_results(
    api: RemoteApi, name: str, out: IO[str], excel: bool, delimiter: str | None, bom: bool
) -> None:
    items = _pages(api, f"/campaigns/{_q(name)}/leads", {})
    first = next(items, None)
    columns = list(first) if first is not None else list(RESULT_COLUMNS)
    every = itertools.chain([first] if first is not None else [], items)
    rows = ([item.get(c) for c in columns] for item in every)
    count = write_csv(out, columns, rows, **csv_form(excel, delimiter, bom))
    if getattr(out, "name", "-") not in ("-", "<stdout>"):
        click.echo(f"{count} leads written to {out.name}", err=True)


def campaign_audit(
    api: RemoteApi,
    name: str,
    fmt: str,
    since: datetime | None,
    until: datetime | None,
    out: IO[str],
) -> None:
    query = {k: v.isoformat() for k, v in (("since", utc(since)), ("until", utc(until))) if v}
    write_audit(out, fmt, _pages(api, f"/campaigns/{_q(name)}/audit", query))


def disposition_add(
    api: RemoteApi,
    name: str,
    code: str,
    key: int,
    label: str,
    retry_after: str | None,
    dnc: bool,
    global_dnc: bool,
    success: bool,
) -> None:
    after = None if retry_after is None else duration(retry_after, "--retry-after")
    body = {
        "code": code,
        "key": key,
        "label": label,
        "dnc": dnc,
        "global_dnc": global_dnc,
        "success": success,
        "retry_after": None if after is None else int(after.total_seconds()),
    }
    api.request("POST", f"/campaigns/{_q(name)}/dispositions", body)
    click.echo(f"campaign {name}: disposition {code} on *30{key}")


def disposition_list(api: RemoteApi, name: str, as_json: bool) -> None:
    rows = list(api.items(f"/campaigns/{_q(name)}/dispositions"))
    emit_table(rows, DISPOSITION_COLUMNS, as_json)


def disposition_remove(api: RemoteApi, name: str, code: str) -> None:
    api.request("DELETE", f"/campaigns/{_q(name)}/dispositions/{_q(code)}")
    click.echo(f"campaign {name}: disposition {code} removed")


def campaign_dispose(
    api: RemoteApi,
    name: str,
    lead_id: int,
    code: str,
    callback_at: datetime | None,
    callback_agent: str | None,
) -> None:
    at = utc(callback_at)
    body = {
        "code": code,
        "callback_at": at.isoformat() if at else None,
        "callback_agent": callback_agent,
    }
    found = api.request("POST", f"/campaigns/{_q(name)}/leads/{lead_id}/disposition", body)
    click.echo(f"campaign {name}: lead {lead_id} {code}, now {found['state']}")


# -- dnc ---------------------------------------------------------------------------------------


def _where(campaign: str | None) -> str:
    return f"campaign {campaign}'s list" if campaign else "the global list"


def dnc_add(
    api: RemoteApi,
    numbers: tuple[str, ...],
    campaign: str | None,
    reason: str,
    region: str | None,
) -> None:
    body = {"numbers": list(numbers), "campaign": campaign, "reason": reason, "region": region}
    added = api.request("POST", "/dnc", body)["added"]
    click.echo(
        f"{len(added)} added to {_where(campaign)}" + (f": {', '.join(added)}" if added else "")
    )


def dnc_import(
    api: RemoteApi,
    file: str,
    campaign: str | None,
    column: str | None,
    reason: str,
    region: str | None,
    encoding: str,
    delimiter: str | None,
    rejects: IO[str] | None,
    as_json: bool,
) -> None:
    shown = Rejects(rejects)
    if region is None:  # read here as the API reads one number: in the campaign's region
        region = api.request("GET", f"/campaigns/{_q(campaign)}")["region"] if campaign else "US"

    def send(numbers: list[str]) -> int:
        body = {"numbers": numbers, "campaign": campaign, "reason": reason, "region": region}
        return len(api.request("POST", "/dnc", body)["added"])

    with opened(file) as (stream, size), progress_bar(size, f"importing {file}", shown) as progress:
        rows = CsvRows(stream, encoding=encoding, delimiter=delimiter, source=source_name(file))
        counts = store_numbers(
            read_numbers(rows, region=region, column=column, on_header=shown.columns),
            send,
            batch=DNC_PART,
            on_reject=shown,
            stored=lambda: progress(rows.read_bytes),
        )
    shown.close()
    print_dnc_import(counts, as_json)
    shown.refuse_all(counts["rows"])


def dnc_check(
    api: RemoteApi, number: str, campaign: str | None, region: str | None, as_json: bool
) -> None:
    found = api.request("GET", f"/dnc/{_q(number)}", query={"campaign": campaign, "region": region})
    if as_json:
        click.echo(json.dumps(found, indent=2))
    else:
        lists = found["lists"]
        click.echo(
            f"{found['number']}: "
            + (f"do not call ({', '.join(lists)})" if lists else "not listed")
        )
    if found["blocked"]:
        sys.exit(3)


def dnc_list(api: RemoteApi, campaign: str | None, limit: int, as_json: bool) -> None:
    rows = api.request("GET", "/dnc", query={"campaign": campaign, "limit": limit})["entries"]
    emit_table(rows, DNC_LISTED, as_json)


def dnc_remove(api: RemoteApi, number: str, campaign: str | None, region: str | None) -> None:
    api.request("DELETE", f"/dnc/{_q(number)}", query={"campaign": campaign, "region": region})
    click.echo(f"{number} removed from {_where(campaign)}")


COMMANDS: dict[tuple[str, ...], Remote] = {
    ("campaign", "create"): campaign_create,
    ("campaign", "set"): campaign_set,
    ("campaign", "list"): campaign_list,
    ("campaign", "show"): campaign_show,
    ("campaign", "start"): _move("start", "started"),
    ("campaign", "pause"): _move("pause", "paused"),
    ("campaign", "stop"): _move("stop", "stopped"),
    ("campaign", "import"): campaign_import,
    ("campaign", "export-results"): campaign_export_results,
    ("campaign", "audit"): campaign_audit,
    ("campaign", "dispose"): campaign_dispose,
    ("campaign", "disposition", "add"): disposition_add,
    ("campaign", "disposition", "list"): disposition_list,
    ("campaign", "disposition", "remove"): disposition_remove,
    ("dnc", "add"): dnc_add,
    ("dnc", "import"): dnc_import,
    ("dnc", "check"): dnc_check,
    ("dnc", "remove"): dnc_remove,
    ("dnc", "list"): dnc_list,
}
