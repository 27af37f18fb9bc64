"""Coverage-guided fuzzing of the ESL reader with atheris (`make fuzz` runs it when atheris
installs from PyPI): the checks of fuzz_targets.py, on inputs libFuzzer mutates.

Run from the repository root, with libFuzzer's own flags:
    python -m tests.unit.esl.atheris_fuzz -max_total_time=300 -artifact_prefix=var/fuzz/
A crash leaves its input in the artifact directory; replay it by passing the file instead.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["callcenter.esl", "tests.unit.esl.fuzz_targets"]):
    from tests.unit.esl import fuzz_targets as targets

# Starts that get a mutated body past the cheap checks to the scans and the full parse.
PREFIXES = (
    b"",
    b'{"Event-Name":"CHANNEL_EXECUTE_COMPLETE","Unique-ID":"u",',
    b'{"Event-Name":"BACKGROUND_JOB","Job-UUID":"j",',
    b"Event-Name: CHANNEL_PARK\nUnique-ID: u\n",
)


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 3)
    if mode == 0:
        cuts = [fdp.ConsumeIntInRange(0, 4096) for _ in range(fdp.ConsumeIntInRange(0, 8))]
        targets.check_framing(fdp.ConsumeBytes(4096), cuts)
        return
    prefix = PREFIXES[fdp.ConsumeIntInRange(0, len(PREFIXES) - 1)]
    content_type = targets.EVENT_PLAIN if prefix.startswith(b"Event-Name:") else targets.EVENT_JSON
    if fdp.ConsumeBool():
        content_type = targets.EVENT_JSON if fdp.ConsumeBool() else targets.EVENT_PLAIN
    body = prefix + fdp.ConsumeBytes(fdp.remaining_bytes())
    if mode == 1:
        targets.check_event(body, content_type)
    else:  # several events through the reader's dispatch, split where the input says so
        messages = [targets.event_message(part, content_type) for part in body.split(b"\0\0")]
        targets.check_dispatch(messages)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
