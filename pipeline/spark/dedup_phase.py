"""The dedup phase: the corpus-wide decisions of Llama 3 §3.1.1 that no document can make alone, as Spark
aggregations over small columns of the extraction pass's output (never the page text):

1. ``pii_sites``: PII-dense documents counted per site; the sites where they are common (PII-heavy) are removed;
2. ``adult_sites``: dirty pages counted per site; the sites where they are common are adult sites (their pages
   are dropped at the heuristics' place in the filter pass);
3. ``minhash``: near duplicates among the rest, from the MinHash signatures (per language by default), each
   removed only for a kept document verified near duplicate to it;
4. ``lines``: lines found in more than 6 documents of a bucket, among the documents still kept.

Each step writes its result under ``_work/dedup/`` with a marker, so a crash redoes only the step it hit; the
decisions are then written per unit (``decisions/unit=<unit>/``), where the filter pass's task of that unit reads
them: no document is joined with its decision through a shuffle of its text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from pipeline.config import CurateConfig
from pipeline.heuristics.dirty_words import is_adult_site
from pipeline.passes import enabled
from pipeline.registry import EXTRACT
from pipeline.safety.pii import is_pii_heavy_domain
from pipeline.spark.dedup_stages import _group_column, line_removals, near_duplicate_removals
from pipeline.spark.unit_tasks import DEDUP, read_pass
from pipeline.spark.units import describe
from pipeline.spark.workdir import WorkDir


def site_column(per_host: bool):
    """The site a document counts for: its host without ``www.`` (or its registered domain)."""
    host = F.regexp_replace(F.col("host"), r"^www\.", "")
    site = F.coalesce(host, F.col("domain")) if per_host else F.coalesce(F.col("domain"), host)
    return F.coalesce(site, F.lit(""))


def condemned_sites(docs: DataFrame, per_host: bool, signal: str, condemned: Callable[[int, int], bool]
                    ) -> DataFrame:
    """``(site, documents, flagged)`` of every site that ``condemned(documents, flagged)`` removes, where
    ``flagged`` counts its documents whose ``signal`` is 1 (PII-dense pages, dirty pages): one row per site
    reaches Python, no document does."""
    per_site = docs.groupBy(site_column(per_host).alias("site")).agg(
        F.count(F.lit(1)).cast("long").alias("documents"),
        F.sum(F.coalesce(F.col("signals")[signal], F.lit(0.0))).cast("long").alias("flagged"),
    )

    def judge(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = [r for r in batch.to_pylist() if condemned(r["documents"], r["flagged"])]
            yield pa.RecordBatch.from_pylist(rows, schema=batch.schema)

    return per_site.where(F.col("flagged") > 0).mapInArrow(judge, per_site.schema)


class DedupPhase:
    """Runs the steps of the dedup phase that have no marker yet, then writes the per-unit decisions."""

    def __init__(self, spark: SparkSession, workdir: WorkDir, config: CurateConfig, log: Callable[[str], None]):
        self.spark, self.workdir, self.config, self.log = spark, workdir, config, log

    def _step(self, name: str, compute: Callable[[], DataFrame], partition_by: str | None = None) -> DataFrame:
        """The durable result of one step: computed and written once (its schema kept in its marker), read back
        from then on, so a rerun does not compute it again (iterative steps run Spark jobs while planning)."""
        path, marker = self.workdir.work(DEDUP, name), f"{DEDUP}-{name}"
        done = self.workdir.phase_done(marker)
        if done is None:
            describe(self.spark.sparkContext, DEDUP, name)
            result = compute()
            writer = result.write.mode("overwrite")
            (writer.partitionBy(partition_by) if partition_by else writer).parquet(path)
            done = {"schema": result.schema.json()}
            self.workdir.finish_phase(marker, done)
        return self.spark.read.schema(StructType.fromJson(json.loads(done["schema"]))).parquet(path)

    def _site_decisions(self, docs: DataFrame, name: str, per_host: bool, signal: str,
                        condemned: Callable[[int, int], bool], stage: str, reason: str, what: str
                        ) -> tuple[DataFrame, DataFrame]:
        """Decision rows for every document of a condemned site, and the documents of the other sites (broadcast
        joins: the site table is small)."""
        sites = F.broadcast(self._step(name, lambda: condemned_sites(docs, per_host, signal, condemned)))
        on_site = site_column(per_host) == sites["site"]
        decided = docs.join(sites, on_site).select(
            "id", "unit", F.lit(stage).alias("stage"), F.lit(reason).alias("reason"),
            F.format_string(f"%s: %d of %d documents {what}", "site", "flagged", "documents").alias("detail"),
            F.lit(None).cast("array<long>").alias("removed_lines"))
        return decided, docs.join(sites, on_site, "left_anti")

    def run(self) -> None:
        cfg = self.config
        docs = (read_pass(self.spark, self.workdir, EXTRACT).where(F.col("stage").isNull())
                .withColumn("unit", F.regexp_extract(F.input_file_name(), r"([^/]+)\.parquet$", 1)))
        decisions = []
        if cfg.pii.remove_heavy_domains:
            # PII-heavy sites go first (the paper's order): dedup runs on the rest.
            pii, docs = self._site_decisions(docs, "pii_sites", cfg.pii.per_host, "pii_dense",
                                             lambda n, dense: is_pii_heavy_domain(n, dense, cfg.pii),
                                             "pii", "pii_heavy_domain", "PII-dense")
            decisions.append(pii)
        if enabled(cfg, "dirty_words"):
            # An adult site is a heuristic verdict (after dedup in the paper's order), counted over the same pages.
            adult, _ = self._site_decisions(docs, "adult_sites", cfg.dirty_words.per_host, "dirty_page",
                                            lambda n, dirty: is_adult_site(n, dirty, cfg.dirty_words),
                                            "heuristics", "adult_site", "with dirty words")
            decisions.append(adult)
        kept = docs
        if enabled(cfg, "minhash"):
            signed = kept.where(F.col("minhash").isNotNull()).select(
                "id", _group_column(cfg.minhash.group_by).alias("group"), "fetch_time",
                F.col("minhash").alias("signature"))
            texts = kept.select("id", "text", "language")  # read only for the candidates that need exact Jaccard
            removed = self._step("minhash", lambda: near_duplicate_removals(signed, texts, cfg.minhash))
            decisions.append(removed.join(kept.select("id", "unit"), "id").select(
                "id", "unit", F.lit("minhash_dedup").alias("stage"), F.lit("minhash_duplicate").alias("reason"),
                F.col("kept_id").alias("detail"), F.lit(None).cast("array<long>").alias("removed_lines")))
            kept = kept.join(removed.select("id"), "id", "left_anti")
        if enabled(cfg, "line_dedup"):
            lines = self._step("lines", lambda: line_removals(kept, cfg.line_dedup))
            decisions.append(lines.join(kept.select("id", "unit"), "id").select(
                "id", "unit", *[F.lit(None).cast("string").alias(c) for c in ("stage", "reason", "detail")],
                "removed_lines"))
        empty = self.spark.createDataFrame([], "id string, unit string, stage string, reason string, "
                                               "detail string, removed_lines array<long>")
        union = empty
        for more in decisions:
            union = union.unionByName(more)
        self._step("decisions", lambda: union.repartition("unit"), partition_by="unit")
