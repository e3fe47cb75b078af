"""Handlers imported from several code folders (one per CodeUri) in one process.

SAM's layout gives each function a folder of its own, and often the same module name in
each (`app.lambda_handler`). A module belongs to the folder its file is in; before a
function's handler is imported, the modules of the other folders leave `sys.modules` (kept
aside, to come back when their folder's next handler is imported) and its folder goes first
on `sys.path`, so each folder sees only its own modules, as each function does in Lambda.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType


class CodeRoots:
    """The code folders of a template's functions and the modules imported from each."""

    def __init__(self, folders: set[Path]) -> None:
        self.folders = sorted(folder.resolve() for folder in folders)
        self._aside: dict[Path, dict[str, ModuleType]] = {folder: {} for folder in self.folders}

    def start(self) -> None:
        for folder in reversed(self.folders):
            if str(folder) not in sys.path:
                sys.path.insert(0, str(folder))

    def stop(self) -> None:
        """With several folders, forget their modules and paths: the next cloud may differ."""
        if len(self.folders) < 2:
            return
        for name, module in list(sys.modules.items()):
            if self._folder_of(module) is not None:
                del sys.modules[name]
        sys.path[:] = [entry for entry in sys.path if entry not in map(str, self.folders)]

    def _folder_of(self, module: ModuleType) -> Path | None:
        location = getattr(module, "__file__", None)
        if not location:
            return None
        path = Path(location)
        for folder in self.folders:
            if path.is_relative_to(folder):
                return folder
        return None

    def import_fresh(self, folder: Path, module_name: str) -> ModuleType:
        """Import `module_name` anew from `folder`, seeing only that folder's modules."""
        folder = folder.resolve()
        if len(self.folders) > 1:
            self._enter(folder)
        sys.modules.pop(module_name, None)
        return importlib.import_module(module_name)

    def _enter(self, folder: Path) -> None:
        for name, module in list(sys.modules.items()):
            owner = self._folder_of(module)
            if owner is not None and owner != folder:
                self._aside[owner][name] = sys.modules.pop(name)
        sys.modules.update(self._aside[folder])
        self._aside[folder] = {}
        others = set(map(str, self.folders)) - {str(folder)}
        sys.path[:] = [str(folder)] + [
            entry for entry in sys.path if entry != str(folder) and entry not in others
        ] + sorted(others)
