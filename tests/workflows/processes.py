"""A task that starts a process of its own, to check that terminate kills the whole tree."""

from __future__ import annotations

import subprocess
import sys
import time

from flytekit import task, workflow


@task
def spawn_and_wait(pid_file: str) -> int:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open(pid_file, "w") as f:
        f.write(str(child.pid))
    time.sleep(300)
    return child.pid


@workflow
def spawning_wf(pid_file: str) -> int:
    return spawn_and_wait(pid_file=pid_file)
