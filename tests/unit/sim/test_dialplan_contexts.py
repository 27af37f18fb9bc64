"""The simulator's dialplan is freeswitch-conf's: the same actions, context by context."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from callcenter.sim.dialplan import PARK_TIMEOUT, dialplan

XML = Path(__file__).resolve().parents[3] / "freeswitch-conf" / "dialplan" / "callcenter.xml"


def conf_actions(context: str, dest: str) -> list[tuple[str, str]]:
    """The actions of the first extension of ``context`` whose condition matches ``dest``."""
    root = ET.fromstring(XML.read_text())
    ctx = next(c for c in root.iter("context") if c.get("name") == context)
    for extension in ctx.iter("extension"):
        condition = extension.find("condition")
        assert condition is not None
        if re.search(condition.get("expression", ""), dest):
            return [
                (
                    a.get("application", ""),
                    (a.get("data") or "")
                    .replace("${destination_number}", dest)
                    .replace("$${callcenter_park_timeout}:", PARK_TIMEOUT.split(":")[0] + ":"),
                )
                for a in condition.iter("action")
            ]
    raise AssertionError(f"no extension of {context} matches {dest}")


@pytest.mark.parametrize(
    ("context", "dest"),
    [
        ("callcenter", "5100"),
        ("callcenter-agents", "*21"),
        ("callcenter-agents", "*231"),
        ("callcenter-agents", "1002"),
        ("callcenter-agents", "0612345678"),
    ],
)
def test_the_simulated_dialplan_is_the_config(context: str, dest: str) -> None:
    assert dialplan(dest, context) == conf_actions(context, dest)
