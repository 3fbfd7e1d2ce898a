"""The standalone dedup job (``jobs/dedup.py``): MinHash near-duplicate removal, and optionally line dedup, over
documents read from JSONL or Parquet, with the stages the curation job uses."""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline.config import CurateConfig
from pipeline.spark.dedup_stages import line_dedup_stage, minhash_removals
from pipeline.spark.schema import EXTRACTED_SCHEMA


class InputError(ValueError):
    """The input cannot be de-duplicated as given (missing columns, repeated ids, no files)."""


def read_documents(spark: SparkSession, paths: str, input_format: str | None = None) -> DataFrame:
    """Documents with the pipeline's columns: ``id``, ``text`` required; ``lang`` is read as ``language``."""
    files = [p.strip() for p in paths.split(",") if p.strip()]
    fmt = input_format or ("parquet" if all(".parquet" in p or p.endswith("/") for p in files) else "jsonl")
    try:
        raw = spark.read.parquet(*files) if fmt == "parquet" else spark.read.json(files)
    except Exception as exc:  # noqa: BLE001 - Spark's AnalysisException for a missing path, among others
        raise InputError(f"cannot read {paths!r} as {fmt}: {str(exc).splitlines()[0]}") from exc
    if "lang" in raw.columns and "language" not in raw.columns:
        raw = raw.withColumnRenamed("lang", "language")
    missing = {"id", "text"} - set(raw.columns)
    if missing:
        raise InputError(f"input lacks column(s) {sorted(missing)}; it has {raw.columns}")
    docs = raw.withColumn("id", F.col("id").cast("string")).withColumn("source_file", F.input_file_name())
    docs = docs.withColumn("source_record", F.lit(0))
    for field in EXTRACTED_SCHEMA.fields:
        if field.name not in docs.columns:
            docs = docs.withColumn(field.name, F.lit(None).cast(field.dataType))
        elif field.name == "fetch_time":
            docs = docs.withColumn("fetch_time", F.to_timestamp("fetch_time"))
    docs = docs.withColumn("signals", F.coalesce("signals", F.create_map().cast("map<string,double>")))
    return docs.select(*EXTRACTED_SCHEMA.names)


def run_dedup(spark: SparkSession, inputs: str, output: str, config: CurateConfig, input_format: str | None = None,
              output_format: str = "parquet", line_dedup: bool = False) -> str:
    """Write every input id with its cluster and verdict to ``output``; returns a one-line summary."""
    docs = read_documents(spark, inputs, input_format).persist(StorageLevel.MEMORY_AND_DISK)
    repeated = docs.groupBy("id").count().where(F.col("count") > 1).limit(5).collect()
    if repeated:
        raise InputError(f"ids must be unique; repeated: {[r['id'] for r in repeated]}")
    removals = minhash_removals(docs, config.minhash)
    # a kept document's cluster is the one of the documents removed for it
    kept_clusters = removals.select(F.col("kept_id").alias("id"), F.col("cluster").alias("kept_cluster")).distinct()
    verdict = docs.join(removals, "id", "left").join(kept_clusters, "id", "left").select(
        "id", "text", *(c for c in EXTRACTED_SCHEMA.names if c not in ("id", "text")),
        F.coalesce("cluster", "kept_cluster", "id").alias("cluster_id"),
        F.coalesce("kept_id", "id").alias("kept_id"), "similarity",
    ).withColumn("reason", F.when(F.col("kept_id") != F.col("id"), F.lit("minhash_duplicate")))
    columns = ["id", "cluster_id", "kept_id", "reason", "similarity"]
    if line_dedup:
        survivors = verdict.where(F.col("reason").isNull()).select(*EXTRACTED_SCHEMA.names)
        trimmed = line_dedup_stage(survivors, config.line_dedup, config.spark.rows_per_batch).select(
            "id", F.col("text").alias("trimmed_text"), F.col("reason").alias("line_reason"),
            F.col("signals")["line_dedup_removed_lines"].cast("int").alias("lines_removed"))
        verdict = verdict.join(trimmed, "id", "left").withColumns({
            "reason": F.coalesce("reason", "line_reason"),
            "text": F.when(F.col("trimmed_text").isNotNull(), F.col("trimmed_text")).otherwise(F.col("text")),
        })
        columns += ["text", "lines_removed"]
    result = verdict.withColumn("kept", F.col("reason").isNull()).select(*columns[:3], "kept", *columns[3:])
    result = result.persist(StorageLevel.MEMORY_AND_DISK)
    if output_format == "jsonl":
        result.write.mode("overwrite").json(output)
    else:
        result.write.mode("overwrite").parquet(output)
    counts = {r["kept"]: r["count"] for r in result.groupBy("kept").count().collect()}
    result.unpersist()
    docs.unpersist()
    total = sum(counts.values())
    return f"dedup: {total:,} documents -> {counts.get(True, 0):,} kept, {counts.get(False, 0):,} removed ({output})"
