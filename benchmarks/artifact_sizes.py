"""Each function's deployment package, zipped as `sam deploy` uploads it, after `make build`.

Run: make build && .venv/bin/python benchmarks/artifact_sizes.py [--bundled]

Prints each function's zipped and unzipped size from .aws-sam/build against the target
(200 KB zipped, layers not counted). With --bundled it also installs Powertools into a
scratch folder, for the python3.13/arm64 runtime, and prints what each package would weigh
with Powertools bundled instead of taken from AWS's public layer: the figure behind the
choice of the layer.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"
TARGET_BYTES = 200 * 1024
POWERTOOLS = "aws-lambda-powertools==3.37.0"


def zipped_size(folder: Path) -> tuple[int, int]:
    """(zipped, unzipped) bytes of a folder's files, deflated as sam packages them."""
    buffer = io.BytesIO()
    unzipped = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder).as_posix())
            unzipped += path.stat().st_size
    return len(buffer.getvalue()), unzipped


def functions() -> list[Path]:
    if not (BUILD / "template.yaml").exists():
        raise SystemExit(f"no build in {BUILD}: run `make build` first")
    return sorted(p for p in BUILD.iterdir() if p.is_dir())


def powertools_folder(scratch: Path) -> Path:
    """Powertools and its dependencies as pip installs them for python3.13 on arm64."""
    target = scratch / "powertools"
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--target", str(target), "--platform", "manylinux2014_aarch64",
            "--python-version", "3.13", "--only-binary=:all:", "--no-compile", POWERTOOLS,
        ],
        check=True,
    )
    return target


def bundled_size(function: Path, powertools: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder in (function, powertools):
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                archive.write(path, path.relative_to(folder).as_posix())
    return len(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundled", action="store_true", help="also size Powertools bundled")
    args = parser.parse_args(argv)
    built = functions()
    with tempfile.TemporaryDirectory() as scratch:
        powertools = powertools_folder(Path(scratch)) if args.bundled else None
        target = f"target {TARGET_BYTES // 1024} KB"
        header = f"{'function':34} {'zipped':>10} {'unzipped':>10}  {target}"
        if powertools is not None:
            header += f"   {'bundled':>10}"
        print(header)
        worst = 0
        for function in built:
            zipped, unzipped = zipped_size(function)
            worst = max(worst, zipped)
            line = f"{function.name:34} {zipped / 1024:8.1f} KB {unzipped / 1024:7.1f} KB"
            line += "  within" if zipped <= TARGET_BYTES else "  OVER"
            if powertools is not None:
                line += f"   {bundled_size(function, powertools) / 1024:7.1f} KB"
            print(line)
    print(f"largest: {worst / 1024:.1f} KB zipped ({os.path.relpath(BUILD, ROOT)})", flush=True)
    return 0 if worst <= TARGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
