"""``callcenter sim``: run the FreeSWITCH simulator standalone, with generated traffic."""

from __future__ import annotations

import signal

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


@click.command("sim")
@click.option("--listen", default="127.0.0.1:8021", show_default=True, help="ESL HOST:PORT.")
@click.option("--password", default="ClueCon", show_default=True, help="ESL password.")
@click.option("--rate", default=1.0, type=float, show_default=True, help="Inbound calls/s.")
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
    "--interval", default=2.0, type=float, show_default=True, help="Seconds between counter lines."
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
    interval: float,
) -> None:
    """Run a simulated FreeSWITCH (inbound ESL) with callers and agent phones.

    The engine connects to it exactly as to a real FreeSWITCH. Calls arrive as a Poisson
    stream on the DIDs, run the callcenter dialplan (tag + park) and wait for the engine;
    agent phones answer `originate user/<ext>`. Counters print every --interval seconds;
    Ctrl-C or SIGTERM stops cleanly.

    \b
    Example:
      callcenter sim --listen 127.0.0.1:8021 --password ClueCon \\
          --rate 2 --duration 60 --seed 1 --agents 1001-1010 --did 5000
    """
    host, port = _listen(listen)
    simulator = Simulator(host, port, password, time_scale=time_scale, seed=seed)
    profile = TrafficProfile(rate=rate, dids=tuple(dids), patience_mean=patience, talk_mean=talk)
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
    traffic.start(duration=duration if duration > 0 else None)
    try:
        while not stop.wait(timeout=interval):
            c = traffic.counters
            click.echo(
                f"offered={c.offered} live={c.live} bridged={c.bridged} "
                f"completed={c.completed} abandoned={c.abandoned} "
                f"unbridged={c.ended_unbridged} clients={simulator.client_count}"
            )
            if duration > 0 and not traffic.running and c.live == 0:
                break
    finally:
        traffic.stop()
        simulator.stop()
        click.echo("sim: stopped")
