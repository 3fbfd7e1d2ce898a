"""Benchmark: the curation job against a bare single-process ``trafilatura.extract`` loop over the same pages.

Prints, for each input: per-phase wall time, documents/s per core, peak memory (RSS of the driver, its JVM and
the Python workers together, sampled every 0.1 s), and the ratio of the job's throughput per core to

- a bare single-process ``trafilatura.extract(html_bytes)`` loop (the reference the issue names), and
- a single-process loop of the project's own extractor (``HtmlExtractor``), so that the cost of everything that
  is not extraction (reading, screening, URL dedup, shuffles, writing) shows as ``overhead``.

Inputs: the sample shards, and the 990 pages of ../shared/data/extraction_trafilatura_eval written as WARC shards
by ``sample_data/build_sample_data.py --bench-all-pages`` (repeated ``--copies`` times under distinct URLs).

    python tests/benchmarks/bench_curate.py [--cores 2] [--copies 1] [--skip-sample]
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak_memory import PeakMemory  # noqa: E402

from pipeline.config import CurateConfig, IoConfig  # noqa: E402
from pipeline.warc.reader import WarcRecord, read_warc  # noqa: E402
from pipeline.warc.screening import screen_record  # noqa: E402


def html_pages(files: list[str]) -> list[tuple[bytes, str | None, str]]:
    """(payload, HTTP charset, URL) of every record the job would extract (before URL dedup)."""
    pages = []
    for path in files:
        wanted = {r.ordinal for r in read_warc(path) if isinstance(r, WarcRecord) and screen_record(r) is None}
        for r in read_warc(path, want_payload=wanted.__contains__):
            if isinstance(r, WarcRecord) and r.ordinal in wanted:
                pages.append((r.payload, r.http_charset, r.url))
    return pages


def bare_trafilatura(pages) -> float:
    import trafilatura

    t = time.perf_counter()
    for payload, _charset, url in pages:
        trafilatura.extract(payload, url=url)
    return time.perf_counter() - t


def own_extractor(pages) -> float:
    from pipeline.extraction.encoding import decode_html
    from pipeline.extraction.html import HtmlExtractor

    extractor = HtmlExtractor()
    t = time.perf_counter()
    for payload, charset, url in pages:
        extractor.extract(decode_html(payload, charset)[0], url)
    return time.perf_counter() - t


def run_job(spark, files_glob: str, out: str):
    from pipeline.spark.curate import run_curation

    config = dataclasses.replace(CurateConfig(), io=IoConfig(input=files_glob, output=out))
    with PeakMemory() as memory:
        t = time.perf_counter()
        stats = run_curation(spark, config, log=lambda line: None)
        seconds = time.perf_counter() - t
    return stats, seconds, memory.tree


def report(name: str, spark, files_glob: str, cores: int) -> None:
    files = sorted(glob.glob(files_glob))
    pages = html_pages(files)
    size = sum(os.path.getsize(f) for f in files)
    print(f"\n== {name}: {len(files)} file(s), {size / 1e6:.1f} MB, {len(pages)} HTML pages")
    bare = bare_trafilatura(pages)
    own = own_extractor(pages)
    with tempfile.TemporaryDirectory() as out:
        stats, seconds, peak = run_job(spark, files_glob, out)
    extracted = next(s for s in stats.stages if s.stage == "extract").docs_in
    print("seconds per phase: " + ", ".join(f"{phase} {secs:.1f}" for phase, secs in stats.phase_seconds.items()))
    job_rate = len(pages) / seconds / cores
    print(f"job: {seconds:.2f}s wall on {cores} core(s) = {job_rate:.1f} pages/s per core "
          f"({extracted} extracted after URL dedup); peak RSS {peak / 2**20:.0f} MiB (driver + JVM + workers)")
    print(f"bare trafilatura.extract loop: {len(pages) / bare:.1f} pages/s (1 core)")
    print(f"own HtmlExtractor loop:        {len(pages) / own:.1f} pages/s (1 core)")
    print(f"ratio job/bare trafilatura (per core): {job_rate / (len(pages) / bare):.2f}")
    print(f"overhead of everything but extraction: {seconds * cores / own - 1:+.1%} "
          f"(job core-seconds vs own extractor loop)")


def input_options(parser: argparse.ArgumentParser, copies: int = 1, shards: int = 8) -> None:
    """The options that choose a benchmark's inputs (shared with bench_report.py)."""
    parser.add_argument("--cores", type=int, default=2, help="local[N] cores for the job (default 2)")
    parser.add_argument("--copies", type=int, default=copies, help=f"copies of the 990 pages (default {copies}; "
                                                                   "0: not them)")
    parser.add_argument("--shards", type=int, default=shards,
                        help=f"WARC shards for the 990-page input (default {shards})")
    parser.add_argument("--skip-sample", action="store_true")


def each_input(args: argparse.Namespace, app_name: str, measure) -> None:
    """``measure(spark, name, files_glob)`` in a local[--cores] session on the sample shards (unless
    --skip-sample), then on the 990 pages written as WARC shards ``--copies`` times."""
    from pipeline.spark.session import build_spark

    spark = build_spark(app_name, master=f"local[{args.cores}]")
    if not args.skip_sample:
        measure(spark, "sample shards", str(REPO / "sample_data" / "shards" / "*.warc.gz"))
    if args.copies:
        with tempfile.TemporaryDirectory() as shards:
            build = [sys.executable, str(REPO / "sample_data" / "build_sample_data.py"), "--bench-all-pages",
                     "--out", shards, "--shards", str(args.shards)]
            if args.copies > 1:
                build += ["--copies", str(args.copies)]
            subprocess.run(build, check=True, stdout=subprocess.DEVNULL)
            measure(spark, f"990 eval pages x{args.copies}", os.path.join(shards, "*.warc.gz"))
    spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    input_options(parser)
    args = parser.parse_args()
    each_input(args, "bench-curate", lambda spark, name, files_glob: report(name, spark, files_glob, args.cores))


if __name__ == "__main__":
    main()
