"""The curation job as a short sequence of durable phases (Llama 3 §3.1.1 in the paper's order):

1. ``index`` (per input file): every WARC record's index row, screened (``read``) and its URL checked (``safety``);
2. ``plan`` (Spark): URL dedup over the whole index, and the surviving records cut into units of work, runs of
   ``records_per_unit`` records of one file;
3. ``extract`` (per unit): extraction, language ID, PII detection, MinHash signature, line hashes;
4. ``dedup`` (Spark aggregations over small columns): PII-heavy sites, near duplicates, frequent lines;
5. ``filter`` (per unit): those decisions applied, line dedup, quality scores, heuristics, token bins;
6. ``token_kl`` (Spark aggregations) and ``judge`` (per unit): corpus token statistics and the KL verdict;
7. ``write`` (Spark): ``documents/`` by language, ``rejected/``, ``stats.json``.

Every phase writes its result under ``OUT/_work/`` with a completion marker (:mod:`pipeline.spark.workdir`), and
nothing is only cached or locally checkpointed: an executor lost in a phase costs the tasks it ran, which Spark
reruns from the durable files; a driver lost costs the phase (or, in a per-unit pass, the units) in flight, and
running the same command again continues from there. ``OUT/_work/run.json`` records the config, inputs and
versions the run was started with: a rerun with other ones is refused with the differences spelled out, unless
``--overwrite`` starts over.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import time
from collections.abc import Callable
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from pipeline.config import CurateConfig, to_toml
from pipeline.heuristics.token_kl import TokenKlJudge
from pipeline.multilingual.language_id import default_model_path
from pipeline.quality.fasttext_classifier import SHIPPED_MODEL
from pipeline.registry import EXTRACT, FILTER, STAGES, TRIM_SIGNALS
from pipeline.report import REPORT_HTML, write_report
from pipeline.resources import shipped
from pipeline.safety.url_safety import UrlSafetyFilter
from pipeline.spark.dedup_phase import DedupPhase
from pipeline.spark.outputs import DOCUMENTS, REJECTED, as_rejected, map_keys, parquet_codec, write_outputs
from pipeline.spark.report_data import report_data
from pipeline.spark.schema import INDEX_SCHEMA
from pipeline.spark.stages import pending, rejected, url_dedup_stage
from pipeline.spark.stats import RunStats, build_stats, format_summary, language_table
from pipeline.spark.token_kl_phase import CorpusJudgements, TokenKlPhase
from pipeline.spark.unit_tasks import (
    DEDUP,
    INDEX,
    JUDGE,
    PLAN,
    TOKEN_KL,
    extract_unit,
    filter_unit,
    index_unit,
    judge_unit,
    read_folder,
    read_pass,
)
from pipeline.spark.units import Unit, describe, run_units
from pipeline.spark.workdir import DONE, PHASES, WorkDir
from pipeline.warc.inputs import expand_inputs
from pipeline.warc.reader import source_name

WRITE = "write"
RUN_FILE = "run.json"
# Index rows that stand for damaged input (a record that could not be read, or a region skipped to resynchronise).
DAMAGE = ("read_error", "oversized_header")
_MARKER_SCHEMA = ("source_file string, read struct<records: long, damaged: long, recovered: long, "
                  "bytes_skipped: long, complete: boolean>")
# Config fields that do not change what a run computes: where and whether it is written, how often it reports.
_NOT_IDENTITY = {("io", "output"), ("io", "overwrite"), ("io", "keep_work"), ("spark", "progress_seconds")}


class RunConflict(Exception):
    """The output folder holds something this run must not continue or replace without ``--overwrite``."""


def _flat(config: CurateConfig) -> dict[str, object]:
    """``{"section.field": value}`` of every field that decides what the run computes."""
    flat = {}
    for section, values in dataclasses.asdict(config).items():
        if isinstance(values, dict) and section not in ("languages", "domains"):
            flat.update({f"{section}.{k}": v for k, v in values.items() if (section, k) not in _NOT_IDENTITY})
        else:
            flat[section] = values
    return json.loads(json.dumps(flat, default=str, sort_keys=True))


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _file_digest(read: Callable[[], bytes]) -> str:
    try:
        return "sha256:" + hashlib.sha256(read()).hexdigest()[:16]
    except (OSError, ModuleNotFoundError) as exc:
        return f"unavailable ({type(exc).__name__})"


def run_versions(config: CurateConfig) -> dict[str, str]:
    """The versions that decide what a run computes: the project, its main libraries and the model files."""
    versions = {name: _version(name) for name in ("llama3-curation", "trafilatura", "fastwarc", "fasttext-numpy2",
                                                  "pyspark")}
    lid = config.language_id.model_path
    versions["lid.176"] = _file_digest(lambda: (Path(lid) if lid else default_model_path()).read_bytes())
    quality = config.quality.wikipedia_model
    if quality.lower() != "none":
        versions["wikipedia_fasttext"] = _file_digest(
            lambda: Path(quality).read_bytes() if quality else shipped(SHIPPED_MODEL).read_bytes())
    return versions


def run_identity(config: CurateConfig, paths: list[str]) -> dict:
    """What a run is made from (config, inputs, versions) and its fingerprint."""
    identity = {
        "config": _flat(config),
        "inputs": {"files": len(paths), "sha256": hashlib.sha256("\n".join(paths).encode()).hexdigest()},
        "versions": run_versions(config),
    }
    identity["fingerprint"] = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return identity


def explain_difference(before: dict, now: dict) -> list[str]:
    """What changed between the identity a run was started with and this one's, one line per change."""
    lines = []
    old, new = before.get("config", {}), now["config"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            lines.append(f"  {key}: {old.get(key, '(absent)')!r} then, {new.get(key, '(absent)')!r} now")
    if before.get("inputs") != now["inputs"]:
        lines.append(f"  inputs: {before.get('inputs', {}).get('files')} file(s) then, {now['inputs']['files']} "
                     "now (or other files)")
    for name, version in now["versions"].items():
        if before.get("versions", {}).get(name) != version:
            lines.append(f"  {name} version: {before.get('versions', {}).get(name)} then, {version} now")
    return lines


def _ledger(df: DataFrame, payload_col: str, text_col: str | None) -> DataFrame:
    """(stage, reason, language, records, payload bytes, text bytes, tokens, bytes trimmed by each stage of
    TRIM_SIGNALS) aggregated: the input of the statistics and of the per-language table."""
    def total(column):
        return F.coalesce(F.sum(column), F.lit(0)) if text_col else F.lit(0)

    language = F.col("language") if text_col else F.lit(None).cast("string")
    return df.groupBy("stage", "reason", language.alias("language")).agg(
        F.count(F.lit(1)).alias("records"),
        F.coalesce(F.sum(payload_col), F.lit(0)).alias("payload_bytes"),
        total(F.octet_length(text_col) if text_col else None).alias("text_bytes"),
        *[total(F.col("signals")[signal]).cast("long").alias(f"trimmed_{stage}")
          for stage, signal in TRIM_SIGNALS.items()],
        total(F.col("signals")["tokens"]).alias("tokens"),
    )


class CurationRun:
    """One run of the job over ``config``; ``run()`` returns the statistics (also written as stats.json)."""

    def __init__(self, spark: SparkSession, config: CurateConfig, log: Callable[[str], None] = print):
        self.spark, self.config, self.log = spark, config, log
        self.workdir = WorkDir(config.io.output)
        self.seconds: dict[str, float] = {}

    def _phase(self, name: str, run: Callable[[], object]) -> None:
        """Run one Spark phase unless its marker says it is done; time it and mark it done."""
        done = self.workdir.phase_done(name)
        if done is not None:
            self.seconds[name] = done.get("seconds", 0.0)
            return
        started = time.perf_counter()
        summary = run() or {}
        self.seconds[name] = round(time.perf_counter() - started, 3)
        self.workdir.finish_phase(name, {**summary, "seconds": self.seconds[name]})
        self.log(f"[{name}] done in {self.seconds[name]:.1f}s")

    def _units_pass(self, name: str, units: list[Unit], process: Callable[[str], dict], noun: str = "records"
                    ) -> None:
        """A per-unit pass, resumed where it stopped."""

        def run():
            previously = len(self.workdir.done_units(name))
            if previously:
                self.log(f"[{name}] resuming: {previously:,} of {len(units):,} units were done")
            run_units(self.spark.sparkContext, self.workdir, name, units, process, self.log,
                      self.config.spark.progress_seconds, noun)
            return {"units": len(units)}

        self._phase(name, run)

    def _start(self, paths: list[str]) -> RunStats | None:
        """Check the output folder against this run: start, resume, or (for the same finished run) return its
        statistics. Raises RunConflict when the folder holds something else."""
        identity = run_identity(self.config, paths)
        self.workdir.run = identity["fingerprint"]
        output = self.workdir.output
        if self.config.io.overwrite and self.workdir.exists(output):
            self.log(f"curate: --overwrite: removing {output}")
            self.workdir.remove(output)
        started = self.workdir.read_json(self.workdir.work(RUN_FILE))
        if started is None:
            if self.workdir.list_names(output):
                raise RunConflict(f"{output} exists and holds no run of this job (or a finished one whose _work/ "
                                  "was deleted): choose another --output, or pass --overwrite to replace it")
            self.workdir.write_json(self.workdir.work(RUN_FILE), identity)
            return None
        if started["fingerprint"] != identity["fingerprint"]:
            raise RunConflict("\n".join([f"{output} holds a run made from other settings:",
                                         *explain_difference(started, identity),
                                         "Run with the settings it was made from to resume or keep it, or pass "
                                         "--overwrite to start over."]))
        if self.workdir.phase_done(WRITE):
            self.log(f"curate: {output} already holds this finished run; nothing to do (--overwrite to redo it)")
            if not self.config.io.keep_work:
                self._remove_work_files()  # a crash during the first run's clean-up left some behind
            return RunStats.from_dict(self.workdir.read_json(self.workdir.path("stats.json")))
        self.log(f"curate: resuming the unfinished run in {output}")
        return None

    def run(self) -> RunStats:
        cfg = self.config
        paths = expand_inputs(cfg.io.input, cfg.io.input_prefix)
        self.log(f"curate: {len(paths)} WARC file(s) -> {self.workdir.output} "
                 f"(Spark master {self.spark.sparkContext.master})")
        finished = self._start(paths)
        if finished is not None:
            return finished
        context = self.spark.sparkContext
        if not context.getConf().contains("spark.checkpoint.dir"):  # the user's --conf wins
            # MinHash removal checkpoints its rounds reliably: this run's own place, which every executor reaches
            context.setCheckpointDir(self.workdir.work(DEDUP, "checkpoints"))
        self._index(paths)
        self._phase(PLAN, lambda: self._plan(paths))
        units = [Unit(unit, records) for unit, records in sorted(self.workdir.phase_done(PLAN)["units"].items())]
        workdir = self.workdir
        self._units_pass(EXTRACT, units, lambda unit: extract_unit(workdir, unit, cfg))
        self._phase(DEDUP, DedupPhase(self.spark, workdir, cfg, self.log).run)
        self._units_pass(FILTER, units, lambda unit: filter_unit(workdir, unit, cfg))
        judgements = TokenKlPhase(self.spark, workdir, cfg, self.log).run()
        final = FILTER
        if judgements:
            judge = TokenKlJudge(CorpusJudgements(workdir, judgements, cfg), cfg.token_kl.group_by)
            self._units_pass(JUDGE, units, lambda unit: judge_unit(workdir, unit, cfg, judge))
            final = JUDGE
        self._phase(WRITE, lambda: self._write(final, len(paths)))
        stats = RunStats.from_dict(self.workdir.read_json(self.workdir.path("stats.json")))
        if not cfg.io.keep_work:
            self._remove_work_files()
        self.log(format_summary(stats))
        self.log(f"report: {self.workdir.path(REPORT_HTML)}")
        return stats

    def _read_reports(self) -> dict[str, int]:
        """The readers' per-file accounting (in the index pass's unit markers), summed by one Spark aggregation."""
        markers = self.spark.read.schema(_MARKER_SCHEMA).option("multiLine", "true").json(
            self.workdir.work(INDEX, DONE))
        read = F.col("read")
        totals = markers.agg(*[F.coalesce(F.sum(read[name]), F.lit(0)).cast("long").alias(name)
                               for name in ("records", "damaged", "recovered", "bytes_skipped")],
                             F.sum((read["damaged"] > 0).cast("long")).alias("damaged_files")).first()
        return {name: int(totals[name] or 0) for name in totals.asDict()}

    def _remove_work_files(self) -> None:
        """Everything under ``_work/`` but the run's identity and the phase markers, which stay so that the same
        command run again (even after a crash in here) finds the finished run."""
        for name in self.workdir.list_names(self.workdir.work()):
            if name not in (RUN_FILE, PHASES):
                self.workdir.remove(self.workdir.work(name))

    def _index(self, paths: list[str]) -> None:
        cfg, workdir = self.config, self.workdir
        safety = self.spark.sparkContext.broadcast(UrlSafetyFilter.from_config(cfg.safety))
        files = [Unit(f"{i:06d}", 1) for i in range(len(paths))]
        try:
            self._units_pass(INDEX, files, lambda unit: index_unit(
                workdir, unit, paths[int(unit)], source_name(paths[int(unit)]), cfg, safety.value), noun="files")
        finally:
            safety.unpersist()

    def _plan(self, paths: list[str]) -> dict:
        """URL dedup over the whole index, then the surviving records of each file cut into units of at most
        ``records_per_unit`` consecutive records (small units keep every core busy to the end and bound
        what a crash costs). Returns the units and their records (per-unit numbers, not per-record data)."""
        describe(self.spark.sparkContext, PLAN, "URL dedup and units of work")
        index = read_pass(self.spark, self.workdir, INDEX)
        deduped = url_dedup_stage(index) if self.config.url_dedup.enabled else index
        files = self.spark.createDataFrame([(source_name(p), f"{i:06d}") for i, p in enumerate(paths)],
                                           "source_file string, file_unit string")
        per_task = max(self.config.spark.records_per_unit, 1)
        by_file = Window.partitionBy("source_file").orderBy("source_record").rowsBetween(Window.unboundedPreceding,
                                                                                          Window.currentRow)
        kept_before = F.sum(F.col("stage").isNull().cast("int")).over(by_file) - 1  # this record's place among them
        chunk = F.lpad(F.floor(kept_before / per_task).cast("string"), 5, "0")
        # Persisted (memory and disk, recomputable from the index files) for its three uses below.
        planned = (deduped.join(F.broadcast(files), "source_file")
                   .withColumn("unit", F.when(F.col("stage").isNull(), F.concat_ws("-", "file_unit", chunk)))
                   .drop("file_unit").persist(StorageLevel.MEMORY_AND_DISK))
        try:
            pending(planned).repartition("unit").write.mode("overwrite").partitionBy("unit").parquet(
                self.workdir.work(PLAN, "pending"))
            rejected(planned).drop("unit").write.mode("overwrite").parquet(self.workdir.work(PLAN, "rejected"))
            units = dict(pending(planned).groupBy("unit").count().collect())
        finally:
            planned.unpersist()
        return {"units": units}

    def _write(self, final_pass: str, input_files: int) -> dict:
        cfg, sc = self.config, self.spark.sparkContext
        final = read_pass(self.spark, self.workdir, final_pass)
        index_rejected = read_folder(self.spark, self.workdir, INDEX_SCHEMA, PLAN, "rejected")
        for folder in (DOCUMENTS, REJECTED):  # a write interrupted earlier leaves files of other names
            self.workdir.remove(self.workdir.path(folder))
        describe(sc, WRITE, "documents/ and rejected/")
        documents = as_rejected(final)
        if not cfg.io.write_rejected:
            documents = documents.where(F.col("stage").isNull())
        if cfg.spark.output_files:
            documents = documents.coalesce(cfg.spark.output_files)
        struct_fields = map_keys(final, ["signals", "scores"])
        codec = parquet_codec(self.spark)
        written = write_outputs(documents, self.workdir, "d", struct_fields, cfg.io.rejected_text, codec)
        if cfg.io.write_rejected:
            describe(sc, WRITE, "rejected/ of the records dropped before extraction")
            dropped = as_rejected(index_rejected.withColumnRenamed("payload_bytes", "html_bytes"))
            if cfg.spark.output_files:
                dropped = dropped.coalesce(cfg.spark.output_files)
            written[REJECTED] += write_outputs(dropped, self.workdir, "r", struct_fields,
                                              compression=codec)[REJECTED]
        describe(sc, WRITE, "statistics")
        ledger = [r.asDict() for r in _ledger(index_rejected, "payload_bytes", None)
                  .unionByName(_ledger(final, "html_bytes", "text")).collect()]
        trimmed = [f"trimmed_{stage}" for stage in TRIM_SIGNALS]
        rows = [(r["stage"], r["reason"], r["records"], r["payload_bytes"], r["text_bytes"], *[r[t] for t in trimmed])
                for r in ledger]
        problems = []
        if any(r["reason"] in DAMAGE for r in ledger):
            problems = [r.asDict() for r in index_rejected.where(F.col("reason").isin(*DAMAGE))
                        .select("source_file", "source_record", "reason", "detail")
                        .orderBy("source_file", "source_record").limit(1000).collect()]
        stats = build_stats(rows, STAGES, trim_stages=tuple(TRIM_SIGNALS), input_files=input_files,
                            input_problems=problems)
        stats.input_read = self._read_reports()
        if cfg.language_id.enabled:
            stats.languages = language_table((r["language"], r["stage"], r["records"], r["tokens"]) for r in ledger
                                             if r["language"] is not None)
        stats.phase_seconds = dict(self.seconds)
        stats.versions = run_versions(cfg)
        if sum(written[DOCUMENTS].values()) != stats.kept:
            raise RuntimeError(f"documents/ holds {sum(written[DOCUMENTS].values())} rows, the statistics {stats.kept}")
        self.workdir.write_json(self.workdir.path("stats.json"), stats.to_dict())
        header = ("The effective configuration of this run; the same run again:\n"
                  "  spark-submit jobs/curate.py --config config.toml --input ... --output ...\n"
                  + "".join(f"{name}: {version}\n" for name, version in stats.versions.items()))
        with self.workdir.committed(self.workdir.path("config.toml")) as fh:
            fh.write(to_toml(cfg, header).encode("utf-8"))
        describe(sc, WRITE, "report: signal histograms and examples of each drop reason")
        started, fences = time.perf_counter(), (self.workdir.phase_done(TOKEN_KL) or {}).get("judgements")
        write_report(self.workdir, report_data(final, index_rejected, stats, cfg, fences), stats.to_dict())
        report_seconds = round(time.perf_counter() - started, 2)
        return {"balanced": stats.balanced, "written": written, "report_seconds": report_seconds}


def run_curation(spark: SparkSession, config: CurateConfig, log: Callable[[str], None] = print) -> RunStats:
    return CurationRun(spark, config, log).run()

