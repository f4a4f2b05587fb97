"""Workflows that pause on gate nodes: approval, typed input, sleep (tests of the local admin and
of the provider's human-in-the-loop pieces)."""

from datetime import timedelta

from flytekit import approve, sleep, task, wait_for_input, workflow


@task
def train(x: int) -> int:
    return x * 2


@task
def deploy(model: int) -> str:
    return f"deployed {model}"


@workflow
def approval_wf(x: int = 1) -> str:
    model = train(x=x)
    approved = approve(model, "deploy-model", timeout=timedelta(minutes=10))
    return deploy(model=approved)


@workflow
def hasty_approval_wf(x: int = 1) -> str:
    """Waits two seconds for its approval."""
    model = train(x=x)
    return deploy(model=approve(model, "deploy-model", timeout=timedelta(seconds=2)))


@task
def scale(model: int, factor: int) -> int:
    return model * factor


@workflow
def input_wf(x: int = 1) -> int:
    model = train(x=x)
    factor = wait_for_input("factor", timeout=timedelta(minutes=10), expected_type=int)
    return scale(model=model, factor=factor)


@workflow
def nap_wf(x: int = 1) -> int:
    pause = sleep(timedelta(seconds=1))
    model = train(x=x)
    pause >> model
    return model
