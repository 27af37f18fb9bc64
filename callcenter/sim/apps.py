"""Dialplan applications run by ``sendmsg execute`` (and the simulated dialplan).

Each returns its ``Application-Response``. A caller hanging up mid-app makes the app
stop at once and answer the way FreeSWITCH does (playback: ``PLAYBACK ERROR``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from callcenter.sim.channel import AnswerState
from callcenter.sim.media import INFINITE, file_type, path_seconds
from callcenter.sim.session import Control, Exit, Session, Signal

App = Callable[[Session, str], str]


MODULE_APPS = {"avmd_start": "mod_avmd", "avmd_stop": "mod_avmd"}


def missing(session: Session, app: str) -> bool:
    """``app``'s module is not loaded: as switch_core_session_execute_application_get_flags
    does ("Invalid Application"), the channel is hung up (DESTINATION_OUT_OF_ORDER) before
    any CHANNEL_EXECUTE, and no CHANNEL_EXECUTE_COMPLETE follows."""
    module = MODULE_APPS.get(app)
    if module is None or module in session.core.modules:
        return False
    session.hangup("DESTINATION_OUT_OF_ORDER", "send_bye")
    return True


def run_app(session: Session, app: str, arg: str) -> str:
    handler = APPS.get(app)
    if handler is None:
        return "_none_"
    return handler(session, arg)


def play(session: Session, path: str, *, breaks: str = "", keep: bool = False) -> str:
    """Play ``path``; returns "done", "break" or "hangup". ``breaks``: digits that stop it
    ("any" for every digit). With ``keep`` the breaking digit stays queued for collection."""
    core = session.core
    kind = file_type(path)
    tail = ((("Playback-File-Type", kind),) if kind else ()) + (("Playback-File-Path", path),)
    session.emit("PLAYBACK_START", tail=tail)
    start = core.clock.now()
    status = _wait_media(
        session, path_seconds(path, core.files, core.default_file_seconds), breaks, keep
    )
    ms = int((core.clock.now() - start) * 1000)
    session.played_ms += ms
    session.chan.set_vars(
        {
            "playback_last_offset_pos": str(ms * 8),
            "playback_seconds": str(ms // 1000),
            "playback_ms": str(ms),
            "playback_samples": str(ms * 8),
        }
    )
    shown = "break" if status == "break" else "done"
    session.emit("PLAYBACK_STOP", tail=(*tail, ("Playback-Status", shown)))
    return status


def _wait_media(session: Session, seconds: float, breaks: str, keep: bool) -> str:
    clock = session.core.clock
    deadline = clock.now() + seconds if seconds != INFINITE else INFINITE
    while True:
        if session.hungup.is_set():
            return "hangup"
        remaining = deadline - clock.now()
        if remaining <= 0:
            return "done"
        item = session.next_dtmf(min(remaining, 60.0))
        if item is None:
            continue
        if item == Signal.HANGUP:
            return "hangup"
        if item == Signal.BREAK:
            return "break"
        if breaks and (breaks == "any" or item in breaks):
            if keep:
                session.dtmf.queue.appendleft(item)
            else:
                session.chan.set_var("playback_terminator_used", item)
            return "break"


def playback(session: Session, arg: str) -> str:
    terminators = session.chan.get_var("playback_terminators") or ""
    breaks = "" if terminators == "none" else terminators
    status = play(session, arg, breaks=breaks)
    response = "PLAYBACK ERROR" if status == "hangup" else "FILE PLAYED"
    session.chan.set_var("current_application_response", response)
    return response


def collect(
    session: Session,
    *,
    min_digits: int,
    max_digits: int,
    timeout: float,
    digit_timeout: float,
    terminators: str,
) -> tuple[str, str, bool]:
    """Collect digits; returns (digits, terminator used, hung up)."""
    digits = ""
    wait = timeout
    while len(digits) < max_digits:
        item = session.next_dtmf(wait)
        if item is None:
            break
        if item == Signal.HANGUP:
            return digits, "", True
        if item == Signal.BREAK:
            break
        if terminators and item in terminators:
            return digits, item, False
        digits += item
        wait = digit_timeout
    return digits, "", session.hungup.is_set()


def play_and_get_digits(session: Session, arg: str) -> str:
    parts = arg.split()
    if len(parts) < 9:
        return "_none_"
    min_d, max_d, tries, timeout_ms = (int(p) for p in parts[:4])
    terminators, prompt, invalid, var, regex = parts[4:9]
    digit_timeout_ms = int(parts[9]) if len(parts) > 9 else timeout_ms
    return _collect_app(
        session,
        prompt,
        invalid,
        var,
        regex,
        min_d,
        max_d,
        max(1, tries),
        timeout_ms / 1000,
        digit_timeout_ms / 1000,
        terminators,
    )


def read(session: Session, arg: str) -> str:
    parts = arg.split()
    if len(parts) < 5:
        return "_none_"
    min_d, max_d = int(parts[0]), int(parts[1])
    prompt, var, timeout_ms = parts[2], parts[3], int(parts[4])
    terminators = parts[5] if len(parts) > 5 else "#"
    digit_timeout_ms = int(parts[6]) if len(parts) > 6 else timeout_ms
    return _collect_app(
        session,
        prompt,
        "",
        var,
        "",
        min_d,
        max_d,
        1,
        timeout_ms / 1000,
        digit_timeout_ms / 1000,
        terminators,
    )


def _collect_app(
    session: Session,
    prompt: str,
    invalid: str,
    var: str,
    regex: str,
    min_d: int,
    max_d: int,
    tries: int,
    timeout: float,
    digit_timeout: float,
    terminators: str,
) -> str:
    chan = session.chan
    result = "timeout"
    for attempt in range(tries):
        if prompt and play(session, prompt, breaks="any", keep=True) == "hangup":
            return "_none_"
        session.core.people.prompted(session)
        digits, used, gone = collect(
            session,
            min_digits=min_d,
            max_digits=max_d,
            timeout=timeout,
            digit_timeout=digit_timeout,
            terminators=terminators,
        )
        if gone:
            return "_none_"
        valid = len(digits) >= min_d and (not regex or re.fullmatch(regex, digits) is not None)
        if valid:
            if used:
                chan.set_var("read_terminator_used", used)
            chan.set_vars({"read_result": "success", var: digits})
            return "_none_"
        result = "failure" if digits else "timeout"
        last = attempt == tries - 1
        if invalid and not last and play(session, invalid, breaks="any") == "hangup":
            return "_none_"
    chan.set_vars({"read_result": result})
    chan.set_var(var, None)
    return "_none_"


def answer(session: Session, _arg: str) -> str:
    session.answer()
    return "_none_"


def pre_answer(session: Session, _arg: str) -> str:
    session.pre_answer()
    return "_none_"


def ring_ready(session: Session, _arg: str) -> str:
    if session.chan.answer_state is AnswerState.RINGING:
        session.chan.set_time("Channel-Progress-Time", session.core.clock.now_us())
        session.emit("CHANNEL_PROGRESS")
    return "_none_"


def _split_assignment(arg: str) -> tuple[str, str | None]:
    name, sep, value = arg.partition("=")
    return name.strip(), (value if sep and value != "" else None)


def set_var(session: Session, arg: str) -> str:
    name, value = _split_assignment(arg)
    if name:
        session.chan.set_var(name, value)
    return "_none_"


def export(session: Session, arg: str) -> str:
    name, value = _split_assignment(arg.removeprefix("nolocal:"))
    if name:
        session.chan.set_var(name, value)
        exported = [v for v in (session.chan.get_var("export_vars") or "").split(",") if v]
        if name not in exported:
            session.chan.set_var("export_vars", ",".join([*exported, name]))
    return "_none_"


def unset(session: Session, arg: str) -> str:
    session.chan.set_var(arg.strip(), None)
    return "_none_"


def multiset(session: Session, arg: str) -> str:
    if arg.startswith("^^"):
        sep, items = arg[2], arg[3:].split(arg[2])
    else:
        items = arg.split()
        sep = " "
    del sep
    for item in items:
        set_var(session, item)
    return "_none_"


def hangup(session: Session, arg: str) -> str:
    session.hangup(arg.strip() or "NORMAL_CLEARING", "send_bye")
    return "_none_"


def park(session: Session, _arg: str) -> str:
    if session.parked or session.chan.gone:
        return "_none_"
    chan = session.chan
    chan.set_var("park_timeout", None)  # the park consumed it (recorded: gone from PARK on)
    session.emit("CHANNEL_PARK")
    session.serve(parked=True)
    chan.set_var("current_loop", None)
    chan.set_var("total_loops", None)
    session.emit("CHANNEL_UNPARK")
    return session.last_response


def pause(session: Session, arg: str) -> str:
    try:
        seconds = int(arg.strip() or "0") / 1000
    except ValueError:
        seconds = 0.0
    _wait_media(session, seconds, "", False)
    return "_none_"


def echo(session: Session, _arg: str) -> str:
    _wait_media(session, INFINITE, "", False)
    return "_none_"


def say(session: Session, arg: str) -> str:
    text = arg.split()[-1] if arg.split() else ""
    _wait_media(session, 0.4 * max(1, len(text)), "", False)
    return "_none_"


def record(session: Session, arg: str) -> str:
    parts = arg.split()
    if not parts:
        return "_none_"
    limit = float(parts[1]) if len(parts) > 1 and parts[1].isdigit() else INFINITE
    terminators = session.chan.get_var("playback_terminators") or "#"
    session.start_recording(parts[0], media_bug=False)
    status = _wait_media(session, limit, terminators, False)
    cause = "success-maxtime" if status in ("done", "hangup") else "success-silence"
    session.stop_recording(parts[0], cause)
    return "_none_"


def record_session(session: Session, arg: str) -> str:
    path = arg.split()[0] if arg.split() else ""
    if path:
        session.start_recording(path)
    return "_none_"


def stop_record_session(session: Session, arg: str) -> str:
    paths = list(session.recordings) if arg.strip() in ("", "all") else [arg.strip()]
    for path in paths:
        session.stop_recording(path)
    return "_none_"


def transfer(session: Session, arg: str) -> str:
    parts = arg.split()
    if parts:
        session.inbox.put(Control(Exit.TRANSFER, tuple(parts)))
    return "_none_"


def info(_session: Session, _arg: str) -> str:
    return "_none_"


def bridge(session: Session, arg: str) -> str:
    from callcenter.sim.bridging import bridge_app

    return bridge_app(session, arg)


def wait_for_silence(session: Session, arg: str) -> str:
    """``<thresh> <silence_hits> <listen_hits> <timeout_ms>``: the called party's audio
    (``sim.listening``); the caller's own digits do not end it."""
    from callcenter.sim.listening import listen, since_answer, voice_of

    parts = arg.split()
    try:
        silence_hits, listen_hits, timeout_ms = (int(p) for p in parts[1:4])
    except ValueError:
        return "_none_"  # FreeSWITCH: "Usage: <silence_thresh> <silence_hits> ..." logged
    heard = listen(voice_of(session), since_answer(session), silence_hits, listen_hits, timeout_ms)
    if _wait_media(session, heard.seconds, "", False) != "done":
        return "_none_"
    if heard.timeout:
        session.chan.set_vars(
            {
                "wait_for_silence_timeout": "true",
                "wait_for_silence_listenhits": str(heard.listen_hits),
                "wait_for_silence_silence_hits": str(heard.silence_left),
            }
        )
    else:
        session.chan.set_var("wait_for_silence_timeout", "false")
    return "_none_"


def detect_audio(session: Session, arg: str) -> str:
    """``<thresh> <audio_hits> <timeout_ms>``: until the called party speaks."""
    from callcenter.sim.listening import hear, since_answer, voice_of

    parts = arg.split()
    try:
        audio_hits, timeout_ms = (int(p) for p in parts[1:3])
    except ValueError:
        return "_none_"
    heard = hear(voice_of(session), since_answer(session), audio_hits, timeout_ms)
    if _wait_media(session, heard.seconds, "", False) != "done":
        return "_none_"
    if heard.timeout:
        session.chan.set_vars(
            {"detect_audio_timeout": "true", "detect_audio_hits": str(heard.listen_hits)}
        )
    else:
        session.chan.set_var("detect_audio_timeout", "false")
    return "_none_"


def avmd_start(session: Session, _arg: str) -> str:
    from callcenter.sim.listening import avmd_start as start

    start(session)
    return "_none_"


def avmd_stop(session: Session, _arg: str) -> str:
    from callcenter.sim.listening import avmd_stop as stop

    stop(session)
    return "_none_"


def eavesdrop(session: Session, arg: str) -> str:
    from callcenter.sim.eavesdrop import eavesdrop as run

    return run(session, arg)


APPS: dict[str, App] = {
    "answer": answer,
    "pre_answer": pre_answer,
    "ring_ready": ring_ready,
    "playback": playback,
    "play_and_get_digits": play_and_get_digits,
    "read": read,
    "say": say,
    "set": set_var,
    "export": export,
    "unset": unset,
    "multiset": multiset,
    "hangup": hangup,
    "park": park,
    "sleep": pause,
    "echo": echo,
    "record": record,
    "record_session": record_session,
    "stop_record_session": stop_record_session,
    "transfer": transfer,
    "info": info,
    "bridge": bridge,
    "eavesdrop": eavesdrop,
    "wait_for_silence": wait_for_silence,
    "detect_audio": detect_audio,
    "avmd_start": avmd_start,
    "avmd_stop": avmd_stop,
}
