"""``callcenter sim``: run the FreeSWITCH simulator standalone, with generated traffic."""

from __future__ import annotations

import signal
from dataclasses import replace

import click
import gevent
from gevent.event import Event

from callcenter.sim import Simulator
from callcenter.sim.traffic import TrafficModel, TrafficProfile


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise click.BadParameter("expected HOST:PORT, e.g. 127.0.0.1:8021")
    return host or "127.0.0.1", int(port)


def _extensions(value: str) -> list[str]:
    out: list[str] = []
    for part in (p.strip() for p in value.split(",") if p.strip()):
        first, dash, last = part.partition("-")
        if dash:
            if not (first.isdigit() and last.isdigit()) or int(last) < int(first):
                raise click.BadParameter(f"bad extension range {part!r}")
            out += [str(n) for n in range(int(first), int(last) + 1)]
        else:
            out.append(part)
    return out


OUTBOUND = ("busy", "no_answer", "machine", "failed")  # shares of dials; the rest answer live


def outbound_mix(value: str | None, profile: TrafficProfile) -> TrafficProfile:
    """``busy=0.08,no_answer=0.43,machine=0.2,failed=0.04`` (each share given replaces the
    profile's) as the profile's outbound mix."""
    shares = {name: float(getattr(profile, f"outbound_{name}")) for name in OUTBOUND}
    for part in (p.strip() for p in (value or "").split(",") if p.strip()):
        name, sep, share = (x.strip() for x in part.partition("="))
        if not sep or name not in OUTBOUND:
            raise click.BadParameter(
                f"{part!r}: expected OUTCOME=SHARE, OUTCOME one of {', '.join(OUTBOUND)}",
                param_hint="--outbound",
            )
        try:
            shares[name] = float(share)
        except ValueError:
            shares[name] = -1.0
        if not 0 <= shares[name] <= 1:
            raise click.BadParameter(f"{part!r}: a share is 0 to 1", param_hint="--outbound")
    if sum(shares.values()) > 1:
        shown = ",".join(f"{k}={v:g}" for k, v in shares.items())
        raise click.BadParameter(
            f"{shown}: the shares add up to more than 1", param_hint="--outbound"
        )
    return replace(
        profile,
        outbound_busy=shares["busy"],
        outbound_no_answer=shares["no_answer"],
        outbound_machine=shares["machine"],
        outbound_failed=shares["failed"],
    )


@click.command("sim")
@click.option("--listen", default="127.0.0.1:8021", show_default=True, help="ESL HOST:PORT.")
@click.option("--password", default="ClueCon", show_default=True, help="ESL password.")
@click.option(
    "--rate",
    default=1.0,
    type=click.FloatRange(min=0),
    show_default=True,
    help="Inbound calls/s (0: none, a simulator for the dialer's calls only).",
)
@click.option(
    "--duration", default=0.0, type=float, help="Offer calls for N seconds (0: until Ctrl-C)."
)
@click.option("--seed", default=None, type=int, help="Seed for a reproducible run.")
@click.option(
    "--agents", default="1001-1010", show_default=True, help="Agent phones, e.g. 1001-1010,2001."
)
@click.option(
    "--did",
    "dids",
    multiple=True,
    default=["5000"],
    show_default=True,
    help="DID the calls dial (repeat for several).",
)
@click.option(
    "--patience",
    default=60.0,
    type=float,
    show_default=True,
    help="Mean caller patience before abandoning (s).",
)
@click.option("--talk", default=90.0, type=float, show_default=True, help="Mean talk time (s).")
@click.option(
    "--time-scale",
    default=1.0,
    type=float,
    show_default=True,
    help="Scale of every simulated duration (0.1: ten times faster).",
)
@click.option(
    "--outbound",
    metavar="OUTCOME=SHARE,...",
    help="What the dialer's calls meet, shares of dials (the rest: people who answer), e.g. "
    "busy=0.08,no_answer=0.43,machine=0.2,failed=0.04. Default: busy=0.15,no_answer=0.15,"
    "machine=0.1,failed=0.",
)
@click.option(
    "--interval", default=2.0, type=float, show_default=True, help="Seconds between counter lines."
)
@click.option(
    "--sps",
    default=30,
    type=click.IntRange(min=1),
    show_default=True,
    help="Sessions per second the switch creates (switch.conf.xml's sessions-per-second); "
    "a caller or an originate beyond them is refused, as FreeSWITCH does.",
)
def sim(
    listen: str,
    password: str,
    rate: float,
    duration: float,
    seed: int | None,
    agents: str,
    dids: tuple[str, ...],
    patience: float,
    talk: float,
    time_scale: float,
    outbound: str | None,
    interval: float,
    sps: int,
) -> None:
    """Run a simulated FreeSWITCH (inbound ESL) with callers and agent phones.

    The engine connects to it exactly as to a real FreeSWITCH. Calls arrive as a Poisson
    stream on the DIDs, run the callcenter dialplan (tag + park) and wait for the engine;
    agent phones answer `originate user/<ext>`. Counters print every --interval seconds;
    Ctrl-C or SIGTERM stops cleanly.

    \b
    Examples:
      callcenter sim --listen 127.0.0.1:8021 --password ClueCon \\
          --rate 2 --duration 60 --seed 1 --agents 1001-1010 --did 5000
      callcenter sim --rate 0 --agents 1001-1003 --outbound busy=0.08,no_answer=0.43,machine=0.2
    """
    host, port = _listen(listen)
    profile = TrafficProfile(rate=rate, dids=tuple(dids), patience_mean=patience, talk_mean=talk)
    profile = outbound_mix(outbound, profile)
    simulator = Simulator(
        host, port, password, time_scale=time_scale, seed=seed, sessions_per_second=sps
    )
    traffic = TrafficModel(simulator, profile, seed=seed)
    traffic.register_agents(_extensions(agents))
    stop = Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, stop.set)
    simulator.start()
    click.echo(
        f"sim: FreeSWITCH simulator on {host}:{simulator.port} (Core-UUID "
        f"{simulator.core_uuid}); Ctrl-C stops"
    )
    if rate > 0:
        traffic.start(duration=duration if duration > 0 else None)
    try:
        while not stop.wait(timeout=interval):
            c = traffic.counters
            click.echo(
                f"offered={c.offered} live={c.live} bridged={c.bridged} "
                f"completed={c.completed} abandoned={c.abandoned} "
                f"unbridged={c.ended_unbridged} refused={c.refused} "
                f"clients={simulator.client_count}"
            )
            if duration > 0 and not traffic.running and c.live == 0:
                break
    finally:
        traffic.stop()
        simulator.stop()
        click.echo("sim: stopped")
