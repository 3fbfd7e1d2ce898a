"""What one task of each per-unit pass does: plain Python over Parquet files, no Spark DataFrames.

- ``index`` (one input file): every WARC record as an index row (stage ``read``), its URL screened (``safety``);
- ``extract`` (a run of one file's records that survived URL dedup): decode and extract each page, then the
  steps of the extraction pass (language ID, PII, MinHash signature, line hashes), which need no corpus-wide result;
- ``filter`` (the same unit, after the dedup phase): the steps of the filter pass (the PII-site and near-duplicate
  verdicts, line dedup, quality scores, heuristics, token bins);
- ``judge`` (the same unit, after the corpus token statistics): the token-distribution KL verdict.

Each reads its unit's rows in batches of ``rows_per_batch``, runs the pass's steps over each batch in one go
(:func:`pipeline.steps.run_steps`) and streams the batches into the unit's output file, so a task holds one batch
at a time whatever the size of its unit.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Iterator, Sequence

import pyarrow as pa
from pyspark.sql.types import StructType

from pipeline.config import CurateConfig
from pipeline.heuristics.token_kl import TokenKlJudge
from pipeline.passes import pass_steps
from pipeline.registry import EXTRACT, FILTER
from pipeline.safety.url_safety import UrlSafetyFilter
from pipeline.spark.schema import EXTRACT_ARTIFACTS, EXTRACTED_SCHEMA, FILTER_ARTIFACTS, INDEX_SCHEMA
from pipeline.spark.stages import arrow_schema, to_batches
from pipeline.spark.workdir import WorkDir
from pipeline.steps import Document, Step, run_steps
from pipeline.warc.reader import ReadReport
from pipeline.warc.records import extract_documents, index_warc, screen_url

INDEX, PLAN, DEDUP, TOKEN_KL, JUDGE = "index", "plan", "dedup", "token_kl", "judge"
EXTRACT_PASS_SCHEMA = StructType(EXTRACTED_SCHEMA.fields + EXTRACT_ARTIFACTS.fields)
FILTER_PASS_SCHEMA = StructType(EXTRACTED_SCHEMA.fields + FILTER_ARTIFACTS.fields)


PASS_SCHEMAS = {INDEX: INDEX_SCHEMA, EXTRACT: EXTRACT_PASS_SCHEMA, FILTER: FILTER_PASS_SCHEMA, JUDGE: EXTRACTED_SCHEMA}


def unit_file(workdir: WorkDir, pass_name: str, unit: str) -> str:
    return workdir.work(pass_name, f"{unit}.parquet")


def read_pass(spark, workdir: WorkDir, pass_name: str):
    """Every unit file of a per-unit pass as one DataFrame (empty, with the pass's schema, when no unit had rows)."""
    return read_folder(spark, workdir, PASS_SCHEMAS[pass_name], pass_name)


def read_folder(spark, workdir: WorkDir, schema: StructType, *parts: str):
    """The Parquet files under ``_work/<parts>`` with their known schema (empty when a step wrote no row)."""
    workdir.makedirs(workdir.work(*parts))
    return spark.read.schema(schema).parquet(workdir.work(*parts))


def document_batches(rows: Iterable[dict], steps: Sequence[Step], schema: StructType, rows_per_batch: int,
                     artifacts_in: Sequence[str] = (), decisions: dict[str, dict] | None = None
                     ) -> Iterator[pa.RecordBatch]:
    """``rows`` (output-schema columns, plus ``artifacts_in`` columns) as documents, through ``steps`` one batch
    at a time, as Arrow batches of ``schema`` (whose columns beyond the documents' are artifacts)."""
    artifacts_out = [f.name for f in schema.fields if f.name not in EXTRACTED_SCHEMA.names]
    arrow = arrow_schema(schema)
    batch: list[Document] = []

    def flush() -> pa.RecordBatch:
        run_steps(batch, steps)
        return pa.RecordBatch.from_pylist(
            [{**doc.to_row(), **{name: doc.artifacts.get(name) for name in artifacts_out}} for doc in batch],
            schema=arrow)

    for row in rows:
        doc = Document.from_row(row)
        doc.artifacts = {name: row.get(name) for name in artifacts_in}
        doc.decision = (decisions or {}).get(doc.id, {})
        batch.append(doc)
        if len(batch) >= rows_per_batch:
            yield flush()
            batch = []
    if batch:
        yield flush()


def rows_of(batches: Iterable[pa.RecordBatch]) -> Iterator[dict]:
    for batch in batches:
        yield from batch.to_pylist()


def index_unit(workdir: WorkDir, unit: str, path: str, source_file: str, config: CurateConfig,
               safety: UrlSafetyFilter) -> dict:
    """Stages ``read`` and ``safety`` of one input file, into ``_work/index/<unit>.parquet``."""
    report = ReadReport()
    rows = (screen_url(row, safety) if row["stage"] is None else row
            for row in index_warc(path, source_file, config.record, report))
    written = workdir.write_parquet(unit_file(workdir, INDEX, unit),
                                    to_batches(rows, INDEX_SCHEMA, config.spark.rows_per_batch),
                                    arrow_schema(INDEX_SCHEMA))
    return {"rows": written, "source_file": source_file, "read": dataclasses.asdict(report)}


@functools.lru_cache(maxsize=4)
def _extractor(extraction_config):
    """One extractor per Python worker and config (built lazily, reused across tasks)."""
    from pipeline.extraction.html import HtmlExtractor

    return HtmlExtractor(extraction_config)


def extract_unit(workdir: WorkDir, unit: str, config: CurateConfig) -> dict:
    """The extraction pass over one unit's records (their index rows are under ``_work/plan/pending/unit=<unit>``),
    into ``_work/extract/<unit>.parquet``."""
    wanted = workdir.read_parquet(workdir.work(PLAN, "pending", f"unit={unit}")).sort_by("source_record").to_pylist()
    rows = extract_documents(wanted[0]["source_file"], wanted, _extractor(config.extraction))
    batches = document_batches(rows, pass_steps(EXTRACT, config), EXTRACT_PASS_SCHEMA, config.spark.rows_per_batch)
    return {"documents": workdir.write_parquet(unit_file(workdir, EXTRACT, unit), batches,
                                               arrow_schema(EXTRACT_PASS_SCHEMA))}


def _decisions(workdir: WorkDir, unit: str) -> dict[str, dict]:
    """The dedup phase's decisions about the documents of one unit, by id: ``verdicts`` (stage -> reason and
    detail) and ``removed_lines``."""
    table = workdir.read_parquet(workdir.work(DEDUP, "decisions", f"unit={unit}"))
    decisions: dict[str, dict] = {}
    for row in table.to_pylist() if table is not None else ():
        decision = decisions.setdefault(row["id"], {"verdicts": {}, "removed_lines": None})
        if row["stage"]:
            decision["verdicts"][row["stage"]] = {"reason": row["reason"], "detail": row["detail"]}
        if row["removed_lines"]:
            decision["removed_lines"] = row["removed_lines"]
    return decisions


def filter_unit(workdir: WorkDir, unit: str, config: CurateConfig) -> dict:
    """The filter pass over one unit's extracted documents, into ``_work/filter/<unit>.parquet``."""
    rows = rows_of(workdir.iter_batches(unit_file(workdir, EXTRACT, unit), config.spark.rows_per_batch))
    batches = document_batches(rows, pass_steps(FILTER, config), FILTER_PASS_SCHEMA, config.spark.rows_per_batch,
                               artifacts_in=EXTRACT_ARTIFACTS.names, decisions=_decisions(workdir, unit))
    return {"documents": workdir.write_parquet(unit_file(workdir, FILTER, unit), batches,
                                               arrow_schema(FILTER_PASS_SCHEMA))}


def judge_unit(workdir: WorkDir, unit: str, config: CurateConfig, judge: TokenKlJudge) -> dict:
    """The token-distribution KL verdict over one unit's filtered documents, into ``_work/judge/<unit>.parquet``."""
    rows = rows_of(workdir.iter_batches(unit_file(workdir, FILTER, unit), config.spark.rows_per_batch))
    batches = document_batches(rows, [judge], EXTRACTED_SCHEMA, config.spark.rows_per_batch,
                               artifacts_in=FILTER_ARTIFACTS.names)
    return {"documents": workdir.write_parquet(unit_file(workdir, JUDGE, unit), batches,
                                               arrow_schema(EXTRACTED_SCHEMA))}
