"""The engine on templates other than the saga's: the shop-lite fixture and small ones."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.cloud import LocalCloud

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "tests" / "fixtures" / "shop-lite"
TEMPLATE = SHOP / "template.yaml"
# rate(1 minute) fires every 1.2 s, a visibility timeout of 60 s lasts 1.2 s.
CLOCK_SCALE = 0.02

HEADER = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
"""
# A handler that keeps every event it receives, for the tests to read.
RECORDER = '''\
EVENTS = []


def handler(event, context):
    EVENTS.append(event)
    return {"received": len(EVENTS)}
'''


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """shop-lite on the local cloud, its state kept outside the repository."""
    root = tmp_path_factory.mktemp("shop-lite")
    with LocalCloud(root, str(TEMPLATE), clock_scale=CLOCK_SCALE) as running:
        yield running


def write_app(folder: Path, resources: str, code: dict[str, str] | None = None) -> Path:
    """A small SAM application in `folder`: its template (Resources indented as written) and
    code files (path relative to the folder: source)."""
    template = folder / "template.yaml"
    template.write_text(HEADER + "Resources:\n" + textwrap.indent(textwrap.dedent(resources), "  "))
    for path, source in (code or {}).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(source)
    return template
