"""The remote twin of each operator command: the same operation through ``/api/v1``."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from callcenter.cli import emit_table
from callcenter.cli.remote import Remote, RemoteApi
from callcenter.cli.trunk_view import (
    GROUP_COLUMNS,
    LISTED,
    fields_of,
    group_row,
    print_status,
    print_trunk,
)


def _q(value: str) -> str:
    return quote(value, safe="")


def _json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _table(items: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    if as_json:
        _json(list(items))
        return
    emit_table([{c: _flat(item.get(c)) for c in columns} for item in items], columns, False)


def _flat(value: Any) -> Any:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or None
    if isinstance(value, list):
        return len(value)
    return value


# -- agents -------------------------------------------------------------------------------


def agent_list(api: RemoteApi, as_json: bool) -> None:
    columns = ["extension", "name", "status", "state", "skills", "has_sip_account"]
    _table(list(api.items("/agents")), columns, as_json)


def agent_show(api: RemoteApi, extension: str, as_json: bool) -> None:
    found = api.request("GET", f"/agents/{_q(extension)}")
    if as_json:
        _json(found)
        return
    live = found.get("live") or {}
    for key in ("extension", "name", "status", "state", "pause_reason", "wrapup_seconds"):
        click.echo(f"{key}: {found.get(key)}")
    click.echo(f"skills: {_flat(found['skills']) or '-'}")
    if live.get("state_seconds") is not None:
        click.echo(f"in state for: {live['state_seconds']:.0f} s")
    click.echo("queues: " + (", ".join(m["queue"] for m in found["queues"]) or "-"))


def agent_add(api: RemoteApi, extension: str, name: str, sip_password: str | None,
              pin: str | None, wrapup: int, skills: tuple[str, ...]) -> None:  # fmt: skip
    levels = {}
    for item in skills:
        skill, _, level = item.partition("=")
        levels[skill] = int(level) if level.isdigit() else -1  # the API names a bad one
    body = {"extension": extension, "name": name, "sip_password": sip_password, "pin": pin,
            "wrapup_seconds": wrapup, "skills": levels}  # fmt: skip
    made = api.request("POST", "/agents", body)
    click.echo(f"agent {extension} added")
    if made.get("sip_password"):
        click.echo(f"SIP password of {extension} (shown once): {made['sip_password']}")


def agent_set(api: RemoteApi, extension: str, name: str | None, pin: str | None,
              wrapup: int | None, auto_answer: bool | None = None, whisper: str | None = None,
              caller_id: str | None = None, role: str | None = None) -> None:  # fmt: skip
    body = {"name": name, "pin": pin, "wrapup_seconds": wrapup, "auto_answer": auto_answer,
            "whisper": whisper, "caller_id": caller_id, "role": role}  # fmt: skip
    api.request("PATCH", f"/agents/{_q(extension)}", body)
    click.echo(f"agent {extension} changed")


def agent_password(api: RemoteApi, extension: str, sip_password: str) -> None:
    api.request("PUT", f"/agents/{_q(extension)}/sip-password", {"sip_password": sip_password})
    click.echo(f"agent {extension}: SIP password set")


def agent_remove(api: RemoteApi, extension: str) -> None:
    api.request("DELETE", f"/agents/{_q(extension)}")
    click.echo(f"agent {extension} removed")


def _status(action: str) -> Remote:
    def run(api: RemoteApi, extension: str, reason: str | None = None) -> None:
        body = {"reason": reason} if action == "pause" else None
        after = api.request("POST", f"/agents/{_q(extension)}/{action}", body)
        suffix = f" ({after['pause_reason']})" if after.get("pause_reason") else ""
        click.echo(f"agent {extension}: {after['status']}{suffix}")

    return run


def agent_skill(api: RemoteApi, extension: str, skill: str, level: int | None,
                remove: bool) -> None:  # fmt: skip
    path = f"/agents/{_q(extension)}/skills/{_q(skill)}"
    if remove:
        api.request("DELETE", path)
        click.echo(f"agent {extension}: skill {skill} removed")
        return
    if level is None:
        raise click.UsageError("give LEVEL (0-100), or --remove")
    api.request("PUT", path, {"level": level})
    click.echo(f"agent {extension}: {skill}={level}")


def agent_failure_policy(api: RemoteApi, extension: str, **options: Any) -> None:
    from callcenter.cli.agent_cmd import policy_given

    policy = policy_given(options)
    if not policy:
        raise click.UsageError("nothing to change: give at least one setting")
    found = api.request("PATCH", f"/agents/{_q(extension)}/failure-policy", policy)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(found["failure_policy"].items()))
    click.echo(f"agent {extension}: failure policy {shown or 'the queues'}")


# -- queues -------------------------------------------------------------------------------

_QUEUE_FIELDS = {
    "strategy": "strategy", "max_wait": "max_wait_seconds", "max_callers": "max_callers",
    "ring_seconds": "agent_ring_seconds", "service_level": "service_level_seconds",
    "moh": "music_on_hold", "announce_every": "announce_position_seconds",
    "announce": "announcement", "position_prompt": "position_prompt",
    "overflow": "overflow_target", "wait_prompt": "wait_prompt",
    "wait_less_prompt": "wait_less_prompt", "wait_more_prompt": "wait_more_prompt",
    "rejoin_window": "rejoin_window_seconds",
    "sl_formula": "sl_formula", "short_abandon": "short_abandon_seconds",
    "time_zone": "time_zone",
}  # fmt: skip


def _settings(options: dict[str, Any]) -> dict[str, Any]:
    from callcenter.cli.queue_cmd import routing_given

    found = {
        _QUEUE_FIELDS[k]: v for k, v in options.items() if k in _QUEUE_FIELDS and v is not None
    }
    routing = routing_given(options)
    return {**found, "routing": routing} if routing else found


def queue_list(api: RemoteApi, as_json: bool) -> None:
    columns = ["name", "strategy", "members", "waiting", "max_wait_seconds", "overflow_target"]
    _table(list(api.items("/queues")), columns, as_json)


def queue_show(api: RemoteApi, name: str, limit: int, as_json: bool) -> None:
    found = api.request("GET", f"/queues/{_q(name)}")
    if as_json:
        _json(found)
        return
    for key in ("name", "strategy", "max_wait_seconds", "max_callers", "waiting",
                "overflow_target"):  # fmt: skip
        click.echo(f"{key}: {found.get(key)}")
    board = {a["extension"]: a.get("live") or {} for a in api.items("/agents")}
    members = [{**m, "for_s": _rounded(board.get(m["extension"], {}).get("state_seconds")),
                "call": board.get(m["extension"], {}).get("current_call"),
                "caller": board.get(m["extension"], {}).get("caller")}
               for m in found["member_states"]]  # fmt: skip
    click.echo("\nmembers:")
    _table(members, ["extension", "tier", "position", "status", "state", "for_s", "call",
                     "caller"], False)  # fmt: skip
    waiting = api.request("GET", f"/queues/{_q(name)}/callers")["callers"]
    click.echo("\nwaiting now:")
    _table([{**c, "wait_s": _rounded(c["waited_seconds"])} for c in waiting],
           ["position", "call_uuid", "caller", "wait_s", "priority", "skills",
            "expected_wait_seconds"], False)  # fmt: skip


def _rounded(seconds: float | None) -> int | None:
    return round(seconds) if seconds is not None else None


def queue_add(api: RemoteApi, name: str, **options: Any) -> None:
    api.request("POST", "/queues", {"name": name, **_settings(options)})
    click.echo(f"queue {name} added")


def queue_set(api: RemoteApi, name: str, no_overflow: bool, **options: Any) -> None:
    api.request(
        "PATCH", f"/queues/{_q(name)}", {**_settings(options), "clear_overflow": no_overflow}
    )
    click.echo(f"queue {name} changed")


def queue_remove(api: RemoteApi, name: str) -> None:
    api.request("DELETE", f"/queues/{_q(name)}")
    click.echo(f"queue {name} removed")


def queue_entries(api: RemoteApi, queue: str, limit: int, as_json: bool) -> None:
    found = api.request("GET", f"/queues/{_q(queue)}/entries", query={"limit": limit})
    columns = ["joined_at", "call_uuid", "priority", "offers", "agent_extension", "outcome"]
    _table(found["items"], columns, as_json)


def member_add(api: RemoteApi, queue: str, extension: str, tier: int, position: int) -> None:
    body = {"tier": tier, "position": position}
    api.request("PUT", f"/queues/{_q(queue)}/members/{_q(extension)}", body)
    click.echo(f"queue {queue}: member {extension} (tier {tier}, position {position})")


def member_set(
    api: RemoteApi, queue: str, extension: str, tier: int | None, position: int | None
) -> None:
    if tier is None and position is None:
        raise click.UsageError("nothing to change: give --tier or --position")
    body = {"tier": tier, "position": position}
    record = api.request("PATCH", f"/queues/{_q(queue)}/members/{_q(extension)}", body)
    [now] = [m for m in record["members"] if m["extension"] == extension]
    click.echo(f"queue {queue}: agent {extension} tier {now['tier']}, position {now['position']}")


def member_remove(api: RemoteApi, queue: str, extension: str) -> None:
    api.request("DELETE", f"/queues/{_q(queue)}/members/{_q(extension)}")
    click.echo(f"queue {queue}: member {extension} removed")


def skill_require(api: RemoteApi, queue: str, skill_name: str, min_level: int) -> None:
    body = {"min_level": min_level}
    api.request("PUT", f"/queues/{_q(queue)}/skills/{_q(skill_name)}", body)
    click.echo(f"queue {queue}: requires {skill_name} >= {min_level}")


def skill_drop(api: RemoteApi, queue: str, skill_name: str) -> None:
    api.request("DELETE", f"/queues/{_q(queue)}/skills/{_q(skill_name)}")
    click.echo(f"queue {queue}: {skill_name} no longer required")


# -- routes -------------------------------------------------------------------------------


def route_list(api: RemoteApi, as_json: bool) -> None:
    _table(list(api.items("/routes")), ["did", "route", "enabled", "description"], as_json)


def route_add(
    api: RemoteApi, did: str, target: str, description: str, match: str = "exact",
    priority: int = 100,
) -> None:  # fmt: skip
    body = {"did": did, "target": target, "description": description}
    made = api.request("POST", "/routes", {**body, "match": match, "priority": priority})
    click.echo(f"route {did} -> {made['route']} added")
    if made.get("unverified"):
        click.echo(f"note: {made['unverified']}", err=True)


def route_remove(api: RemoteApi, did: str) -> None:
    api.request("DELETE", f"/routes/{_q(did)}")
    click.echo(f"route {did} removed")


def route_disable(api: RemoteApi, did: str, enable: bool) -> None:
    api.request("PATCH", f"/routes/{_q(did)}", {"enabled": enable})
    click.echo(f"route {did} {'enabled' if enable else 'disabled'}")


def route_test(api: RemoteApi, did: str, trunk: str | None, as_json: bool) -> None:
    found = api.request("GET", f"/routes/{_q(did)}/test", query={"trunk": trunk})
    if as_json:
        _json(found)
        return
    if found["by"] == "default":  # as `route test` prints it beside the database
        click.echo(f"{did} -> {found['target']} (default: {found.get('why', '')})")
    else:
        click.echo(f"{did} -> {found['target']} ({found.get('why') or found['by']})")


def outbound_list(api: RemoteApi, as_json: bool) -> None:
    columns = ["name", "priority", "pattern", "gateway", "group", "number_format", "enabled"]
    _table(list(api.items("/outbound-routes")), columns, as_json)


def outbound_add(api: RemoteApi, **options: Any) -> None:
    body = {k: v for k, v in options.items() if v is not None}
    api.request("POST", "/outbound-routes", body)
    click.echo(f"outbound route {options['name']} added")


def outbound_remove(api: RemoteApi, name: str) -> None:
    api.request("DELETE", f"/outbound-routes/{_q(name)}")
    click.echo(f"outbound route {name} removed")


def outbound_disable(api: RemoteApi, name: str, enable: bool) -> None:
    api.request("PATCH", f"/outbound-routes/{_q(name)}", {"enabled": enable})
    click.echo(f"outbound route {name} {'enabled' if enable else 'disabled'}")


def outbound_test(api: RemoteApi, number: str, as_json: bool) -> None:
    found = api.request("POST", "/outbound-test", {"number": number})
    if as_json:
        _json(found)
        return
    click.echo(f"{number} -> {found['dial_string']} (route {found['route']})")


# -- IVR flows, calls, CDRs ---------------------------------------------------------------


def ivr_list(api: RemoteApi, as_json: bool) -> None:
    """What the engine runs beside each file's version, then each rejected file's errors."""
    from callcenter.cli.ivr_cmd import rejected_files

    rows = [
        {**f, "file_version": f["version"], "running_version": f.get("running_version") or "-"}
        for f in api.items("/flows")
    ]
    columns = ["name", "running_version", "file_version", "source", "loaded_at"]
    _table(rows, columns, as_json)
    checked = api.request("POST", "/flows/validate")
    found = checked["errors"]
    errors = [": ".join(filter(None, (e["where"], e["path"], e["message"]))) for e in found]
    rejected_files(errors, len({e["where"].rsplit(":", 2)[0] for e in found}))


def ivr_reload(api: RemoteApi) -> None:
    done = api.request("POST", "/flows/reload")
    for warning in done["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"{len(done['flows'])} flow(s) checked; every engine reloads them")


def call_list(api: RemoteApi, node: str | None, as_json: bool) -> None:
    columns = ["uuid", "state", "direction", "from_number", "did", "node", "legs"]
    _table(list(api.items("/calls", {"node": node})), columns, as_json)


def call_show(api: RemoteApi, uuid: str, as_json: bool) -> None:
    found = api.request("GET", f"/calls/{_q(uuid)}")
    if as_json:
        _json(found)
        return
    for key in ("uuid", "state", "direction", "from_number", "did", "node", "created_at"):
        click.echo(f"{key}: {found.get(key)}")
    _table(found["legs"], ["uuid", "role", "agent_extension", "answered_at", "ended_at"], False)
    for moment in found["timeline"]:
        click.echo(f"{moment['at']}  {moment['event']}  {moment.get('detail') or ''}".rstrip())


def _call_op(op: str, field: str) -> Remote:
    def run(api: RemoteApi, uuid: str, as_json: bool, **options: Any) -> None:
        body = {field: options[field]} if options.get(field) is not None else {}
        done = api.request("POST", f"/calls/{_q(uuid)}/{op}", body)
        if as_json:
            _json(done)
            return
        click.echo(f"call {uuid}: {done['op']} requested (change {done['change_id']})")

    return run


def _supervise(mode: str) -> Remote:
    def run(api: RemoteApi, uuid: str, supervisor: str, as_json: bool) -> None:
        done = api.request("POST", f"/calls/{_q(uuid)}/{mode}", {"supervisor": supervisor})
        if as_json:
            _json(done)
            return
        ids = f"session {done['session']}, change {done['change_id']}"
        click.echo(f"call {uuid}: {supervisor}'s phone rings to {mode} to agent "
                   f"{done['agent']} ({ids})")  # fmt: skip

    return run


def cdr_list(api: RemoteApi, since: datetime | None, until: datetime | None, queue: str | None,
             agent: str | None, did: str | None, limit: int, as_json: bool,
             as_csv: bool) -> None:  # fmt: skip
    from callcenter.cli.cdr_cmd import emit_cdrs

    # times without a zone are sent as given: the engine reads them in its time zone
    query = {"since": since and since.isoformat(), "until": until and until.isoformat(),
             "queue": queue, "agent": agent, "did": did}  # fmt: skip
    emit_cdrs(list(api.items("/cdrs", query, most=limit)), as_json, as_csv)


def cdr_show(api: RemoteApi, call_uuid: str) -> None:
    _json(api.request("GET", f"/cdrs/{_q(call_uuid)}"))


# -- webhooks -----------------------------------------------------------------------------


def _hook_row(hook: dict[str, Any]) -> dict[str, Any]:
    """An API webhook as ``callcenter webhook list`` shows one locally."""
    status = hook["status"]
    if status == "retrying":
        status = f"retrying ({hook['attempts']} failed)"
    return {
        "id": hook["id"], "url": hook["url"], "events": ",".join(hook["events"]) or "*",
        "enabled": hook["enabled"], "status": status, "delivered": hook["delivered"],
        "dead": hook["dead_letters"], "last_error": hook["last_error"],
        "next_attempt_at": hook["next_attempt_at"],
        "last_delivered_at": hook["last_delivered_at"], "created_by": hook["created_by"],
    }  # fmt: skip


def _dead_row(dead: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": dead["id"], "webhook": dead["webhook_id"], "event_id": dead["event_id"],
        "type": dead["event_type"], "attempts": dead["attempts"], "dead_at": dead["dead_at"],
        "state": dead["state"].replace("_", " "), "last_error": dead["last_error"],
    }  # fmt: skip


def webhook_add(api: RemoteApi, url: str, events: str, secret: str | None, as_json: bool) -> None:
    wanted = [] if events.strip() in ("", "*") else events.split(",")
    made = api.request("POST", "/webhooks", {"url": url, "events": wanted, "secret": secret})
    row = _hook_row(made)
    if as_json:
        if made.get("secret"):
            row["secret"] = made["secret"]
        _json(row)
        return
    click.echo(f"webhook {made['id']} -> {url} ({row['events']})")
    if made.get("secret"):
        click.echo(f"secret (shown once): {made['secret']}")


def webhook_list(api: RemoteApi, as_json: bool) -> None:
    rows = [_hook_row(h) for h in api.items("/webhooks")]
    emit_table(rows, ["id", "url", "events", "status", "delivered", "dead", "last_error"], as_json)


def webhook_remove(api: RemoteApi, webhook_id: int) -> None:
    hook = api.request("GET", f"/webhooks/{webhook_id}")  # webhook_not_found, and its URL
    api.request("DELETE", f"/webhooks/{webhook_id}")
    click.echo(f"webhook {webhook_id} removed ({hook['url']})")


def _webhook_enabled(enabled: bool) -> Remote:
    def run(api: RemoteApi, webhook_id: int) -> None:
        api.request("PATCH", f"/webhooks/{webhook_id}", {"enabled": enabled})
        click.echo(f"webhook {webhook_id} {'enabled' if enabled else 'disabled'}")

    return run


def webhook_dead(
    api: RemoteApi, webhook_id: int | None, include_replayed: bool, as_json: bool
) -> None:
    query = {"webhook_id": webhook_id, "include_replayed": "true" if include_replayed else None}
    rows = [_dead_row(d) for d in api.items("/dead-letters", query)]
    columns = ["id", "webhook", "event_id", "type", "attempts", "dead_at", "state", "last_error"]
    emit_table(rows, columns, as_json)


def webhook_replay(
    api: RemoteApi, webhook_id: int, dead_ids: tuple[int, ...], as_json: bool
) -> None:
    done = api.request("POST", f"/webhooks/{webhook_id}/replay", {"ids": list(dead_ids)})
    if as_json:
        click.echo(json.dumps({"webhook": webhook_id, "replaying": done["replaying"]}))
    else:
        click.echo(f"webhook {webhook_id}: {len(done['replaying'])} dead letter(s) to replay")


# -- voicemail ----------------------------------------------------------------------------


def voicemail_list(api: RemoteApi, box: str | None, unread: bool, limit: int,
                   as_json: bool) -> None:  # fmt: skip
    query = {"box": box, "unread": "true" if unread else None}
    found = list(api.items("/voicemails", query, most=limit))
    if as_json:
        _json(found)
        return
    rows = [{"id": v["id"], "box": v["box"], "received_at": v["received_at"],
             "from": v["from_number"], "name": v["from_name"],
             "seconds": round(v["duration_ms"] / 1000) if v["duration_ms"] is not None else None,
             "read": "yes" if v["read"] else "no", "call_uuid": v["call_uuid"]}
            for v in found]  # fmt: skip
    emit_table(rows, ["id", "box", "received_at", "from", "name", "seconds", "read",
                      "call_uuid"], False)  # fmt: skip


def voicemail_play(api: RemoteApi, voicemail_id: int, out: Any, force: bool) -> None:
    from callcenter.cli.voicemail_cmd import write_audio

    write_audio(api.request("GET", f"/voicemails/{voicemail_id}/audio", raw=True), out, force)


def voicemail_mark(api: RemoteApi, voicemail_id: int, read: bool) -> None:
    api.request("POST", f"/voicemails/{voicemail_id}/mark", {"read": read})
    click.echo(f"voicemail {voicemail_id}: {'read' if read else 'unread'}")


def voicemail_delete(api: RemoteApi, voicemail_id: int) -> None:
    api.request("DELETE", f"/voicemails/{voicemail_id}")
    click.echo(f"voicemail {voicemail_id} deleted")


# -- trunks -------------------------------------------------------------------------------


def _trunk_body(options: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in fields_of(options).items()}


def trunk_add(api: RemoteApi, name: str, **options: Any) -> None:
    made = api.request("POST", "/trunks", {"name": name, **_trunk_body(options)})
    click.echo(f"trunk {made['name']} added (proxy {made['proxy']}); render and apply to use it")


def trunk_set(api: RemoteApi, name: str, **options: Any) -> None:
    body = _trunk_body(options)
    if not body:
        raise click.UsageError("nothing to change: give at least one option")
    api.request("PATCH", f"/trunks/{_q(name)}", body)
    click.echo(f"trunk {name} changed: {', '.join(sorted(body))}")


def trunk_list(api: RemoteApi, as_json: bool) -> None:
    _table(list(api.items("/trunks")), LISTED, as_json)


def trunk_show(api: RemoteApi, name: str, as_json: bool) -> None:
    found = api.request("GET", f"/trunks/{_q(name)}")
    if as_json:
        _json(found)
    else:
        print_trunk(found)


def trunk_remove(api: RemoteApi, name: str) -> None:
    api.request("DELETE", f"/trunks/{_q(name)}")
    click.echo(f"trunk {name} removed")


def trunk_status(api: RemoteApi, name: str | None, as_json: bool) -> None:
    rows = api.request("GET", "/trunk-status")["items"]
    print_status([r for r in rows if name is None or r["trunk"] == name], as_json)


def trunk_apply(api: RemoteApi) -> None:
    api.request("POST", "/trunk-apply")
    click.echo("trunk apply sent to the running engines")


def trunk_group_add(api: RemoteApi, name: str, members: tuple[str, ...], strategy: str) -> None:
    body = {"name": name, "members": list(members), "strategy": strategy}
    made = api.request("POST", "/trunk-groups", body)
    click.echo(f"trunk group {name} added: {', '.join(made['members'])} ({made['strategy']})")


def trunk_group_set(
    api: RemoteApi, name: str, members: tuple[str, ...], strategy: str | None
) -> None:
    body: dict[str, Any] = {"members": list(members) or None, "strategy": strategy}
    made = api.request("PATCH", f"/trunk-groups/{_q(name)}", body)
    click.echo(f"trunk group {name}: {', '.join(made['members'])} ({made['strategy']})")


def trunk_group_list(api: RemoteApi, as_json: bool) -> None:
    found = list(api.items("/trunk-groups"))
    _table(found if as_json else [group_row(g) for g in found], GROUP_COLUMNS, as_json)


def trunk_group_show(api: RemoteApi, name: str, as_json: bool) -> None:
    found = api.request("GET", f"/trunk-groups/{_q(name)}")
    if as_json:
        _json(found)
        return
    for key, value in group_row(found).items():
        click.echo(f"{key}: {value}")


def trunk_group_remove(api: RemoteApi, name: str) -> None:
    api.request("DELETE", f"/trunk-groups/{_q(name)}")
    click.echo(f"trunk group {name} removed")


# -- recordings -----------------------------------------------------------------------------


def recording_list(api: RemoteApi, call_uuid: str | None, queue: str | None, status: str | None,
                   since: datetime | None, until: datetime | None, limit: int,
                   as_json: bool) -> None:  # fmt: skip
    query = {"call": call_uuid, "queue": queue, "status": status, "since": since and
             since.isoformat(), "until": until and until.isoformat()}  # fmt: skip
    columns = ["id", "started_at", "call_uuid", "queue", "agent", "duration_ms", "channels",
               "status", "size_bytes"]  # fmt: skip
    _table(list(api.items("/recordings", query, most=limit)), columns, as_json)


def recording_show(api: RemoteApi, recording_id: int) -> None:
    _json(api.request("GET", f"/recordings/{recording_id}"))


def recording_export(api: RemoteApi, recording_id: int, output: Path | None,
                     force: bool) -> None:  # fmt: skip
    from callcenter.cli.output_file import output_file

    if output is None:
        api.download(f"/recordings/{recording_id}/audio", sys.stdout.buffer)
        return
    with output_file(output, force, "--output") as out:
        size = api.download(f"/recordings/{recording_id}/audio", out)
    click.echo(f"recording {recording_id}: {output} ({size} bytes)", err=True)


def _recording_op(action: str) -> Remote:
    def run(api: RemoteApi, call_uuid: str) -> None:
        api.request("POST", f"/calls/{_q(call_uuid)}/recording/{action}", {})
        click.echo(f"call {call_uuid}: recording {action} requested")

    return run


# -- reports ------------------------------------------------------------------------------


def _report(kind: str) -> Remote:
    def run(api: RemoteApi, since: datetime | None, until: datetime | None, fmt: str,
            **given: Any) -> None:  # fmt: skip
        from datetime import UTC, timedelta

        from callcenter.cli import report_cmd

        # naive times are sent as given: the engine reads them in its time zone
        end = until or datetime.now(UTC)
        start = since or end - timedelta(days=1)
        query = {"from": start.isoformat(), "to": end.isoformat(), **given}
        rows = api.request("GET", f"/reports/{kind}", query=query)["items"]
        columns = {"queues": report_cmd.QUEUE_COLUMNS, "agents": report_cmd.AGENT_COLUMNS,
                   "intervals": report_cmd.INTERVAL_COLUMNS}[kind]  # fmt: skip
        report_cmd.emit_report(rows, columns, fmt)

    return run


COMMANDS: dict[tuple[str, ...], Remote] = {
    ("agent", "list"): agent_list,
    ("agent", "show"): agent_show,
    ("agent", "add"): agent_add,
    ("agent", "set"): agent_set,
    ("agent", "password"): agent_password,
    ("agent", "remove"): agent_remove,
    ("agent", "login"): _status("login"),
    ("agent", "logout"): _status("logout"),
    ("agent", "pause"): _status("pause"),
    ("agent", "ready"): _status("ready"),
    ("agent", "skill"): agent_skill,
    ("agent", "failure-policy"): agent_failure_policy,
    ("queue", "list"): queue_list,
    ("queue", "show"): queue_show,
    ("queue", "add"): queue_add,
    ("queue", "set"): queue_set,
    ("queue", "remove"): queue_remove,
    ("queue", "entries"): queue_entries,
    ("queue", "member", "add"): member_add,
    ("queue", "member", "set"): member_set,
    ("queue", "member", "remove"): member_remove,
    ("queue", "skill", "require"): skill_require,
    ("queue", "skill", "drop"): skill_drop,
    ("route", "list"): route_list,
    ("route", "add"): route_add,
    ("route", "remove"): route_remove,
    ("route", "disable"): route_disable,
    ("route", "test"): route_test,
    ("route", "outbound", "list"): outbound_list,
    ("route", "outbound", "add"): outbound_add,
    ("route", "outbound", "remove"): outbound_remove,
    ("route", "outbound", "disable"): outbound_disable,
    ("route", "outbound", "test"): outbound_test,
    ("ivr", "list"): ivr_list,
    ("ivr", "reload"): ivr_reload,
    ("call", "list"): call_list,
    ("call", "show"): call_show,
    ("call", "hangup"): _call_op("hangup", "cause"),
    ("call", "transfer"): _call_op("transfer", "target"),
    ("call", "bridge"): _call_op("bridge", "extension"),
    ("call", "listen"): _supervise("listen"),
    ("call", "whisper"): _supervise("whisper"),
    ("call", "barge"): _supervise("barge"),
    ("cdr", "list"): cdr_list,
    ("cdr", "show"): cdr_show,
    ("webhook", "add"): webhook_add,
    ("webhook", "list"): webhook_list,
    ("webhook", "remove"): webhook_remove,
    ("webhook", "enable"): _webhook_enabled(True),
    ("webhook", "disable"): _webhook_enabled(False),
    ("webhook", "dead"): webhook_dead,
    ("webhook", "replay"): webhook_replay,
    ("voicemail", "list"): voicemail_list,
    ("voicemail", "play"): voicemail_play,
    ("voicemail", "mark"): voicemail_mark,
    ("voicemail", "delete"): voicemail_delete,
    ("trunk", "add"): trunk_add,
    ("trunk", "set"): trunk_set,
    ("trunk", "list"): trunk_list,
    ("trunk", "show"): trunk_show,
    ("trunk", "remove"): trunk_remove,
    ("trunk", "status"): trunk_status,
    ("trunk", "apply"): trunk_apply,
    ("trunk", "group", "add"): trunk_group_add,
    ("trunk", "group", "set"): trunk_group_set,
    ("trunk", "group", "list"): trunk_group_list,
    ("trunk", "group", "show"): trunk_group_show,
    ("trunk", "group", "remove"): trunk_group_remove,
    ("recording", "list"): recording_list,
    ("recording", "show"): recording_show,
    ("recording", "export"): recording_export,
    ("recording", "pause"): _recording_op("pause"),
    ("recording", "resume"): _recording_op("resume"),
    ("recording", "start"): _recording_op("start"),
    ("recording", "stop"): _recording_op("stop"),
    ("report", "queues"): _report("queues"),
    ("report", "agents"): _report("agents"),
    ("report", "intervals"): _report("intervals"),
}
