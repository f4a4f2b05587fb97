"""Everything that differs between the Airflow 3 releases we support (3.0 to 3.3), in one place.

Every other module imports these names from here and never asks which Airflow is running
(``tests/unit/test_compat.py`` checks that). Where an API moved, the name below is its home on
the running release; where a capability is missing, the function below does the next best thing
and, when that is less than the newest Airflow does, says so once in the log. The matrix is in
README.md ("Works on") and docs/airflow-versions.md.

Importing this module is cheap: it reads ``airflow.__version__`` and imports Airflow modules that
any DAG file loads anyway.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from airflow import __version__ as AIRFLOW_VERSION

log = logging.getLogger(__name__)


def version_tuple(version: str) -> tuple[int, int, int]:
    """``"3.1.8"``, ``"3.2.0rc1"``, ``"3.3.0.dev0"`` → ``(3, 1, 8)``, ``(3, 2, 0)``, ``(3, 3, 0)``."""
    from packaging.version import Version

    release = Version(version).release + (0, 0)
    return release[0], release[1], release[2]


def require_airflow_3(version: str) -> None:
    """Refuse Airflow 2 with a message that says what to do, not a traceback from deep inside."""
    if version_tuple(version) < (3, 0, 0):
        raise ImportError(
            f"airflow-provider-flyte 1.x needs Apache Airflow 3.0 or newer; this is Airflow {version}. "
            "Airflow 2 reached end of life in April 2026: upgrade Airflow, or keep "
            "airflow-provider-flyte<1 (0.0.5) on Airflow 2."
        )


require_airflow_3(AIRFLOW_VERSION)

AIRFLOW_RELEASE = version_tuple(AIRFLOW_VERSION)
AIRFLOW_3_1_PLUS = AIRFLOW_RELEASE >= (3, 1, 0)
AIRFLOW_3_2_PLUS = AIRFLOW_RELEASE >= (3, 2, 0)
AIRFLOW_3_3_PLUS = AIRFLOW_RELEASE >= (3, 3, 0)

# -- names that moved into the task SDK --------------------------------------------------------

if AIRFLOW_3_1_PLUS:
    from airflow.sdk import BaseHook as BaseHook
else:  # 3.0: the SDK has no BaseHook yet
    from airflow.hooks.base import BaseHook as BaseHook  # type: ignore[attr-defined,no-redef,unused-ignore]

if AIRFLOW_3_2_PLUS:
    from airflow.sdk import conf as conf
    from airflow.sdk.exceptions import AirflowException as AirflowException
    from airflow.sdk.exceptions import AirflowFailException as AirflowFailException
    from airflow.sdk.exceptions import AirflowSensorTimeout as AirflowSensorTimeout
    from airflow.sdk.exceptions import AirflowSkipException as AirflowSkipException
else:  # 3.0, 3.1: the task runner catches these, from their old home
    from airflow.configuration import conf as conf  # type: ignore[assignment,no-redef,unused-ignore]
    from airflow.exceptions import AirflowException as AirflowException  # type: ignore[assignment,no-redef,unused-ignore]
    from airflow.exceptions import AirflowFailException as AirflowFailException  # type: ignore[assignment,no-redef,unused-ignore]
    from airflow.exceptions import AirflowSensorTimeout as AirflowSensorTimeout  # type: ignore[assignment,no-redef,unused-ignore]
    from airflow.exceptions import AirflowSkipException as AirflowSkipException  # type: ignore[assignment,no-redef,unused-ignore]

# -- capabilities a release may lack ------------------------------------------------------------

# What the running Airflow cannot do as the newest does, and what happens instead: said once per
# process by ``degraded`` where the feature is used. (The connection form needs nothing here: 3.2+
# reads provider info's ``conn-fields``, 3.0/3.1 call the hook's widget methods, see hooks/form.)
_LIMITS: dict[str, tuple[bool, str]] = {
    "trigger-on-kill": (
        AIRFLOW_3_3_PLUS,
        "the triggerer never calls a trigger's on_kill (Airflow 3.3+ does). A deferred task marked "
        "failed or success, or whose run is marked failed, still terminates its Flyte execution (through "
        "the provider's listener, within seconds); a deferred task that is cleared leaves the execution "
        "running, and the new try adopts it instead of relaunching.",
    ),
    "flyte2-trigger-on-kill": (
        AIRFLOW_3_3_PLUS,
        "the triggerer never calls a trigger's on_kill (Airflow 3.3+ does). A deferred Flyte2Operator task "
        "marked failed or success, cleared, or whose run is marked failed leaves its Flyte 2 run going: abort "
        "it in Flyte. Killing a running (not deferred) task and the operator's own timeout still abort it.",
    ),
    "event-cursor": (
        AIRFLOW_3_3_PLUS,
        "FlyteExecutionEventTrigger keeps its cursor in memory (the asset state store and acknowledged "
        "event streams are Airflow 3.3+). After a triggerer restart it starts from the restart: executions "
        "that ended while no triggerer ran make no event.",
    ),
}


def degraded(feature: str) -> None:
    """Say once per process, as a warning, that ``feature`` does less on this Airflow, and how."""
    supported, consequence = _LIMITS[feature]
    if not supported and feature not in _SAID:
        _SAID.add(feature)
        log.warning("Airflow %s: %s", AIRFLOW_VERSION, consequence)


_SAID: set[str] = set()


def mask_secret(value: str) -> None:
    from airflow.sdk.log import mask_secret as mask

    mask(value)


async def amask_secret(value: Any) -> None:
    """Masks a secret (or a dict's values under sensitive keys, as Airflow does) from the event loop.

    3.3 has an async masker. Before it, the sync one asks the triggerer's supervisor through a
    call that cannot run on the event loop (3.0 raises, later releases can deadlock), so the value
    is masked in this process only: the triggerer's log lines are redacted where they are made.
    """
    if AIRFLOW_3_3_PLUS:
        from airflow.sdk.log import amask_secret as amask

        await amask(value)
        return
    _local_secrets_masker().add_mask(value)


def _local_secrets_masker() -> Any:
    if AIRFLOW_3_1_PLUS:
        from airflow.sdk._shared.secrets_masker import _secrets_masker
    else:
        from airflow.sdk.execution_time.secrets_masker import _secrets_masker  # type: ignore[no-redef,unused-ignore]
    return _secrets_masker()


def task_instance_url(ti: Any) -> str:
    """The task instance's page in the Airflow UI, as 3.1+ gives it (``ti.log_url``); 3.0's
    runtime task instance has none, so it is built the same way from ``[api] base_url``."""
    if AIRFLOW_3_1_PLUS:
        return str(ti.log_url)
    from urllib.parse import quote

    base_url = conf.get("api", "base_url", fallback="http://localhost:8080/")
    mapped = f"/mapped/{ti.map_index}" if ti.map_index is not None and ti.map_index >= 0 else ""
    attempt = f"?try_number={ti.try_number}" if ti.try_number else ""
    return f"{base_url.rstrip('/')}/dags/{ti.dag_id}/runs/{quote(ti.run_id)}/tasks/{ti.task_id}{mapped}{attempt}"


async def aget_connection(conn_id: str) -> tuple[Any, Mapping[str, Any]]:
    """A connection and its parsed extras, read without blocking the event loop."""
    if AIRFLOW_3_3_PLUS:
        conn = await BaseHook.aget_connection(conn_id)
        return conn, await conn.aextra_dejson()
    # 3.0 to 3.2: the sync reads, on a thread (asgiref hands their supervisor calls to this loop).
    from asgiref.sync import sync_to_async

    def read() -> tuple[Any, Mapping[str, Any]]:
        conn = BaseHook.get_connection(conn_id)
        return conn, json.loads(conn.extra) if conn.extra else {}

    conn, extra = await sync_to_async(read)()
    await amask_secret(extra)
    return conn, extra
