"""The one place that monkey-patches. Every entry point imports this module first."""

from gevent import monkey

if not monkey.is_module_patched("socket"):
    monkey.patch_all()
