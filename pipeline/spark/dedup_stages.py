"""Spark wiring of document-level (MinHash) and line-level de-duplication (Llama 3 §3.1.1).

Both work on documents with a verdict (``EXTRACTED_SCHEMA``: the document columns plus stage/reason/detail) and
return the same shape, so they chain after extraction and in the standalone ``jobs/dedup.py``. Everything that
grows with the data (line hashes, band keys, candidate edges) is shuffled and aggregated, never collected; the
driver only sees per-group document counts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from pipeline.dedup.line_dedup import LineDedupConfig, LineHashes, LineRemoval, bucket_count, bucket_of
from pipeline.dedup.minhash import MinHashConfig, MinHasher, band_keys, lsh_params
from pipeline.spark.schema import EXTRACT_ARTIFACTS, EXTRACTED_SCHEMA
from pipeline.spark.unit_tasks import document_batches, rows_of

LINE_SCHEMA = "group string, bucket int, line_hash long, id string"


def _group_column(group_by: str):
    return F.coalesce(F.col(group_by).cast("string"), F.lit("")) if group_by else F.lit("")


def line_removals(docs: DataFrame, config: LineDedupConfig) -> DataFrame:
    """``(id, removed_lines)`` for every document of ``docs`` that loses lines: the hashes of its lines found in
    more than ``max_documents_per_line`` documents of its bucket (per ``group_by`` value). ``docs`` has ``id``,
    ``line_hashes`` (one per line, :class:`pipeline.dedup.line_dedup.LineHashes`) and the ``group_by`` column.
    Line hashes are shuffled and counted, never collected; the driver sees one document count per group."""
    grouped = docs.withColumn("_group", _group_column(config.group_by)).select("id", "_group", "line_hashes")
    buckets = {r["_group"]: bucket_count(r["count"], config.bucket_size)
               for r in grouped.groupBy("_group").count().collect()}

    def explode(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = {"group": [], "bucket": [], "line_hash": [], "id": []}
            for doc_id, hashes, group in zip(*(batch.column(c).to_pylist() for c in ("id", "line_hashes", "_group")),
                                             strict=True):
                bucket = bucket_of(doc_id, buckets[group])
                for h in {h for h in hashes or () if h is not None}:
                    out["group"].append(group)
                    out["bucket"].append(bucket)
                    out["line_hash"].append(h)
                    out["id"].append(doc_id)
            yield pa.RecordBatch.from_pydict(out, schema=_LINE_ARROW)

    # Recomputed for the count and for the join rather than cached: the hashes are read from durable files.
    lines = grouped.mapInArrow(explode, LINE_SCHEMA)
    frequent = (lines.groupBy("group", "bucket", "line_hash").agg(F.count(F.lit(1)).alias("documents"))
                .where(F.col("documents") > config.max_documents_per_line).drop("documents"))
    return (lines.join(frequent, ["group", "bucket", "line_hash"])
            .groupBy("id").agg(F.collect_list("line_hash").alias("removed_lines")))


def line_dedup_stage(docs: DataFrame, config: LineDedupConfig, rows_per_batch: int = 256) -> DataFrame:
    """Line dedup of documents with text (the standalone ``jobs/dedup.py``): their lines hashed
    (:class:`LineHashes`), counted (:func:`line_removals`) and removed (:class:`LineRemoval`: documents left
    shorter than ``min_chars_after`` are rejected; the others record ``line_dedup_removed_lines`` and
    ``line_dedup_removed_bytes`` in ``signals``)."""
    hashed_schema = StructType(EXTRACTED_SCHEMA.fields + [EXTRACT_ARTIFACTS["line_hashes"]])

    def hash_lines(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        yield from document_batches(rows_of(batches), [LineHashes(config)], hashed_schema, rows_per_batch)

    hashed = docs.mapInArrow(hash_lines, hashed_schema)
    removed = line_removals(hashed, config)

    def trim(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = batch.to_pylist()
            decisions = {row["id"]: {"removed_lines": row.pop("removed_lines")} for row in rows}
            yield from document_batches(rows, [LineRemoval(config)], EXTRACTED_SCHEMA, rows_per_batch,
                                        artifacts_in=["line_hashes"], decisions=decisions)

    return hashed.join(removed, "id", "left").mapInArrow(trim, EXTRACTED_SCHEMA)


_LINE_ARROW = pa.schema([("group", pa.string()), ("bucket", pa.int32()), ("line_hash", pa.int64()),
                         ("id", pa.string())])


# --- MinHash near-duplicate documents

EMPTY_SIGNATURE_VALUE = 0xFFFFFFFF  # datasketch's initial value, kept by every permutation of an empty set
SIGNATURE_SCHEMA = "id string, _group string, signature array<long>, band_keys array<long>"
_SIGNATURE_ARROW = pa.schema([("id", pa.string()), ("_group", pa.string()), ("signature", pa.list_(pa.int64())),
                              ("band_keys", pa.list_(pa.int64()))])


@functools.lru_cache(maxsize=2)
def _hasher(num_perm: int, seed: int) -> MinHasher:
    return MinHasher(num_perm, seed)


def signatures_frame(docs: DataFrame, config: MinHashConfig) -> DataFrame:
    """Per document: its MinHash signature and LSH band keys, computed vectorised over each Arrow batch."""
    bands, rows = lsh_params(config)

    def sign(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        hasher = _hasher(config.num_perm, config.seed)
        for batch in batches:
            texts = [t or "" for t in batch.column("text").to_pylist()]
            sigs = hasher.signatures(texts, config.ngram)
            # A text without words has the empty set's signature; all such texts would share every band.
            has_words = (sigs != EMPTY_SIGNATURE_VALUE).any(axis=1)
            sigs, batch = sigs[has_words], batch.filter(pa.array(has_words))
            keys = band_keys(sigs, bands, rows).view(np.int64)  # same bits, as Spark's signed long
            yield pa.RecordBatch.from_arrays(
                [batch.column("id"), batch.column("_group"),
                 pa.array(list(sigs.astype(np.int64)), type=pa.list_(pa.int64())),
                 pa.array(list(keys), type=pa.list_(pa.int64()))],
                schema=_SIGNATURE_ARROW,
            )

    return (docs.withColumn("_group", _group_column(config.group_by)).select("id", "text", "_group")
            .mapInArrow(sign, SIGNATURE_SCHEMA))


def candidate_edges(signed: DataFrame, config: MinHashConfig) -> DataFrame:
    """Pairs ``(src, dst)`` of documents sharing an LSH band (within a group), verified by estimated Jaccard.

    Each band bucket becomes a star from its smallest id to the other members (linear in bucket size, unlike
    all pairs), so a bucket of a million copies costs a million edges."""
    exploded = signed.select("id", "_group", F.posexplode("band_keys").alias("band", "key"))
    buckets = (exploded.groupBy("_group", "band", "key")
               .agg(F.min("id").alias("root"), F.count(F.lit(1)).alias("size")).where(F.col("size") > 1))
    edges = (exploded.join(buckets, ["_group", "band", "key"]).where(F.col("id") != F.col("root"))
             .select(F.col("root").alias("src"), F.col("id").alias("dst")).distinct())
    if config.verify_threshold <= 0:
        return edges
    sig = signed.select("id", "signature")
    equal = F.expr("aggregate(zip_with(s1, s2, (x, y) -> IF(x = y, 1, 0)), 0, (acc, v) -> acc + v)")
    return (edges.join(sig.withColumnRenamed("id", "src").withColumnRenamed("signature", "s1"), "src")
            .join(sig.withColumnRenamed("id", "dst").withColumnRenamed("signature", "s2"), "dst")
            .where(equal >= F.lit(config.verify_threshold * config.num_perm)).select("src", "dst"))


def connected_components(edges: DataFrame, max_iterations: int = 100) -> DataFrame:
    """``(node, component)`` for every node of the undirected graph ``edges (src, dst)``, the component being its
    smallest node id. Alternating large-star and small-star (Kiveris et al. 2014, "Connected Components in
    MapReduce and Beyond"): O(log^2 n) rounds, each a few shuffles; chains and giant clusters resolve exactly."""
    current = _normalise(edges.select(F.col("src").alias("a"), F.col("dst").alias("b"))).localCheckpoint()
    for _ in range(max_iterations):
        both = current.union(current.select(F.col("v").alias("u"), F.col("u").alias("v")))
        smallest = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
        large = both.where(F.col("v") > F.col("u")).join(smallest, "u").select(
            F.col("v").alias("a"), F.col("m").alias("b"))
        after_large = _normalise(large)
        smaller = after_large.groupBy("v").agg(F.min("u").alias("m"))
        small = after_large.join(smaller, "v").select(F.col("u").alias("a"), F.col("m").alias("b")).union(
            smaller.select(F.col("v").alias("a"), F.col("m").alias("b")))
        following = _normalise(small).localCheckpoint()
        changed = following.exceptAll(current).limit(1).count() + current.exceptAll(following).limit(1).count()
        current = following
        if not changed:
            break
    else:
        raise RuntimeError(f"connected components did not converge in {max_iterations} rounds")
    nodes = current.select(F.col("v").alias("node"), F.col("u").alias("component")).union(
        current.select(F.col("u").alias("node"), F.col("u").alias("component")))
    return nodes.groupBy("node").agg(F.min("component").alias("component"))


def _normalise(pairs: DataFrame) -> DataFrame:
    """Undirected edges as distinct ``(u, v)`` with ``u < v``."""
    return (pairs.select(F.least("a", "b").alias("u"), F.greatest("a", "b").alias("v"))
            .where(F.col("u") != F.col("v")).distinct())


def minhash_clusters(docs: DataFrame, config: MinHashConfig) -> DataFrame:
    """``(id, cluster, kept_id)`` for every document in a near-duplicate cluster (singletons are absent): the
    document kept per cluster is the most recent fetch, then the smallest id (as in URL dedup)."""
    components = connected_components(candidate_edges(signatures_frame(docs, config), config))
    members = components.join(docs.select(F.col("id").alias("node"), "fetch_time"), "node")
    order = Window.partitionBy("component").orderBy(F.col("fetch_time").desc_nulls_last(), F.col("node").asc())
    return members.select(F.col("node").alias("id"), F.col("component").alias("cluster"),
                          F.first("node").over(order).alias("kept_id"))


def minhash_stage(docs: DataFrame, config: MinHashConfig) -> DataFrame:
    """Reject every document of a near-duplicate cluster but one, as ``minhash_duplicate`` of the kept id."""
    clusters = minhash_clusters(docs, config).where(F.col("id") != F.col("kept_id")).select("id", "kept_id")
    duplicate = F.col("kept_id").isNotNull()
    return docs.join(clusters, "id", "left").withColumns({
        "stage": F.when(duplicate, F.lit("minhash_dedup")).otherwise(F.col("stage")),
        "reason": F.when(duplicate, F.lit("minhash_duplicate")).otherwise(F.col("reason")),
        "detail": F.when(duplicate, F.col("kept_id")).otherwise(F.col("detail")),
    }).drop("kept_id").select(*EXTRACTED_SCHEMA.names)
