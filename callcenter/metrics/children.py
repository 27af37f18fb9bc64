"""A labelled metric's children, found in a dict by their label values.

prometheus_client's ``labels()`` checks its arguments, sorts the label names, converts each
value and takes a lock on every call; a queue call made about thirty such calls (the bus,
the live KPIs, the ACD, the call manager). ``Children`` asks ``labels()`` once per label
set and keeps the child. Children are never removed from these metrics, so a kept child is
always the one the registry exports.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

M = TypeVar("M")


class Children(Generic[M]):
    __slots__ = ("_children", "metric")

    def __init__(self, metric: M) -> None:
        self.metric = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        """The child of these label values, in the order the metric names its labels."""
        child = self._children.get(values)
        if child is None:
            labelled: Any = self.metric
            child = self._children[values] = labelled.labels(*values)
        return child
