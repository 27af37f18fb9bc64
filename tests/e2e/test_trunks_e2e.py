"""A trunk against a real FreeSWITCH configured from freeswitch-conf/: rendered into its
configuration folder, taken with `trunk apply` (reloadxml, rescan), its state read back,
then removed (killgw). Needs CALLCENTER_FS_HOST and CALLCENTER_FS_CONF_DIR: FreeSWITCH's
conf dir, writable from here (the same host, or a shared volume)."""

from __future__ import annotations

import os
import uuid as uuidlib
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.errors import ESLCommandFailed
from callcenter.esl import ESLConnection, commands
from callcenter.fsdirectory import write
from callcenter.services import trunks
from callcenter.services.actor import Actor
from callcenter.settings import ESLNode
from callcenter.trunks.gateways import render_acl, render_gateways
from callcenter.trunks.spec import TrunkSpec
from callcenter.trunks.state import ABSENT
from tests.e2e.test_real_freeswitch import engine, node  # noqa: F401  (fixtures)
from tests.support import until

CONF = os.environ.get("CALLCENTER_FS_CONF_DIR", "")
WHO = Actor("cli", "e2e")
NAME = "e2e-gw"


@pytest.mark.skipif(not CONF, reason="set CALLCENTER_FS_CONF_DIR (FreeSWITCH's conf dir)")
def test_a_gateway_rendered_and_rescanned_is_read_back(engine: App, node: ESLNode) -> None:  # noqa: F811
    until(lambda: engine.connections["e2e"].connected, timeout=10)
    conf = Path(CONF)
    # a peer that does not register: FreeSWITCH loads it as NOREG, no carrier needed
    trunks.add(engine.database, WHO, TrunkSpec(NAME, "127.0.0.1:5099",
                                               inbound_cidrs=("192.0.2.0/29",)))  # fmt: skip
    try:
        stored = trunks.list_trunks(engine.database)
        write(conf / "sip_profiles" / "callcenter-carriers", render_gateways(stored))
        write(conf / "autoload_configs" / "callcenter-carriers-acl", render_acl(stored))
        trunks.apply(engine.database, WHO)
        until(lambda: (s := engine.trunks.states.get(("e2e", NAME))) is not None
              and s.state == "NOREG", timeout=20)  # fmt: skip
    finally:
        trunks.remove(engine.database, WHO, NAME)
        stored = trunks.list_trunks(engine.database)
        write(conf / "sip_profiles" / "callcenter-carriers", render_gateways(stored))
        write(conf / "autoload_configs" / "callcenter-carriers-acl", render_acl(stored))
    probe = ESLConnection(node, on_event=lambda _e: None)
    probe.start()
    try:
        assert probe.wait_connected(10)
        status = commands.sofia_gateway_status(NAME)
        until(lambda: probe.api(status, check=False).startswith("Invalid Gateway"), timeout=20)
    finally:
        probe.stop()


def test_a_trunk_the_switch_has_no_gateway_for(engine: App, node: ESLNode) -> None:  # noqa: F811
    """Needs only CALLCENTER_FS_HOST: a stored registering trunk with no gateway file is read
    back ABSENT after `trunk apply` (`sofia xmlstatus gateway` answers `Invalid Gateway!`),
    /healthz says so, and a call through it is refused before any channel with
    INVALID_GATEWAY: a cause the outbound routes fail over on, a leg the CDR keeps."""
    until(lambda: engine.connections["e2e"].connected, timeout=10)
    name = "e2e-absent"
    trunks.add(engine.database, WHO, TrunkSpec(name, "127.0.0.1:5099", register=True,
                                               username="u1", password="pw-e2e"))  # fmt: skip
    probe = ESLConnection(node, on_event=lambda _e: None)
    probe.start()
    try:
        trunks.apply(engine.database, WHO)  # reloadxml, rescan, reloadacl, then the status
        until(lambda: (s := engine.trunks.states.get(("e2e", name))) is not None
              and s.state == ABSENT, timeout=20)  # fmt: skip
        assert any(p.startswith(f"trunk {name} not registered on e2e") for p in
                   engine.trunks.problems())  # fmt: skip
        assert probe.wait_connected(10)
        leg = str(uuidlib.uuid4())
        line = commands.originate(f"sofia/gateway/{name}/4930123456", {}, uuid=leg)
        with pytest.raises(ESLCommandFailed, match="INVALID_GATEWAY"):
            probe.bgapi(line, timeout=20)
        assert probe.api(commands.uuid_exists(leg), check=False) == "false"  # no channel
    finally:
        probe.stop()
        trunks.remove(engine.database, WHO, name)
