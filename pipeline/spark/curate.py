"""The curation job: read -> safety -> url_dedup -> extract -> language_id -> pii -> minhash_dedup -> line_dedup ->
quality -> heuristics -> token_kl -> write, with accounting.

Each stage's result is checkpointed locally (kept on the executors, memory and disk, with its lineage cut so the
plans of later stages stay small) and counted before the next starts, which gives a progress line with exact
numbers per stage. Until extraction the persisted rows are the small record index (no page bodies); extraction
output (text) is persisted once and written from there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline.config import CurateConfig
from pipeline.filters.url_safety import UrlSafetyFilter
from pipeline.inputs import expand_inputs
from pipeline.spark import stages
from pipeline.spark.dedup_stages import line_dedup_stage, minhash_stage
from pipeline.spark.heuristic_stages import heuristics_stage, pii_stage, token_kl_stage
from pipeline.spark.language_stage import language_stage
from pipeline.spark.quality_stage import quality_stage
from pipeline.spark.schema import DOCUMENT_SCHEMA, REJECTED_COLUMNS, STAGES, TRIM_SIGNALS
from pipeline.stats import RunStats, build_stats, format_stage_line, format_summary, language_table


def _ledger(df: DataFrame, payload_col: str, text_col: str | None) -> DataFrame:
    """(stage, reason, records, payload bytes, text bytes, bytes trimmed by each of TRIM_SIGNALS' stages)
    aggregated: the input of the statistics."""
    text_bytes = F.sum(F.octet_length(text_col)) if text_col else F.lit(0)
    return df.groupBy("stage", "reason").agg(
        F.count(F.lit(1)).alias("records"),
        F.coalesce(F.sum(payload_col), F.lit(0)).alias("payload_bytes"),
        F.coalesce(text_bytes, F.lit(0)).alias("text_bytes"),
        *[F.coalesce(F.sum(F.col("signals")[signal]) if text_col else F.lit(0), F.lit(0)).cast("long")
          .alias(f"trimmed_{stage}") for stage, signal in TRIM_SIGNALS.items()],
    )


def _index_ledgers(index: DataFrame) -> list[DataFrame]:
    return [_ledger(index, "payload_bytes", None)]


class CurationRun:
    """One run of the job over ``config``; ``run()`` returns the statistics (also written as stats.json)."""

    def __init__(self, spark: SparkSession, config: CurateConfig, log: Callable[[str], None] = print):
        self.spark, self.config, self.log = spark, config, log
        self.seconds: dict[str, float] = {}

    def _materialise(self, name: str, df: DataFrame, started: float,
                     ledgers: Callable[[DataFrame], list[DataFrame]]) -> tuple[DataFrame, list[tuple]]:
        """Checkpoint ``df``, computing it and the statistics so far (``ledgers(df)``) in one Spark job, and print
        the stage's progress line. Returns the checkpointed frame and the ledger rows."""
        df = df.localCheckpoint(eager=False)
        rows = [tuple(r) for ledger in ledgers(df) for r in ledger.collect()]
        self.seconds[name] = time.perf_counter() - started
        stats = build_stats(rows, STAGES, trim_stages=tuple(TRIM_SIGNALS), seconds=self.seconds)
        index = STAGES.index(name)
        self.log(format_stage_line(index + 1, len(STAGES), stats.stages[index]))
        return df, rows

    def run(self) -> RunStats:
        cfg = self.config
        paths = expand_inputs(cfg.io.input, cfg.io.input_prefix)
        self.log(f"curate: {len(paths)} WARC file(s) -> {cfg.io.output}")
        safety = self.spark.sparkContext.broadcast(UrlSafetyFilter.from_config(cfg.safety))
        try:
            return self._run(paths, safety)
        finally:
            safety.unpersist()

    def _run(self, paths: list[str], safety) -> RunStats:
        cfg = self.config
        t = time.perf_counter()
        index, rows = self._materialise("read", stages.read_stage(self.spark, paths, cfg), t, _index_ledgers)
        t = time.perf_counter()
        index, rows = self._materialise("safety", stages.safety_stage(index, safety, cfg), t, _index_ledgers)
        if cfg.url_dedup.enabled:
            t = time.perf_counter()
            index, rows = self._materialise("url_dedup", stages.url_dedup_stage(index), t, _index_ledgers)
        survivors = sum(records for stage, _reason, records, *_ in rows if stage is None)
        index_ledger = _ledger(stages.rejected(index), "payload_bytes", None)

        def all_ledgers(extracted: DataFrame) -> list[DataFrame]:
            return [index_ledger, _ledger(extracted, "html_bytes", "text")]

        t = time.perf_counter()
        extracted, rows = self._materialise("extract", stages.extract_stage(index, cfg, survivors), t, all_ledgers)
        rows_per_batch = cfg.spark.rows_per_batch
        document_stages = [
            ("language_id", cfg.language_id.enabled,
             lambda docs: language_stage(docs, cfg.language_id, rows_per_batch)),
            ("pii", bool(cfg.pii.kinds), lambda docs: pii_stage(docs, cfg.pii, rows_per_batch)),
            ("minhash_dedup", cfg.minhash.enabled, lambda docs: minhash_stage(docs, cfg.minhash)),
            ("line_dedup", cfg.line_dedup.enabled,
             lambda docs: line_dedup_stage(docs, cfg.line_dedup, rows_per_batch)),
            ("quality", cfg.quality.enabled, lambda docs: quality_stage(docs, cfg, rows_per_batch)),
            ("heuristics", True, lambda docs: heuristics_stage(docs, cfg, rows_per_batch)),
            ("token_kl", cfg.token_kl.enabled, lambda docs: token_kl_stage(docs, cfg, rows_per_batch)),
        ]
        for name, enabled, stage in document_stages:
            if enabled:
                t = time.perf_counter()
                extracted, rows = self._materialise(
                    name, stages.rejected(extracted).unionByName(stage(stages.pending(extracted))), t, all_ledgers
                )

        t = time.perf_counter()
        self._write(index, extracted)
        self.seconds["write"] = time.perf_counter() - t
        problems = [
            r.asDict() for r in index.where(F.col("reason") == "read_error")
            .select("source_file", "source_record", "detail").orderBy("source_file").limit(1000).collect()
        ]
        stats = build_stats(rows, STAGES, trim_stages=tuple(TRIM_SIGNALS), seconds=self.seconds,
                            input_files=len(paths), input_problems=problems)
        if cfg.language_id.enabled:
            stats.languages = language_table(
                tuple(r) for r in extracted.where(F.col("language").isNotNull())
                .groupBy("language", "stage").agg(F.count(F.lit(1)), F.sum(F.col("signals")["tokens"])).collect()
            )
        self._write_json(stats)
        self.log(f"[write] documents, rejected records and stats.json in {self.seconds['write']:.1f}s")
        self.log(format_summary(stats))
        return stats

    def _write(self, index: DataFrame, extracted: DataFrame) -> None:
        out, files = self.config.io.output.rstrip("/"), self.config.spark.output_files
        mode = "overwrite" if self.config.io.overwrite else "errorifexists"
        documents = stages.pending(extracted).select(*DOCUMENT_SCHEMA.names)
        if files:
            documents = documents.coalesce(files)
        documents.write.mode(mode).partitionBy("language").parquet(f"{out}/documents")
        if self.config.io.write_rejected:
            dropped = stages.rejected(index).select(*REJECTED_COLUMNS).unionByName(
                stages.rejected(extracted).select(*REJECTED_COLUMNS)
            )
            if files:
                dropped = dropped.coalesce(files)
            dropped.write.mode(mode).parquet(f"{out}/rejected")

    def _write_json(self, stats: RunStats) -> None:
        import fsspec

        with fsspec.open(f"{self.config.io.output.rstrip('/')}/stats.json", "w", auto_mkdir=True) as fh:
            json.dump(stats.to_dict(), fh, indent=2, default=str)


def run_curation(spark: SparkSession, config: CurateConfig, log: Callable[[str], None] = print) -> RunStats:
    return CurationRun(spark, config, log).run()
