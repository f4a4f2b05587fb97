"""The data an execution read and wrote, found in its typed values.

Flyte types files, directories and structured datasets: their literals carry a URI (and, for a
structured dataset, its columns when the task declared them). That is what lineage can name; a
plain value (an int, a dataclass) is not a dataset and is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class DataRef:
    """One file, directory or structured dataset in an execution's inputs or outputs."""

    variable: str  # "model", "shards[2]", "by_name[train]"
    uri: str
    kind: str  # "file", "directory" or "structured_dataset"
    columns: tuple[tuple[str, str], ...] = ()  # (name, Flyte type), for a structured dataset
    file_format: str = ""


def data_refs(literal_map: Any) -> list[DataRef]:
    """Every URI-carrying value in a flyteidl ``LiteralMap``, nested collections and maps included."""
    found: list[DataRef] = []
    for name, literal in sorted(literal_map.literals.items()):
        _walk(name, literal, found)
    return found


def _walk(variable: str, literal: Any, found: list[DataRef]) -> None:
    which = literal.WhichOneof("value")
    if which == "collection":
        for index, item in enumerate(literal.collection.literals):
            _walk(f"{variable}[{index}]", item, found)
    elif which == "map":
        for key, item in sorted(literal.map.literals.items()):
            _walk(f"{variable}[{key}]", item, found)
    elif which == "scalar":
        scalar = literal.scalar
        kind = scalar.WhichOneof("value")
        if kind == "blob" and scalar.blob.uri:
            multipart = scalar.blob.metadata.type.dimensionality == 1  # BlobType.MULTIPART
            found.append(
                DataRef(variable, scalar.blob.uri, "directory" if multipart else "file",
                        file_format=scalar.blob.metadata.type.format)
            )
        elif kind == "structured_dataset" and scalar.structured_dataset.uri:
            sd_type = scalar.structured_dataset.metadata.structured_dataset_type
            columns = tuple((c.name, _type_name(c.literal_type)) for c in sd_type.columns)
            found.append(DataRef(variable, scalar.structured_dataset.uri, "structured_dataset", columns, sd_type.format))
        elif kind == "union":
            _walk(variable, scalar.union.value, found)


def _type_name(literal_type: Any) -> str:
    from airflow_provider_flyte.hooks.literals import describe_type

    return describe_type(literal_type)


def openlineage_name(uri: str) -> tuple[str, str]:
    """(namespace, name) of a storage URI, as the OpenLineage naming spec gives them.

    ``s3://bucket/key`` → (``s3://bucket``, ``key``); likewise ``gs``, ``gcs``, ``s3a``, ``abfs``,
    ``abfss`` (``container@account.dfs.core.windows.net`` is the authority), ``wasbs``;
    ``file:///path`` or a bare ``/path`` → (``file``, ``/path``); any other scheme →
    (``scheme://authority``, ``path``).
    """
    parts = urlsplit(uri)
    if parts.scheme in ("", "file"):
        return "file", parts.path or uri
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")
