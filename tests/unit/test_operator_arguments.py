"""FlyteOperator arguments checked when the DAG is parsed."""

from __future__ import annotations

import pytest

from airflow_provider_flyte.operators.flyte import FlyteOperator


def test_default_deferrable_applies_only_to_operators_that_wait(monkeypatch):
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "true")

    fire_and_forget = FlyteOperator(task_id="a", launchplan_name="lp", wait_for_termination=False)
    waiting = FlyteOperator(task_id="b", launchplan_name="lp")

    assert fire_and_forget.deferrable is False and waiting.deferrable is True


def test_explicit_deferral_without_waiting_is_refused():
    with pytest.raises(ValueError, match="deferrable=True needs wait_for_termination=True"):
        FlyteOperator(task_id="x", launchplan_name="a", deferrable=True, wait_for_termination=False)


def test_an_oauth2_client_secret_must_be_a_secret_reference():
    from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2

    from airflow_provider_flyte.hooks.admin_messages import LaunchOptions, LaunchTarget, create_request

    target = LaunchTarget(identifier_pb2.Identifier(project="p", domain="d", name="n", version="v"),
                          interface_pb2.ParameterMap())
    with pytest.raises(ValueError, match="secret reference"):
        create_request(target, "n", literals_pb2.LiteralMap(),
                       LaunchOptions(oauth2_client={"client_id": "c", "client_secret": "plain-text"}))


@pytest.mark.parametrize(
    "notification",
    [
        {"phases": [4, 6], "email": {"recipients_email": ["ml@example.com"]}},  # airflow-provider-flyte 0.0.5
        {"phases": ["SUCCEEDED", "failed"], "email": ["ml@example.com"]},
    ],
)
def test_notifications_in_both_spellings_become_the_same_spec(notification):
    from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2

    from airflow_provider_flyte.hooks.admin_messages import LaunchOptions, LaunchTarget, create_request

    target = LaunchTarget(identifier_pb2.Identifier(project="p", domain="d", name="n", version="v"),
                          interface_pb2.ParameterMap())
    spec = create_request(target, "n", literals_pb2.LiteralMap(), LaunchOptions(notifications=[notification])).spec
    [note] = spec.notifications.notifications
    assert list(note.phases) == [4, 6] and list(note.email.recipients_email) == ["ml@example.com"]
    assert not note.HasField("slack")
