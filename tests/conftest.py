"""Shared test fixtures: one SparkSession for the whole run, paths to fixtures and to ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test when the evaluation data is not beside the checkout."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available (../shared/data is only beside developer and CI checkouts)")
    return path


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from pipeline.spark.session import build_spark

    session = build_spark("llama3-curation-tests", master="local[2]",
                          conf={"spark.sql.shuffle.partitions": "4", "spark.default.parallelism": "2"})
    # Iterative stages cut their lineage with reliable checkpoints (files that survive an executor), never local ones.
    session.sparkContext.setCheckpointDir(str(tmp_path_factory.mktemp("spark-checkpoints")))
    yield session
    session.stop()


def output_rows(folder: Path) -> dict[str, dict]:
    """The rows of an output folder of the job (``documents/`` or ``rejected/``) by id, read with pyarrow; the
    ``signals`` and ``scores`` structs as dicts of the fields a row has (not null)."""
    import pyarrow.parquet as pq

    rows = {}
    for row in pq.read_table(folder).to_pylist():
        for column in ("signals", "scores"):
            row[column] = {k: v for k, v in (row[column] or {}).items() if v is not None}
        rows[row["id"]] = row
    return rows


@pytest.fixture(scope="session")
def sample_output(spark, tmp_path_factory):
    """The job run once, in process, on the shipped sample shards: (stats, documents by id, rejected by id, the
    output folder). Shared by the tests of the job's outcomes and of its output files."""
    from pipeline.config import CurateConfig
    from pipeline.spark.curate import run_curation

    out = tmp_path_factory.mktemp("sample_run")
    config = CurateConfig().updated({"io": {"input": str(REPO / "sample_data" / "shards" / "*.warc.gz"),
                                            "output": str(out)}})
    stats = run_curation(spark, config, log=lambda line: None)
    return stats, output_rows(out / "documents"), output_rows(out / "rejected"), out
