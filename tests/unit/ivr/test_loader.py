"""The YAML loader: locations, duplicate keys, and hostile files refused quickly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from callcenter.ivr.loader import MAX_BYTES, YamlError, YMap, YScalar, YSeq, load_yaml, parse_yaml


def parse(text: str) -> YMap:
    tree, problems = parse_yaml(text, "f.yaml")
    assert not problems, problems
    assert isinstance(tree, YMap)
    return tree


def fails(text: str) -> str:
    with pytest.raises(YamlError) as info:
        parse_yaml(text, "f.yaml")
    return str(info.value)


def test_every_value_and_key_remembers_line_and_column() -> None:
    tree = parse("a: 1\nb:\n  - x\n  - {c: d}\n")
    assert str(tree.where) == "f.yaml:1:1"
    assert str(tree.key_where("b")) == "f.yaml:2:1"
    seq = tree.values["b"]
    assert isinstance(seq, YSeq)
    assert str(seq.items[0].where) == "f.yaml:3:5"
    inner = seq.items[1]
    assert isinstance(inner, YMap)
    assert str(inner.values["c"].where) == "f.yaml:4:9"


def test_scalars_keep_their_spelling() -> None:
    tree = parse("a: 0755\nb: 2026-12-25\nc: 8:30\nd: yes\ne: '1'\n")
    a, b, c, d, e = (tree.values[k] for k in "abcde")
    assert isinstance(a, YScalar) and a.raw == "0755"
    assert isinstance(b, YScalar) and b.value == "2026-12-25"  # no timestamp object
    assert isinstance(c, YScalar) and c.raw == "8:30"
    assert isinstance(d, YScalar) and d.value is True
    assert isinstance(e, YScalar) and e.value == "1" and e.quoted


def test_duplicate_keys_name_both_lines_and_parsing_goes_on() -> None:
    tree, problems = parse_yaml("a: 1\nb: 2\na: 3\nb: 4\n", "f.yaml")
    assert [str(p) for p in problems] == [
        "f.yaml:3:1: duplicate key 'a' at lines 1 and 3",
        "f.yaml:4:1: duplicate key 'b' at lines 2 and 4",
    ]
    assert isinstance(tree, YMap)
    first = tree.values["a"]
    assert isinstance(first, YScalar) and first.value == 1


def test_non_text_keys_are_refused_with_a_hint() -> None:
    _, problems = parse_yaml("1: a\n[x]: b\n", "f.yaml")
    assert [str(p) for p in problems] == [
        'f.yaml:1:1: key 1 is not text (integer); quote it: "1"',
        "f.yaml:2:1: a key must be text, not a list or mapping",
    ]


def test_syntax_error_is_file_line_col() -> None:
    assert fails("a: [1, 2\nb: 3\n").startswith("f.yaml:2:2: YAML syntax:")
    assert fails("a: b: c\n") == ("f.yaml:1:5: YAML syntax: mapping values are not allowed here")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!python/object/apply:os.system ['id']\n", "f.yaml:1:4: tags are not allowed"),
        ("a: !!python/name:os.system\n", "f.yaml:1:4: tags are not allowed"),
        ("a: !!binary aGk=\n", "f.yaml:1:4: tags are not allowed"),
        ("a: !custom x\n", "f.yaml:1:4: tags are not allowed"),
        ("a: !!str 1\n", "f.yaml:1:4: tags are not allowed"),
        ("a: &x 1\nb: *x\n", "f.yaml:1:4: anchors (&x) are not allowed"),
        ("a: *x\n", "f.yaml:1:4: aliases"),
        ("a: {<<: {b: 1}}\n", "f.yaml:1:5: merge keys (<<) are not allowed"),
    ],
)
def test_tags_anchors_and_merges_are_refused(text: str, message: str) -> None:
    assert fails(text).startswith(message)


def test_billion_laughs_is_refused_at_the_first_anchor() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    started = time.monotonic()
    assert fails("\n".join(lines)).startswith("f.yaml:1:4: anchors (&a)")
    assert time.monotonic() - started < 5


def test_recursive_alias_is_refused() -> None:
    assert "anchors" in fails("a: &a [*a]\n")


@pytest.mark.parametrize("opener", ["[", "{a: ", "- "])
def test_deep_nesting_is_refused_without_recursion_error(opener: str) -> None:
    text = opener * 5000 + "x"
    message = fails(text)
    assert "nesting deeper than 32 levels" in message or "YAML syntax" in message


def test_deep_block_nesting_names_the_line() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(40)) + "  " * 40 + "v\n"
    assert fails(text).startswith("f.yaml:33:")


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))
    started = time.monotonic()
    with pytest.raises(YamlError, match=r"big.yaml:1:1: file larger than 1048576 bytes"):
        load_yaml(big)
    assert time.monotonic() - started < 1


def test_too_many_values_are_refused() -> None:
    text = "a: [" + ",".join(["1"] * 60_000) + "]\n"
    assert "too many values" in fails(text)


def test_bad_encoding_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(YamlError, match=r"bad.yaml:2:1: not valid UTF-8"):
        load_yaml(bad)
    with pytest.raises(YamlError, match=r"nope.yaml:1:1: cannot read"):
        load_yaml(tmp_path / "nope.yaml")


def test_empty_document() -> None:
    assert parse_yaml("# nothing\n", "f.yaml") == (None, [])


@pytest.mark.parametrize(
    ("text", "where", "shown"),
    [
        ('a: 1\nb: "x\x00y"\n', "f.yaml:2:6", "U+0000"),
        ("a: 1\n  # \x07 bell\n", "f.yaml:2:5", "U+0007"),
        ("a: \x1b[2Jx\n", "f.yaml:1:4", "U+001B"),
        ("a: 1\nb: \ufffe\n", "f.yaml:2:4", "U+FFFE"),  # a non-character
    ],
)
def test_control_characters_are_file_line_col_not_a_reader_traceback(
    text: str, where: str, shown: str
) -> None:
    # issue 10 finding 7: PyYAML's ReaderError escaped load_yaml as a traceback
    message = fails(text)
    assert message.startswith(f"{where}: ") and f"character {shown} is not allowed" in message


def test_control_character_in_a_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b'version: 1\nstart: a\nnodes:\n  a: {type: hangup, cause: "x\x00"}\n')
    with pytest.raises(YamlError, match=r"bad.yaml:4:30: control character U\+0000"):
        load_yaml(bad)
