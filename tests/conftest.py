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
