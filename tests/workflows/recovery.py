"""Workflows for node-level behaviour: recovery, node records and large outputs.

`branching_wf` has a conditional, which the local admin runs as one whole node.
`recoverable_wf`'s first node counts its runs in a file and its second fails while a marker
file exists, so a test can fail a run, remove the marker, recover, and count the reruns.
"""

from __future__ import annotations

from pathlib import Path

from flytekit import conditional, task, workflow


@task
def count_run(counter: str, x: int) -> int:
    with open(counter, "a") as runs:
        runs.write("run\n")
    return x + 1


@task
def fail_if_marked(marker: str, y: int) -> int:
    if Path(marker).exists():
        raise RuntimeError(f"marker {marker} is present")
    return y * 10


@workflow
def recoverable_wf(counter: str, marker: str, x: int = 1) -> int:
    return fail_if_marked(marker=marker, y=count_run(counter=counter, x=x))


@task
def text_of_size(size: int) -> str:
    return "x" * size


@workflow
def big_output_wf(size: int = 3_000_000) -> str:
    return text_of_size(size=size)


@task
def negate(x: int) -> int:
    return -x


@task
def identity(x: int) -> int:
    return x


@workflow
def branching_wf(x: int = 3) -> int:
    return conditional("sign").if_(x < 0).then(negate(x=x)).else_().then(identity(x=x))
