"""The output of a run as its users read it: ``documents/`` and ``rejected/`` load in pyarrow, pandas, Spark,
DuckDB and Hugging Face ``datasets`` (map-like columns included), every file carries its language, timestamps are
UTC, rejected documents keep their text and signals, and ``config.toml`` reproduces the run's config."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import FIXTURES, output_rows

from pipeline.config import CurateConfig


def test_every_reader_loads_the_documents(spark, sample_output):
    stats, documents, _, out = sample_output
    table = pq.read_table(out / "documents")
    assert table.num_rows == stats.kept == len(documents)
    assert table.schema.field("fetch_time").type == pa.timestamp("us", tz="UTC")
    assert pa.types.is_struct(table.schema.field("signals").type)
    frame = table.to_pandas()
    assert frame["language"].value_counts()["de"] == stats.languages["de"]["kept"]
    assert str(frame["fetch_time"].dt.tz) == "UTC"
    rows = spark.read.parquet(str(out / "documents")).where("language = 'en'").collect()
    assert len(rows) == stats.languages["en"]["kept"] and all(row["signals"]["tokens"] > 0 for row in rows)
    duckdb = pytest.importorskip("duckdb")
    per_language = dict(duckdb.sql(
        f"select language, count(*) from read_parquet('{out}/documents/**/*.parquet', hive_partitioning = true) "
        "where signals.tokens > 0 group by language").fetchall())
    assert per_language == {language: entry["kept"] for language, entry in stats.languages.items() if entry["kept"]}
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset("parquet", data_files=f"{out}/documents/**/*.parquet", split="train")
    assert loaded.num_rows == stats.kept and loaded[0]["signals"]["tokens"] > 0 and loaded[0]["language"]


def test_each_file_carries_its_language(sample_output):
    _, _, _, out = sample_output
    files = sorted((out / "documents").glob("language=*/*.parquet"))
    assert len({f.parent.name for f in files}) > 15
    for path in files:
        languages = set(pq.read_table(path).column("language").to_pylist())
        assert languages == {path.parent.name.split("=", 1)[1]}, path


def test_rejected_documents_keep_text_and_signals(sample_output):
    _, _, rejected, _ = sample_output
    by_stage: dict[str, list[dict]] = {}
    for row in rejected.values():
        by_stage.setdefault(row["stage"], []).append(row)
    for stage in ("read", "safety", "url_dedup"):  # before extraction there is no document
        assert all(row["text"] is None and not row["signals"] for row in by_stage[stage]), stage
    for stage in ("minhash_dedup", "heuristics"):
        assert all(row["text"] and row["signals"]["tokens"] > 0 for row in by_stage[stage]), stage
    # every signal of the steps until the one that dropped it, so its threshold can be loosened from the output
    gopher = [row for row in by_stage["heuristics"] if row["reason"].endswith("_fraction")]
    assert gopher and all(row["signals"]["gopher_dup_line_frac"] >= 0 for row in gopher)
    repeated = [row for row in by_stage["heuristics"] if row["reason"] == "mostly_repeated_content"]
    assert repeated and all(row["signals"]["repeated_content_removed_fraction"] > 0.5 for row in repeated)


def test_config_and_versions_are_saved(sample_output, tmp_path):
    stats, _, _, out = sample_output
    saved = CurateConfig.from_toml(out / "config.toml")
    assert saved.io.output == str(out) and saved == CurateConfig().updated({"io": {"input": saved.io.input,
                                                                                   "output": saved.io.output}})
    text = (out / "config.toml").read_text()
    assert "# trafilatura: " in text and "# lid.176: sha256:" in text
    assert stats.versions["llama3-curation"] and stats.versions["pyspark"]


def test_rejected_rows_are_left_out_when_asked(spark, tmp_path):
    """``--io.write-rejected false``: no ``rejected/`` file at all (neither records dropped before extraction nor
    documents dropped after it), while the kept documents and the accounting are as usual."""
    from pipeline.spark.curate import run_curation

    config = CurateConfig().updated({"io": {"input": str(FIXTURES / "warc" / "warcfile.warc.gz"),
                                            "output": str(tmp_path), "write_rejected": False}})
    stats = run_curation(spark, config, log=lambda line: None)
    assert stats.balanced and stats.kept > 0 and stats.records_read > stats.kept
    assert len(output_rows(tmp_path / "documents")) == stats.kept
    assert not list((tmp_path / "rejected").rglob("*.parquet"))
