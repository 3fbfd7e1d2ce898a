"""Runs the way users start them and clusters break them: ``spark-submit`` with its own ``--master`` and
``--conf``, a driver killed and the same command run again, an executor killed mid-run, and an output folder that
holds another run.

Each run here is compared with an undisturbed in-process run of the same two sample shards: the kept documents
(ids and texts) and the rejected records (stage, reason, detail) must be identical.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import REPO

from pipeline.config import CurateConfig, IoConfig, SparkConfig
from pipeline.spark.curate import CurationRun, RunConflict, run_curation
from pipeline.warc.inputs import expand_inputs

SHARDS = [REPO / "sample_data" / "shards" / f"sample-000{i}.warc.gz" for i in (0, 1)]
INPUT = ",".join(map(str, SHARDS))
# Small units, so that a run killed in its extraction pass has some units done and some not.
SMALL_UNITS = ["--spark.records-per-unit", "10"]


def spark_submit() -> str:
    found = shutil.which("spark-submit", path=str(Path(sys.executable).parent)) or shutil.which("spark-submit")
    assert found, "spark-submit (from the pyspark package) is not on PATH"
    return found


def submit(out: Path, master: str, *options: str, input_spec: str = INPUT,
           job_options: tuple[str, ...] = tuple(SMALL_UNITS)) -> subprocess.Popen:
    """``spark-submit --master <master> [options] jobs/curate.py --input <input> --output <out> [job options]``
    (by default the two shards in small units), in its own process group (so the driver can be killed with all it
    started)."""
    command = [spark_submit(), "--master", master, *options, str(REPO / "jobs" / "curate.py"),
               "--input", input_spec, "--output", str(out), *job_options]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = 900) -> str:
    output, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, output[-4000:]
    return output


def outcome(out: Path) -> tuple[dict, dict]:
    """(kept id -> text, rejected id -> (stage, reason, detail)) of a finished run's output."""
    documents = {r["id"]: r["text"] for r in pq.read_table(out / "documents").to_pylist()}
    rejected = {r["id"]: (r["stage"], r["reason"], r["detail"]) for r in pq.read_table(out / "rejected").to_pylist()}
    return documents, rejected


def wait_for(condition, what: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the job ended before {what}: {proc.communicate()[0][-3000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def units_done(out: Path, phase: str) -> int:
    folder = out / "_work" / phase / "_done"
    return len(list(folder.glob("*.json"))) if folder.is_dir() else 0


@pytest.fixture(scope="module")
def reference(spark, tmp_path_factory):
    """The undisturbed run of the two shards, in process, with the default (large) units."""
    out = tmp_path_factory.mktemp("reference")
    config = dataclasses.replace(CurateConfig(), io=IoConfig(input=INPUT, output=str(out)))
    stats = run_curation(spark, config, log=lambda line: None)
    assert stats.balanced and stats.kept > 50
    return outcome(out)


def test_spark_submit_takes_its_master_and_conf_and_a_cluster_matches_local_mode(reference, tmp_path):
    """spark-submit's --master and --conf win over the job's defaults: two executor processes
    (local-cluster), Parquet compressed as --conf says; the output equals the local run's."""
    out = tmp_path / "cluster"
    log = finish(submit(out, "local-cluster[2,1,1024]", "--conf", "spark.sql.parquet.compression.codec=snappy",
                        "--conf", "spark.executor.memory=900m"))
    assert "(Spark master local-cluster[2,1,1024])" in log and "records read" in log
    assert outcome(out) == reference
    written = list((out / "documents").rglob("*.parquet")) + list((out / "rejected").rglob("*.parquet"))
    codecs = {pq.ParquetFile(path).metadata.row_group(0).column(0).compression for path in written}
    assert written and codecs == {"SNAPPY"}


def test_a_killed_driver_resumes_where_it_stopped(reference, tmp_path):
    out = tmp_path / "resumed"
    first = submit(out, "local[2]")
    wait_for(lambda: units_done(out, "extract") >= 3, "three extraction units to finish", first)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done = units_done(out, "extract")
    assert not (out / "documents").exists()
    log = finish(submit(out, "local[2]"))
    assert "resuming the unfinished run" in log and f"[extract] resuming: {done} of " in log
    assert "[index] done" not in log  # finished phases are not redone
    assert outcome(out) == reference
    assert not (out / "_work" / "extract").exists()  # the run's work files are gone once it is finished
    # The same command on the finished run does nothing and changes nothing.
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    again = finish(submit(out, "local[2]"))
    assert "already holds this finished run" in again
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")} == before


def executors(session: int) -> list[int]:
    """Pids of the executor JVMs started by the job whose process group is ``session``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            if b"CoarseGrainedExecutorBackend" in command and os.getsid(int(entry.name)) == session:
                pids.append(int(entry.name))
        except (OSError, ProcessLookupError):
            continue
    return pids


def test_losing_an_executor_mid_run_costs_nothing(reference, tmp_path):
    out = tmp_path / "executor-lost"
    proc = submit(out, "local-cluster[2,1,1024]", "--conf", "spark.executor.memory=900m")
    wait_for(lambda: units_done(out, "extract") >= 2 and len(executors(proc.pid)) == 2,
             "extraction on two executors", proc)
    victim = executors(proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    log = finish(proc)
    assert not Path(f"/proc/{victim}").exists()
    assert outcome(out) == reference, log[-3000:]


def test_another_config_or_input_is_refused_and_explained(spark, tmp_path):
    out = tmp_path / "run"
    config = dataclasses.replace(CurateConfig(), io=IoConfig(input=str(SHARDS[0]), output=str(out)))
    run = CurationRun(spark, config, log=lambda line: None)
    assert run._start(expand_inputs(config.io.input)) is None  # a new run: recorded, to be run
    recorded = json.loads((out / "_work" / "run.json").read_text())
    assert recorded["config"]["minhash.threshold"] == 0.8 and recorded["inputs"]["files"] == 1
    changed = config.updated({"minhash": {"threshold": 0.7}, "spark": {"records_per_unit": 50}})
    with pytest.raises(RunConflict) as conflict:
        CurationRun(spark, changed, log=lambda line: None)._start(expand_inputs(config.io.input))
    message = str(conflict.value)
    assert "minhash.threshold: 0.8 then, 0.7 now" in message and "spark.records_per_unit" in message
    assert "--overwrite" in message
    more_input = dataclasses.replace(config, io=dataclasses.replace(config.io, input=INPUT))
    with pytest.raises(RunConflict, match="inputs: 1 file"):
        CurationRun(spark, more_input, log=lambda line: None)._start(expand_inputs(INPUT))
    # --overwrite starts over: the folder is emptied and the new run recorded.
    (out / "_work" / "index").mkdir()
    overwrite = dataclasses.replace(changed, io=dataclasses.replace(changed.io, overwrite=True))
    assert CurationRun(spark, overwrite, log=lambda line: None)._start(expand_inputs(config.io.input)) is None
    assert not (out / "_work" / "index").exists()
    assert json.loads((out / "_work" / "run.json").read_text())["config"]["minhash.threshold"] == 0.7


def test_a_folder_that_holds_something_else_is_not_touched(spark, tmp_path):
    (tmp_path / "notes.txt").write_text("not a run")
    config = dataclasses.replace(CurateConfig(), io=IoConfig(input=str(SHARDS[0]), output=str(tmp_path)))
    with pytest.raises(RunConflict, match="holds no run of this job"):
        CurationRun(spark, config, log=lambda line: None)._start(expand_inputs(config.io.input))
    assert (tmp_path / "notes.txt").read_text() == "not a run"


def test_progress_lines_and_job_descriptions(spark, tmp_path):
    config = dataclasses.replace(CurateConfig(), io=IoConfig(input=str(SHARDS[1]), output=str(tmp_path)),
                                 spark=SparkConfig(records_per_unit=10, progress_seconds=0.5))
    lines: list[str] = []
    run_curation(spark, config, log=lines.append)
    assert any(line.startswith("[extract] ") and "records/s" in line and " of " in line for line in lines), lines
    tracker = spark.sparkContext.statusTracker()
    for phase in ("index", "plan", "extract", "dedup", "filter", "write"):
        assert tracker.getJobIdsForGroup(phase), phase
