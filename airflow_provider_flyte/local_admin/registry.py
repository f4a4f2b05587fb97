"""The admin's catalogue of registered tasks, workflows and launch plans.

Kept separate from executions because registrations are immutable once stored (like
flyteadmin's), while executions change all the time; each has its own lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2

from airflow_provider_flyte.local_admin.errors import invalid_argument, not_found
from airflow_provider_flyte.local_admin.modules import ModuleLocation, content_version
from airflow_provider_flyte.local_admin.persistence import Journal, StoredEntity
from airflow_provider_flyte.local_admin.protos import copy_message
from airflow_provider_flyte.local_admin.serialization import Registration
from airflow_provider_flyte.local_admin.single_task import (
    implicit_launch_plan,
    implicit_workflow,
)

IdentifierKey = tuple[str, str, str, str]
_RESOURCE_NAMES = {
    identifier_pb2.TASK: "TASK",
    identifier_pb2.WORKFLOW: "WORKFLOW",
    identifier_pb2.LAUNCH_PLAN: "LAUNCH_PLAN",
}


def identifier_key(identifier: identifier_pb2.Identifier) -> IdentifierKey:
    return (identifier.project, identifier.domain, identifier.name, identifier.version)


def describe_identifier(identifier: identifier_pb2.Identifier) -> str:
    """Go's `%v` of an identifier, the way flyteadmin prints it in error messages."""
    return (
        f'project:"{identifier.project}" domain:"{identifier.domain}" '
        f'name:"{identifier.name}" version:"{identifier.version}"'
    )


@dataclass(frozen=True)
class Runnable:
    """What a worker needs to find the flytekit entity behind a registered workflow."""

    location: ModuleLocation
    entity_name: str


class Registry:
    def __init__(self, project: str, domain: str, journal: Journal | None = None) -> None:
        """With a journal, every stored entity is also written through to it (`--state-dir`)."""
        self.project = project
        self.domain = domain
        self._journal = journal
        self._lock = threading.Lock()
        self._tasks: dict[IdentifierKey, task_pb2.Task] = {}
        self._workflows: dict[IdentifierKey, workflow_pb2.Workflow] = {}
        self._launch_plans: dict[IdentifierKey, launch_plan_pb2.LaunchPlan] = {}
        self._runnables: dict[IdentifierKey, Runnable] = {}

    def add(self, registration: Registration, location: ModuleLocation) -> None:
        """Stores a module's entities; identical re-registrations are no-ops, like re-running pyflyte."""
        with self._lock:
            for task in registration.tasks:
                self._tasks.setdefault(identifier_key(task.id), task)
                self._runnables.setdefault(identifier_key(task.id), Runnable(location, task.id.name))
            for workflow in registration.workflows:
                key = identifier_key(workflow.id)
                self._workflows.setdefault(key, workflow)
                self._runnables.setdefault(key, Runnable(location, workflow.id.name))
            for launch_plan in registration.launch_plans:
                key = identifier_key(launch_plan.id)
                if key in self._launch_plans:
                    continue
                if launch_plan.closure.state == launch_plan_pb2.ACTIVE:
                    self._deactivate_versions_of(launch_plan.id)
                self._launch_plans[key] = launch_plan
            self._save(registration.tasks + registration.workflows + list(self._launch_plans.values()))

    def restore(self, entities: list[StoredEntity]) -> None:
        """Fills the registry from a journal, before anything else is registered."""
        stores = {"task": self._tasks, "workflow": self._workflows, "launch_plan": self._launch_plans}
        with self._lock:
            for entity in entities:
                key = identifier_key(entity.body.id)
                stores[entity.kind][key] = entity.body
                if entity.runnable is not None:
                    root, module, name = entity.runnable
                    self._runnables[key] = Runnable(ModuleLocation(root, module), name)

    def check_registered(self, project: str, domain: str) -> None:
        if project != self.project:
            reason = f"project [{project}] not found"
        elif domain != self.domain:
            reason = f"domain [{domain}] is unrecognized by system"
        else:
            return
        raise invalid_argument(
            f"failed to validate that project [{project}] and domain [{domain}] are registered, err: [{reason}]"
        )

    def task(self, identifier: identifier_pb2.Identifier) -> task_pb2.Task:
        return self._get(self._tasks, identifier, identifier_pb2.TASK)

    def workflow(self, identifier: identifier_pb2.Identifier) -> workflow_pb2.Workflow:
        return self._get(self._workflows, identifier, identifier_pb2.WORKFLOW)

    def launch_plan(self, identifier: identifier_pb2.Identifier) -> launch_plan_pb2.LaunchPlan:
        return self._get(self._launch_plans, identifier, identifier_pb2.LAUNCH_PLAN)

    def runnable(self, workflow_id: identifier_pb2.Identifier) -> Runnable:
        """The entity to run; refused when its file no longer holds the registered version's code
        (only the newest source is kept, and an old version must not run new code)."""
        with self._lock:
            runnable = self._runnables[identifier_key(workflow_id)]
        on_disk = content_version(runnable.location.file)
        if workflow_id.version.startswith("local-") and on_disk != workflow_id.version:
            raise RuntimeError(
                f"version {workflow_id.version} of {workflow_id.name} is no longer on disk "
                f"({runnable.location.file} is now {on_disk}); launch that version instead"
            )
        return runnable

    def task_launch_plan(self, task_id: identifier_pb2.Identifier) -> launch_plan_pb2.LaunchPlan:
        """The implicit launch plan that runs one task, created (with its workflow) on first use."""
        task = self.task(task_id)
        launch_plan = implicit_launch_plan(task)
        workflow = implicit_workflow(task)
        with self._lock:
            self._workflows.setdefault(identifier_key(workflow.id), workflow)
            self._runnables.setdefault(identifier_key(workflow.id), self._runnables[identifier_key(task.id)])
            self._launch_plans.setdefault(identifier_key(launch_plan.id), launch_plan)
            self._save([workflow, launch_plan])
            return copy_message(self._launch_plans[identifier_key(launch_plan.id)])

    def active_launch_plan(self, project: str, domain: str, name: str) -> launch_plan_pb2.LaunchPlan:
        with self._lock:
            for launch_plan in self._launch_plans.values():
                if (
                    (launch_plan.id.project, launch_plan.id.domain, launch_plan.id.name) == (project, domain, name)
                    and launch_plan.closure.state == launch_plan_pb2.ACTIVE
                ):
                    return copy_message(launch_plan)
        raise not_found(f"No active launch plan could be found: {project}:{domain}:{name}")

    def launch_plans(self, project: str, domain: str, name: str) -> list[launch_plan_pb2.LaunchPlan]:
        """Versions in registration order (oldest first); an empty name means every launch plan."""
        with self._lock:
            return [copy_message(lp) for lp in self._launch_plans.values() if _matches(lp.id, project, domain, name)]

    def tasks(self, project: str, domain: str, name: str) -> list[task_pb2.Task]:
        with self._lock:
            return [copy_message(t) for t in self._tasks.values() if _matches(t.id, project, domain, name)]

    def workflows(self, project: str, domain: str, name: str) -> list[workflow_pb2.Workflow]:
        with self._lock:
            return [copy_message(w) for w in self._workflows.values() if _matches(w.id, project, domain, name)]

    def _save(self, entities: list) -> None:
        """Writes entities through to the journal; called with the lock held."""
        if self._journal is None:
            return
        kinds = {task_pb2.Task: "task", workflow_pb2.Workflow: "workflow", launch_plan_pb2.LaunchPlan: "launch_plan"}
        for entity in entities:
            key = identifier_key(entity.id)
            runnable = None if isinstance(entity, launch_plan_pb2.LaunchPlan) else self._runnables.get(key)
            location = None
            if runnable is not None:
                location = (runnable.location.import_root, runnable.location.module_name, runnable.entity_name)
            self._journal.save_entity(kinds[type(entity)], "/".join(key), entity, location)

    def _deactivate_versions_of(self, identifier: identifier_pb2.Identifier) -> None:
        for launch_plan in self._launch_plans.values():
            if (launch_plan.id.project, launch_plan.id.domain, launch_plan.id.name) == (
                identifier.project,
                identifier.domain,
                identifier.name,
            ):
                launch_plan.closure.state = launch_plan_pb2.INACTIVE

    def _get(self, store: dict, identifier: identifier_pb2.Identifier, resource_type: int):
        with self._lock:
            found = store.get(identifier_key(identifier))
            if found is not None:
                return copy_message(found)
        raise not_found(
            f"missing entity of type {_RESOURCE_NAMES[resource_type]} with identifier {describe_identifier(identifier)}"
        )


def _matches(identifier: identifier_pb2.Identifier, project: str, domain: str, name: str) -> bool:
    return (identifier.project, identifier.domain) == (project, domain) and (not name or identifier.name == name)
