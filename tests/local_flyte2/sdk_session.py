"""What the Flyte 2 SDK's own remote API does against the service, run in a process of its own (the SDK
keeps its init and caches per process): ``python sdk_session.py ENDPOINT VERSION_OF_ADD`` prints one JSON
object, a result per scenario, for test_sdk_conformance to check."""

from __future__ import annotations

import json
import sys
import time

import flyte
import flyte.remote


def _error(call) -> dict[str, str]:
    try:
        call()
    except Exception as exc:  # the scenario is what the SDK raises
        return {"type": type(exc).__name__, "message": str(exc)}
    return {"type": "none", "message": ""}


def main(endpoint: str, add_version: str) -> None:
    flyte.init(endpoint=endpoint, insecure=True, project="flytesnacks", domain="development")
    results: dict[str, object] = {}

    add = flyte.remote.Task.get("arithmetic.add", auto_version="latest")
    run = flyte.with_runcontext(name="sdk-add").run(add, x=2)
    run.wait(quiet=True)
    fetched = flyte.remote.Run.get("sdk-add")
    results["add"] = {"phase": str(fetched.phase), "outputs": list(fetched.outputs()), "version": add.fetch().version}

    pinned = flyte.remote.Task.get("arithmetic.add", version=add_version)
    run = flyte.run(pinned, x=5, y=6)
    run.wait(quiet=True)
    results["pinned"] = {"outputs": list(run.outputs())}

    describe = flyte.remote.Task.get("arithmetic.describe", auto_version="latest")
    run = flyte.run(describe, name="ho", times=3)
    run.wait(quiet=True)
    results["async"] = {"outputs": list(run.outputs())}

    divide = flyte.remote.Task.get("failing.divide", auto_version="latest")
    run = flyte.run(divide, x=1, y=0)
    run.wait(quiet=True)
    failed = flyte.remote.Run.get(run.name)
    first_failure = failed.first_failure()
    results["failed"] = {
        "phase": str(failed.phase),
        "raised": _error(failed.raise_for_status),
        "first_failure": first_failure.error_info.message if first_failure else None,
        "listed_as_failed": [r.name for r in flyte.remote.Run.listall(in_phase=("failed",))] == [run.name],
        "logs": list(failed.get_logs()),
    }

    sleep = flyte.remote.Task.get("slow.sleep", auto_version="latest")
    run = flyte.run(sleep, seconds=60.0)
    run.wait(quiet=True, wait_for="running")
    started = time.monotonic()
    run.abort("stopped by the SDK test")
    run.wait(quiet=True)
    aborted = flyte.remote.Run.get(run.name)
    results["aborted"] = {
        "phase": str(aborted.phase),
        "seconds": time.monotonic() - started,
        "raised": _error(aborted.raise_for_status),
    }

    results["unknown_task"] = _error(lambda: flyte.remote.Task.get("arithmetic.nope", auto_version="latest").fetch())
    results["duplicate"] = _error(lambda: flyte.with_runcontext(name="sdk-add").run(add, x=1))
    results["too_long"] = _error(lambda: flyte.with_runcontext(name="n" * 31).run(add, x=1))
    results["listed"] = sorted(r.name for r in flyte.remote.Run.listall())
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
