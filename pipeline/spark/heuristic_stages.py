"""Spark wiring of the heuristic filters of Llama 3 §3.1.1 that need the whole corpus: token-distribution KL
divergence (a corpus distribution per language) and PII-heavy domains (PII volume per domain).

Per-document work runs in Python on Arrow batches; what is summed over documents (token counts per group, PII per
domain) is a Spark aggregation, and only per-group aggregates (one count vector per language, a few numbers per
group) reach the driver.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.config import CurateConfig, LanguageConfigs
from pipeline.filters.pii import PiiConfig, PiiDetector, is_pii_dense_document, is_pii_heavy_domain
from pipeline.filters.token_kl import (
    TokenKlConfig,
    bin_counts,
    kl_divergence,
    length_fit,
    outlier_threshold,
    token_bins,
)
from pipeline.heuristics import DocumentHeuristics
from pipeline.spark.schema import EXTRACTED_SCHEMA
from pipeline.spark.stages import to_batches


def _group_of(row: dict, group_by: str) -> str:
    return (row.get(group_by) if group_by else None) or ""


def _merge_sparse(a: tuple, b: tuple) -> tuple:
    """Sum of two sparse count vectors (bins, counts, judged documents)."""
    bins, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    return bins, np.bincount(inverse, weights=np.concatenate([a[1], b[1]])), a[2] + b[2]


def token_kl_stage(docs: DataFrame, config: CurateConfig, rows_per_batch: int = 256) -> DataFrame:
    """Signals ``token_kl`` (KL of the document's token distribution from its group's, nats), ``token_kl_excess``
    (above the group's length fit) and ``tokens`` (words of the current text); rejects ``token_kl_outlier`` above
    the group's threshold. See :mod:`pipeline.filters.token_kl` for the definitions."""
    group_by, buckets = config.token_kl.group_by, config.token_kl.buckets
    per_language = LanguageConfigs(config)

    def settings(group: str) -> TokenKlConfig:
        """A group's KL settings: its language's when grouped by language, else the global ones."""
        return per_language(group if group_by == "language" else None).token_kl

    def partition_counts(rows):
        """Per group present in the partition: its token counts (dense while counting: ``buckets`` floats per
        group) and documents long enough to be judged; sent on sparse, so rare languages cost little."""
        counts: dict[str, list] = {}
        for row in rows:
            group = _group_of(row.asDict(), group_by)
            bins = token_bins(row["text"] or "", row["language"], buckets)
            entry = counts.setdefault(group, [np.zeros(buckets), 0])
            entry[0] += bin_counts(bins, buckets)
            entry[1] += int(bins.size >= settings(group).min_tokens)
        for group, (dense, judged) in counts.items():
            nonzero = np.flatnonzero(dense)
            yield group, (nonzero, dense[nonzero], judged)

    columns = ["text", "language"] + ([group_by] if group_by and group_by != "language" else [])
    totals = docs.select(*columns).rdd.mapPartitions(partition_counts).reduceByKey(_merge_sparse).collect()
    # Only groups that will be judged get a distribution: bounded broadcast, whatever the number of languages.
    corpus = {}
    for group, (nonzero, values, judged) in totals:
        if judged >= settings(group).min_documents:
            dense = np.zeros(buckets)
            dense[nonzero] = values
            corpus[group] = (dense, float(values.sum()))
    shared = docs.sparkSession.sparkContext.broadcast(corpus)

    def measure(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        distributions = shared.value

        def rows():
            for batch in batches:
                for record in batch.to_pylist():
                    bins = token_bins(record["text"] or "", record["language"], buckets)
                    signals = dict(record.get("signals") or {})
                    signals["tokens"] = float(bins.size)
                    group = _group_of(record, group_by)
                    if group in distributions and bins.size:
                        counts, total = distributions[group]
                        signals["token_kl"] = kl_divergence(bins, counts, total, settings(group).alpha)
                    record["signals"] = signals
                    yield record

        yield from to_batches(rows(), EXTRACTED_SCHEMA, rows_per_batch)

    measured = docs.mapInArrow(measure, EXTRACTED_SCHEMA).localCheckpoint()
    shared.unpersist()
    return _reject_kl_outliers(measured, group_by, {group: settings(group) for group in corpus})


def _reject_kl_outliers(measured: DataFrame, group_by: str, settings: dict[str, TokenKlConfig]) -> DataFrame:
    """Fit KL ~ a + b ln(tokens) per group, fence the excess per group, reject above it (all in Spark SQL; only a
    few numbers per group reach the driver)."""
    group = F.coalesce(F.col(group_by), F.lit("")) if group_by else F.lit("")
    kl, tokens = F.col("signals")["token_kl"], F.col("signals")["tokens"]
    if not settings:
        return measured
    spark = measured.sparkSession
    limits = spark.createDataFrame([(g, float(s.min_tokens)) for g, s in settings.items()], "kl_group string, "
                                   "kl_min_tokens double")
    judged = (measured.withColumn("kl_group", group).join(F.broadcast(limits), "kl_group")
              .where(kl.isNotNull() & (tokens >= F.col("kl_min_tokens"))))
    x = F.log(tokens)
    sums = judged.groupBy("kl_group").agg(F.count(F.lit(1)), F.sum(x), F.sum(kl), F.sum(x * x), F.sum(x * kl))
    fits = {row[0]: length_fit(*map(float, row[1:])) for row in sums.collect()}
    fit_rows = spark.createDataFrame([(g, a, b) for g, (a, b) in fits.items()], "kl_group string, a double, b double")
    quartiles = (judged.join(F.broadcast(fit_rows), "kl_group")
                 .groupBy("kl_group").agg(F.percentile_approx(kl - (F.col("a") + F.col("b") * x),
                                                               [0.25, 0.75], 10_000)).collect())
    thresholds = [(g, *fits[g], outlier_threshold(q[0], q[1], settings[g]), float(settings[g].min_tokens))
                  for g, q in quartiles]
    fences = spark.createDataFrame(thresholds, "kl_group string, a double, b double, fence double, "
                                              "kl_min_tokens double")
    excess = kl - (F.col("a") + F.col("b") * F.log(tokens))
    with_fence = measured.withColumn("kl_group", group).join(F.broadcast(fences), "kl_group", "left")
    outlier = excess.isNotNull() & (tokens >= F.col("kl_min_tokens")) & (excess > F.col("fence"))
    signals = F.when(excess.isNotNull(), F.map_concat(
        F.col("signals"), F.create_map(F.lit("token_kl_excess"), excess))).otherwise(F.col("signals"))
    return with_fence.select(
        *[c for c in EXTRACTED_SCHEMA.names if c not in ("signals", "stage", "reason", "detail")],
        signals.alias("signals"),
        F.when(outlier, F.lit("token_kl")).alias("stage"),
        F.when(outlier, F.lit("token_kl_outlier")).alias("reason"),
        F.when(outlier, F.format_string("excess %.2f > %.2f nats", excess, F.col("fence"))).alias("detail"),
    )



def pii_stage(docs: DataFrame, config: PiiConfig, rows_per_batch: int = 256) -> DataFrame:
    """PII signals per document (``pii_count``, ``pii_<kind>``, ``pii_per_1k_words``, ``pii_dense``), the text
    redacted when ``config.redact``; then documents and PII-dense documents are counted per registered domain (a
    Spark aggregation) per host (or registered domain: ``per_host``), and every document of a PII-heavy one is
    rejected ``pii_heavy_domain``."""

    def detect(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        detector = PiiDetector(config)

        def rows():
            for batch in batches:
                for record in batch.to_pylist():
                    original = record["text"] or ""
                    signals = dict(record.get("signals") or {})
                    known = signals.get("tokens")  # words counted by the language stage, on this same text
                    text, found = detector.apply(original, record["language"], None if known is None else int(known))
                    found["pii_dense"] = float(is_pii_dense_document(found, config))
                    found["pii_redacted_bytes"] = float(len(original.encode()) - len(text.encode()))
                    record["text"], record["signals"] = text, {**signals, **found}
                    yield record

        yield from to_batches(rows(), EXTRACTED_SCHEMA, rows_per_batch)

    measured = docs.mapInArrow(detect, EXTRACTED_SCHEMA).localCheckpoint()
    if not config.remove_heavy_domains:
        return measured
    host = F.regexp_replace(F.col("host"), r"^www\.", "")
    site = F.coalesce(host, F.col("domain")) if config.per_host else F.coalesce(F.col("domain"), host)
    site = F.coalesce(site, F.lit(""))
    per_domain = measured.groupBy(site.alias("pii_site")).agg(
        F.count(F.lit(1)).cast("long").alias("documents"),
        F.sum(F.col("signals")["pii_dense"]).cast("long").alias("dense"),
    )

    def heavy(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = [r for r in batch.to_pylist() if is_pii_heavy_domain(r["documents"], r["dense"], config)]
            yield pa.RecordBatch.from_pylist(rows, schema=batch.schema)

    condemned = per_domain.where(F.col("dense") > 0).mapInArrow(heavy, per_domain.schema)
    joined = measured.join(condemned, site == F.col("pii_site"), "left")
    removed = F.col("pii_site").isNotNull()
    return joined.select(
        *[c for c in EXTRACTED_SCHEMA.names if c not in ("stage", "reason", "detail")],
        F.when(removed, F.lit("pii")).alias("stage"),
        F.when(removed, F.lit("pii_heavy_domain")).alias("reason"),
        F.when(removed, F.format_string("%s: %d of %d documents PII-dense", F.col("pii_site"), F.col("dense"),
                                        F.col("documents"))).alias("detail"),
    )


def heuristics_stage(docs: DataFrame, config: CurateConfig, rows_per_batch: int = 256) -> DataFrame:
    """Repeated-content lines removed, Gopher repetition and dirty-word signals recorded and judged, per document
    and per language (:class:`pipeline.heuristics.DocumentHeuristics`)."""
    heuristics = DocumentHeuristics(config)

    def judge(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows = (heuristics.apply(record) for batch in batches for record in batch.to_pylist())
        yield from to_batches(rows, EXTRACTED_SCHEMA, rows_per_batch)

    return docs.mapInArrow(judge, EXTRACTED_SCHEMA)
