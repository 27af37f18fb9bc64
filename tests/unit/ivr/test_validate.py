"""Flow validation: every problem of a file at once, each at its exact file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.ivr import plan
from callcenter.ivr.validate import load_flow, load_flows

FIXTURES = Path(__file__).parent / "fixtures"
F = "tests/unit/ivr/fixtures"


def messages(name: str, **kwargs: object) -> list[str]:
    result = load_flow(Path(F) / name, **kwargs)  # type: ignore[arg-type]
    assert result.flow is None
    return [str(i) for i in result.errors]


def write(tmp_path: Path, text: str, name: str = "flow.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bad_flow_reports_every_error_with_its_location() -> None:
    assert messages("bad.yaml", queues=["sales"]) == [
        f"{F}/bad.yaml:4:1: colour: unknown field (expected one of: description, language, name, nodes, recording, sounds, start, tts, variables, version)",  # noqa: E501
        f"{F}/bad.yaml:8:34: nodes.welcome.prompts[1].tts: unknown variable ${{caler_id_name}} (did you mean 'caller_id_name'?); set it or declare it under variables:",  # noqa: E501
        f"{F}/bad.yaml:8:68: nodes.welcome.prompts[2].silence: -5 is out of range (1 to 60000)",
        f"{F}/bad.yaml:13:14: nodes.menu.timeout: -1 is out of range (0.5 to 600)",
        f"{F}/bad.yaml:14:16: nodes.menu.digit_len: 0 is out of range (1 to 32)",
        f"{F}/bad.yaml:16:12: nodes.menu.options[\"1\"]: unknown target 'sales_q'",
        f'{F}/bad.yaml:17:7: nodes.menu.options["12"]: needs 2 digits but digit_len is 1',
        f'{F}/bad.yaml:18:7: nodes.menu.options["/^4(\\\\d{{3}}$/"]: invalid regular expression: missing ), unterminated subpattern at position 2',  # noqa: E501
        f"{F}/bad.yaml:19:7: nodes.menu.options.x: an option is digits (0-9, *, #) or a /regex/",
        f'{F}/bad.yaml:20:40: nodes.menu.options["/^5(\\\\d)$/"].set.ext: $2 but the option has 1 capture group(s)',  # noqa: E501
        f"{F}/bad.yaml:21:22: nodes.menu.on_max_failures: unknown target 'nowhere'",
        f"{F}/bad.yaml:23:64: nodes.loop_b.cases[0].when.matches: invalid regular expression: unterminated character set at position 1",  # noqa: E501
        f"{F}/bad.yaml:24:69: nodes.acct.max: max (4) is below min (8)",
        f"{F}/bad.yaml:27:15: nodes.hours.timezone: unknown time zone 'Mars/Olympus'",
        f"{F}/bad.yaml:28:24: nodes.hours.weekly[\"mon-fri\"][0]: impossible time in '25:00-26:00'",
        f"{F}/bad.yaml:28:40: nodes.hours.weekly[\"sun-mon\"]: day range 'sun-mon' goes backwards (the week starts on mon)",  # noqa: E501
        f"{F}/bad.yaml:28:50: nodes.hours.weekly[\"sun-mon\"][0]: '10:00-09:00' ends before it starts",  # noqa: E501
        f"{F}/bad.yaml:28:66: nodes.hours.weekly.funday: unknown day 'funday' (days: mon, tue, wed, thu, fri, sat, sun; ranges: mon-fri)",  # noqa: E501
        f"{F}/bad.yaml:29:16: nodes.hours.holidays[0]: '2026-02-30' is not a real date (day is out of range for month)",  # noqa: E501
        f"{F}/bad.yaml:29:30: nodes.hours.holidays[1]: 'soon' is not a date (YYYY-MM-DD)",
        f"{F}/bad.yaml:32:27: nodes.q.queue: unknown queue 'nosuch'",
        f"{F}/bad.yaml:33:6: nodes.t: give exactly one of extension or number",
        f"{F}/bad.yaml:33:34: nodes.t.extension: '10 01' is not an extension",
        f"{F}/bad.yaml:34:28: nodes.h.cause: unknown hangup cause 'BUSY'",
        f"{F}/bad.yaml:35:13: nodes.w.type: unknown node type 'whatever' (one of: branch, collect, goto_flow, hangup, http, language, menu, play, queue, say, schedule, set, transfer, voicemail)",  # noqa: E501
        f"{F}/bad.yaml:36:30: nodes.g.flow: 'Other' is not a flow name [a-z0-9_-]+",
    ]


def test_yaml_syntax_error_is_the_only_error() -> None:
    path = Path(F) / "syntax.yaml"
    assert messages("syntax.yaml") == [
        f"{path}:5:15: YAML syntax: while scanning a double-quoted scalar found unknown escape character 'd'"  # noqa: E501
    ]


def test_loops_without_input_are_errors_and_unreachable_nodes_warnings() -> None:
    result = load_flow(Path(F) / "loops.yaml", missing_audio="ignore")
    assert result.flow is None
    assert [str(i) for i in result.errors] == [
        f"{F}/loops.yaml:4:10: nodes.intro: loops forever without caller input: intro -> check -> again -> intro",  # noqa: E501
        f"{F}/loops.yaml:12:9: nodes.spin: loops forever without caller input: spin -> spin",
    ]
    assert [str(i) for i in result.warnings] == [
        f"{F}/loops.yaml:12:9: nodes.spin: unreachable from start node 'intro'",
        f"{F}/loops.yaml:15:5: nodes.menu: unreachable from start node 'intro'",
    ]


def test_duplicate_keys_name_both_lines() -> None:
    assert messages("dupes.yaml", missing_audio="ignore") == [
        f"{F}/dupes.yaml:6:3: duplicate key 'a' at lines 4 and 6",
        f"{F}/dupes.yaml:7:1: duplicate key 'start' at lines 2 and 7",
    ]


def test_numeric_option_keys_must_be_quoted() -> None:
    assert messages("keys.yaml") == [
        f'{F}/keys.yaml:8:7: key 1 is not text (integer); quote it: "1"'
    ]


BASE = "version: 1\nstart: a\nnodes:\n"


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("  a: {type: play}\n", "4:6: nodes.a: missing required field 'prompts'"),
        ("  a: {type: hangup, colour: red}\n", "4:21: nodes.a.colour: unknown field"),
        ("  a: {type: play, prompt: x.wav, next: a}\n", "did you mean 'prompts'?"),
        ("  a: {type: hangup, cause: 3}\n", "4:28: nodes.a.cause: unknown hangup cause '3'"),
        ("  a: {type: say, text: '1', kind: euro, next: a}\n", "nodes.a.kind: 'euro' is not one"),
        ("  a: {type: voicemail, box: b, beep: 1}\n", "nodes.a.beep: expected true or false"),
        ("  a: {type: voicemail, box: b, max_seconds: 0}\n", "0 is out of range (1 to 3600)"),
        ("  a: {type: queue, queue: s, priority: 1.5}\n", "expected an integer, got number"),
        ("  a: {type: transfer, extension: true}\n", "expected text, got boolean 'true'"),
        ("  a: {type: transfer}\n", "give exactly one of extension or number"),
        ("  a: {type: set, variables: {language: fr}, next: a}\n", "'language' is a built-in"),
        ("  a: {type: play, prompts: [], next: a}\n", "at least one prompt is needed"),
        ("  a: {type: play, prompts: [{tts: x, silence: 1}], next: a}\n", "a prompt is a file"),
        ("  a: {type: play, prompts: 'x ${sh(rm)}', next: a}\n", "invalid variable reference"),
        ("  a: {type: play, prompts: 'x ${oops', next: a}\n", "unterminated ${"),
        ('  a: {type: play, prompts: "x\\ny.wav", next: a}\n', "control character"),
        ("  a: {type: hangup}\n  b: {type: goto_flow, flow: x}\n", "unreachable"),
        ("  a: {type: hangup}\n  back: {type: hangup}\n", "not back/top/exit"),
        ("  a: {type: play, prompts: x.wav, next: top}\n", "'top' goes to the flow's first menu"),
        (
            "  a: {type: collect, prompt: p.wav, variable: v, next: a, regex: '^\\s+$'}\n",
            "nodes.a.regex: whitespace, quote, ${ or an escape FreeSWITCH rewrites",
        ),
        (
            "  a: {type: http, url: 'https://${host}/x', next: a, on_error: a}\n",
            "variables and spaces are only allowed in the path and query",
        ),
        (
            "  a: {type: http, url: 'ftp://x', next: a, on_error: a}\n",
            "expected an http:// or https:// URL",
        ),
        (
            "  a: {type: http, url: 'https://x/', body: {a: b}, next: a, on_error: a}\n",
            "a body needs method: POST",
        ),
        (
            "  a: {type: branch, cases: [{when: {schedule: a}, goto: a}], default: a}\n",
            "'a' is not a schedule node",
        ),
        (
            "  a: {type: branch, cases: [{when: {equals: x}, goto: a}], default: a}\n",
            "equals and matches need a variable",
        ),
        (
            "  a: {type: schedule, timezone: UTC, weekly: {mon: ['09:00-12:00', '11:00-13:00']},"
            " open: a, closed: a}\n",
            "'11:00-13:00' overlaps or precedes the previous range",
        ),
        (
            "  a: {type: schedule, timezone: ../../etc/passwd, weekly: {}, open: a, closed: a}\n",
            "unknown time zone '../../etc/passwd'",
        ),
        (
            "  a: {type: schedule, timezone: UTC, weekly: {mon-fri: [], wed: []}, open: a,"
            " closed: a}\n",
            "wed is already given at line 4",
        ),
    ],
)
def test_node_errors(tmp_path: Path, node: str, expected: str) -> None:
    result = load_flow(write(tmp_path, BASE + node), missing_audio="ignore")
    issues = [str(i) for i in result.errors + result.warnings]
    assert any(expected in i for i in issues), issues
    if result.errors:
        assert result.flow is None


def test_menu_defaults_are_freeswitch_ivr_conf_defaults(tmp_path: Path) -> None:
    flow = load_flow(
        write(tmp_path, BASE + "  a: {type: menu, greet_long: m.wav, options: {'1': a}}\n"),
        missing_audio="ignore",
    ).flow
    assert flow is not None
    menu = flow.node("a")
    assert isinstance(menu, plan.Menu)
    assert (menu.timeout, menu.inter_digit_timeout) == (10.0, 5.0)
    assert (menu.max_failures, menu.max_timeouts, menu.digit_len) == (3, 3, 1)
    assert (menu.on_max_failures, menu.on_max_timeouts, menu.terminators) == ("exit", "exit", "#")
    assert menu.greet_short == ()


def test_inter_digit_timeout_defaults_to_half_the_timeout(tmp_path: Path) -> None:
    text = BASE + "  a: {type: collect, prompt: p.wav, variable: v, next: a, timeout: 8, min: 4}\n"
    flow = load_flow(write(tmp_path, text), missing_audio="ignore").flow
    assert flow is not None
    collect = flow.node("a")
    assert isinstance(collect, plan.Collect)
    assert (collect.timeout, collect.inter_digit_timeout) == (8.0, 4.0)
    assert (collect.min_digits, collect.max_digits, collect.on_failure) == (4, 4, "exit")


def test_missing_audio_is_a_warning_an_error_or_ignored(tmp_path: Path) -> None:
    (tmp_path / "sounds" / "en").mkdir(parents=True)
    (tmp_path / "sounds" / "en" / "here.wav").write_bytes(b"")
    (tmp_path / "sounds" / "en" / "ivr" / "8000").mkdir(parents=True)
    (tmp_path / "sounds" / "en" / "ivr" / "8000" / "rate.wav").write_bytes(b"")
    prompts = "[here.wav, ivr/rate.wav, gone.wav, 'tone_stream://%(500,0,440)', {tts: hi}]"
    text = f"version: 1\nstart: a\nsounds: sounds\nnodes:\n  a: {{type: play, prompts: {prompts}, next: b}}\n  b: {{type: hangup}}\n"  # noqa: E501
    path = write(tmp_path, text)
    warned = load_flow(path)
    assert warned.flow is not None
    missing = (
        f"{path}:5:53: nodes.a.prompts[2]: audio file not found: {tmp_path}/sounds/en/gone.wav"
    )
    assert [str(i) for i in warned.warnings] == [missing]
    strict = load_flow(path, missing_audio="error")
    assert strict.flow is None and [str(i) for i in strict.errors] == [missing]
    assert load_flow(path, missing_audio="ignore").warnings == []
    assert load_flow(path, sounds_root=tmp_path / "sounds").warnings == [warned.warnings[0]]


def test_variables_from_every_source_are_known(tmp_path: Path) -> None:
    text = """version: 1
start: m
variables: {brand: Acme}
nodes:
  m:
    type: menu
    greet_long: {tts: "${brand} ${caller_id_name} ${ext} ${acct} ${tier} ${x}"}
    digit_len: 4
    options:
      '/^4(\\d{3})$/': {target: c, set: {ext: "$1"}}
  c: {type: collect, prompt: p.wav, variable: acct, next: h}
  h: {type: http, url: "https://crm/${acct}?d=${did}", map: {tier: a.tier}, next: s, on_error: m}
  s: {type: set, variables: {x: "${uuid}"}, next: m}
"""
    result = load_flow(write(tmp_path, text), missing_audio="ignore")
    assert result.errors == [] and result.flow is not None
    menu = result.flow.node("m")
    assert isinstance(menu, plan.Menu)
    assert menu.options == (plan.MenuOption(r"^4(\d{3})$", "c", True, (("ext", "$1"),)),)


def test_empty_and_non_mapping_files(tmp_path: Path) -> None:
    assert [str(i) for i in load_flow(write(tmp_path, "# nothing\n")).errors] == [
        f"{tmp_path}/flow.yaml:1:1: empty file: a flow needs version, start, nodes"
    ]
    assert [str(i) for i in load_flow(write(tmp_path, "- a\n")).errors] == [
        f"{tmp_path}/flow.yaml:1:1: expected a mapping (key: value), got a list"
    ]


def test_catalog_checks_flow_references_and_duplicate_names(tmp_path: Path) -> None:
    write(tmp_path, BASE + "  a: {type: goto_flow, flow: two}\n", "one.yaml")
    write(tmp_path, BASE + "  a: {type: goto_flow, flow: nowhere}\n", "two.yaml")
    write(tmp_path, "name: one\n" + BASE + "  a: {type: hangup}\n", "three.yaml")
    catalog = load_flows(tmp_path)
    assert [str(i) for i in catalog.errors] == [
        f"{tmp_path}/three.yaml:1:7: name: flow 'one' is already defined in {tmp_path}/one.yaml",
        f"{tmp_path}/two.yaml:4:30: nodes.a.flow: unknown flow 'nowhere' (flows: one, two)",
    ]
    assert list(catalog.flows) == ["one"]


def test_goto_an_invalid_flow_is_not_reported_twice(tmp_path: Path) -> None:
    write(tmp_path, BASE + "  a: {type: goto_flow, flow: two}\n", "one.yaml")
    write(tmp_path, BASE + "  a: {type: nope}\n", "two.yaml")
    catalog = load_flows([tmp_path / "one.yaml", tmp_path / "two.yaml"])
    assert len(catalog.errors) == 1 and "unknown node type" in str(catalog.errors[0])
    assert list(catalog.flows) == ["one"]
    assert [str(w) for w in catalog.warnings] == [
        f"{tmp_path}/one.yaml:4:30: nodes.a.flow: target flow 'two' is rejected (errors in "
        f"{tmp_path}/two.yaml): a call reaching here ends unless the engine still runs an "
        "earlier 'two'"
    ]


def test_goto_a_flow_whose_file_is_broken_yaml_names_its_error_not_unknown_flow(
    tmp_path: Path,
) -> None:
    write(tmp_path, BASE + "  a: {type: goto_flow, flow: two}\n", "one.yaml")
    write(tmp_path, BASE + "  a: [unclosed\n", "two.yaml")
    catalog = load_flows(tmp_path)
    assert len(catalog.errors) == 1
    assert str(catalog.errors[0]).startswith(f"{tmp_path}/two.yaml:")
    assert "unknown flow" not in str(catalog.errors[0])
    assert list(catalog.flows) == ["one"]
    assert [str(w) for w in catalog.warnings] == [
        f"{tmp_path}/one.yaml:4:30: nodes.a.flow: target flow 'two' is rejected (errors in "
        f"{tmp_path}/two.yaml): a call reaching here ends unless the engine still runs an "
        "earlier 'two'"
    ]


def test_flow_carries_version_checksum_and_locations(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 3\nstart: a\nnodes:\n  a: {type: hangup}\n", "my-flow.yaml")
    flow = load_flow(path).flow
    assert flow is not None
    assert (flow.name, flow.version, flow.language, flow.sounds) == ("my-flow", "3", "en", "")
    assert len(flow.checksum) == 64
    assert str(flow.node("a").where) == f"{path}:4:6"


def test_flows_handing_over_to_each_other_without_input_are_a_loop(tmp_path: Path) -> None:
    quiet = (
        "  a: {type: play, prompts: [{silence: 100}], next: b}\n  b: {type: goto_flow, flow: %s}\n"
    )
    write(tmp_path, BASE + quiet % "two", "one.yaml")
    write(tmp_path, BASE + quiet % "one", "two.yaml")
    write(tmp_path, BASE + quiet % "three", "three.yaml")  # a flow going to itself
    catalog = load_flows(tmp_path)
    assert [str(i) for i in catalog.errors] == [
        f"{tmp_path}/one.yaml:5:30: nodes.b.flow: flows loop forever without caller input: "
        "one -> two -> one",
        f"{tmp_path}/three.yaml:5:30: nodes.b.flow: flows loop forever without caller input: "
        "three -> three",
        f"{tmp_path}/two.yaml:5:30: nodes.b.flow: flows loop forever without caller input: "
        "one -> two -> one",
    ]
    assert catalog.flows == {}


def test_flows_handing_over_after_a_menu_are_fine(tmp_path: Path) -> None:
    write(tmp_path, BASE + "  a: {type: goto_flow, flow: two}\n", "one.yaml")
    menu = (
        "  a: {type: menu, greet_long: m.wav, options: {'1': b}}\n"
        "  b: {type: goto_flow, flow: one}\n"
    )
    write(tmp_path, BASE + menu, "two.yaml")
    catalog = load_flows(tmp_path)
    assert catalog.errors == [] and sorted(catalog.flows) == ["one", "two"]


@pytest.mark.parametrize("name", ["caller_id_name", "caller_id_number"])
def test_a_file_path_may_not_use_what_the_caller_chooses(tmp_path: Path, name: str) -> None:
    # issue 10 finding 11: ${caller_id_name} in a file prompt let the caller pick the file
    node = (
        f"  a: {{type: play, prompts: 'greetings/${{{name}}}.wav', next: b}}\n"
        "  b: {type: hangup}\n"
    )
    result = load_flow(write(tmp_path, BASE + node), missing_audio="ignore")
    assert [str(i).split(": ", 1)[1] for i in result.errors] == [
        f"nodes.a.prompts: ${{{name}}} is chosen by the caller: a file path may use "
        "${language}, ${did}, ${destination_number}, ${digits}, ${uuid} and the flow's "
        "own variables"
    ]


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (
            "  a: {type: menu, prompt: p.wav, options: {'/^(\\d+)+#$/': a}}\n",
            'nodes.a.options["/^(\\\\d+)+#$/"]: regular expression refused: a repeat of '
            "variable count inside the repeat +",
        ),
        (
            "  a: {type: collect, prompt: p.wav, variable: v, next: a, regex: '^(\\d|\\d\\d)+$'}\n",
            "nodes.a.regex: regular expression refused: alternatives that can begin alike",
        ),
        (
            "  a: {type: branch, cases: [{when: {caller_id: '^(\\+?\\d*)*$'}, goto: a}],"
            " default: a}\n",
            "caller_id: regular expression refused: the repeat * applies to something",
        ),
        (
            "  a: {type: branch, cases: [{when: {did: '(5)\\1'}, goto: a}], default: a}\n",
            "did: regular expression refused: a backreference is not allowed",
        ),
    ],
)
def test_regexes_that_could_backtrack_for_long_are_refused(
    tmp_path: Path, node: str, expected: str
) -> None:
    # the engine runs these on caller input in the process that serves every call
    result = load_flow(write(tmp_path, BASE + node), missing_audio="ignore")
    issues = [str(i) for i in result.errors]
    assert any(expected in i for i in issues), issues


HOLIDAY_FLOW = """\
version: 1
name: h
start: hours
nodes:
  hours:
    type: schedule
    timezone: Europe/Paris
    weekly: {{mon-fri: ["08:00-18:00"]}}
    holidays: {holidays}
    open: done
    closed: done
  done: {{type: hangup}}
"""


@pytest.mark.parametrize(
    ("holidays", "expected"),
    [
        ("{country: FR}", []),
        ("{country: US, subdiv: CA}", []),
        ('[{country: FR}, "2027-12-24"]', []),
        (
            "{country: XX}",
            ["9:25: nodes.hours.holidays.country: unknown country 'XX' for public holidays"],
        ),
        (
            "{country: fr}",
            ["9:25: nodes.hours.holidays.country: unknown country 'fr' for public holidays (did"],
        ),
        (
            "{country: US, subdiv: ZZ}",
            ["9:37: nodes.hours.holidays.subdiv: unknown subdivision 'ZZ' of US"],
        ),
        ("{country: FR, region: x}", ["9:29: nodes.hours.holidays.region: unknown field"]),
        ("{subdiv: CA}", ["9:15: nodes.hours.holidays: missing required field 'country'"]),
        ("[{country: FR}, {country: FR}]", ["9:31: nodes.hours.holidays[1]: FR is listed twice"]),
    ],
)
def test_public_holidays_by_country(tmp_path: Path, holidays: str, expected: list[str]) -> None:
    path = write(tmp_path, HOLIDAY_FLOW.format(holidays=holidays))
    result = load_flow(path)
    found = [str(i).removeprefix(f"{path}:") for i in result.errors]
    assert len(found) == len(expected), found
    for got, want in zip(found, expected, strict=True):
        assert got.startswith(want), got


def test_a_flow_recording_policy_and_a_pci_collect(tmp_path: Path) -> None:
    path = tmp_path / "pay.yaml"
    path.write_text(
        "version: 1\nstart: card\nrecording: sample:30\nnodes:\n"
        "  card: {type: collect, prompt: 'tone_stream://%(100,0,400)', variable: card,"
        " min: 16, max: 16, pci: true, secret: true, next: bye}\n"
        "  bye: {type: hangup}\n"
    )
    result = load_flow(path)
    assert result.flow is not None and result.flow.recording == "sample:30"
    assert result.flow.nodes["card"].pci  # type: ignore[attr-defined]
    path.write_text(path.read_text().replace("sample:30", "sometimes"))
    [issue] = load_flow(path).errors
    assert (issue.where.line, issue.path) == (3, "recording") and "sometimes" in issue.message
