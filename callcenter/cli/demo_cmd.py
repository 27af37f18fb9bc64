from __future__ import annotations

import json
import secrets
import shlex
import time
import urllib.error
import urllib.request
from pathlib import Path

import click
import gevent

import callcenter
from callcenter.app import App
from callcenter.cli import Context, pass_context
from callcenter.errors import ConfigError
from callcenter.services import demo as demo_service
from callcenter.services.actor import Actor
from callcenter.settings import load_settings
from callcenter.sim.simulator import Simulator
from callcenter.sim.traffic import TrafficModel, TrafficProfile
from callcenter.vocabulary import RouteTarget

# DID -> what the demo routes it to
DEMO_ROUTES = {
    "5000": (RouteTarget.PLAYBACK, "tone_stream://%(3000,0,440)"),
    "5001": (RouteTarget.EXTENSION, "1001"),
    "5002": (RouteTarget.EXTENSION, "1002"),
    "5003": (RouteTarget.IVR, "main"),  # dialplans/main.yaml
    "5004": (RouteTarget.QUEUE, "support"),
}
# extension -> skills; every demo agent is logged in
DEMO_AGENTS = {
    "1001": {"english": 5},
    "1002": {"english": 4, "premium": 1},
    "1003": {"english": 3, "french": 5},
    "1004": {"english": 5, "premium": 3},
}
# the queues dialplans/*.yaml name, and who answers them
DEMO_QUEUES = {
    "sales": ["1001", "1002"],
    "support": ["1002", "1003", "1004"],
    "vip": ["1004"],
}


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def _seed(app: App, who: Actor) -> None:
    """Routes, agents and queues the demo needs; what an earlier run stored is kept."""
    demo_service.seed(
        app.database,
        who,
        domain=app.settings.agents_domain,
        agent_skills=DEMO_AGENTS,
        queue_members=DEMO_QUEUES,
        route_targets={did: f"{kind}:{arg}" for did, (kind, arg) in DEMO_ROUTES.items()},
    )
    app.dispatcher.request_reload()
    app.reload_flows()  # now that the queues they name exist


def _dialplans_dir(configured: Path) -> Path:
    """The configured flows folder, else the one shipped beside the package (a demo run
    outside the repository: DID 5003 needs the flow main), else a one-line error."""
    if configured.is_dir():
        return configured
    shipped = Path(callcenter.__file__).resolve().parents[1] / "dialplans"
    if (shipped / "main.yaml").is_file():
        click.echo(f"demo: dialplans_dir {configured} does not exist: using the flows of {shipped}")
        return shipped
    raise ConfigError(
        f"dialplans_dir {configured} does not exist, and no dialplans/ ships beside the "
        "package: DID 5003 needs the flow main; run the demo from the repository or set "
        "CALLCENTER_DIALPLANS_DIR (a folder holding dialplans/main.yaml and support.yaml)",
        code="dialplans_dir_missing",
    )


def _cli_hint(data_dir: str, port: int) -> str:
    """The commands that reach this demo from another terminal, in this directory: its
    database is under --data-dir, its API on this port (not the defaults `var/`, 9464)."""
    local = f"CALLCENTER_DATA_DIR={shlex.quote(data_dir)}"
    return (
        "  the CLI, from another terminal in this directory:\n"
        f"    {local} CALLCENTER_METRICS_LISTEN=127.0.0.1:{port} callcenter top --once\n"
        f"    {local} callcenter queue list\n"
        f"    {local} callcenter reload"
    )


def _cdr_count(app: App) -> int | str:
    try:
        return demo_service.cdr_count(app.database)
    except Exception:  # noqa: BLE001 (a progress line must not stop the demo)
        return "?"


@click.command()
@click.option(
    "--data-dir",
    default="var/demo",
    show_default=True,
    help="Where the demo keeps its SQLite database.",
)
@click.option("--port", default=0, type=int, help="Metrics/health port (default: any free one).")
@click.option("--rate", default=2.0, show_default=True, help="Simulated calls per second.")
@click.option("--seed", type=int, help="Seed the simulated traffic for a reproducible run.")
@click.option("--duration", default=0.0, type=float, help="Stop after N seconds (0: Ctrl-C).")
@click.option("--interval", default=2.0, type=float, show_default=True, help="Progress period.")
@pass_context
def demo(
    ctx: Context,
    data_dir: str,
    port: int,
    rate: float,
    seed: int | None,
    duration: float,
    interval: float,
) -> None:
    """Run the engine against the built-in FreeSWITCH simulator, with simulated callers.

    The simulator speaks the real Event Socket protocol on a loopback port; the engine
    connects to it as it would to FreeSWITCH. Calls arrive on DIDs 5000 (a tone, then
    hang-up), 5001 and 5002 (ringing agents 1001/1002 and bridging), 5003 (the IVR flow
    dialplans/main.yaml, callers pressing 1 for the sales queue or 2 for support) and 5004
    (the support queue directly). Four simulated agents, logged in, answer the queues
    sales, support and vip. CDRs go to a SQLite database under --data-dir; /metrics and
    /healthz are served on loopback.

    The flows are read from dialplans_dir (default: dialplans/ in the current directory).
    Run elsewhere, where that folder does not exist, the demo says so and takes the flows
    shipped beside the package (the repository's dialplans/); with neither it refuses to
    start: without the flow main, every call to DID 5003 would be turned away.

    \b
    Examples:
      callcenter demo
      callcenter demo --rate 10 --duration 30
      CALLCENTER_DIALPLANS_DIR=~/my-flows callcenter demo
    """
    password = secrets.token_hex(12)
    sim = Simulator(password=password, seed=seed).start()
    settings = load_settings(
        ctx.settings.config_file,
        data_dir=data_dir,
        database_url=f"sqlite:///{Path(data_dir) / 'callcenter.db'}",
        metrics_listen=f"127.0.0.1:{port}",
        esl_nodes=f"sim=esl://:{password}@127.0.0.1:{sim.port}",
        default_route="playback:tone_stream://%(1000,0,350)",
        shutdown_grace="5",
        dialplans_dir=str(_dialplans_dir(ctx.settings.dialplans_dir)),
    )
    app = App(settings)
    app.start(upgrade_db=True)
    _seed(app, ctx.who)
    traffic = TrafficModel(
        sim,
        TrafficProfile(
            rate=rate,
            dids=tuple(DEMO_ROUTES),
            patience_mean=20.0,
            talk_mean=8.0,
            ivr_choices=(("1", 0.6), ("2", 0.4)),  # menus only: no CRM lookup leaves the box
        ),
        seed=seed,
    )
    traffic.register_agents(list(DEMO_AGENTS))
    traffic.start()

    left: list[int] = []

    def stop(reason: str) -> None:
        traffic.stop()  # no new callers; the ones on the line get a grace to finish
        gevent.spawn(finish, reason)

    def finish(reason: str) -> None:
        # the simulator stops with the demo, so nothing stays behind for a next start to
        # adopt (as with a real FreeSWITCH): the callers still on the line hang up first
        deadline = time.monotonic() + settings.shutdown_grace
        while sim.channels and time.monotonic() < deadline:
            gevent.sleep(0.2)
        hung_up: set[str] = set()
        waited = time.monotonic() + 5.0
        while time.monotonic() < waited:
            live = sim.channels
            if not live and not any(m.actors for m in app.managers.values()):
                break
            # callers first (the engine then ends their agents' legs), then whatever is left
            for channel in sorted(live, key=lambda c: c.direction != "inbound"):
                if channel.uuid not in hung_up and sim.hangup(channel.uuid):
                    hung_up.add(channel.uuid)
            gevent.sleep(0.2)
        left.append(len(hung_up))
        app.request_stop(reason)

    app.install_signal_handlers(stop)  # SIGHUP (`callcenter reload`): reload, as `serve`
    root = f"http://127.0.0.1:{app.metrics.port}"
    click.echo(
        f"demo: simulated FreeSWITCH on 127.0.0.1:{sim.port}, database {settings.database_url}"
    )
    click.echo(f"  health  {root}/healthz\n  metrics {root}/metrics\n  Ctrl-C to stop")
    click.echo(_cli_hint(data_dir, app.metrics.port))
    if duration > 0:
        gevent.spawn_later(duration, stop, "demo duration reached")
    before = _cdr_count(app)
    try:
        while not app.wait(interval):
            status, body = _get(f"{root}/healthz")
            health = json.loads(body)
            counters = traffic.counters
            in_flight = sum(len(m.actors) for m in app.managers.values())
            board = app.dispatcher.figures()  # asked of the dispatcher, which owns the board
            waiting = sum(count for _, count, _ in board.queues) if board else 0
            agents = board.agents if board else ()
            talking = sum(count for (_, state), count in agents if state == "in_call")
            click.echo(
                f"[demo] offered={counters.offered} in_flight={in_flight} "
                f"completed={counters.completed + counters.abandoned + counters.ended_unbridged} "
                f"bridged={counters.bridged} queued={waiting} agents_talking={talking} "
                f"cdrs={_cdr_count(app)} healthz={status} "
                f"esl={'up' if health['esl']['sim']['connected'] else 'DOWN'}"
            )
    finally:
        traffic.stop()
        sim.stop()
    hung_up = f", {left[0]} channel(s) still up hung up" if left and left[0] else ""
    click.echo(
        f"demo stopped cleanly (the simulator too){hung_up}; "
        f"CDRs before {before}, after {_cdr_count(app)}"
    )
