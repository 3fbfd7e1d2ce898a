"""Benchmark: what a lost driver and a lost executor cost, through ``spark-submit`` as users run it.

Input: the 990 pages of ../shared/data/extraction_trafilatura_eval x ``--copies`` under distinct URLs, in
``--shards`` WARC files (``sample_data/build_sample_data.py --bench-all-pages``; 4 copies in 2 shards = 3,960
records). Three runs, each compared with the first (kept ids and texts, rejected ids with stage and reason):

1. undisturbed, ``--master local[<cores>]``: its wall time is the reference;
2. the driver killed (SIGKILL of spark-submit's process group) at ``--kill-at`` of the reference time, then the
   same command again: the second command's wall time as a share of the reference (target: under 70%);
3. ``--master local-cluster[2,1,2048]``, one executor JVM killed at ``--kill-at`` of its own undisturbed estimate
   (the reference time): exit status and output.

    python tests/benchmarks/bench_resume.py [--copies 4] [--shards 2] [--cores 2] [--kill-at 0.5]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from test_runs import executors, outcome, submit  # noqa: E402


def timed(proc: subprocess.Popen) -> tuple[float, str, int]:
    started = time.perf_counter()
    output, _ = proc.communicate()
    return time.perf_counter() - started, output, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--kill-at", type=float, default=0.5, help="when to kill, as a share of the reference time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        shards = Path(tmp) / "shards"
        subprocess.run([sys.executable, str(REPO / "sample_data" / "build_sample_data.py"), "--bench-all-pages",
                        "--out", str(shards), "--shards", str(args.shards), "--copies", str(args.copies)],
                       check=True, stdout=subprocess.DEVNULL)
        spec, local, no_options = str(shards / "*.warc.gz"), f"local[{args.cores}]", ()

        reference_seconds, log, status = timed(submit(Path(tmp) / "reference", local, input_spec=spec,
                                                      job_options=no_options))
        assert status == 0, log[-3000:]
        reference = outcome(Path(tmp) / "reference")
        records = log.split("records read ")[1].split(" ")[0]
        print(f"undisturbed: {reference_seconds:.1f}s wall, {records} records, {len(reference[0]):,} kept "
              f"({local})")

        resumed = Path(tmp) / "resumed"
        first = submit(resumed, local, input_spec=spec, job_options=no_options)
        time.sleep(args.kill_at * reference_seconds)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        done = len(list((resumed / "_work" / "extract" / "_done").glob("*.json")))
        rerun_seconds, log, status = timed(submit(resumed, local, input_spec=spec, job_options=no_options))
        assert status == 0, log[-3000:]
        print(f"driver killed at {args.kill_at:.0%} ({done} extraction units done), same command again: "
              f"{rerun_seconds:.1f}s = {rerun_seconds / reference_seconds:.0%} of the undisturbed run; "
              f"output identical: {outcome(resumed) == reference}")

        lost = Path(tmp) / "executor-lost"
        cluster = "local-cluster[2,1,2048]"
        proc = submit(lost, cluster, "--conf", "spark.executor.memory=1800m", input_spec=spec,
                      job_options=no_options)
        started = time.perf_counter()
        time.sleep(args.kill_at * reference_seconds)
        victims = executors(proc.pid)
        if victims:
            os.kill(victims[0], signal.SIGKILL)
        _, log, status = timed(proc)
        identical = status == 0 and outcome(lost) == reference
        print(f"{cluster}: executor {victims[:1]} killed at {args.kill_at:.0%}: exit {status}, "
              f"{time.perf_counter() - started:.1f}s wall; output identical: {identical}")


if __name__ == "__main__":
    main()
