"""Every benchmark script starts the way `make bench` and `make soak` run it.

`make bench` runs `.venv/bin/python tests/benchmarks/bench_X.py`: the script's own folder is
on `sys.path`, the repository's root is not. A script importing `tests.benchmarks...` without
putting the root there first imported fine under pytest and stopped `make bench` half-way
(bench_dialer, bench_staffing). `--help` imports everything and runs nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "tests" / "benchmarks"


def _scripts_the_makefile_runs() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    named = set(re.findall(r"tests/benchmarks/(\w+\.py)", makefile))
    for loop in re.findall(r"for b in ([\w ]+); do", makefile):  # bench_$$b.py
        named |= {f"bench_{b}.py" for b in loop.split()}
    return {n for n in named if "$" not in n}


def test_every_benchmark_the_makefile_runs_exists() -> None:
    named = _scripts_the_makefile_runs()
    assert {"bench_acd.py", "bench_calls.py", "bench_dialer.py", "soak.py"} <= named
    assert all((BENCHMARKS / name).is_file() for name in named), sorted(named)


def test_every_benchmark_script_starts_as_make_runs_it() -> None:
    scripts = sorted({p.name for p in BENCHMARKS.glob("bench_*.py")} | {"soak.py"})
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    runs = {
        name: subprocess.Popen(
            [sys.executable, str(BENCHMARKS / name), "--help"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in scripts
    }
    failed = {}
    for name, run in runs.items():
        _, err = run.communicate(timeout=120)
        if run.returncode != 0:
            failed[name] = err.strip().splitlines()[-1:]
    assert not failed, failed
