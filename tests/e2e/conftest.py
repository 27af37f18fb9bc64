"""Tests against a real FreeSWITCH: run only when CALLCENTER_FS_HOST names one."""

from __future__ import annotations

import os

import pytest

FS_HOST = os.environ.get("CALLCENTER_FS_HOST", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if FS_HOST:
        return
    skip = pytest.mark.skip(reason="set CALLCENTER_FS_HOST (and CALLCENTER_FS_PASSWORD) to run")
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(skip)
