"""A Python model of how FreeSWITCH (signalwire master, switch_utils.c) splits api arguments:
``switch_separate_string`` with a blank or a character delimiter, then
``cleanup_separated_string`` (quotes, backslash escapes, edge spaces). Used to check that
what the builders emit is read back by FreeSWITCH as exactly what was meant."""

from __future__ import annotations

_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "s": " "}


def cleanup(s: str, delim: str) -> str:
    i = 0
    while i < len(s) and s[i] == " ":
        i += 1
    out: list[str] = []
    end = None
    inside = False
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            e = s[i + 1]
            if e in "'\"\\" or (delim and e == delim) or e in _UNESCAPE:
                out.append(_UNESCAPE.get(e, e) if e not in "'\"\\" and e != delim else e)
                end = len(out)
                i += 2
                continue
        if c == "'" and (inside or "'" in s[i + 1 :]):
            inside = not inside
            if inside:
                end = len(out)
        else:
            out.append(c)
            if c != " " or inside:
                end = len(out)
        i += 1
    return "".join(out[:end]) if end is not None else "".join(out)


def split(s: str, delim: str, limit: int = 1024) -> list[str]:
    starts: list[int] = []
    cuts: list[int] = []
    inside = False
    i = 0
    while i < len(s) and len(starts) < limit:
        if len(starts) == len(cuts):
            if delim == " " and s[i] == " ":
                i += 1
                continue
            starts.append(i)
            continue
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "'" and (inside or "'" in s[i + 1 :]):
            inside = not inside
        elif c == delim and not inside:
            cuts.append(i)
        i += 1
    cuts += [len(s)] * (len(starts) - len(cuts))
    inner = "" if delim == " " else delim
    return [cleanup(s[a:b], inner) for a, b in zip(starts, cuts, strict=True)]


def read_originate(line: str) -> tuple[dict[str, str], str, str]:
    verb, _, rest = line.partition(" ")
    assert verb == "originate"
    argv = split(rest, " ", 10)
    assert len(argv) == 2, argv
    url, app = argv
    assert url.startswith("{")
    depth, end = 0, 0
    while end < len(url):
        depth += url[end] == "{"
        depth -= url[end] == "}"
        if depth == 0:
            break
        end += 1
    variables = {}
    for part in split(url[1:end], ","):
        key, _, value = part.partition("=")
        variables[key] = cleanup(value, "=")
    return variables, url[end + 1 :], app
