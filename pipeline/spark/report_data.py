"""The numbers of a run's report (``OUT/report.json``, rendered by :mod:`pipeline.report`), from Spark
aggregations only: a crawl has billions of rows, so no per-document data reaches the driver except the few
example rows of each drop reason.

Two Spark actions (four jobs: adaptive execution runs the map side of each shuffle as a job of its own):

1. histograms: every charted signal of every document (``signals`` filtered to the charted names, every
   classifier score, the language-ID score) exploded into (name, value), binned over the chart's fixed range and
   counted per (name, bin, stage): the kept documents, those dropped by the signal's own stage, those dropped by
   another. Values outside the range are counted below or above it, so a chart's counts add up to the documents
   that have the signal.
2. examples: for each (stage, reason) the rows with the smallest hash of their id (a deterministic sample). The
   statistics already say how many rows each reason has, so a cheap filter first keeps the rows whose hash is
   below a cutoff that about 64 of the reason's rows pass (they are the smallest hashes; that fewer than the 3
   examples pass, which would only show fewer, has a probability below 1e-20), and only those are ranked in a
   window: no sort of a skewed reason's billions of rows on one executor.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from pipeline.config import CurateConfig
from pipeline.signal_charts import (
    LANGUAGE_SCORE,
    SCORES,
    SignalChart,
    excerpt,
    reason_signals,
    score_chart,
    signal_charts,
    threshold_overrides,
    thresholds,
)
from pipeline.spark.stats import RunStats

EXAMPLES = 3  # example rows per (stage, reason)
EXCERPT_CHARS = 300
_CANDIDATES = 64  # rows per reason the hash filter aims to keep before ranking (enough that k are always among them)
_HASH_RANGE = 1 << 40
_SERIES = ("kept", "dropped_here", "dropped_other")


def _lookup(charts: list[SignalChart], attribute: str, default: float):
    """The chart's ``attribute`` of the row's ``name`` (``default`` for a classifier score) as a Spark column."""
    table = F.create_map(*[F.lit(value) for c in charts for value in (c.name, getattr(c, attribute))])
    return F.coalesce(table[F.col("name")], F.lit(default))


def _histogram_counts(final: DataFrame, charts: list[SignalChart]) -> list:
    """(name, bin, stage, count) rows: bin -1 is below the chart's range, ``bins`` above it."""
    charted = [c.name for c in charts if c.name != LANGUAGE_SCORE]
    entries = F.concat(
        F.map_entries(F.map_filter("signals", lambda key, _: key.isin(*charted))),
        F.map_entries(F.transform_keys("scores", lambda key, _: F.concat(F.lit(SCORES), key))),
        F.array(F.struct(F.lit(LANGUAGE_SCORE).alias("key"), F.col(LANGUAGE_SCORE).alias("value"))),
    )
    default = score_chart("")
    low, high = _lookup(charts, "low", default.low), _lookup(charts, "high", default.high)
    bins = _lookup(charts, "bins", default.bins)
    value = F.col("value")
    position = F.floor((value - low) / (high - low) * bins).cast("int")
    bin_ = F.when(value == high, bins - 1).otherwise(F.least(F.greatest(position, F.lit(-1)), bins.cast("int")))
    return (final.select("stage", F.explode(entries).alias("e"))
            .select("stage", F.col("e.key").alias("name"), F.col("e.value").alias("value"))
            .where(value.isNotNull() & ~F.isnan(value))
            .groupBy("name", bin_.cast("int").alias("bin"), "stage").count().collect())


def _histograms(counts: list, charts: list[SignalChart], config: CurateConfig,
                token_kl_fences: dict[str, float]) -> list[dict]:
    limits, overrides = thresholds(config), threshold_overrides(config)
    if "token_kl_excess" not in limits:
        limits["token_kl_excess"] = [(fence, f"{group} fence") for group, fence in token_kl_fences.items()]
    by_name: dict[str, dict] = {}
    for chart in charts:
        by_name[chart.name] = {
            "name": chart.name, "title": chart.title, "stage": chart.stage, "low": chart.low, "high": chart.high,
            "bins": chart.bins, "documents": 0,
            "thresholds": [{"value": value, "label": label} for value, label in limits.get(chart.name, [])],
            "overrides": overrides.get(chart.name, []),
            **{series: {"counts": [0] * chart.bins, "below": 0, "above": 0} for series in _SERIES}}
    for name, bin_, stage, count in counts:
        entry = by_name[name]
        series = entry["kept" if stage is None else "dropped_here" if stage == entry["stage"] else "dropped_other"]
        if bin_ < 0:
            series["below"] += count
        elif bin_ >= entry["bins"]:
            series["above"] += count
        else:
            series["counts"][bin_] += count
        entry["documents"] += count
    return [entry for entry in by_name.values() if entry["documents"]]


def _examples(final: DataFrame, index_rejected: DataFrame, stats: RunStats, per_reason: int) -> list[dict]:
    """Up to ``per_reason`` rows of each (stage, reason), those with the smallest hash of their id."""
    rows_of = {f"{s.stage}/{reason}": n for s in stats.stages for reason, n in s.rejected.items()}
    if not rows_of or per_reason <= 0:
        return []
    cutoff = F.create_map(*[F.lit(value) for key, n in rows_of.items()
                            for value in (key, min(1.0, max(_CANDIDATES, 8 * per_reason) / n) * _HASH_RANGE)])
    hashed = F.pmod(F.xxhash64("id"), F.lit(_HASH_RANGE))
    columns = ["stage", "reason", "id", "url", F.substring("detail", 1, EXCERPT_CHARS).alias("detail")]
    documents = final.where(F.col("stage").isNotNull()).select(
        *columns, "language", LANGUAGE_SCORE, F.substring("text", 1, EXCERPT_CHARS * 2).alias("text"), "signals",
        "scores")
    records = index_rejected.where(F.col("stage").isNotNull()).select(*columns)
    candidates = (documents.unionByName(records, allowMissingColumns=True).withColumn("hash", hashed)
                  .where(F.col("hash") <= cutoff[F.concat_ws("/", "stage", "reason")]))
    ranked = candidates.withColumn("rank", F.row_number().over(
        Window.partitionBy("stage", "reason").orderBy("hash", "id")))
    examples: dict[str, list[dict]] = {}
    rows = sorted(ranked.where(F.col("rank") <= per_reason).collect(), key=lambda row: row["rank"])
    for row in rows:
        signals = row["signals"] or {}
        examples.setdefault(f"{row['stage']}/{row['reason']}", []).append({
            "id": row["id"], "url": row["url"], "detail": row["detail"], "language": row["language"],
            "language_score": row[LANGUAGE_SCORE], "excerpt": excerpt(row["text"], EXCERPT_CHARS),
            "signals": {name: signals[name] for name in reason_signals(row["reason"], sorted(signals))},
            "scores": dict(row["scores"] or {})})
    return [{"stage": s.stage, "reason": reason, "count": n, "rows": examples.get(f"{s.stage}/{reason}", [])}
            for s in stats.stages for reason, n in s.rejected.items()]


def report_data(final: DataFrame, index_rejected: DataFrame, stats: RunStats, config: CurateConfig,
                token_kl_judgements: dict[str, dict] | None = None, examples: int = EXAMPLES) -> dict:
    """What the report shows beyond ``stats.json``, as JSON-able values: signal histograms with their thresholds
    and example rows of every drop reason. ``final``: the last pass's rows (internal columns of
    ``EXTRACTED_SCHEMA``, ``stage`` null when kept); ``index_rejected``: the records dropped before extraction
    (``INDEX_SCHEMA``); ``token_kl_judgements``: the token_kl phase's per-group fences (computed from the data)."""
    charts = signal_charts(config)
    counts = _histogram_counts(final, charts)
    charts += [score_chart(name[len(SCORES):]) for name in sorted({row[0] for row in counts})
               if name.startswith(SCORES)]
    fences = {group: float(judged["threshold"]) for group, judged in (token_kl_judgements or {}).items()}
    return {
        "histograms": _histograms(counts, charts, config, fences),
        "examples": _examples(final, index_rejected, stats, examples),
        "examples_per_reason": examples,
    }
