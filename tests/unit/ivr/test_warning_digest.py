from __future__ import annotations

from callcenter.ivr.warning_digest import WarningDigest

A1 = "/d/main.yaml:17:9: nodes.welcome.prompts[0]: audio file not found: /s/ivr-welcome.wav"
A2 = "/d/main.yaml:35:17: nodes.menu.greet_long: audio file not found: /s/ivr-choose.wav"
B1 = "/d/support.yaml:25:13: nodes.pin.prompt: audio file not found: /s/ivr-pin.wav"
OTHER = "/d/main.yaml:40:3: nodes.x: unreachable node"


def test_missing_audio_said_once_per_file_with_a_count() -> None:
    digest = WarningDigest()
    lines = digest.lines([A1, A2, B1, OTHER])
    assert lines == [
        OTHER,
        "/d/main.yaml: 2 audio file(s) not found, first /s/ivr-welcome.wav "
        "(every one: callcenter ivr validate /d/main.yaml)",
        "/d/support.yaml: 1 audio file(s) not found, first /s/ivr-pin.wav "
        "(every one: callcenter ivr validate /d/support.yaml)",
    ]
    assert digest.lines([A1, A2, B1, OTHER]) == []  # a reload that changes nothing
    changed = digest.lines([A1, B1, OTHER])  # main.yaml edited: said again, support not
    assert len(changed) == 2 and changed[1].startswith("/d/main.yaml: 1 audio file(s)")
    assert digest.lines([A1, OTHER]) == []  # support.yaml fixed
    assert len(digest.lines([A1, B1, OTHER])) == 1  # and broken again: news
