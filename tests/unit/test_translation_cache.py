"""The engine's SAM translation cache: a hit gives the translation a miss made, and any change
to what the translation depends on misses."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from localcloud import template as templates
from localcloud.template import load_template, translate

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "shop-lite"
TEMPLATE = load_template(SHOP / "template.yaml")


@pytest.fixture
def translations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The regions of the translations aws-sam-translator really made, in order."""
    made: list[str] = []
    real = templates._translated

    def counted(prepared: dict[str, Any], region: str) -> dict[str, Any]:
        made.append(region)
        return real(prepared, region)

    monkeypatch.setattr(templates, "_translated", counted)
    return made


def test_a_second_translation_of_the_same_template_is_read_from_the_cache(
        tmp_path: Path, translations: list[str]) -> None:
    first = translate(TEMPLATE, SHOP, cache_dir=tmp_path)
    second = translate(TEMPLATE, SHOP, cache_dir=tmp_path)

    assert translations == ["us-east-1"]
    assert second == first == translate(TEMPLATE, SHOP)


def test_a_changed_template_is_translated_again(
        tmp_path: Path, translations: list[str]) -> None:
    changed = copy.deepcopy(TEMPLATE)
    changed["Globals"]["Function"]["Timeout"] = 29

    translate(TEMPLATE, SHOP, cache_dir=tmp_path)
    translated = translate(changed, SHOP, cache_dir=tmp_path)

    assert len(translations) == 2
    resources = translated["Resources"].values()
    functions = [r for r in resources if r["Type"] == "AWS::Lambda::Function"]
    assert {f["Properties"]["Timeout"] for f in functions} == {29}


def test_another_translator_version_or_region_is_translated_again(
        tmp_path: Path, translations: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    translate(TEMPLATE, SHOP, cache_dir=tmp_path)
    translate(TEMPLATE, SHOP, "eu-west-1", cache_dir=tmp_path)
    monkeypatch.setattr(templates.importlib.metadata, "version", lambda name: "0.0.0-other")
    translate(TEMPLATE, SHOP, cache_dir=tmp_path)

    assert translations == ["us-east-1", "eu-west-1", "us-east-1"]


def test_a_changed_state_machine_definition_file_is_translated_again(
        tmp_path: Path, translations: list[str]) -> None:
    definition = tmp_path / "machine.json"
    sam = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Machine": {
        "Type": "AWS::Serverless::StateMachine", "Properties": {"DefinitionUri": "machine.json"}}}}
    cache = tmp_path / "cache"

    definition.write_text('{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}')
    translate(sam, tmp_path, cache_dir=cache)
    definition.write_text('{"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": true}}}')
    translated = translate(sam, tmp_path, cache_dir=cache)

    assert len(translations) == 2
    assert "Pass" in str(translated["Resources"]["Machine"]["Properties"])
