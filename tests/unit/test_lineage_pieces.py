"""The pure pieces of lineage: naming storage as OpenLineage does, finding data in typed values,
and the ``flyte://`` asset scheme."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from airflow_provider_flyte.lineage.assets import outlet_extra, sanitize_uri
from airflow_provider_flyte.lineage.datasets import DataRef, data_refs, openlineage_name
from airflow_provider_flyte.phases import ExecutionState


@pytest.mark.parametrize(
    "uri,expected",
    [
        ("s3://lake/raw/iris.csv", ("s3://lake", "raw/iris.csv")),
        ("gs://bucket/a/b.parquet", ("gs://bucket", "a/b.parquet")),
        ("abfss://data@acct.dfs.core.windows.net/x/y", ("abfss://data@acct.dfs.core.windows.net", "x/y")),
        ("file:///tmp/flyte/out.csv", ("file", "/tmp/flyte/out.csv")),
        ("/tmp/flyte/out.csv", ("file", "/tmp/flyte/out.csv")),
    ],
)
def test_storage_uris_are_named_as_the_openlineage_naming_spec_says(uri, expected):
    assert openlineage_name(uri) == expected


def _blob(uri: str, multipart: bool = False):
    from flyteidl.core import literals_pb2, types_pb2

    dimensionality = types_pb2.BlobType.MULTIPART if multipart else types_pb2.BlobType.SINGLE
    blob = literals_pb2.Blob(uri=uri, metadata=literals_pb2.BlobMetadata(type=types_pb2.BlobType(dimensionality=dimensionality)))
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=blob))


def test_files_directories_and_datasets_are_found_in_nested_values_and_plain_values_are_not():
    from flyteidl.core import literals_pb2, types_pb2

    column = types_pb2.StructuredDatasetType.DatasetColumn(name="score", literal_type=types_pb2.LiteralType(simple=types_pb2.FLOAT))
    dataset = literals_pb2.StructuredDataset(
        uri="s3://lake/scores.parquet",
        metadata=literals_pb2.StructuredDatasetMetadata(
            structured_dataset_type=types_pb2.StructuredDatasetType(columns=[column], format="parquet")
        ),
    )
    values = literals_pb2.LiteralMap(
        literals={
            "n": literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=3))),
            "shards": literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=[_blob("s3://a/0"), _blob("s3://a/1")])),
            "model": _blob("s3://models/knn/", multipart=True),
            "scores": literals_pb2.Literal(scalar=literals_pb2.Scalar(structured_dataset=dataset)),
        }
    )

    assert data_refs(values) == [
        DataRef("model", "s3://models/knn/", "directory"),
        DataRef("scores", "s3://lake/scores.parquet", "structured_dataset", (("score", "float"),), "parquet"),
        DataRef("shards[0]", "s3://a/0", "file"),
        DataRef("shards[1]", "s3://a/1", "file"),
    ]


def test_a_flyte_asset_uri_names_project_domain_and_entity():
    assert sanitize_uri(urlsplit("flyte://flytesnacks/development/my_pkg.wf.train/")).geturl() == (
        "flyte://flytesnacks/development/my_pkg.wf.train"
    )


@pytest.mark.parametrize(
    "uri", ["flyte://flytesnacks/development", "flyte:///development/lp", "flyte://p/d/lp/extra", "flyte://p/d/bad name"]
)
def test_a_flyte_asset_uri_that_names_no_entity_is_refused_saying_what_is_expected(uri):
    with pytest.raises(ValueError, match="flyte://"):
        sanitize_uri(urlsplit(uri))


def test_the_asset_event_extra_names_the_execution_and_carries_the_chosen_outputs():
    state = ExecutionState("p", "d", "af-x", "SUCCEEDED", url="http://console/af-x")

    assert outlet_extra(state, {"model": "s3://m/1"}) == {
        "flyte_execution": "af-x",
        "flyte_project": "p",
        "flyte_domain": "d",
        "flyte_phase": "SUCCEEDED",
        "flyte_console_url": "http://console/af-x",
        "outputs": {"model": "s3://m/1"},
    }
