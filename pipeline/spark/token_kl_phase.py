"""The token_kl phase: each group's corpus token distribution and outlier threshold, as Spark aggregations over
the token bins the filter pass left on every kept document (Llama 3 §3.1.1, "token-distribution Kullback-Leibler
divergence"; definitions in :mod:`pipeline.heuristics.token_kl`).

1. which groups (languages) have ``min_documents`` documents of ``min_tokens`` tokens: only they are judged;
2. their corpus counts (``_work/token_kl/corpus/group=<g>/``: bin, count), summed from the documents' bins;
3. every judged document's KL divergence (a Python pass over the bins only, the corpus read per worker), the
   group's least-squares fit of KL against ln(tokens) and the quartiles of the excess, hence the threshold.

Only per-group numbers reach the driver. The judge pass (:class:`pipeline.heuristics.token_kl.TokenKlJudge`) then
applies the verdict per unit, with :class:`CorpusJudgements` loading a group's corpus once per worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pipeline.config import CurateConfig, LanguageConfigs, shipped_defaults
from pipeline.heuristics.token_kl import GroupJudgement, TokenKlConfig, kl_divergence, length_fit, outlier_threshold
from pipeline.registry import FILTER
from pipeline.spark.unit_tasks import TOKEN_KL, read_pass
from pipeline.spark.units import describe
from pipeline.spark.workdir import WorkDir

ALL = "_all"  # the group name of documents without a language, or of all documents with group_by = ""


def _group_name(group: str) -> str:
    return group or ALL


class CorpusJudgements:
    """``judgements(group)``: the :class:`GroupJudgement` of a judged group, its corpus read from
    ``_work/token_kl/corpus`` the first time a worker needs it; None for a group that is not judged."""

    def __init__(self, workdir: WorkDir, judgements: dict[str, dict], config: CurateConfig):
        self.workdir, self.judgements, self.config = workdir, judgements, config
        self._loaded: dict[str, GroupJudgement] = {}

    def __getstate__(self):
        return {**self.__dict__, "_loaded": {}}

    def settings(self, group: str) -> TokenKlConfig:
        return LanguageConfigs(self.config)(group if self.config.token_kl.group_by else None).token_kl

    def __call__(self, group: str) -> GroupJudgement | None:
        name = _group_name(group)
        if name not in self.judgements:
            return None
        if name not in self._loaded:
            decided = self.judgements[name]
            table = self.workdir.read_parquet(self.workdir.work(TOKEN_KL, "corpus", f"group={name}"))
            counts = np.zeros(self.config.token_kl.buckets)
            counts[table.column("bin").to_numpy()] = table.column("count").to_numpy()
            self._loaded[name] = GroupJudgement(counts, float(decided["total"]), tuple(decided["fit"]),
                                                float(decided["threshold"]), self.settings(group))
        return self._loaded[name]


class TokenKlPhase:
    """Computes (or reads back) the judgement of every group; ``run()`` returns them as JSON-able numbers."""

    def __init__(self, spark: SparkSession, workdir: WorkDir, config: CurateConfig, log: Callable[[str], None]):
        self.spark, self.workdir, self.config, self.log = spark, workdir, config, log

    def run(self) -> dict[str, dict]:
        done = self.workdir.phase_done(TOKEN_KL)
        if done is not None:
            return done["judgements"]
        judgements = self._judge() if self.config.token_kl.enabled else {}
        self.workdir.finish_phase(TOKEN_KL, {"judgements": judgements})
        return judgements

    def _judge(self) -> dict[str, dict]:
        cfg, sc = self.config, self.spark.sparkContext
        kept = (read_pass(self.spark, self.workdir, FILTER).where(F.col("stage").isNull())
                .select(F.coalesce(F.col(cfg.token_kl.group_by) if cfg.token_kl.group_by else F.lit(None),
                                   F.lit(ALL)).alias("group"),
                        F.col("signals")["tokens"].alias("tokens"), "token_bins", "token_counts"))
        describe(sc, TOKEN_KL, "documents long enough to judge, per group")
        loader = CorpusJudgements(self.workdir, {}, cfg)
        # min_tokens of the groups whose language sets its own, the global one for the others: one aggregation.
        languages = set(shipped_defaults("languages")) | set(cfg.languages) if cfg.token_kl.group_by else set()
        limits = self.spark.createDataFrame([(g, float(loader.settings(g).min_tokens)) for g in sorted(languages)],
                                            "group string, min_tokens double")
        min_tokens = F.coalesce(F.col("min_tokens"), F.lit(float(cfg.token_kl.min_tokens)))
        kept = kept.join(F.broadcast(limits), "group", "left").withColumn("long_enough", F.col("tokens") >= min_tokens)
        per_group = kept.groupBy("group").agg(F.sum(F.col("long_enough").cast("long")), F.sum("tokens")).collect()
        settings = {g: loader.settings("" if g == ALL else g) for g, _, _ in per_group}
        totals = {g: float(tokens) for g, _, tokens in per_group}
        judged = sorted(g for g, long_enough, _ in per_group if long_enough >= settings[g].min_documents)
        if not judged:
            return {}
        describe(sc, TOKEN_KL, f"corpus token counts of {len(judged)} group(s)")
        in_judged = kept.where(F.col("group").isin(judged))
        corpus = (in_judged.select("group", F.explode(F.arrays_zip("token_bins", "token_counts")).alias("b"))
                  .groupBy("group", F.col("b.token_bins").alias("bin"))
                  .agg(F.sum("b.token_counts").cast("double").alias("count")))
        corpus.write.mode("overwrite").partitionBy("group").parquet(self.workdir.work(TOKEN_KL, "corpus"))
        describe(sc, TOKEN_KL, "KL divergence of every judged document, length fit and quartiles")
        partial = {g: {"total": totals[g], "fit": [0.0, 0.0], "threshold": float("inf")} for g in judged}
        loader = CorpusJudgements(self.workdir, partial, cfg)

        def divergences(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                out = []
                for row in batch.to_pylist():
                    judgement = loader(row["group"] if row["group"] != ALL else "")
                    kl = kl_divergence(np.asarray(row["token_bins"], dtype=np.int64), judgement.counts,
                                       judgement.total, judgement.config.alpha,
                                       np.asarray(row["token_counts"], dtype=np.float64))
                    out.append({"group": row["group"], "x": float(np.log(row["tokens"])), "kl": kl})
                yield pa.RecordBatch.from_pylist(out, schema=_KL_ARROW)

        measured = (in_judged.where("long_enough").select("group", "tokens", "token_bins", "token_counts")
                    .mapInArrow(divergences, "group string, x double, kl double").persist())
        try:
            sums = measured.groupBy("group").agg(F.count(F.lit(1)), F.sum("x"), F.sum("kl"),
                                                 F.sum(F.col("x") * F.col("x")), F.sum(F.col("x") * F.col("kl")))
            fits = {row[0]: length_fit(*map(float, row[1:])) for row in sums.collect()}
            fit_rows = self.spark.createDataFrame([(g, a, b) for g, (a, b) in fits.items()],
                                                  "group string, a double, b double")
            excess = F.col("kl") - (F.col("a") + F.col("b") * F.col("x"))
            quartiles = (measured.join(F.broadcast(fit_rows), "group").groupBy("group")
                         .agg(F.percentile_approx(excess, [0.25, 0.75], 10_000).alias("q")).collect())
        finally:
            measured.unpersist()
        return {g: {"total": totals[g], "fit": list(fits[g]),
                    "threshold": outlier_threshold(q[0], q[1], settings[g])} for g, q in quartiles}


_KL_ARROW = pa.schema([("group", pa.string()), ("x", pa.float64()), ("kl", pa.float64())])
