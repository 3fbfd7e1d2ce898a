"""Spark wiring of the foundation steps: each stage is a DataFrame -> DataFrame function around the plain-Python
steps of :mod:`pipeline.record_steps`, exchanging Arrow batches with the Python workers (``mapInArrow``)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, IntegerType, LongType, MapType, StringType, StructType, TimestampType

from pipeline.config import CurateConfig
from pipeline.record_steps import extract_documents, index_warc, screen_url
from pipeline.spark.schema import EXTRACTED_SCHEMA, INDEX_SCHEMA
from pipeline.warc_reader import source_name

# Extraction tasks per core at least: small tasks keep every core busy until the end of the stage.
TASKS_PER_CORE = 4
_ARROW_TYPES = {
    StringType: pa.string(), LongType: pa.int64(), IntegerType: pa.int32(), DoubleType: pa.float64(),
    TimestampType: pa.timestamp("us", tz="UTC"),
}


def _arrow_type(spark_type) -> pa.DataType:
    if isinstance(spark_type, MapType):
        return pa.map_(_arrow_type(spark_type.keyType), _arrow_type(spark_type.valueType))
    return _ARROW_TYPES[type(spark_type)]


@functools.cache
def arrow_schema(spark_schema: StructType) -> pa.Schema:
    """The Arrow schema mapInArrow must return for ``spark_schema`` (the few types the pipeline's schemas use)."""
    return pa.schema([pa.field(f.name, _arrow_type(f.dataType), f.nullable) for f in spark_schema.fields])


def to_batches(rows: Iterable[dict], spark_schema, rows_per_batch: int) -> Iterator[pa.RecordBatch]:
    """Group dict rows into Arrow record batches of at most ``rows_per_batch`` rows (bounded worker memory)."""
    schema = arrow_schema(spark_schema)
    buffer = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= rows_per_batch:
            yield pa.RecordBatch.from_pylist(buffer, schema=schema)
            buffer = []
    if buffer:
        yield pa.RecordBatch.from_pylist(buffer, schema=schema)


def pending(df: DataFrame) -> DataFrame:
    """Rows no stage has rejected yet."""
    return df.where(F.col("stage").isNull())


def rejected(df: DataFrame) -> DataFrame:
    return df.where(F.col("stage").isNotNull())


def read_stage(spark: SparkSession, paths: list[str], config: CurateConfig) -> DataFrame:
    """Stage ``read``: the record index of every file, one Spark task per file."""
    record_config, batch = config.record, config.spark.rows_per_batch
    tasks = [(path, source_name(path)) for path in paths]
    files = spark.createDataFrame(
        spark.sparkContext.parallelize(tasks, max(len(tasks), 1)), "path string, source_file string"
    )

    def index_files(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for files_batch in batches:
            for task in files_batch.to_pylist():
                yield from to_batches(index_warc(task["path"], task["source_file"], record_config), INDEX_SCHEMA, batch)

    return files.mapInArrow(index_files, INDEX_SCHEMA)


def safety_stage(index: DataFrame, safety_broadcast, config: CurateConfig) -> DataFrame:
    """Stage ``safety``: URL key, host, domain and the block-list verdict of every pending record.

    The filter (block list as a hash array) is built once on the driver and broadcast, so executors need no
    access to the list files."""
    batch = config.spark.rows_per_batch

    def screen(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        safety = safety_broadcast.value
        for rows in batches:
            yield from to_batches((screen_url(row, safety) for row in rows.to_pylist()), INDEX_SCHEMA, batch)

    return rejected(index).unionByName(pending(index).mapInArrow(screen, INDEX_SCHEMA))


def url_dedup_stage(index: DataFrame) -> DataFrame:
    """Stage ``url_dedup``: per URL key keep the latest fetch, ties to the smallest id
    (:func:`pipeline.dedup.url_dedup.recency_key`); the others become ``url_duplicate`` of the kept id.

    A window over the key: a shuffle of index rows only (no page bodies), never a collect."""
    by_url = Window.partitionBy("url_key").orderBy(F.col("fetch_time").desc_nulls_last(), F.col("id").asc())
    ranked = pending(index).withColumn("_rank", F.row_number().over(by_url)).withColumn(
        "_kept", F.first("id").over(by_url)
    )
    duplicate = F.col("_rank") > 1
    deduped = ranked.withColumns({
        "stage": F.when(duplicate, F.lit("url_dedup")),
        "reason": F.when(duplicate, F.lit("url_duplicate")),
        "detail": F.when(duplicate, F.col("_kept")),
    }).drop("_rank", "_kept")
    return rejected(index).unionByName(deduped)


def extract_stage(index: DataFrame, config: CurateConfig, survivors: int) -> DataFrame:
    """Stage ``extract``: re-read the surviving records and extract their text.

    Survivors are range-partitioned on (file, record position) into tasks of about ``records_per_extract_task``
    records, at least a few per core so that cores stay busy to the end. A task reads each of its files from
    the first record it needs (a seek), so only kept pages are decompressed twice and parsed once.
    ``survivors`` (already known to the driver) sizes the tasks."""
    per_task, batch, extraction = config.spark.records_per_extract_task, config.spark.rows_per_batch, config.extraction
    parallelism = index.sparkSession.sparkContext.defaultParallelism
    tasks = max(min(survivors, max(-(-survivors // per_task), TASKS_PER_CORE * parallelism)), 1)
    ordered = pending(index).repartitionByRange(tasks, "source_file", "source_record").sortWithinPartitions(
        "source_file", "source_record"
    )

    def extract(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        extractor = _extractor(extraction)
        yield from to_batches(_extract_groups(batches, extractor), EXTRACTED_SCHEMA, batch)

    return ordered.mapInArrow(extract, EXTRACTED_SCHEMA)


def _extract_groups(batches: Iterator[pa.RecordBatch], extractor) -> Iterator[dict]:
    """Hand each file's run of rows (sorted by record position) to :func:`extract_documents`."""
    group: list[dict] = []
    for rows in batches:
        for row in rows.to_pylist():
            if group and row["source_file"] != group[-1]["source_file"]:
                yield from extract_documents(group[0]["source_file"], group, extractor)
                group = []
            group.append(row)
    if group:
        yield from extract_documents(group[0]["source_file"], group, extractor)


@functools.lru_cache(maxsize=4)
def _extractor(extraction_config):
    """One extractor per Python worker and config (built lazily, reused across tasks)."""
    from pipeline.extraction import HtmlExtractor

    return HtmlExtractor(extraction_config)
