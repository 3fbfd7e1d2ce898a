"""Writing the run's outputs: ``documents/`` (kept documents, a folder per language) and ``rejected/`` (every
record not kept, with its stage and reason; from extraction on with its text and signals too).

Each Spark task writes its own files with pyarrow (``documents/language=<l>/part-<task>.parquet``,
``rejected/part-<task>.parquet``), so that every reader loads them (pyarrow, pandas, Spark, DuckDB, Hugging Face
``datasets``; ``tests/test_outputs.py``):

- every file carries the ``language`` column as well as its folder (a reader given one file still has it; Spark's
  own partitioned writer drops the column from the files). It is dictionary-encoded, the type pyarrow gives the
  folder's value, so that the two agree when a reader has both;
- ``signals`` and ``scores`` are structs with one double field per signal or classifier name that occurs in the
  run (null where a document has none): Hugging Face ``datasets`` cannot load Parquet maps;
- timestamps are UTC microseconds.

Spark reads the per-unit files of the last pass in ~128 MB splits, so there are as many files per language as
splits, not as units. Each file is written to a temporary name and renamed, with names fixed by the task's
partition: a retried task replaces its own files.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark import TaskContext
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.spark.schema import DOCUMENT_SCHEMA, REJECTED_SCHEMA
from pipeline.spark.stages import arrow_schema
from pipeline.spark.workdir import WorkDir

DOCUMENTS, REJECTED = "documents", "rejected"
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # the folder of a null partition value, as Spark and Hive name it
_COUNTS = "kind string, language string, rows long"
_COUNTS_ARROW = pa.schema([("kind", pa.string()), ("language", pa.string()), ("rows", pa.int64())])


def as_rejected(frame: DataFrame) -> DataFrame:
    """``frame`` with the columns of ``rejected/`` (those it lacks, such as an index row's text, as nulls)."""
    return frame.select(*[F.col(f.name) if f.name in frame.columns else F.lit(None).cast(f.dataType).alias(f.name)
                          for f in REJECTED_SCHEMA.fields])


def map_keys(frame: DataFrame, columns: list[str]) -> dict[str, list[str]]:
    """For each map column, the keys it has in any row of ``frame``, sorted (the fields of its struct in the
    output), from one aggregation."""
    def tag(column: str):
        return F.transform(F.map_keys(column), lambda key: F.array(F.lit(column), key))

    tagged = F.flatten(F.array(*[tag(column) for column in columns]))
    keys: dict[str, list[str]] = {column: [] for column in columns}
    for (column, key), in frame.select(F.explode(tagged)).distinct().collect():
        keys[column].append(key)
    return {column: sorted(names) for column, names in keys.items()}


def output_schema(spark_schema, struct_fields: dict[str, list[str]]) -> pa.Schema:
    """The Arrow schema of output files: ``language`` dictionary-encoded, each map column named in
    ``struct_fields`` as a struct of those double fields (a map when there are none: Parquet has no empty group)."""
    fields = []
    for field in arrow_schema(spark_schema):
        if field.name == "language":
            field = field.with_type(pa.dictionary(pa.int32(), pa.string()))
        elif struct_fields.get(field.name):
            field = field.with_type(pa.struct([(name, pa.float64()) for name in struct_fields[field.name]]))
        fields.append(field)
    return pa.schema(fields)


def _for_output(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` (internal types) as ``schema`` says: maps looked up into struct fields, language encoded."""
    columns = []
    for field in schema:
        column = table.column(field.name)
        if pa.types.is_struct(field.type):
            lookups = [pc.map_lookup(column, pa.scalar(name.name), "first") for name in field.type]
            column = pa.StructArray.from_arrays([chunk.combine_chunks() if isinstance(chunk, pa.ChunkedArray)
                                                 else chunk for chunk in lookups], fields=list(field.type))
        columns.append(column.cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def parquet_codec(spark) -> str:
    """pyarrow's name for the session's ``spark.sql.parquet.compression.codec``, so that ``--conf`` given to
    spark-submit compresses the outputs pyarrow writes as it would Spark's own."""
    codec = spark.conf.get("spark.sql.parquet.compression.codec", "zstd").lower()
    codec = {"uncompressed": "none", "lz4_raw": "lz4"}.get(codec, codec)
    if codec not in ("none", "snappy", "gzip", "brotli", "lz4", "zstd"):
        raise ValueError(f"spark.sql.parquet.compression.codec={codec} is not one pyarrow writes: use none, snappy, "
                         "gzip, brotli, lz4 or zstd")
    return codec


def write_outputs(frame: DataFrame, workdir: WorkDir, prefix: str, struct_fields: dict[str, list[str]],
                  rejected_text: bool = True, compression: str = "zstd") -> dict:
    """Write the kept rows of ``frame`` (columns of ``rejected/``, ``stage`` null when kept) into ``documents/``
    and the others into ``rejected/`` (without text unless ``rejected_text``), as Parquet compressed with
    ``compression``; file names start with ``prefix``; ``struct_fields``: the fields of the ``signals`` and
    ``scores`` structs. Returns ``{"documents": {language: rows}, "rejected": rows}``."""
    kept_schema = output_schema(DOCUMENT_SCHEMA, struct_fields)
    rejected_schema = output_schema(REJECTED_SCHEMA, struct_fields)

    def write(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        task = TaskContext.get().partitionId()
        rows: dict[tuple[str, str | None], int] = {}
        with contextlib.ExitStack() as files:  # every file is committed when the task's rows are all written
            writers: dict[tuple[str, str | None], pq.ParquetWriter] = {}

            def write_part(kind: str, language: str | None, part: pa.Table, schema: pa.Schema) -> None:
                if (kind, language) not in writers:
                    folder = ([DOCUMENTS, f"language={HIVE_NULL if language is None else language}"]
                              if kind == DOCUMENTS else [REJECTED])
                    path = workdir.path(*folder, f"part-{prefix}-{task:05d}.parquet")
                    fh = files.enter_context(workdir.committed(path))
                    writers[kind, language] = files.enter_context(pq.ParquetWriter(fh, schema, compression=compression))
                writers[kind, language].write_table(_for_output(part, schema))
                rows[kind, language] = rows.get((kind, language), 0) + part.num_rows

            for batch in batches:
                table = pa.Table.from_batches([batch])
                kept = pc.is_null(table.column("stage"))
                documents = table.filter(kept)
                for language in pc.unique(documents.column("language")).to_pylist():
                    same = (pc.is_null(documents.column("language")) if language is None
                            else pc.equal(documents.column("language"), language))
                    write_part(DOCUMENTS, language, documents.filter(same), kept_schema)
                dropped = table.filter(pc.invert(kept))
                if dropped.num_rows:
                    if not rejected_text:
                        index = dropped.schema.get_field_index("text")
                        dropped = dropped.set_column(index, "text", pa.nulls(dropped.num_rows, pa.string()))
                    write_part(REJECTED, None, dropped, rejected_schema)
        yield pa.RecordBatch.from_pylist([{"kind": kind, "language": language, "rows": n}
                                          for (kind, language), n in rows.items()], schema=_COUNTS_ARROW)

    counts: dict = {DOCUMENTS: {}, REJECTED: 0}
    for row in frame.mapInArrow(write, _COUNTS).collect():
        if row["kind"] == DOCUMENTS:
            counts[DOCUMENTS][row["language"]] = counts[DOCUMENTS].get(row["language"], 0) + row["rows"]
        else:
            counts[REJECTED] += row["rows"]
    return counts
