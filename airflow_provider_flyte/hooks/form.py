"""The connection form for Airflow 3.0 and 3.1, built from provider info's declaration.

Airflow 3.2+ reads ``conn-fields`` / ``ui-field-behaviour`` from provider info and never calls
these. 3.0 and 3.1 ignore that declaration and ask the hook instead, for WTForms fields (which
their API server swaps for stand-ins when rendering the React form). One declaration serves both:
the fields below are made from ``CONN_FIELDS``, not written twice. 3.0/3.1 know four field
classes, so a ``number`` is a text field (the connection parser reads numbers from text).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flyte.provider_info import CONN_FIELDS, FIELD_BEHAVIOUR


def connection_form_widgets(fields: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """WTForms fields for ``fields`` (default: the ``flyte`` connection's; the ``flyte2`` hook
    passes its own)."""
    from wtforms import BooleanField, IntegerField, StringField
    from wtforms.validators import Optional, any_of

    classes = {"string": StringField, "number": StringField, "integer": IntegerField, "boolean": BooleanField}
    widgets: dict[str, Any] = {}
    for name, field in (CONN_FIELDS if fields is None else fields).items():
        schema = field["schema"]
        validators = [Optional()] + ([any_of(schema["enum"])] if "enum" in schema else [])
        widgets[name] = classes[schema["type"][0]](
            field["label"], validators=validators, description=field["description"], default=schema.get("default")
        )
    return widgets


def ui_field_behaviour(behaviour: dict[str, Any] | None = None) -> dict[str, Any]:
    return {key.replace("-", "_"): value for key, value in (FIELD_BEHAVIOUR if behaviour is None else behaviour).items()}
