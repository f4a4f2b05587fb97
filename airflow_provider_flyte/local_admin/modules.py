"""Loads workflow files the way `pyflyte` does, so entity names match a real registration.

flytekit names a task or workflow after the module it was imported as (`module.attr`), so the
module name must be derived exactly like pyflyte derives it: walk up while `__init__.py` exists,
import from the first directory without one.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from flytekit.core.base_task import PythonTask
from flytekit.core.launch_plan import LaunchPlan
from flytekit.core.workflow import WorkflowBase


@dataclass(frozen=True)
class ModuleLocation:
    """Where a workflow file lives and the name it is imported under (also what a worker needs)."""

    import_root: str
    module_name: str

    @property
    def file(self) -> Path:
        return Path(self.import_root, *self.module_name.split(".")).with_suffix(".py")


@dataclass(frozen=True)
class ModuleEntities:
    """The flytekit entities a module defines at module level."""

    tasks: list[PythonTask]
    workflows: list[WorkflowBase]
    launch_plans: list[LaunchPlan]


def workflow_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; a folder gives its Python files that use flytekit (recursively, sorted),
    so a DAG folder with its Flyte workflows in it loads at once without importing Airflow DAGs."""
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            found.append(path)
            continue
        files = [
            file
            for file in sorted(path.rglob("*.py"))
            if file.name != "__init__.py" and "flytekit" in file.read_text(errors="replace")
        ]
        if not files:
            raise ValueError(f"no Python file in {path} uses flytekit")
        found.extend(files)
    return found


def locate_module(path: str | Path) -> ModuleLocation:
    file = Path(path).resolve()
    if file.suffix != ".py" or not file.is_file():
        raise ValueError(f"not a Python file: {path}")
    parts = [file.stem]
    directory = file.parent
    while (directory / "__init__.py").exists():
        parts.insert(0, directory.name)
        directory = directory.parent
    return ModuleLocation(import_root=str(directory), module_name=".".join(parts))


def content_version(path: str | Path) -> str:
    """A version that changes exactly when the file does, so re-registration is idempotent."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return f"local-{digest[:12]}"


_imported_versions: dict[str, str] = {}


def import_module(location: ModuleLocation) -> ModuleType:
    """Imports the module, or re-imports it when its file changed since (a new version registered)."""
    if location.import_root not in sys.path:
        sys.path.insert(0, location.import_root)
    module = sys.modules.get(location.module_name)
    if module is None:
        module = importlib.import_module(location.module_name)
    elif module.__file__ and _imported_versions.get(location.module_name) != content_version(module.__file__):
        # A .pyc is trusted on mtime and size, which an edit within the same second can keep.
        Path(importlib.util.cache_from_source(module.__file__)).unlink(missing_ok=True)
        module = importlib.reload(module)
    if module.__file__:
        _imported_versions[location.module_name] = content_version(module.__file__)
    return module


def module_entities(module: ModuleType) -> ModuleEntities:
    values = list(vars(module).values())
    return ModuleEntities(
        tasks=[v for v in values if isinstance(v, PythonTask)],
        workflows=[v for v in values if isinstance(v, WorkflowBase)],
        launch_plans=[v for v in values if isinstance(v, LaunchPlan)],
    )
