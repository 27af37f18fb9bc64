"""A trunk against a real FreeSWITCH configured from freeswitch-conf/: rendered into its
configuration folder, taken with `trunk apply` (reloadxml, rescan), its state read back,
then removed (killgw). Needs CALLCENTER_FS_HOST and CALLCENTER_FS_CONF_DIR: FreeSWITCH's
conf dir, writable from here (the same host, or a shared volume)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.esl import ESLConnection, commands
from callcenter.fsdirectory import write
from callcenter.services import trunks
from callcenter.services.actor import Actor
from callcenter.settings import ESLNode
from callcenter.trunks.gateways import render_acl, render_gateways
from callcenter.trunks.spec import TrunkSpec
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
