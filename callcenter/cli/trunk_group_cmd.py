"""``callcenter trunk group``: trunks an outbound route names together, with a strategy."""

from __future__ import annotations

import click

from callcenter.cli import Context, emit_json, emit_table, pass_context
from callcenter.cli.trunk_view import GROUP_COLUMNS, group_row
from callcenter.services import trunk_groups as groups
from callcenter.trunks.checks import InvalidTrunk

# -- trunk groups ----------------------------------------------------------------------------

GROUP_OPTION_OF = {"name": "NAME", "members": "--member", "strategy": "--strategy"}
STRATEGY = click.Choice(list(groups.STRATEGIES))
STRATEGY_HELP = "in-order, round-robin or least-busy: which member a call tries first."


def _bad_group(exc: InvalidTrunk) -> click.BadParameter:
    return click.BadParameter(exc.reason, param_hint=GROUP_OPTION_OF.get(exc.field, exc.field))


@click.group("group")
def group() -> None:
    """Trunk groups: trunks an outbound route names together (`route outbound add
    --group`), tried in the order of the group's strategy, failing over across the members
    on the route's causes, each within its own limits.

    \b
    Strategies:
      in-order      the members as listed (a primary carrier, then its backups)
      round-robin   each call starts one member further
      least-busy    the member with the fewest channels in use first

    \b
    Examples:
      callcenter trunk group add de-out --member carrier-a --member carrier-b --strategy round-robin
      callcenter route outbound add de --match '^\\+49\\d+$' --group de-out
    """


@group.command("add")
@click.argument("name")
@click.option("--member", "members", multiple=True, required=True,
              help="A stored trunk, in order (repeat).")  # fmt: skip
@click.option("--strategy", type=STRATEGY, default="in-order", metavar="S", show_default=True,
              help=STRATEGY_HELP)  # fmt: skip
@pass_context
def group_add(ctx: Context, name: str, members: tuple[str, ...], strategy: str) -> None:
    """Add the trunk group NAME of stored trunks.

    \b
    Examples:
      callcenter trunk group add de-out --member carrier-a --member carrier-b
      callcenter trunk group add spread --member carrier-a --member carrier-b \\
          --strategy least-busy
    """
    try:
        stored = groups.add(ctx.database, ctx.who, name, members, strategy)
    except InvalidTrunk as exc:
        raise _bad_group(exc) from exc
    click.echo(f"trunk group {stored.name} added: {', '.join(stored.members)} ({stored.strategy})")


@group.command("set")
@click.argument("name")
@click.option("--member", "members", multiple=True,
              help="The members, all of them, in their new order (repeat).")  # fmt: skip
@click.option("--strategy", type=STRATEGY, default=None, metavar="S", help=STRATEGY_HELP)
@pass_context
def group_set(ctx: Context, name: str, members: tuple[str, ...], strategy: str | None) -> None:
    """Change the members (all of them, in order) or the strategy of trunk group NAME.

    \b
    Examples:
      callcenter trunk group set de-out --strategy in-order
      callcenter trunk group set de-out --member carrier-b --member carrier-a
    """
    if not members and strategy is None:
        raise click.UsageError("nothing to change: give --member or --strategy")
    try:
        stored = groups.update(
            ctx.database, ctx.who, name, members=members or None, strategy=strategy
        )
    except InvalidTrunk as exc:
        raise _bad_group(exc) from exc
    click.echo(f"trunk group {name}: {', '.join(stored.members)} ({stored.strategy})")


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def group_list(ctx: Context, as_json: bool) -> None:
    """Every trunk group with its strategy and members.

    \b
    Example:
      callcenter trunk group list
    """
    found = [groups.view(g) for g in groups.list_groups(ctx.database)]
    emit_table(found if as_json else [group_row(g) for g in found], GROUP_COLUMNS, as_json)


@group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def group_show(ctx: Context, name: str, as_json: bool) -> None:
    """One trunk group.

    \b
    Example:
      callcenter trunk group show de-out
    """
    shown = groups.view(groups.get(ctx.database, name))
    if as_json:
        emit_json(shown)
        return
    for key, value in group_row(shown).items():
        click.echo(f"{key}: {value}")


@group.command("remove")
@click.argument("name")
@pass_context
def group_remove(ctx: Context, name: str) -> None:
    """Delete trunk group NAME (refused while an outbound route points at it).

    \b
    Example:
      callcenter trunk group remove de-out
    """
    groups.remove(ctx.database, ctx.who, name)
    click.echo(f"trunk group {name} removed")
