"""Outbound dialing: pacing (preview, progressive, predictive) and compliance rules.

Pure modules only so far (docs/dialer.md): campaigns, leads, DNC storage, the CLI/API and
the engine wiring build on them.
"""
