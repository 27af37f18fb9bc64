"""The shipped example flows validate, match the JSON Schema, and every node type is documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from callcenter.ivr.validate import BUILDERS, load_flow, load_flows
from tests.unit.ivr.schema_check import errors

ROOT = Path(__file__).resolve().parents[3]
DIALPLANS = ROOT / "dialplans"
EXAMPLES = sorted(DIALPLANS.glob("*.yaml"))
QUEUES = ["sales", "support", "vip"]


def schema() -> dict[str, object]:
    return json.loads((DIALPLANS / "schema.json").read_text())  # type: ignore[no-any-return]


def test_there_are_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {"main.yaml", "support.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_flow_validates_clean(path: Path) -> None:
    result = load_flow(path, queues=QUEUES, missing_audio="ignore")
    assert result.errors == [] and result.warnings == []
    assert result.flow is not None


def test_examples_form_a_valid_catalog() -> None:
    catalog = load_flows(DIALPLANS, queues=QUEUES, missing_audio="ignore")
    assert catalog.errors == [] and catalog.warnings == []
    assert {"main", "support"} <= set(catalog.flows)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_flow_matches_the_json_schema(path: Path) -> None:
    assert errors(schema(), yaml.safe_load(path.read_text())) == []


def test_schema_covers_every_node_type() -> None:
    s = schema()
    defs = s["$defs"]
    assert isinstance(defs, dict)
    assert defs["node"]["properties"]["type"]["enum"] == list(BUILDERS)
    for kind in BUILDERS:
        assert defs[f"node_{kind}"]["properties"]["type"] == {"const": kind}


def test_schema_rejects_what_the_validator_rejects() -> None:
    s = schema()
    base = {"version": 1, "start": "a"}
    assert errors(s, {**base, "nodes": {"a": {"type": "hangup"}}}) == []
    assert errors(s, {**base, "nodes": {"a": {"type": "nope"}}})
    assert errors(s, {**base, "nodes": {"a": {"type": "hangup", "colour": 1}}})
    assert errors(s, {**base, "nodes": {"a": {"type": "menu", "greet_long": "x", "options": {}}}})
    assert errors(s, {**base, "nodes": {"a": {"type": "transfer"}}})


def test_readme_documents_every_node_type_with_an_example() -> None:
    readme = (DIALPLANS / "README.md").read_text()
    for kind in BUILDERS:
        assert f"### `{kind}`" in readme, kind
        assert f"type: {kind}" in readme, kind


def test_readme_examples_validate() -> None:
    readme = (DIALPLANS / "README.md").read_text()
    blocks = readme.split("```yaml\n")[1:]
    assert blocks
    for block in blocks:
        text = block.split("```", 1)[0]
        assert yaml.safe_load(text) is not None
