"""Run names (deterministic, at most 30 characters, DNS-1035) and the flyte2 connection's fields."""

from __future__ import annotations

import base64
import re

import pytest

from airflow_provider_flyte.exceptions import FlyteConnectionError
from airflow_provider_flyte.flyte2.connection import Flyte2ConnectionConfig
from airflow_provider_flyte.flyte2.operator import BASE_NAME_LENGTH, RUN_NAME_MAX, validate_run_name
from airflow_provider_flyte.naming import attempt_name, execution_name

DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


@pytest.mark.parametrize(
    "dag_id,run_id,task_id,map_index",
    [
        ("dag", "run", "task", -1),
        ("My_DAG.with.dots", "manual__2026-01-01T00:00:00+00:00", "Train_Model", 3),
        ("d" * 250, "r" * 250, "t" * 250, 12345),
        ("___", "---", "...", -1),
    ],
)
def test_run_names_and_their_retries_fit_flyte_2s_rules(dag_id, run_id, task_id, map_index):
    base = execution_name(dag_id, run_id, task_id, map_index, max_length=BASE_NAME_LENGTH)

    for attempt in (1, 2, 99, 1000):
        name = attempt_name(base, attempt, max_length=RUN_NAME_MAX)
        assert len(name) <= RUN_NAME_MAX and DNS_1035.match(name), name


def test_retry_names_keep_the_whole_hash_of_the_first():
    base = execution_name("d" * 100, "run", "t" * 100, max_length=BASE_NAME_LENGTH)

    assert attempt_name(base, 42, max_length=RUN_NAME_MAX) == base + "-r42"


def test_long_ids_that_share_a_prefix_do_not_collide_in_short_names():
    a = execution_name("d" * 100, "run", "t" * 100 + "a", max_length=BASE_NAME_LENGTH)
    b = execution_name("d" * 100, "run", "t" * 100 + "b", max_length=BASE_NAME_LENGTH)

    assert a != b


@pytest.mark.parametrize("bad", ["Upper", "1digit", "ends-", "under_score", "a" * 31, ""])
def test_a_run_name_flyte_2_would_refuse_is_refused_before_anything_is_created(bad):
    with pytest.raises(ValueError, match="is not a valid Flyte 2 run name"):
        validate_run_name(bad)


def config(**parts) -> Flyte2ConnectionConfig:
    defaults = {"host": "localhost", "port": 30080, "login": None, "password": None, "extra": {}}
    return Flyte2ConnectionConfig.from_parts("c", **{**defaults, **parts})


def test_insecure_means_plaintext_http():
    assert config(extra={"insecure": "true"}).url == "http://localhost:30080"
    assert config().url == "https://localhost:30080"


def test_an_api_key_gives_the_endpoint_org_and_client_credentials():
    key = base64.b64encode(b"dns:///flyte.example.com:443:my-client:my-secret:acme").decode()

    c = config(host=None, port=None, password=key, extra={"auth_mode": "api_key"})

    assert (c.url, c.org, c.client_id, c.secret) == ("https://flyte.example.com:443", "acme", "my-client", "my-secret")


def test_a_malformed_api_key_is_refused_without_echoing_it():
    with pytest.raises(FlyteConnectionError, match="not base64") as raised:
        config(password="not a key!", extra={"auth_mode": "api_key"})

    assert "not a key!" not in str(raised.value)


def test_secrets_are_not_in_the_configs_repr():
    assert "tok3n" not in repr(config(password="tok3n", extra={"auth_mode": "bearer"}))


def test_an_unknown_auth_mode_is_refused_listing_the_known_ones():
    with pytest.raises(FlyteConnectionError, match=r"'auth_mode' must be one of \['none', 'bearer', 'client_credentials', 'api_key'\]"):
        config(extra={"auth_mode": "magic"})


def test_the_console_link_follows_the_flyte_2_console_layout():
    assert config(extra={"insecure": True}).run_url("p", "d", "r") == "http://localhost:30080/v2/domain/d/project/p/runs/r"
