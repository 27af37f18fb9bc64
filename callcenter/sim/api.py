"""API commands (``api`` / ``bgapi``), with FreeSWITCH's exact reply texts (NOTES §2)."""

from __future__ import annotations

from collections.abc import Callable

from gevent.event import AsyncResult

from callcenter.sim import listings
from callcenter.sim.bridging import uuid_bridge
from callcenter.sim.channel import CallState
from callcenter.sim.core import SimCore
from callcenter.sim.originate import originate
from callcenter.sim.session import Control, ExecRequest, Exit, Session

NO_CHANNEL = "-ERR No such channel!\n"
Handler = Callable[["Api", list[str], str], str]


class Api:
    def __init__(self, core: SimCore) -> None:
        self.core = core

    def execute(self, command: str, args: str) -> str:
        """Run one API command; returns the api/response body."""
        handler = HANDLERS.get(command)
        if handler is None:
            return f"-ERR {command} Command not found!\n"
        body = handler(self, args.split(), args)
        return body if body != "" else "-ERR no reply\n"

    def _session(self, uuid: str) -> Session | None:
        return self.core.session(uuid)

    def originate(self, _argv: list[str], args: str) -> str:
        result: AsyncResult = AsyncResult()
        originate(self.core, args, result.set)
        timeout = self.core.clock.real(600) + 30
        return str(result.get(timeout=timeout))

    def uuid_kill(self, argv: list[str], _args: str) -> str:
        s = self._session(argv[0]) if argv else None
        if s is None:
            return NO_CHANNEL
        s.hangup(argv[1] if len(argv) > 1 else "NORMAL_CLEARING", "send_bye")
        return "+OK\n"

    def uuid_bridge(self, argv: list[str], _args: str) -> str:
        if len(argv) < 2:
            return "-USAGE: <uuid> <other_uuid>\n"
        return uuid_bridge(self.core, argv[0], argv[1])

    def uuid_transfer(self, argv: list[str], _args: str) -> str:
        argv = [a for a in argv if a not in ("-bleg", "-both")]
        s = self._session(argv[0]) if argv else None
        if s is None:
            return NO_CHANNEL
        if len(argv) < 2:
            return "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n"
        s.control(Control(Exit.TRANSFER, tuple(argv[1:])))
        return "+OK\n"

    def uuid_record(self, argv: list[str], _args: str) -> str:
        s = self._session(argv[0]) if argv else None
        if s is None:
            return "-ERR Cannot locate session!\n"
        action = argv[1] if len(argv) > 1 else ""
        path = argv[2] if len(argv) > 2 else ""
        if action == "start" and path:
            s.start_recording(path)
        elif action == "stop":
            for one in list(s.recordings) if path in ("", "all") else [path]:
                s.stop_recording(one)
        elif action in ("mask", "unmask"):
            s.mask_recording(path, action == "mask")
        else:
            return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>]\n"
        return "+OK Success\n"

    def uuid_broadcast(self, argv: list[str], _args: str) -> str:
        s = self._session(argv[0]) if argv else None
        if s is None or len(argv) < 2:
            return "-ERR invalid uuid\n"
        leg = argv[2] if len(argv) > 2 else "aleg"
        targets = [s]
        if leg in ("both", "bleg") and s.peer is not None:
            targets = [s.peer] if leg == "bleg" else [s, s.peer]
        app, sep, arg = argv[1].partition("::")
        request_app, request_arg = (app, arg) if sep else ("playback", argv[1])
        for target in targets:
            target.interrupt()
            target.inbox.put(ExecRequest(request_app, request_arg, None))
        return "+OK Message sent\n"

    def uuid_break(self, argv: list[str], _args: str) -> str:
        s = self._session(argv[0]) if argv else None
        if s is None:
            return NO_CHANNEL
        if argv[1:2] == ["all"]:  # the queued executes too (FreeSWITCH: flush private events)
            s.flush_executes()
        s.interrupt()
        return "+OK\n"

    def uuid_setvar(self, argv: list[str], args: str) -> str:
        s = self._session(argv[0]) if argv else None
        if s is None:
            return NO_CHANNEL
        parts = args.split(None, 2)
        if len(parts) < 2:
            return "-USAGE: <uuid> <var> [value]\n"
        s.chan.set_var(parts[1], parts[2] if len(parts) > 2 else None)
        return "+OK\n"

    def uuid_setvar_multi(self, argv: list[str], args: str) -> str:
        s = self._session(argv[0]) if argv else None
        if s is None:
            return NO_CHANNEL
        for item in args.split(None, 1)[1].split(";") if len(argv) > 1 else []:
            name, _, value = item.partition("=")
            if name:
                s.chan.set_var(name, value or None)
        return "+OK\n"

    def uuid_getvar(self, argv: list[str], _args: str) -> str:
        s = self._session(argv[0]) if argv else None
        if s is None:
            return NO_CHANNEL
        value = s.chan.get_var(argv[1]) if len(argv) > 1 else None
        return "_undef_" if value is None else value

    def uuid_exists(self, argv: list[str], _args: str) -> str:
        return "true" if argv and self._session(argv[0]) is not None else "false"

    def uuid_dump(self, argv: list[str], _args: str) -> str:
        s = self._session(argv[0]) if argv else None
        if s is None:
            return NO_CHANNEL
        return listings.uuid_dump(self.core, s, argv[1:2] == ["json"])

    def uuid_answer(self, argv: list[str], _args: str) -> str:
        s = self._session(argv[0]) if argv else None
        if s is None:
            return NO_CHANNEL
        s.answer()
        return "+OK\n"

    def uuid_hold(self, argv: list[str], _args: str) -> str:
        flag = argv[0] if argv and argv[0] in ("off", "toggle") else ""
        uuid = argv[1] if flag and len(argv) > 1 else (argv[0] if argv else "")
        s = self._session(uuid)
        if s is None:
            return "-ERR Operation failed\n"
        held = s.chan.callstate is CallState.HELD
        hold = not held if flag == "toggle" else flag != "off"
        if hold != held:
            s.emit("CHANNEL_HOLD" if hold else "CHANNEL_UNHOLD")
            s.set_callstate(CallState.HELD if hold else CallState.ACTIVE)
        return "+OK Success\n"

    def uuid_send_dtmf(self, argv: list[str], _args: str) -> str:
        s = self._session(argv[0]) if argv else None
        if s is None:
            return NO_CHANNEL
        return "+OK Success\n"

    def show(self, argv: list[str], _args: str) -> str:
        return listings.show(self.core, argv)

    def status(self, _argv: list[str], _args: str) -> str:
        return listings.status(self.core)

    def version(self, _argv: list[str], _args: str) -> str:
        return listings.VERSION_LINE + "\n"

    def uptime(self, _argv: list[str], _args: str) -> str:
        import time

        return str(int(time.monotonic() - self.core.started))

    def fsctl(self, argv: list[str], _args: str) -> str:
        if argv[:1] == ["sps"]:  # ``fsctl sps N`` sets it (N > 0), as mod_commands does
            given = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 0
            if given > 0:
                self.core.sessions_per_second = given
            return f"+OK sessions per second: {self.core.sessions_per_second}\n"
        return "+OK\n"

    def hupall(self, argv: list[str], _args: str) -> str:
        cause = argv[0] if argv else "MANAGER_REQUEST"
        var, value = (argv[1], argv[2]) if len(argv) > 2 else (None, None)
        for s in list(self.core.sessions.values()):
            if var is None or s.chan.get_var(var) == value:
                s.hangup(cause, "send_bye")
        if var is None:
            return f"+OK hangup all channels with cause: {cause}\n"
        return f"+OK hangup all channels matching [{var}]=[{value}] with cause: {cause}\n"

    def global_getvar(self, argv: list[str], _args: str) -> str:
        known = {"hostname": self.core.hostname, "switchname": self.core.hostname}
        return known.get(argv[0], "") if argv else ""

    def sofia(self, argv: list[str], _args: str) -> str:
        if argv == ["status"]:
            return listings.sofia_status(self.core)
        return self.core.gateways.api(argv) or "+OK\n"

    def module_exists(self, argv: list[str], _args: str) -> str:
        return "true" if argv and argv[0] in self.core.modules else "false"

    def reloadxml(self, _argv: list[str], _args: str) -> str:
        return "+OK [Success]\n"

    def reloadacl(self, _argv: list[str], _args: str) -> str:
        return "+OK acl reloaded\n"

    def uuid_park(self, argv: list[str], _args: str) -> str:
        s = self._session(argv[0]) if argv else None
        if s is None:
            return NO_CHANNEL
        s.control(Control(Exit.UNBRIDGED))
        return "+OK\n"


HANDLERS: dict[str, Handler] = {
    name: getattr(Api, name)
    for name in [
        "originate",
        "uuid_kill",
        "uuid_bridge",
        "uuid_transfer",
        "uuid_record",
        "uuid_broadcast",
        "uuid_break",
        "uuid_setvar",
        "uuid_setvar_multi",
        "uuid_getvar",
        "uuid_exists",
        "uuid_dump",
        "uuid_answer",
        "uuid_hold",
        "uuid_send_dtmf",
        "uuid_park",
        "show",
        "status",
        "version",
        "uptime",
        "fsctl",
        "hupall",
        "global_getvar",
        "sofia",
        "reloadxml",
        "reloadacl",
        "module_exists",
    ]
}
