"""``metrics.children.Children``: one ``labels()`` per label set, the very child the
registry exports."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from callcenter.metrics.children import Children
from callcenter.vocabulary import Direction


def test_children_are_found_once_and_exported() -> None:
    registry = CollectorRegistry()
    counter = Counter("x_calls_total", "Calls.", ["direction", "outcome"], registry=registry)
    calls: list[tuple[object, ...]] = []
    labels = counter.labels

    def counted(*values: object) -> object:
        calls.append(values)
        return labels(*values)

    counter.labels = counted  # type: ignore[method-assign]
    by = Children(counter)
    by(Direction.INBOUND, "answered").inc()
    by("inbound", "answered").inc(2)  # a StrEnum and its value are one label set
    by(Direction.OUTBOUND, "answered").inc()
    assert len(calls) == 2
    assert by("inbound", "answered") is labels("inbound", "answered")
    sample = registry.get_sample_value
    assert sample("x_calls_total", {"direction": "inbound", "outcome": "answered"}) == 3
    assert sample("x_calls_total", {"direction": "outbound", "outcome": "answered"}) == 1
