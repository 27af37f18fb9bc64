"""The browser wallboard in a real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, installed here with apt-get where missing): the page loads with a read
token given in the URL's fragment, its numbers change as simulated calls arrive, and a
screenshot is kept in ``tests/artifacts/wallboard.png``."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

from callcenter.services import tokens
from callcenter.services.actor import Actor
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_queues import setup_queue
from tests.support import until

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
HOW_TO_GET_IT = (
    "the wallboard's browser test needs Debian's chromium and chromium-driver: "
    "apt-get install -y chromium chromium-driver ({why})"
)


def chromedriver() -> str:
    """The chromedriver on PATH, installed with apt-get first when missing (as root)."""
    found = shutil.which("chromedriver")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        command = ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]
        if subprocess.run(command, capture_output=True, timeout=300).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=120)
            subprocess.run(command, capture_output=True, timeout=300)
        found = shutil.which("chromedriver")
    if found is None:
        pytest.fail(HOW_TO_GET_IT.format(why="not found, and not root to install it"))
    return found


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1600,1000"):  # fmt: skip
        options.add_argument(argument)
    binary = shutil.which("chromium")
    if binary:
        options.binary_location = binary
    try:
        driver = webdriver.Chrome(options=options, service=Service(chromedriver()))
    except WebDriverException as exc:
        pytest.fail(HOW_TO_GET_IT.format(why=exc.msg))
    try:
        yield driver
    finally:
        driver.quit()


def text(driver: webdriver.Chrome, selector: str) -> str:
    """The text of what ``selector`` finds, read in one go (the page rebuilds its nodes)."""
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", selector
    )
    return str(found)


def figure(driver: webdriver.Chrome, queue: str, name: str) -> str:
    return text(driver, f'[data-queue="{queue}"] [data-figure="{name}"] .value')


def agent_cell(driver: webdriver.Chrome, extension: str, cell: str) -> str:
    return text(driver, f'tr[data-agent="{extension}"] td.{cell}')


# the first run on a fresh machine installs chromium in the fixture (bounded at 720 s above),
# which the default 60 s per test would count against the test
@pytest.mark.timeout(900)
def test_the_wallboard_page_follows_simulated_calls(
    sim: Simulator, engine: EngineFactory, browser: webdriver.Chrome
) -> None:
    app = engine()
    app.wallboard_tally.short_abandon = 0.0  # the test's caller gives up within 5 s
    secret = tokens.create(app.database, Actor("cli", "test"), "room", "read").secret
    sim.register_agent("7601", AgentBehaviour(answer_delay=0.2))
    setup_queue(app, "room-sales", {"7601": {}}, did="7600", service_level_seconds=20)
    setup_queue(app, "room-hold", {}, did="7602")
    browser.get(f"http://127.0.0.1:{app.metrics.port}/wallboard/#token={secret}")
    until(lambda: figure(browser, "room-hold", "waiting") == "0", timeout=15)
    assert "token" not in browser.current_url  # taken out of the address bar at once
    shown = "return getComputedStyle(document.getElementById(arguments[0])).display"
    assert browser.execute_script(shown, "login") == "none"
    assert figure(browser, "room-sales", "free") == "1"
    until(lambda: text(browser, "#status") == "live", timeout=10)

    waiting = sim.place_call("7602", "15557602", behaviour=CallerBehaviour())
    talking = sim.place_call("7600", "15557600", "<img src=x onerror=alert(1)>")
    until(lambda: figure(browser, "room-hold", "waiting") == "1", timeout=15)
    until(lambda: agent_cell(browser, "7601", "state") == "in call", timeout=15)
    assert agent_cell(browser, "7601", "caller") == "15557600 <img src=x onerror=alert(1)>"
    assert figure(browser, "room-sales", "busy") == "1"
    assert figure(browser, "room-sales", "sl") == "100%"
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "wallboard.png"))

    sim.hangup(waiting)
    until(lambda: figure(browser, "room-hold", "waiting") == "0", timeout=15)
    until(lambda: figure(browser, "room-hold", "abandon") == "100%", timeout=15)
    sim.hangup(talking)
    until(lambda: agent_cell(browser, "7601", "caller") == "", timeout=15)
