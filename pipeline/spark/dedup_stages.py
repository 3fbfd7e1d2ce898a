"""Spark wiring of document-level (MinHash) and line-level de-duplication (Llama 3 §3.1.1).

Both stages work on documents with a verdict (``EXTRACTED_SCHEMA``: the document columns plus stage/reason/detail)
and return the same shape, so they chain after extraction and in the standalone ``jobs/dedup.py``; MinHash removal
also runs on signatures computed elsewhere (:func:`near_duplicate_removals`). Everything that grows with the data
(line hashes, band keys, candidate pairs, shingle sets) is shuffled and aggregated, never collected; the driver
only sees per-group document counts and whether an iteration has work left.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from pipeline.dedup.line_dedup import LineDedupConfig, LineHashes, LineRemoval, bucket_count, bucket_of
from pipeline.dedup.minhash import (
    MinHashConfig,
    check_bounds,
    document_shingle_hashes,
    document_signatures,
    has_words,
    lsh_params,
)
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

SIGNED_SCHEMA = "id string, group string, fetch_time timestamp, signature array<long>"
REMOVALS_SCHEMA = "id string, kept_id string, cluster string, similarity double"
_SHINGLES_SCHEMA = "id string, shingles array<int>"
_SIGNED_ARROW = pa.schema([("id", pa.string()), ("group", pa.string()), ("fetch_time", pa.timestamp("us", "UTC")),
                           ("signature", pa.list_(pa.int64()))])
_SHINGLES_ARROW = pa.schema([("id", pa.string()), ("shingles", pa.list_(pa.int32()))])
# A bucket of up to this many documents pairs all its members; a larger one (copies of one page, a template)
# pairs its preferred member with each of the others, so a million copies make a million pairs, not 5e11.
ALL_PAIRS_BUCKET = 8
# Rounds that keep documents in preference order; after them, rounds in a random order (see _keep_and_remove).
PRIORITY_ROUNDS = 16
MAX_ROUNDS = 100
_UNDATED = (1 << 63) - 1  # priority key of a document without fetch_time: after every dated one


def signatures_frame(docs: DataFrame, config: MinHashConfig) -> DataFrame:
    """The ``signed`` input of :func:`near_duplicate_removals` (``SIGNED_SCHEMA``): per document with words, its
    group (``config.group_by``), fetch time and MinHash signature, computed vectorised over each Arrow batch with
    the document's language (the segmenter of Han text). Documents without words would share every LSH bucket:
    they are left out, and never removed."""

    def sign(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            texts = [t or "" for t in batch.column("text").to_pylist()]
            signatures = document_signatures(texts, batch.column("language").to_pylist(), config)
            keep = has_words(signatures)
            batch = batch.filter(pa.array(keep))
            values = pa.array(signatures[keep].astype(np.int64).ravel())  # same bits, as Spark's signed long
            offsets = pa.array(np.arange(len(batch) + 1, dtype=np.int32) * config.num_perm)
            yield pa.RecordBatch.from_arrays(
                [batch.column("id"), batch.column("group"), batch.column("fetch_time").cast(pa.timestamp("us", "UTC")),
                 pa.ListArray.from_arrays(offsets, values)], schema=_SIGNED_ARROW)

    return (docs.select("id", "text", "language", _group_column(config.group_by).alias("group"), "fetch_time")
            .mapInArrow(sign, SIGNED_SCHEMA))


def near_duplicate_removals(signed: DataFrame, texts: DataFrame, config: MinHashConfig) -> DataFrame:
    """One row per removed document (``REMOVALS_SCHEMA``): ``kept_id``, a kept document it is verified near
    duplicate to, at ``similarity``; ``cluster``, the smallest id among that kept document and the documents
    removed for it. A document is removed only for a kept one, never for being linked to one through others.

    ``signed`` (``SIGNED_SCHEMA``, documents with words) gives the LSH candidates (:func:`candidate_pairs`);
    :func:`verified_pairs` keeps those at or above ``config.threshold``, reading from ``texts`` (``id, text,
    language``) only the candidates' texts; :func:`_keep_and_remove` then keeps the preferred document (most
    recent ``fetch_time``, then smallest id) and removes its verified neighbours, over and over. Work grows with
    the candidate pairs; nothing per document reaches the driver. Needs a checkpoint directory (see
    :func:`ensure_checkpoint_dir`)."""
    ensure_checkpoint_dir(signed.sparkSession)
    removals = _keep_and_remove(verified_pairs(candidate_pairs(signed, config), signed, texts, config))
    clusters = removals.groupBy("kept_id").agg(F.least(F.min("id"), F.min("kept_id")).alias("cluster"))
    return removals.join(clusters, "kept_id").select("id", "kept_id", "cluster", "similarity")


def candidate_pairs(signed: DataFrame, config: MinHashConfig) -> DataFrame:
    """LSH: distinct pairs ``(a, b)`` of documents of one group sharing a band's values, each a priority
    ``struct(t, id)`` (smaller is preferred: ``t`` is minus the fetch time) with ``a < b``.

    A bucket of up to ``ALL_PAIRS_BUCKET`` documents gives all its pairs; a larger one a star from its preferred
    member, whose pairs are the ones that can remove the others (a star from any other member would link the
    copies without making any of them removable for the kept one)."""
    bands, rows = lsh_params(config)
    keys = F.array(*(F.xxhash64(F.slice("signature", band * rows + 1, rows)) for band in range(bands)))
    members = signed.select("group", F.posexplode(keys).alias("band", "key"), _priority().alias("p"))
    bucket = ["group", "band", "key"]
    in_bucket = Window.partitionBy(*bucket)  # one shuffle; a giant bucket's rows spill to disk, as a sort does
    sized = (members.select(*bucket, "p", F.count(F.lit(1)).over(in_bucket).alias("size"),
                            F.min("p").over(in_bucket).alias("root"))
             .where(F.col("size") > 1))
    # one self-join of the bucket's rows: every member of a small bucket meets the others, only the preferred
    # member of a large one does
    pairing = sized.where((F.col("size") <= ALL_PAIRS_BUCKET) | (F.col("p") == F.col("root")))
    return (pairing.alias("x").join(sized.alias("y"), bucket).where(F.col("x.p") < F.col("y.p"))
            .select(F.col("x.p").alias("a"), F.col("y.p").alias("b")).distinct())


def verified_pairs(pairs: DataFrame, signed: DataFrame, texts: DataFrame, config: MinHashConfig) -> DataFrame:
    """The candidate ``pairs`` whose shingle sets' Jaccard reaches ``config.threshold``, with it as
    ``similarity``: ``(a, b, similarity)``.

    :func:`~pipeline.dedup.minhash.check_bounds` decides from the number of equal signature values which pairs
    need the exact Jaccard: pairs too far below (a pair at the threshold shows so few with probability < 1e-6)
    are dropped, pairs (nearly) equal in every value are accepted at their estimate (a pair below the threshold
    shows so many with probability < 1e-9), the rest are checked. Only the texts of documents in a checked pair
    are read (a semi-join) and hashed into their sets of shingle hashes, which the pairs then join."""
    fewest, accepted_from = check_bounds(config.threshold, config.num_perm)
    # the values are 32-bit: shifted into int's range they compare alike and shuffle in half the bytes
    signature = signed.select("id", F.transform("signature", lambda v: (v - (1 << 31)).cast("int")).alias("signature"))
    equal = F.expr("size(filter(zip_with(sa, sb, (x, y) -> x = y), e -> e))")
    counted = _checkpoint(
        _join_by_member(pairs, signature.withColumnRenamed("signature", "sa"),
                        signature.withColumnRenamed("signature", "sb"))
        .select("a", "b", equal.alias("equal")).where(F.col("equal") >= fewest))
    accepted = counted.where(F.col("equal") >= accepted_from)
    to_check = counted.where(F.col("equal") < accepted_from)
    wanted = to_check.select(F.col("a.id").alias("id")).union(to_check.select(F.col("b.id").alias("id"))).distinct()

    def hash_shingles(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            texts_ = [t or "" for t in batch.column("text").to_pylist()]
            sets = document_shingle_hashes(texts_, batch.column("language").to_pylist(), config)
            offsets = np.zeros(len(sets) + 1, np.int32)
            np.cumsum([len(s) for s in sets], out=offsets[1:])
            values = pa.array(np.concatenate(sets).view(np.int32) if sets else np.zeros(0, np.int32))
            yield pa.RecordBatch.from_arrays([batch.column("id"), pa.ListArray.from_arrays(pa.array(offsets), values)],
                                             schema=_SHINGLES_ARROW)

    # checkpointed: both members of a pair join it, and hashing is the costly part of the check
    hashed = _checkpoint(texts.select("id", "text", "language").join(wanted, "id", "left_semi")
                         .mapInArrow(hash_shingles, _SHINGLES_SCHEMA))
    shared = F.size(F.array_intersect("sa", "sb"))
    checked = (_join_by_member(to_check, hashed.withColumnRenamed("shingles", "sa"),
                               hashed.withColumnRenamed("shingles", "sb"))
               .select("a", "b", (shared / (F.size("sa") + F.size("sb") - shared)).alias("similarity"))
               .where(F.col("similarity") >= config.threshold))
    return accepted.select("a", "b", (F.col("equal") / config.num_perm).alias("similarity")).unionByName(checked)


def _join_by_member(pairs: DataFrame, of_a: DataFrame, of_b: DataFrame) -> DataFrame:
    """``pairs`` with the columns of ``of_a`` (keyed by ``id``) for member ``a`` and of ``of_b`` for ``b``."""
    return (pairs.join(of_a.withColumnRenamed("id", "_a"), F.col("a.id") == F.col("_a"))
            .join(of_b.withColumnRenamed("id", "_b"), F.col("b.id") == F.col("_b")).drop("_a", "_b"))


def _keep_and_remove(verified: DataFrame, priority_rounds: int = PRIORITY_ROUNDS,
                     max_rounds: int = MAX_ROUNDS) -> DataFrame:
    """``(id, kept_id, similarity)``: which documents of the verified graph go, and for which kept neighbour.

    Greedy maximal independent set in preference order, computed in rounds: a document none of whose remaining
    neighbours is preferred to it is kept; its remaining neighbours are removed for it (each for its most
    preferred kept neighbour); removed documents leave the graph with their edges; repeat until no edge is left
    (a document whose neighbours were all removed for others is kept). So every removed document has a kept,
    verified neighbour, no two kept documents are a verified pair, and the preferred document of every
    connected group is kept. Unlike connected components, a chain A-B-C with A kept removes B but keeps C
    when A and C are not near duplicates, and a group linked to another through a chain keeps a member.

    Rounds: a chain whose preference falls along it resolves two documents per round. After
    ``priority_rounds`` the order becomes random per round (Luby 1986: O(log n) rounds with high probability),
    still keeping only documents without a kept neighbour; ``max_rounds`` bounds it with an error. Each round's
    edges and removals are reliable checkpoints, so the plan stays small and survives a lost executor."""
    edges = _checkpoint(verified)
    removed = []
    for round_ in range(max_rounds):
        if edges.isEmpty():
            break
        if round_ < priority_rounds:
            a_first = F.lit(True)  # a < b: a is preferred
        else:
            a_first = (F.struct(F.xxhash64("a.id", F.lit(round_)), F.col("a.id"))
                       < F.struct(F.xxhash64("b.id", F.lit(round_)), F.col("b.id")))
        oriented = edges.select(F.when(a_first, F.col("a")).otherwise(F.col("b")).alias("hi"),
                                F.when(a_first, F.col("b")).otherwise(F.col("a")).alias("lo"), "similarity")
        kept = (oriented.select(F.col("hi.id").alias("kept")).distinct()
                .join(oriented.select(F.col("lo.id").alias("kept")), "kept", "left_anti"))
        now = _checkpoint(
            oriented.join(kept, F.col("hi.id") == F.col("kept")).groupBy(F.col("lo.id").alias("id"))
            .agg(F.min(F.struct("hi", "similarity")).alias("best"))  # the most preferred kept neighbour
            .select("id", F.col("best.hi.id").alias("kept_id"), F.col("best.similarity").alias("similarity")))
        removed.append(now)
        gone = now.select("id")
        edges = _checkpoint(edges.join(gone, F.col("a.id") == F.col("id"), "left_anti")
                            .join(gone, F.col("b.id") == F.col("id"), "left_anti"))
    else:
        raise RuntimeError(f"near-duplicate removal did not finish in {max_rounds} rounds ({priority_rounds} in "
                           "preference order, then random-order rounds, which end in O(log n) rounds with high "
                           "probability): a sign of a bug, not of the data")
    if not removed:
        return verified.sparkSession.createDataFrame([], "id string, kept_id string, similarity double")
    return functools.reduce(DataFrame.unionByName, removed)


def _priority():
    """Preference between documents as one orderable value: most recent ``fetch_time`` (missing: last), then
    smallest id (as in URL dedup); smaller is preferred."""
    return F.struct(F.coalesce(-F.unix_micros("fetch_time"), F.lit(_UNDATED)).alias("t"), F.col("id").alias("id"))


def ensure_checkpoint_dir(spark: SparkSession) -> None:
    """Reliable checkpoints (files an executor's loss does not take away; local checkpoints cannot be recomputed)
    need a directory every executor reaches: the job's, or ``spark.checkpoint.dir``. In local mode, where one
    file system is shared, a temporary directory is made when none is set (and removed at exit); elsewhere its
    absence is an error."""
    context = spark.sparkContext
    if context.getCheckpointDir() is not None:
        return
    if not context.master.startswith("local"):
        raise RuntimeError("MinHash dedup needs a checkpoint directory on storage every executor reaches: "
                           "SparkContext.setCheckpointDir(...) or --conf spark.checkpoint.dir=hdfs://...")
    directory = tempfile.mkdtemp(prefix="minhash-checkpoints-")
    atexit.register(shutil.rmtree, directory, True)
    context.setCheckpointDir(directory)


def _checkpoint(df: DataFrame) -> DataFrame:
    return df.checkpoint(eager=True)


def minhash_removals(docs: DataFrame, config: MinHashConfig) -> DataFrame:
    """:func:`near_duplicate_removals` of documents with ``id, text, language, fetch_time`` and the
    ``config.group_by`` column, their signatures computed here (once: checkpointed)."""
    ensure_checkpoint_dir(docs.sparkSession)
    signed = _checkpoint(signatures_frame(docs, config))
    return near_duplicate_removals(signed, docs.select("id", "text", "language"), config)


def minhash_stage(docs: DataFrame, config: MinHashConfig) -> DataFrame:
    """Reject every document removed by :func:`near_duplicate_removals` as ``minhash_duplicate``, with the id of
    the kept document it is verified near duplicate to as the detail."""
    removals = minhash_removals(docs, config).select("id", "kept_id")
    duplicate = F.col("kept_id").isNotNull()
    return docs.join(removals, "id", "left").withColumns({
        "stage": F.when(duplicate, F.lit("minhash_dedup")).otherwise(F.col("stage")),
        "reason": F.when(duplicate, F.lit("minhash_duplicate")).otherwise(F.col("reason")),
        "detail": F.when(duplicate, F.col("kept_id")).otherwise(F.col("detail")),
    }).drop("kept_id").select(*EXTRACTED_SCHEMA.names)
