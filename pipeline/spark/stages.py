"""Spark helpers the phases share: Arrow schemas of the Spark schemas, Arrow batches of dict rows, the pending and
rejected rows of a frame with verdicts, and the URL-dedup window over the record index."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructType,
    TimestampType,
)

_ARROW_TYPES = {
    StringType: pa.string(), LongType: pa.int64(), IntegerType: pa.int32(), DoubleType: pa.float64(),
    TimestampType: pa.timestamp("us", tz="UTC"),
}


def _arrow_type(spark_type) -> pa.DataType:
    if isinstance(spark_type, MapType):
        return pa.map_(_arrow_type(spark_type.keyType), _arrow_type(spark_type.valueType))
    if isinstance(spark_type, ArrayType):
        return pa.list_(_arrow_type(spark_type.elementType))
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
