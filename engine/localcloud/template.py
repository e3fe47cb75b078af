"""Read template.yaml and translate it offline to plain CloudFormation, as `sam deploy` would."""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import json
import os
from pathlib import Path
from typing import Any

import yaml

# The stand-in bucket of every local CodeUri: the deployer reads the folder from its key.
LOCAL_CODE_BUCKET = "localcloud-code"


class TemplateError(Exception):
    """The template cannot be read, translated or deployed locally."""


# libyaml's parser where PyYAML was built with it (about ten times faster), else PyYAML's own.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CfnLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A YAML loader that reads CloudFormation's short-form tags as their long form."""


def _tag(name: str) -> Any:
    def construct(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _short in ("Ref", "Condition"):
    _CfnLoader.add_constructor(f"!{_short}", _tag(_short))
for _fn in (
    "GetAtt",
    "Sub",
    "Join",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Select",
    "Split",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
    "Cidr",
):
    _CfnLoader.add_constructor(f"!{_fn}", _tag(f"Fn::{_fn}"))


def parse_yaml(text: str) -> Any:
    """CloudFormation YAML as data, short-form tags (!Ref, !GetAtt, !Sub...) in their long form."""
    return yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def load_template(path: Path) -> dict[str, Any]:
    """Parse a SAM/CloudFormation YAML template, short-form tags included."""
    try:
        template = parse_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise TemplateError(f"template {path} is not valid YAML: {exc}") from exc
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"template {path} has no Resources section")
    return template


class _OfflinePolicyLoader:
    """SAM asks IAM for managed policy ARNs only if a template names one; none is known offline."""

    def load(self) -> dict[str, str]:
        return {}


def _function_code(
    logical_id: str, properties: dict[str, Any], defaults: dict[str, Any], base: Path
) -> str:
    """The function's CodeUri, checked to be a local folder of Python code the engine can run."""
    merged = {**defaults, **properties}
    if merged.get("PackageType") == "Image":
        raise TemplateError(
            f"{logical_id}: container image functions (PackageType: Image) cannot run locally; "
            "the engine runs zip functions with a Python runtime"
        )
    runtime = str(merged.get("Runtime", ""))
    if not runtime.startswith("python"):
        raise TemplateError(
            f"{logical_id}: runtime {runtime or '(none)'} cannot run locally; "
            "the engine runs Python handlers only"
        )
    if "InlineCode" in merged:
        raise TemplateError(
            f"{logical_id}: InlineCode is not run locally; give it a CodeUri folder"
        )
    uri = merged.get("CodeUri", ".")
    if not isinstance(uri, str):
        raise TemplateError(
            f"{logical_id}: its CodeUri is not a local folder ({uri}); the engine runs code "
            "from a folder beside the template"
        )
    if not (base / uri).is_dir():
        raise TemplateError(f"{logical_id}: CodeUri {uri} is not a folder under {base}")
    return uri


def _inline_local_files(template: dict[str, Any], base: Path) -> dict[str, Any]:
    """Replace what `sam package` uploads: DefinitionUri files inline, each CodeUri by a stand-in
    S3 location whose key is that folder (relative to the template's folder)."""
    prepared = copy.deepcopy(template)
    function_globals = prepared.get("Globals", {}).get("Function", {})
    for logical_id, resource in prepared["Resources"].items():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function":
            uri = _function_code(logical_id, properties, function_globals, base)
            properties["CodeUri"] = {"Bucket": LOCAL_CODE_BUCKET, "Key": uri}
        uri = properties.get("DefinitionUri")
        if resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(uri, str):
            path = base / uri
            try:
                properties["Definition"] = json.loads(path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise TemplateError(f"{logical_id}: cannot read DefinitionUri {uri}") from exc
            except ValueError as exc:
                raise TemplateError(f"{logical_id}: {uri} is not valid JSON: {exc}") from exc
            del properties["DefinitionUri"]
    function_globals.pop("CodeUri", None)
    return prepared


def translate(
    template: dict[str, Any],
    base: Path,
    region: str = "us-east-1",
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Translate a SAM template to CloudFormation with aws-sam-translator, offline; `base` is
    the template's folder, where CodeUri and DefinitionUri paths start.

    With `cache_dir`, a translation is kept there under a hash of what it was made from: the
    template with its DefinitionUri files inlined, the region, the translator's version and this
    module's code. Parameter values are not part of it: they are resolved after translation.
    """
    prepared = _inline_local_files(template, base)
    if cache_dir is None:
        return _translated(prepared, region)
    path = cache_dir / f"sam-{translation_key(prepared, region)}.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        pass
    # Through JSON on a miss too, so that a translation read back is the one first made.
    text = json.dumps(_translated(prepared, region), default=str)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)  # atomic: another process reads the whole file or none
    return dict(json.loads(text))


def translation_key(prepared: dict[str, Any], region: str) -> str:
    """What a translation depends on, hashed."""
    recipe = {
        "template": prepared,
        "region": region,
        "translator": importlib.metadata.version("aws-sam-translator"),
        "engine": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()


def _translated(prepared: dict[str, Any], region: str) -> dict[str, Any]:
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator({}, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        return dict(translator.translate(prepared, parameter_values={}))
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause) for cause in exc.causes)
        raise TemplateError(f"SAM cannot translate the template: {causes}") from exc
