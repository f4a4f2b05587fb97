"""How execution names are made.

FlyteAdmin refuses a second execution with the same name (ALREADY_EXISTS), so a name derived
only from the Airflow task instance makes launches idempotent: a retried try, or a try whose
CreateExecution response was lost, finds the execution its predecessor started instead of
starting another.

Names must match ``^[a-z][a-z\\-0-9]*$`` and be at most 63 characters. They carry a readable
prefix (dag and task ids, sanitised) for people browsing the Flyte console, and a hash of the full
identity so that truncation never makes two task instances collide.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME_LENGTH = 63
NAME_PATTERN = re.compile(r"^[a-z][a-z\-0-9]*$")
_HASH_LENGTH = 16
_PART_LENGTH = 18


def _slug(text: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def execution_name(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """The execution name for one Airflow task instance (all its tries share it)."""
    identity = "\x1f".join((dag_id, run_id, task_id, str(map_index)))
    digest = hashlib.sha256(identity.encode()).hexdigest()[:_HASH_LENGTH]
    parts = ["af", _slug(dag_id, _PART_LENGTH), _slug(task_id, _PART_LENGTH)]
    if map_index >= 0:
        parts.append(str(map_index))
    parts.append(digest)
    return "-".join(p for p in parts if p)[:MAX_NAME_LENGTH]


def attempt_name(base: str, attempt: int) -> str:
    """The name of the execution a retry creates (recover or relaunch) for try ``attempt``.

    Attempt 1 is the base name; later attempts append ``-r<attempt>``, trimming the base so the
    result still fits, which keeps every attempt's name deterministic too.
    """
    if attempt <= 1:
        return base
    suffix = f"-r{attempt}"
    return base[: MAX_NAME_LENGTH - len(suffix)].rstrip("-") + suffix


def validate_execution_name(name: str) -> str:
    """Fail before launching on a name FlyteAdmin would refuse, saying what is allowed."""
    if len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.match(name):
        raise ValueError(
            f"execution_name {name!r} is not a valid Flyte execution name: expected lower-case letters, "
            f"digits and '-', starting with a letter, at most {MAX_NAME_LENGTH} characters"
        )
    return name
