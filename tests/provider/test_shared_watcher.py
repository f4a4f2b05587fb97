"""The triggerer's shared watcher: many deferred waits in one event loop share a client, a token
and batched ListExecutions polls, over real gRPC to a local admin with client-credentials auth.

The admin runs no executions (``parallelism=0``): every execution stays QUEUED until a test
terminates it, which is how a test decides when each wait ends.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from airflow_provider_flyte.hooks.admin_messages import LaunchOptions
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.polling import PollPolicy
from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger, FlyteTriggerEvent
from airflow_provider_flyte.watcher.executions import ExecutionWatcher
from airflow_provider_flyte.watcher.pool import ClientPool
from tests.conftest import DOMAIN, PROJECT, TEST_WORKFLOWS

CONN = "flyte_held"
CLIENT_ID, SECRET = "triggerer", "watch-secret"


@pytest.fixture(scope="module")
def held_admin():
    from airflow_provider_flyte.local_admin import ClientSecretAuth, LocalFlyteAdmin

    auth = ClientSecretAuth(CLIENT_ID, SECRET, token_lifetime=3600)
    with LocalFlyteAdmin(
        workflows=[TEST_WORKFLOWS], project=PROJECT, domain=DOMAIN, port=0, auth=auth, parallelism=0
    ) as admin:
        yield admin


@pytest.fixture
def held(held_admin, monkeypatch) -> FlyteHook:
    """A connection to the admin that holds executions, and a hook on it to launch and stop them."""
    host, port = held_admin.endpoint.rsplit(":", 1)
    connection = {
        "conn_type": "flyte", "host": host, "port": int(port), "login": CLIENT_ID, "password": SECRET,
        "extra": {"insecure": True, "project": PROJECT, "domain": DOMAIN, "retries": 1, "timeout": 10},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps(connection))
    hook = FlyteHook(CONN)
    hook.client.tokens.metadata()  # the hook's own token, fetched before any test counts tokens
    return hook


def hold(hook: FlyteHook, *names: str) -> list[str]:
    target = hook.resolve_launch_plan(PROJECT, DOMAIN, "simple.double_wf")
    for name in names:
        hook.launch(target, name, {"x": 1}, LaunchOptions())
    return list(names)


def stop(hook: FlyteHook, *names: str) -> None:
    for name in names:
        hook.terminate(PROJECT, DOMAIN, name, "test says stop")


async def first_event(trigger: FlyteExecutionTrigger) -> FlyteTriggerEvent:
    async for event in trigger.run():
        return FlyteTriggerEvent.parse(event.payload)
    raise AssertionError("trigger ended without an event")


async def until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def waiting(names: list[str]) -> list[asyncio.Task[FlyteTriggerEvent]]:
    return [asyncio.create_task(first_event(FlyteExecutionTrigger(CONN, PROJECT, DOMAIN, n))) for n in names]


@pytest.mark.asyncio
async def test_many_waits_fetch_one_token(held, held_admin):
    names = hold(held, *(f"one-token-{i}" for i in range(25)))
    before = held_admin.tokens.issued

    tasks = waiting(names)
    await asyncio.sleep(2.5)
    await asyncio.to_thread(stop, held, *names)
    events = await asyncio.wait_for(asyncio.gather(*tasks), 30)

    assert {e.state.phase for e in events} == {"ABORTED"}
    assert held_admin.tokens.issued - before == 1


@pytest.mark.asyncio
async def test_many_waits_are_polled_together_with_list_executions(held, held_admin):
    names = hold(held, *(f"batched-{i}" for i in range(25)))
    counts = dict(held_admin.rpc_counts)

    tasks = waiting(names)
    await asyncio.sleep(6)  # adaptive polls at 1, 2.5, 4.75 s: three rounds for everyone
    polls = {m: held_admin.rpc_counts.get(m, 0) - counts.get(m, 0) for m in ("ListExecutions", "GetExecution")}
    await asyncio.to_thread(stop, held, *names)
    await asyncio.wait_for(asyncio.gather(*tasks), 30)

    assert polls["GetExecution"] == 0
    assert 1 <= polls["ListExecutions"] <= 6  # one call per round, not one per wait


@pytest.mark.asyncio
async def test_a_terminal_execution_is_read_once_whole(held, held_admin):
    names = hold(held, *(f"read-whole-{i}" for i in range(5)))
    tasks = waiting(names)
    await asyncio.sleep(1.5)
    gets = held_admin.rpc_counts.get("GetExecution", 0)

    await asyncio.to_thread(stop, held, *names)
    events = await asyncio.wait_for(asyncio.gather(*tasks), 30)

    assert all(e.state.abort_cause == "test says stop" for e in events)
    assert held_admin.rpc_counts.get("GetExecution", 0) - gets == 5


@pytest.mark.asyncio
async def test_names_beyond_a_page_are_followed_through_page_tokens(held, held_admin):
    names = hold(held, *(f"paged-{i}" for i in range(5)))
    lists = held_admin.rpc_counts.get("ListExecutions", 0)

    async with ClientPool.current().client(CONN) as client:
        watcher = ExecutionWatcher(client, PROJECT, DOMAIN, page_size=2)
        watches = [watcher.add(name, PollPolicy(60.0), time.time()) for name in names]
        await until(lambda: all(w.last.phase == "QUEUED" for w in watches))
        for watch in watches:
            watcher.remove(watch)

    assert held_admin.rpc_counts.get("ListExecutions", 0) - lists == 3  # pages of 2, 2 and 1
    stop(held, *names)


@pytest.mark.asyncio
async def test_cancelling_one_wait_leaves_the_others_waiting(held):
    names = hold(held, "cancel-one-a", "cancel-one-b", "cancel-one-c")
    first, *others = waiting(names)
    await asyncio.sleep(1.5)

    first.cancel()
    await asyncio.sleep(1.5)
    assert not any(task.done() for task in others)
    await asyncio.to_thread(stop, held, *names)

    events = await asyncio.wait_for(asyncio.gather(*others), 30)
    assert [e.state.phase for e in events] == ["ABORTED", "ABORTED"]


@pytest.mark.asyncio
async def test_a_missing_execution_ends_only_its_own_wait(held):
    (kept,) = hold(held, "missing-neighbour")
    kept_task, missing_task = waiting([kept, "missing-never-launched"])

    missing = await asyncio.wait_for(missing_task, 30)
    assert missing.status == "error" and "does not exist" in missing.message
    await asyncio.sleep(1.5)
    assert not kept_task.done()

    await asyncio.to_thread(stop, held, kept)
    assert (await asyncio.wait_for(kept_task, 30)).state.phase == "ABORTED"


@pytest.mark.asyncio
async def test_an_admin_that_refuses_the_list_filter_is_asked_per_execution(held, held_admin):
    import grpc

    (name,) = hold(held, "filter-refused")
    lists, gets = (held_admin.rpc_counts.get(m, 0) for m in ("ListExecutions", "GetExecution"))
    held_admin.faults.fail_next("ListExecutions", 1, grpc.StatusCode.UNIMPLEMENTED)
    (task,) = waiting([name])
    await until(lambda: held_admin.rpc_counts.get("GetExecution", 0) > gets)
    assert held_admin.rpc_counts.get("ListExecutions", 0) - lists == 1

    await asyncio.to_thread(stop, held, name)
    assert (await asyncio.wait_for(task, 30)).state.phase == "ABORTED"


@pytest.mark.asyncio
async def test_an_admin_outage_postpones_polls_and_ends_no_wait(held, held_admin):
    (name,) = hold(held, "outage-waited-out")
    (task,) = waiting([name])
    await asyncio.sleep(1.5)

    held_admin.faults.outage(3)
    await asyncio.sleep(4)
    assert not task.done()
    await asyncio.to_thread(stop, held, name)

    assert (await asyncio.wait_for(task, 60)).state.phase == "ABORTED"


@pytest.mark.asyncio
async def test_callers_needing_a_token_at_once_share_one_token_request(held, held_admin):
    before = held_admin.tokens.issued
    async with ClientPool.current().client(CONN) as client:
        headers = await asyncio.gather(*(client.tokens.ametadata() for _ in range(50)))

    assert held_admin.tokens.issued - before == 1
    assert len(set(headers)) == 1


@pytest.mark.asyncio
async def test_a_refused_token_is_replaced_once_for_all_waits(held, held_admin):
    names = hold(held, *(f"refused-token-{i}" for i in range(10)))
    tasks = waiting(names)
    await asyncio.sleep(1.5)
    before = held_admin.tokens.issued

    held_admin.tokens.expire_all()
    await asyncio.sleep(3)
    await asyncio.to_thread(stop, held, *names)
    events = await asyncio.wait_for(asyncio.gather(*tasks), 30)

    assert {e.state.phase for e in events} == {"ABORTED"}
    assert held_admin.tokens.issued - before == 1 + 1  # the watcher's, and the hook's for stop()


@pytest.mark.asyncio
async def test_waits_share_the_client_and_the_last_one_closes_it(held):
    names = hold(held, "shared-client-a", "shared-client-b")
    pool = ClientPool.current()
    async with pool.client(CONN) as first, pool.client(CONN) as second:
        assert first is second
    async with pool.client(CONN) as third:
        assert third is not first
    stop(held, *names)


@pytest.mark.asyncio
async def test_an_identity_provider_outage_is_waited_out_with_few_token_requests(held, held_admin):
    names = hold(held, *(f"idp-outage-{i}" for i in range(10)))
    held_admin.tokens.fail_next(4, status=503)
    before = held_admin.tokens.requests

    tasks = waiting(names)
    await asyncio.sleep(8)
    assert not any(task.done() for task in tasks)
    await asyncio.to_thread(stop, held, *names)
    events = await asyncio.wait_for(asyncio.gather(*tasks), 60)

    assert {e.state.phase for e in events} == {"ABORTED"}
    assert held_admin.tokens.requests - before <= 4 + 1 + 1  # refused ones, the watcher's, the hook's stop()
