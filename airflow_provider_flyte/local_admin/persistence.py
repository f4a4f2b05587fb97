"""`--state-dir`: registrations and executions kept in SQLite, so a restarted admin still answers.

The registry and the execution store stay in-memory and authoritative; they write through to
this journal on every change and are filled from it at start. Run data (inputs, outputs, node
records) lives as files under `<state-dir>/runs/`, which the runner keeps instead of a temp dir.

A worker never outlives its admin, so an execution cannot continue across a restart. A clean
stop aborts what runs (ABORTED, cause "flyte-local-admin stopped"); an execution still QUEUED or
RUNNING in the journal after a crash is marked FAILED with a SYSTEM error when the admin starts.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flyteidl.admin import execution_pb2, launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import literals_pb2

DATABASE_FILE = "admin.sqlite3"
RUNS_DIR = "runs"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    kind TEXT NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL, import_root TEXT, module_name TEXT, entity_name TEXT,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS executions (
    key TEXT PRIMARY KEY, seq INTEGER NOT NULL, body BLOB NOT NULL, user_inputs BLOB NOT NULL, history TEXT NOT NULL
);
"""
ENTITY_TYPES = {"task": task_pb2.Task, "workflow": workflow_pb2.Workflow, "launch_plan": launch_plan_pb2.LaunchPlan}


@dataclass(frozen=True)
class StoredEntity:
    kind: str
    body: Any  # a flyteidl Task, Workflow or LaunchPlan message
    runnable: tuple[str, str, str] | None  # import_root, module_name, entity_name


@dataclass(frozen=True)
class StoredExecution:
    execution: execution_pb2.Execution
    user_inputs: literals_pb2.LiteralMap
    history: list[int]


class Journal:
    def __init__(self, state_dir: str | Path) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.runs_dir = self.state_dir / RUNS_DIR
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.state_dir / DATABASE_FILE, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def save_entity(self, kind: str, key: str, body, runnable: tuple[str, str, str] | None = None) -> None:
        root, module, name = runnable or (None, None, None)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO entities VALUES (?, ?, ?, ?, ?, ?)",
                (kind, key, body.SerializeToString(), root, module, name),
            )

    def entities(self) -> list[StoredEntity]:
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, body, import_root, module_name, entity_name FROM entities ORDER BY rowid"
            ).fetchall()
        return [
            StoredEntity(kind, ENTITY_TYPES[kind].FromString(body), (root, module, name) if root else None)
            for kind, body, root, module, name in rows
        ]

    def save_execution(
        self, key: str, execution: execution_pb2.Execution, user_inputs: literals_pb2.LiteralMap, history: list[int]
    ) -> None:
        with self._lock:
            self._db.execute(
                # rows are never deleted, so MAX(rowid) is the row count, found without a scan
                "INSERT INTO executions VALUES (?, (SELECT COALESCE(MAX(rowid), 0) FROM executions), ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET body = excluded.body, history = excluded.history",
                (key, execution.SerializeToString(), user_inputs.SerializeToString(), ",".join(map(str, history))),
            )

    def executions(self) -> list[StoredExecution]:
        with self._lock:
            rows = self._db.execute("SELECT body, user_inputs, history FROM executions ORDER BY seq").fetchall()
        return [
            StoredExecution(
                execution_pb2.Execution.FromString(body),
                literals_pb2.LiteralMap.FromString(inputs),
                [int(phase) for phase in history.split(",") if phase],
            )
            for body, inputs, history in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()
