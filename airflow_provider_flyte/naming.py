"""How execution names are made.

FlyteAdmin refuses a second execution with the same name (ALREADY_EXISTS), so a name derived
only from the Airflow task instance makes launches idempotent: a retried try, or a try whose
CreateExecution response was lost, finds the execution its predecessor started instead of
starting another.

Names must match ``^[a-z][a-z\\-0-9]*$`` and be at most 63 characters. They carry a readable
prefix (dag and task ids, sanitised) for people browsing the Flyte console, and a hash of the full
identity so that truncation never makes two task instances collide.

Flyte 2 run names are shorter (at most 30 characters, a DNS-1035 label): ``max_length`` gives
such names the same shape with shorter parts and hash. Without it a name is what it always was.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME_LENGTH = 63
NAME_PATTERN = re.compile(r"^[a-z][a-z\-0-9]*$")
_HASH_LENGTH = 16
_PART_LENGTH = 18
# Shorter names (Flyte 2 runs, at most 30 characters): a 40-bit hash still never collides in practice.
_SHORT_HASH_LENGTH = 10
_SHORT_MINIMUM = 16


def _slug(text: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def execution_name(
    dag_id: str, run_id: str, task_id: str, map_index: int = -1, max_length: int = MAX_NAME_LENGTH
) -> str:
    """The execution name for one Airflow task instance (all its tries share it).

    ``max_length`` below 63 (Flyte 2 runs) shortens the hash and shares what is left between the
    dag and task ids, so the hash is never cut off; at 63 the name is byte for byte the 1.0 one.
    """
    identity = "\x1f".join((dag_id, run_id, task_id, str(map_index)))
    full_digest = hashlib.sha256(identity.encode()).hexdigest()
    if max_length >= MAX_NAME_LENGTH:
        part_length, digest = _PART_LENGTH, full_digest[:_HASH_LENGTH]
    else:
        digest = full_digest[: _SHORT_HASH_LENGTH if max_length >= _SHORT_MINIMUM else max(1, max_length - 3)]
        index = f"-{map_index}" if map_index >= 0 else ""
        # "af-" + dag + "-" + task + index + "-" + digest
        part_length = max(0, (max_length - 3 - 2 - len(index) - len(digest)) // 2)
    parts = ["af", _slug(dag_id, part_length), _slug(task_id, part_length)]
    if map_index >= 0:
        parts.append(str(map_index))
    parts.append(digest)
    return "-".join(p for p in parts if p)[:max_length]


def attempt_name(base: str, attempt: int, max_length: int = MAX_NAME_LENGTH) -> str:
    """The name of the execution a retry creates (recover or relaunch) for try ``attempt``.

    Attempt 1 is the base name; later attempts append ``-r<attempt>``, trimming the base so the
    result still fits, which keeps every attempt's name deterministic too.
    """
    if attempt <= 1:
        return base
    suffix = f"-r{attempt}"
    return base[: max_length - len(suffix)].rstrip("-") + suffix


def validate_execution_name(name: str) -> str:
    """Fail before launching on a name FlyteAdmin would refuse, saying what is allowed."""
    if len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.match(name):
        raise ValueError(
            f"execution_name {name!r} is not a valid Flyte execution name: expected lower-case letters, "
            f"digits and '-', starting with a letter, at most {MAX_NAME_LENGTH} characters"
        )
    return name
