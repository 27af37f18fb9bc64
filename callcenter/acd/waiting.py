"""What a waiting caller hears about its place: "you are number 3; your expected wait is
about 2 minutes", from the queue's prompt files and FreeSWITCH's ``say`` (mod_say).

Prompts are the queue's announcements: ``position`` ("you are caller number"), then
``wait_about`` ("your expected wait is about"), ``wait_less`` ("... less than") and
``wait_more`` ("... more than"); the number of minutes is said by ``say <lang>
TIME_MEASUREMENT pronounced <seconds>`` ("2 minutes"). The wait is said only when the queue
has a ``wait_about`` prompt and ``acd.ewt`` can tell it (agents staffed, calls handled).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from callcenter.acd import ewt
from callcenter.acd import messages as m
from callcenter.calls.control import say_argument

log = logging.getLogger(__name__)

Step = tuple[str, str]  # (application, argument)


def place_steps(
    wait: m.Wait | None, fallback: int, prompts: Mapping[str, str], language: str
) -> list[Step]:
    """The applications that say the caller's place and its expected wait."""
    position = wait.position if wait is not None and wait.position else fallback
    steps: list[Step] = []
    if prompts.get("position"):
        steps += [
            ("playback", prompts["position"]),
            ("say", say_argument(str(position), lang=language)),
        ]
    about = prompts.get("wait_about")
    if about and wait is not None and wait.position and wait.seconds is not None:
        phrase = ewt.spoken(wait.seconds)
        prompt = prompts.get(f"wait_{phrase.said}") or about
        said = say_argument(str(phrase.seconds), kind="TIME_MEASUREMENT", lang=language)
        steps += [("playback", prompt), ("say", said)]
    return steps


def announcer(
    ask: Callable[[], m.Wait | None],
    fallback: Callable[[], int],
    prompts: Mapping[str, str],
    language: str,
    call_uuid: str,
) -> Callable[[], list[Step]]:
    """For ``MusicOnHold(place=...)``: asks the dispatcher at each announcement."""

    def steps() -> list[Step]:
        wait = ask()
        known = wait is not None and wait.position > 0
        said = place_steps(wait, 0 if known else fallback(), prompts, language)
        if wait is not None and wait.seconds is not None:
            log.info(
                "call %s: position %d, expected wait %.0f s (%s)",
                call_uuid, wait.position, wait.seconds, ewt.spoken(wait.seconds).text,
            )  # fmt: skip
        return said

    return steps
