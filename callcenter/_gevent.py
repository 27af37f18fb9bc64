"""The one place that monkey-patches. Every entry point imports this module first.

Two settings go with the patching, both for what every greenlet and every metric costs:

- gevent does not record who spawned each greenlet (``track_greenlet_tree``): that walks
  the spawner's stack and reads each frame's line number, at every spawn (a call's actor,
  each long playback, each ring), for debugging output nothing here prints.
- prometheus_client's per-metric and per-value locks stay native locks. After
  ``patch_all`` its ``from threading import Lock`` would give it gevent's lock, whose
  ``acquire`` is Python code, taken on every ``inc()`` and ``labels()`` (about 130 times a
  queue call). Nothing holds those locks across a switch (each guards a dict or a float),
  so a native lock is safe for greenlets and for threads alike. The registry's lock is left
  to gevent: registering a collector runs its ``collect()`` under it, which may wait.
"""

import gevent
from gevent import monkey

if not monkey.is_module_patched("socket"):
    monkey.patch_all()

gevent.config.track_greenlet_tree = False


def _native_metric_locks() -> None:
    from prometheus_client import metrics, values

    native = monkey.get_original("threading", "Lock")
    metrics.Lock = native  # type: ignore[attr-defined]
    values.Lock = native  # type: ignore[attr-defined]


_native_metric_locks()
