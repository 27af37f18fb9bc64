"""``callcenter top``: the terminal wallboard."""

from __future__ import annotations

import click


@click.command("top")
def top() -> None:
    """Terminal wallboard."""
