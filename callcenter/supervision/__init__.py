"""Supervisors listening to, whispering to and barging into agents' calls (``eavesdrop``)."""
