"""Run the whole test suite as parallel pytest processes, two per core (``make test``).

pytest-xdist cannot drive this suite: its workers talk to the controller through execnet's
threads, and the suite's gevent monkey-patching (``-p callcenter._gevent``) turns those threads
into greenlets that block forever. So the test files are split into shards of about equal
duration (``tests/durations.json``: seconds per file, measured; a file not in it counts as the
median), and each shard is an ordinary pytest process. Each has its own PostgreSQL database (the
names carry the pid) and its own simulators on ephemeral ports, as two developers' runs on one
machine always had.

Two per core, because a shard mostly waits: on the simulator's clock (rings, prompts, timers
of seconds), on PostgreSQL and on its own engines' sockets. A shard alone used about a third
of a core (``test_call_failures.py``: 40 s of CPU in 116 s); on 2 cores, 4 shards ran the
suite in 423 s where 2 took 990 s, at 1.4 cores busy.

    python tests/shards.py               # every test file in CALLCENTER_TEST_SHARDS processes
                                         # (default: two per core, at most 8)
    python tests/shards.py -x -k agents  # extra arguments go to every shard's pytest
    python tests/shards.py --record      # also rewrite tests/durations.json from this run

Each shard's output is printed whole when it ends (no interleaving); the exit status is the
worst shard's.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
DURATIONS = TESTS / "durations.json"


def test_files() -> list[str]:
    return sorted(
        str(p.relative_to(ROOT))
        for p in TESTS.rglob("test_*.py")
        if "benchmarks" not in p.relative_to(TESTS).parts
    )


def load_durations() -> dict[str, float]:
    try:
        data = json.loads(DURATIONS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}


def split(files: list[str], weights: dict[str, float], n: int) -> list[list[str]]:
    """Longest first onto the lightest shard: within one file of the ideal split."""
    default = statistics.median(weights.values()) if weights else 1.0
    shards: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(n)]
    for f in sorted(files, key=lambda f: (-weights.get(f, default), f)):
        i = min(range(n), key=lambda i: shards[i][0])
        total, members = shards[i]
        shards[i] = (total + weights.get(f, default), [*members, f])
    return [sorted(members) for _, members in shards if members]


def shard_count() -> int:
    raw = os.environ.get("CALLCENTER_TEST_SHARDS", "")
    if raw:
        try:
            n = int(raw)
        except ValueError:
            sys.exit(f"CALLCENTER_TEST_SHARDS={raw!r}: a whole number of processes is needed")
        if n < 1:
            sys.exit(f"CALLCENTER_TEST_SHARDS={raw!r}: at least 1 process is needed")
        return n
    return max(1, min(8, 2 * (os.cpu_count() or 1)))


def file_times(junit: Path) -> dict[str, float]:
    """Seconds per test file from a junit report (setup and teardown included)."""
    times: dict[str, float] = {}
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return times
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        parts = classname.split(".")
        # classname is module.path[.Class]: find the longest prefix that is a file
        for cut in range(len(parts), 0, -1):
            candidate = Path(ROOT, *parts[:cut]).with_suffix(".py")
            if candidate.is_file():
                key = str(candidate.relative_to(ROOT))
                times[key] = times.get(key, 0.0) + float(case.get("time", "0") or 0)
                break
    return times


def main(argv: list[str]) -> int:
    record = "--record" in argv
    extra = [a for a in argv if a != "--record"]
    files = test_files()
    n = shard_count()
    shards = split(files, load_durations(), n)
    print(f"{len(files)} test files in {len(shards)} parallel pytest processes", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="cc-shards-"))
    started = time.monotonic()
    procs = []
    for i, members in enumerate(shards):
        log = (tmp / f"shard-{i}.log").open("w", encoding="utf-8")
        junit = tmp / f"shard-{i}.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", f"--junitxml={junit}", *extra, *members]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        procs.append((i, proc, log, junit))
    worst = 0
    pending = list(procs)
    last_note = started
    while pending:
        for item in list(pending):
            i, proc, log, _ = item
            if proc.poll() is None:
                continue
            pending.remove(item)
            log.close()
            elapsed = time.monotonic() - started
            output = (tmp / f"shard-{i}.log").read_text(encoding="utf-8", errors="replace")
            head = f"shard {i + 1}/{len(procs)}: exit {proc.returncode} after {elapsed:.0f} s"
            print(f"\n===== {head}")
            print(output, flush=True)
            worst = max(worst, proc.returncode)
        if pending and time.monotonic() - last_note >= 60:
            last_note = time.monotonic()
            note = f"... {last_note - started:.0f} s, {len(pending)} shard(s) still running"
            print(note, flush=True)
        time.sleep(0.5)
    if record:
        measured: dict[str, float] = {}
        for _, _, _, junit in procs:
            measured.update(file_times(junit))
        merged = {**load_durations(), **{k: round(v, 1) for k, v in measured.items()}}
        merged = {k: v for k, v in merged.items() if k in set(files)}
        DURATIONS.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n", "utf-8")
        print(f"wrote {DURATIONS.relative_to(ROOT)} ({len(measured)} files timed)")
    status = "passed" if worst == 0 else f"FAILED (worst exit {worst})"
    print(f"\nall shards {status} in {time.monotonic() - started:.0f} s")
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
