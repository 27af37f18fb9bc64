"""An engine killed with SIGKILL in the middle of webhook deliveries loses none: the next
engine on the database carries on from the endpoint's cursor (at most the delivery in
flight is repeated, with the same event id)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.events.types import CallCreated
from callcenter.services import webhooks
from callcenter.services.actor import Actor
from callcenter.store import migrate
from callcenter.store.database import Database
from tests.conftest import create_database, drop_database
from tests.integration.test_webhooks import SECRET, publish
from tests.support import until
from tests.webhook_receiver import Receiver


@pytest.fixture
def db_url() -> Iterator[str]:
    url = create_database("cc_hookkill")
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def engines() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait(timeout=10)


def serve(procs: list[subprocess.Popen[bytes]], db_url: str, data: Path) -> None:
    flows = data / "no-flows"
    flows.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CALLCENTER_DATABASE_URL": db_url,
        "CALLCENTER_METRICS_LISTEN": "127.0.0.1:0",
        "CALLCENTER_DATA_DIR": str(data),
        "CALLCENTER_DIALPLANS_DIR": str(flows),
        "CALLCENTER_WEBHOOK_TIMEOUT": "2",
        "CALLCENTER_WEBHOOK_RETRY_MIN": "0.05",
        "CALLCENTER_WEBHOOK_RETRY_MAX": "0.2",
    }
    with (data / "serve.log").open("ab") as log:
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "callcenter", "serve"],
                env=env,
                cwd=data,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )


def test_sigkill_mid_delivery_loses_nothing(
    db_url: str, engines: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    receiver = Receiver().start()
    receiver.delay = 0.02  # deliveries are in flight most of the time
    database = Database(db_url)
    try:
        webhooks.add(database, Actor("cli", "test"), receiver.url, [], SECRET)
        ids = publish(database, *(CallCreated(call_uuid=f"k{i}") for i in range(150)))
        serve(engines, db_url, tmp_path / "one")
        until(lambda: len(receiver.deliveries) >= 40, timeout=60)
        engines[0].kill()  # SIGKILL: no clean stop, a POST likely in flight
        engines[0].wait(timeout=10)
        at_kill = len(receiver.deliveries)
        assert at_kill < len(ids), "the kill came too late to test anything"
        serve(engines, db_url, tmp_path / "two")
        until(lambda: set(receiver.ids()) >= set(ids), timeout=90)
    finally:
        receiver.stop()
        database.dispose()
    got = receiver.ids()
    assert list(dict.fromkeys(got)) == ids  # every event, in order
    assert len(got) - len(ids) <= 1  # only the one in flight at the kill may come twice
