"""The token endpoint as a real identity provider can be: every request counted, refusing on
demand (503, 429), down for a while, or slow and answering one request at a time."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from airflow_provider_flyte.local_admin import ClientSecretAuth, LocalFlyteAdmin

CLIENT_ID = "airflow"
CLIENT_SECRET = "s3cret"
LATENCY = 0.2


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalFlyteAdmin]:
    with LocalFlyteAdmin(port=0, parallelism=0, auth=ClientSecretAuth(CLIENT_ID, CLIENT_SECRET)) as admin:
        yield admin


@pytest.fixture(scope="module")
def slow_idp() -> Iterator[LocalFlyteAdmin]:
    auth = ClientSecretAuth(CLIENT_ID, CLIENT_SECRET, token_latency=LATENCY)
    with LocalFlyteAdmin(port=0, parallelism=0, auth=auth) as admin:
        yield admin


@pytest.fixture(autouse=True)
def no_leftover_faults(request) -> Iterator[None]:
    yield
    for name in ("idp", "slow_idp"):
        if name in request.fixturenames:
            admin = request.getfixturevalue(name)
            admin.tokens.outage(0)
            for _ in range(10):  # uses up any refusal a failed test left queued
                if _status(admin) == 200:
                    break


def _post(admin: LocalFlyteAdmin, secret: str = CLIENT_SECRET) -> tuple[int, dict]:
    basic = base64.b64encode(f"{CLIENT_ID}:{urllib.parse.quote_plus(secret)}".encode()).decode()
    request = urllib.request.Request(
        admin.token_endpoint,
        data=b"grant_type=client_credentials&scope=all",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _status(admin: LocalFlyteAdmin, secret: str = CLIENT_SECRET) -> int:
    return _post(admin, secret)[0]


def test_every_token_request_is_counted_answered_or_refused(idp):
    before_requests, before_issued = idp.tokens.requests, idp.tokens.issued
    idp.tokens.fail_next(1)
    statuses = [_status(idp), _status(idp, secret="wrong"), _status(idp)]
    assert statuses == [503, 401, 200]
    assert idp.tokens.requests - before_requests == 3
    assert idp.tokens.issued - before_issued == 1


def test_fail_next_answers_the_next_n_token_requests_with_503(idp):
    idp.tokens.fail_next(2)
    assert [_status(idp) for _ in range(3)] == [503, 503, 200]


def test_fail_next_answers_with_the_status_given_such_as_429(idp):
    idp.tokens.fail_next(1, status=429)
    status, body = _post(idp)
    assert status == 429 and body["error"] == "temporarily_unavailable"
    assert _status(idp) == 200


def test_refused_token_requests_issue_no_token(idp):
    before = idp.tokens.issued
    idp.tokens.fail_next(3, status=500)
    assert [_status(idp) for _ in range(3)] == [500, 500, 500]
    assert idp.tokens.issued == before


def test_an_injected_refusal_comes_before_the_credentials_are_checked(idp):
    idp.tokens.fail_next(1)
    assert _status(idp, secret="wrong") == 503
    assert _status(idp, secret="wrong") == 401


def test_fail_next_only_takes_http_error_statuses(idp):
    with pytest.raises(ValueError):
        idp.tokens.fail_next(1, status=200)


def test_an_outage_answers_503_to_every_token_request_until_it_ends(idp):
    idp.tokens.outage(0.5)
    assert [_status(idp) for _ in range(3)] == [503, 503, 503]
    time.sleep(0.6)
    assert _status(idp) == 200


def test_an_outage_of_zero_seconds_ends_an_outage_at_once(idp):
    idp.tokens.outage(60)
    assert _status(idp) == 503
    idp.tokens.outage(0)
    assert _status(idp) == 200


def test_a_slow_idp_takes_its_latency_to_answer_a_token_request(slow_idp):
    started = time.monotonic()
    assert _status(slow_idp) == 200
    assert time.monotonic() - started >= LATENCY


def test_a_slow_idp_answers_one_token_request_at_a_time(slow_idp):
    finished: list[float] = []
    lock = threading.Lock()

    def ask() -> None:
        assert _status(slow_idp) == 200
        with lock:
            finished.append(time.monotonic())

    started = time.monotonic()
    callers = [threading.Thread(target=ask) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=30)
    assert len(finished) == 4
    assert max(finished) - started >= 4 * LATENCY
    gaps = [later - earlier for earlier, later in zip(sorted(finished), sorted(finished)[1:], strict=False)]
    assert min(gaps) >= LATENCY * 0.9


def test_a_slow_idp_refuses_injected_failures_at_once(slow_idp):
    slow_idp.tokens.fail_next(1, status=429)
    started = time.monotonic()
    assert _status(slow_idp) == 429
    assert time.monotonic() - started < LATENCY


def test_token_latency_cannot_be_negative():
    with pytest.raises(ValueError):
        ClientSecretAuth(CLIENT_ID, CLIENT_SECRET, token_latency=-1)
