"""How the package's modules depend on each other, and the Airflow internals it leans on."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import airflow_provider_flyte

PACKAGE = Path(airflow_provider_flyte.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level_imports(path: Path) -> set[str]:
    """Imports executed when the module loads (TYPE_CHECKING blocks included: a type checker
    follows them); imports inside functions are deliberate lazy loads and do not count."""
    found: set[str] = set()
    pending = list(ast.parse(path.read_text()).body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.If, ast.Try)):
            pending.extend(node.body + node.orelse + getattr(node, "finalbody", []))
            pending.extend(h for handler in getattr(node, "handlers", []) for h in handler.body)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("airflow_provider_flyte"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("airflow_provider_flyte"))
    return found


def _import_graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {dep for dep in _module_level_imports(path) if dep in modules and dep != name} for name, path in modules.items()}


def test_the_package_has_no_import_cycles():
    graph = _import_graph()
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for dep in sorted(graph[module]):
            if state.get(dep) == "open":
                cycles.append(trail[trail.index(dep) :] + [dep])
            elif dep not in state:
                visit(dep, trail + [dep])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


# Two private Airflow methods are overridden because no public extension point does the job:
# rendering one templated field to native Python values, and the sensor's next poke interval in
# reschedule mode. An Airflow upgrade that changes them must fail here, not silently in a DAG.


def test_the_private_template_rendering_hook_keeps_its_signature():
    from airflow.sdk import BaseOperator

    parameters = list(inspect.signature(BaseOperator._do_render_template_fields).parameters)
    assert parameters == ["self", "parent", "template_fields", "context", "jinja_env", "seen_oids"]


def test_the_template_rendering_hook_is_what_render_template_fields_calls():
    from airflow.sdk import BaseOperator

    assert "_do_render_template_fields" in inspect.getsource(BaseOperator.render_template_fields)


def test_the_private_poke_interval_hook_keeps_its_signature():
    from airflow.sdk import BaseSensorOperator

    parameters = list(inspect.signature(BaseSensorOperator._get_next_poke_interval).parameters)
    assert parameters == ["self", "started_at", "run_duration", "poke_count"]


def test_the_poke_interval_hook_is_what_the_sensor_loop_asks():
    from airflow.sdk import BaseSensorOperator

    assert "_get_next_poke_interval" in inspect.getsource(BaseSensorOperator.execute)
