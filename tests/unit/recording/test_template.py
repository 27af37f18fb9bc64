from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from callcenter.errors import ConfigError
from callcenter.recording import template

AT = datetime(2026, 12, 6, 10, 30, tzinfo=UTC)


def test_the_default_renders_under_the_folder(tmp_path: Path) -> None:
    tpl = template.parse(template.DEFAULT)
    assert tpl.format == "wav"
    path = tpl.render(tmp_path, call_uuid="c-1", at=AT, queue="sales")
    assert path == tmp_path / "2026/12/06/sales/c-1.wav"


def test_a_field_without_a_value_or_a_hostile_value_becomes_none(tmp_path: Path) -> None:
    tpl = template.parse("{queue}/{agent}/{call_uuid}.mp3")
    assert tpl.format == "mp3"
    path = tpl.render(tmp_path, call_uuid="c-1", at=AT, queue="..", agent="../../etc")
    assert path == tmp_path / "none/none/c-1.mp3"


def test_a_campaign_call_has_its_campaign_and_kind(tmp_path: Path) -> None:
    tpl = template.parse("{kind}/{campaign}/{queue}/{call_uuid}.wav")
    path = tpl.render(tmp_path, call_uuid="c-1", at=AT, campaign="spring", kind="campaign")
    assert path == tmp_path / "campaign/spring/none/c-1.wav"
    assert (
        tpl.render(tmp_path, call_uuid="c-2", at=AT, queue="q") == tmp_path / "call/none/q/c-2.wav"
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("/var/rec/{call_uuid}.wav", "absolute"),
        ("../{call_uuid}.wav", "'..'"),
        ("{date:%Y}/../../{call_uuid}.wav", "'..'"),
        ("a//{call_uuid}.wav", "empty folder"),
        ("{queue}.wav", "needs {call_uuid}"),
        ("{call_uuid}", "extension names its format"),
        ("{call_uuid}.exe", "got 'exe'"),
        ("{caller}/{call_uuid}.wav", "unknown field {caller}"),
        ("{date:%s %n}/{call_uuid}.wav", "date format"),
        ("{queue:>9}/{call_uuid}.wav", "no format for queue"),
        ("{queue!r}/{call_uuid}.wav", "not allowed"),
        ("x y/{call_uuid}.wav", "not allowed"),
        ("{call_uuid}.wav\n", "printable"),
        ("{call_uuid.wav", "recording_template"),
        ("C:{call_uuid}.wav", "absolute"),
    ],
)
def test_templates_that_could_escape_or_mean_nothing_are_refused(text: str, why: str) -> None:
    with pytest.raises(ConfigError, match="recording_template") as caught:
        template.parse(text)
    assert why in str(caught.value)


def test_inside_refuses_what_leaves_the_folder(tmp_path: Path) -> None:
    assert template.inside(tmp_path, "a/b.wav") == tmp_path / "a/b.wav"
    for bad in ("../x.wav", "/etc/passwd", "a/../../x.wav", ""):
        with pytest.raises(ConfigError, match="leaves"):
            template.inside(tmp_path, bad)


def test_settings_check_the_template_at_load(tmp_path: Path) -> None:
    from callcenter.settings import load_settings

    env = {"CALLCENTER_DATA_DIR": str(tmp_path)}
    assert load_settings(environ=env).recording_template == template.DEFAULT
    with pytest.raises(ConfigError, match=r"CALLCENTER_RECORDING_TEMPLATE.*'\.\.'"):
        load_settings(environ={**env, "CALLCENTER_RECORDING_TEMPLATE": "../{call_uuid}.wav"})
