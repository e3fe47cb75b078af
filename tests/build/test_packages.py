"""What `sam build` packaged for each function: the runtime package and its requirement only,
within 200 KB zipped, its `order_saga/` the same as `src/`'s. Skipped, with the reason, where
no build exists (`make build` makes one; CI builds before it tests)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
SOURCE = ROOT / "src"
LIMIT_BYTES = 200 * 1024
FUNCTIONS = sorted(
    name
    for name, resource in load_template(ROOT / "template.yaml")["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
)


def requirement_names() -> set[str]:
    """The distributions src/requirements.txt asks for, as pip names their folders."""
    names = set()
    for line in (SOURCE / "requirements.txt").read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            name = re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0]
            names.add(name.lower().replace("-", "_"))
    return names


def allowed(entry: str, requirements: set[str]) -> bool:
    """A package's top-level entry that belongs in it: the runtime package, the requirements
    file, and each requirement's modules and metadata."""
    if entry in ("order_saga", "requirements.txt"):
        return True
    distribution = entry.lower().split("-", 1)[0].removesuffix(".py")
    return distribution in requirements


@pytest.fixture
def package(request: pytest.FixtureRequest) -> Path:
    if not (BUILD / "template.yaml").is_file():
        pytest.skip(f"no build in {BUILD.relative_to(ROOT)}: run `make build` to check it")
    folder = BUILD / str(request.param)
    assert folder.is_dir(), f"{request.param} is in template.yaml but not in the build"
    return folder


@pytest.mark.parametrize("package", FUNCTIONS, indirect=True)
def test_a_package_holds_the_runtime_package_and_its_requirements_only(package: Path) -> None:
    requirements = requirement_names()
    entries = sorted(entry.name for entry in package.iterdir())
    assert "order_saga" in entries
    strangers = [entry for entry in entries if not allowed(entry, requirements)]
    assert strangers == [], f"{package.name} packages more than it runs: {strangers}"


@pytest.mark.parametrize("package", FUNCTIONS, indirect=True)
def test_a_package_zips_within_200_kb(package: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in package.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(package).as_posix())
    size = len(buffer.getvalue())
    assert size <= LIMIT_BYTES, f"{package.name} zips to {size / 1024:.1f} KB, over 200 KB"


@pytest.mark.parametrize("package", FUNCTIONS, indirect=True)
def test_a_package_holds_the_source_as_it_is_now(package: Path) -> None:
    sources = sorted(p for p in (SOURCE / "order_saga").rglob("*.py"))
    assert sources
    stale = [
        str(path.relative_to(SOURCE))
        for path in sources
        if not (package / path.relative_to(SOURCE)).is_file()
        or (package / path.relative_to(SOURCE)).read_bytes() != path.read_bytes()
    ]
    built = sorted(
        str(p.relative_to(package)) for p in (package / "order_saga").rglob("*.py")
    )
    gone = sorted(set(built) - {str(p.relative_to(SOURCE)) for p in sources})
    assert stale == [] and gone == [], (
        f"{package.name} differs from src/ (changed or missing: {stale}; removed since: "
        f"{gone}): run `make build` again"
    )
