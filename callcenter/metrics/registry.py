"""The engine's one Prometheus registry, created by the composition root and injected."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)

from callcenter import __version__


def build_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    info = Gauge(
        "callcenter_build_info",
        "Always 1; the labels say which callcenter build is running.",
        ["version"],
        registry=registry,
    )
    info.labels(version=__version__).set(1)
    return registry
