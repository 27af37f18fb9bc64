"""An engine wired to the simulator over real TCP and to a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.settings import load_settings
from callcenter.sim.simulator import Simulator
from tests.conftest import migrated_database
from tests.integration.calls.failure_dump import dump

TIME_SCALE = 0.05  # simulated durations run 20x faster


@pytest.fixture(scope="module")
def calls_db_url() -> Iterator[str]:
    with migrated_database("cc_calls") as url:
        yield url


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(password="s3cret-test", time_scale=TIME_SCALE, seed=7).start()
    try:
        yield simulator
    finally:
        simulator.stop()


EngineFactory = Callable[..., App]


CALL_FAILED = pytest.StashKey[bool]()  # the test's own body failed: its teardown says more


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    if report.when == "call" and report.failed:
        item.stash[CALL_FAILED] = True
    return report


@pytest.fixture
def engine(
    sim: Simulator, calls_db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[EngineFactory]:
    apps: list[App] = []

    def make(database_url: str | None = None, **env: str) -> App:
        settings = load_settings(
            environ={
                "CALLCENTER_DATABASE_URL": database_url or calls_db_url,
                "CALLCENTER_ESL_NODES": f"fs1=esl://:s3cret-test@127.0.0.1:{sim.port}",
                "CALLCENTER_METRICS_LISTEN": "127.0.0.1:0",
                "CALLCENTER_DATA_DIR": str(tmp_path),
                "CALLCENTER_SHUTDOWN_GRACE": "2",
                "CALLCENTER_ESL_COMMAND_TIMEOUT": "5",
                # tests read the database right after a call: the 2 s default window would
                # add up to 1.5 s to each of those waits
                "CALLCENTER_WRITER_WINDOW": "0.5",
                **env,
            }
        )
        app = App(settings)
        app.routes.ttl = 0.0  # tests add routes and expect them at once
        app.start()
        apps.append(app)
        return app

    try:
        yield make
    finally:
        if request.node.stash.get(CALL_FAILED, False):
            print(dump(sim, apps))  # shown with the failure's report; silent when it passes
        for app in apps:
            app.stop("test over")
