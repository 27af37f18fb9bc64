"""How trunks and trunk groups are read from options and printed, by the local commands
(``trunk_cmd``, ``trunk_group_cmd``) and their remote twins (``remote_cmds``) alike; no
database here, so that a command loading the twins starts without one."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from callcenter.cli import echo_fields, emit_table

SHOWN = ("name", "proxy", "transport", "register", "username", "password_set", "realm",
         "from_domain", "caller_id_in_from", "codecs", "country", "number_style", "max_channels",
         "max_cps", "inbound_cidrs", "enabled")  # fmt: skip
LISTED = ["name", "proxy", "transport", "register", "max_channels", "max_cps", "enabled"]
GROUP_COLUMNS = ["name", "strategy", "members"]


def fields_of(options: dict[str, Any]) -> dict[str, Any]:
    """The options given, as ``TrunkSpec`` fields (``--codecs a,b`` -> ``("a", "b")``)."""
    fields: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    for limit in ("max_channels", "max_cps"):
        if fields.get(limit) == 0:
            fields[limit] = None  # no limit
    if "inbound_cidrs" in fields and not fields["inbound_cidrs"]:
        del fields["inbound_cidrs"]  # not given (click's empty tuple)
    elif "inbound_cidrs" in fields:
        fields["inbound_cidrs"] = tuple(fields["inbound_cidrs"])
    if fields.pop("no_inbound_cidrs", False):
        fields["inbound_cidrs"] = ()
    if fields.pop("password_stdin", False):
        fields["password"] = sys.stdin.readline().rstrip("\r\n")
    if "codecs" in fields:
        fields["codecs"] = tuple(c.strip() for c in fields["codecs"].split(",") if c.strip())
    return fields


def print_trunk(shown: dict[str, Any]) -> None:
    echo_fields(shown, SHOWN)


def print_status(rows: Sequence[dict[str, Any]], as_json: bool) -> None:
    """One line per trunk and node: state, ping, since when, detail."""
    emit_table(list(rows), ["trunk", "node", "state", "ping", "up", "since", "detail"], as_json)


def group_row(shown: dict[str, Any]) -> dict[str, Any]:
    return {**shown, "members": ",".join(shown["members"])}
