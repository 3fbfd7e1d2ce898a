"""Spark wiring of document-level (MinHash) and line-level de-duplication (Llama 3 §3.1.1).

Both work on documents with a verdict (``EXTRACTED_SCHEMA``: the document columns plus stage/reason/detail) and
return the same shape, so they chain after extraction and in the standalone ``jobs/dedup.py``. Everything that
grows with the data (line hashes, band keys, candidate edges) is shuffled and aggregated, never collected; the
driver only sees per-group document counts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.dedup.line_dedup import LineDedupConfig, bucket_count, bucket_of, document_line_hashes, remove_lines
from pipeline.filters.rejection import Rejection
from pipeline.spark.schema import EXTRACTED_SCHEMA
from pipeline.spark.stages import to_batches

LINE_SCHEMA = "group string, bucket int, line_hash long, id string"


def _group_column(group_by: str):
    return F.coalesce(F.col(group_by).cast("string"), F.lit("")) if group_by else F.lit("")


def line_dedup_stage(docs: DataFrame, config: LineDedupConfig, rows_per_batch: int = 256) -> DataFrame:
    """Remove, from every document, the lines found in more than ``max_documents_per_line`` documents of its
    bucket (per ``group_by`` value). Documents left shorter than ``min_chars_after`` are rejected; the others
    record ``line_dedup_removed_lines`` and ``line_dedup_removed_bytes`` in ``signals``."""
    grouped = docs.withColumn("_group", _group_column(config.group_by))
    # One row per group (a language, or one global row): the only thing the driver collects.
    buckets = {r["_group"]: bucket_count(r["count"], config.bucket_size)
               for r in grouped.groupBy("_group").count().collect()}

    def explode(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = {"group": [], "bucket": [], "line_hash": [], "id": []}
            for doc_id, text, group in zip(*(batch.column(c).to_pylist() for c in ("id", "text", "_group")),
                                           strict=True):
                bucket = bucket_of(doc_id, buckets[group])
                for h in {h for h in document_line_hashes(text or "") if h is not None}:
                    out["group"].append(group)
                    out["bucket"].append(bucket)
                    out["line_hash"].append(h)
                    out["id"].append(doc_id)
            yield pa.RecordBatch.from_pydict(out, schema=_LINE_ARROW)

    # Recomputed for the count and for the join rather than cached: hashing lines is cheap next to a shuffle.
    lines = grouped.select("id", "text", "_group").mapInArrow(explode, LINE_SCHEMA)
    frequent = (lines.groupBy("group", "bucket", "line_hash").agg(F.count(F.lit(1)).alias("documents"))
                .where(F.col("documents") > config.max_documents_per_line).drop("documents"))
    removed = (lines.join(frequent, ["group", "bucket", "line_hash"])
               .groupBy("id").agg(F.collect_list("line_hash").alias("_removed")))
    min_chars = config.min_chars_after

    def apply(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        def rows():
            for batch in batches:
                for row in batch.to_pylist():
                    yield _trim(row, set(row.pop("_removed") or ()), min_chars)

        yield from to_batches(rows(), EXTRACTED_SCHEMA, rows_per_batch)

    return docs.join(removed, "id", "left").mapInArrow(apply, EXTRACTED_SCHEMA)


_LINE_ARROW = pa.schema([("group", pa.string()), ("bucket", pa.int32()), ("line_hash", pa.int64()),
                         ("id", pa.string())])


def _trim(row: dict, removed_hashes: set[int], min_chars: int) -> dict:
    signals = dict(row.get("signals") or {})
    text = row["text"] or ""
    new_text, removed = remove_lines(text, removed_hashes) if removed_hashes else (text, 0)
    signals["line_dedup_removed_lines"] = float(removed)
    signals["line_dedup_removed_bytes"] = float(len(text.encode("utf-8")) - len(new_text.encode("utf-8")))
    row["signals"], row["text"] = signals, new_text
    if len(new_text.strip()) < max(min_chars, 1):
        rejection = Rejection("empty_after_line_dedup" if not new_text.strip() else "too_short_after_line_dedup",
                              f"{removed} lines removed")
        row["stage"], row["reason"], row["detail"] = "line_dedup", *rejection
    return row
