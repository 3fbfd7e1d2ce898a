"""Benchmark: what the run's report costs (``OUT/report.html``, ``OUT/report.json``), on the sample and on a
larger input, and how large the page is.

For each input the job runs once with ``--io.keep-work true`` (the report's inputs are the last pass's files); the
report is then made again from those files ``--rounds`` times, the Spark part (:func:`report_data`: two
aggregations) and the page (:func:`render`: matplotlib) timed apart, with the Spark jobs they ran counted. The
time the job itself spent on its report (``report_seconds`` of the write phase's marker) is printed too.

Inputs: the sample shards, and the 990 pages of ../shared/data/extraction_trafilatura_eval written as WARC shards
by ``sample_data/build_sample_data.py --bench-all-pages`` (``--copies`` times under distinct URLs; 4 = "4x").

    python tests/benchmarks/bench_report.py [--cores 2] [--copies 4] [--shards 2] [--rounds 3] [--skip-sample]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_curate import each_input, input_options  # noqa: E402

from pipeline.config import CurateConfig  # noqa: E402
from pipeline.registry import FILTER  # noqa: E402
from pipeline.report import REPORT_HTML, REPORT_JSON, render, write_report  # noqa: E402
from pipeline.spark.curate import run_curation  # noqa: E402
from pipeline.spark.report_data import report_data  # noqa: E402
from pipeline.spark.schema import INDEX_SCHEMA  # noqa: E402
from pipeline.spark.unit_tasks import JUDGE, PLAN, TOKEN_KL, read_folder, read_pass  # noqa: E402
from pipeline.spark.workdir import WorkDir  # noqa: E402

GROUP = "bench-report"


def measure(name: str, spark, files_glob: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as out:
        config = CurateConfig().updated({"io": {"input": files_glob, "output": out, "keep_work": True}})
        started = time.perf_counter()
        stats = run_curation(spark, config, log=lambda line: None)
        job_seconds = time.perf_counter() - started
        workdir = WorkDir(out)
        in_job = workdir.phase_done("write")["report_seconds"]
        final = read_pass(spark, workdir, JUDGE if workdir.phase_done(JUDGE) else FILTER)
        index_rejected = read_folder(spark, workdir, INDEX_SCHEMA, PLAN, "rejected")
        fences = (workdir.phase_done(TOKEN_KL) or {}).get("judgements")
        print(f"\n== {name}: {stats.records_read:,} records, {stats.kept:,} kept, {stats.rejected:,} rejected; "
              f"job {job_seconds:.1f}s, of which its report {in_job:.2f}s")
        spark_times, render_times, jobs = [], [], []
        sc = spark.sparkContext
        for i in range(rounds):
            group = f"{GROUP}-{name}-{i}"  # the same group name again would count the earlier jobs too
            sc.setJobGroup(group, "report data")
            started = time.perf_counter()
            data = report_data(final, index_rejected, stats, config, fences)
            spark_times.append(time.perf_counter() - started)
            jobs.append(len(sc.statusTracker().getJobIdsForGroup(group)))
            started = time.perf_counter()
            render(data, stats.to_dict())
            render_times.append(time.perf_counter() - started)
        write_report(workdir, data, stats.to_dict())
        sizes = {name: os.path.getsize(os.path.join(out, name)) for name in (REPORT_HTML, REPORT_JSON)}
        print(f"report data (Spark): best {min(spark_times):.2f}s, median {statistics.median(spark_times):.2f}s "
              f"over {rounds} rounds; Spark jobs per round: {jobs}")
        print(f"page (matplotlib):   best {min(render_times):.2f}s, median {statistics.median(render_times):.2f}s")
        examples = sum(len(group["rows"]) for group in data["examples"])
        print(f"sizes: {REPORT_HTML} {sizes[REPORT_HTML] / 1e3:.0f} kB, {REPORT_JSON} {sizes[REPORT_JSON] / 1e3:.0f} "
              f"kB ({len(data['histograms'])} histograms, {examples} examples)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    input_options(parser, copies=4, shards=2)
    parser.add_argument("--rounds", type=int, default=3, help="times the report is made again (default 3)")
    args = parser.parse_args()
    each_input(args, "bench-report", lambda spark, name, files_glob: measure(name, spark, files_glob, args.rounds))


if __name__ == "__main__":
    main()
