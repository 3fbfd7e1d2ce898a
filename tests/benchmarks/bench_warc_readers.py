"""Benchmark: the project's reader (pipeline.warc.reader: FastWARC plus resynchronisation) against FastWARC alone and
warcio, on the same files, in the same run.

Throughput: each reader reads every record and its HTTP body in a fresh single process (one core), best of
``--repeat`` rounds in which the readers take turns: records/s, MB/s of (compressed) input, peak memory (the
process's RSS high-water mark), and the ratio to FastWARC alone. Robustness: for each real and malformed file in
../shared/data/warc_samples (skipped when absent), records each reader gets (ERR: it stopped with an error after
that many), and for the project's reader the damaged rows, records recovered after damage and bytes skipped; the
same for the hostile fixtures.

    python tests/benchmarks/bench_warc_readers.py [--files 'sample_data/shards/*.warc.gz'] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
SAMPLES = REPO.parent / "shared" / "data" / "warc_samples"
HOSTILE = REPO / "tests" / "fixtures" / "warc_hostile"


def read_project(path: str) -> int:
    from pipeline.warc.reader import WarcRecord, read_warc

    return sum(isinstance(r, WarcRecord) for r in read_warc(path, want_payload=lambda ordinal: True))


def read_fastwarc(path: str) -> int:
    from fastwarc.warc import ArchiveIterator

    n = 0
    for record in ArchiveIterator(path, parse_http=True):
        record.reader.read()
        n += 1
    return n


def read_warcio(path: str) -> int:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            record.content_stream().read()
            n += 1
    return n


READERS = {"project": read_project, "fastwarc": read_fastwarc, "warcio": read_warcio}


def measure(name: str, files: list[str], repeat: int) -> dict:
    """In this process: best time of ``repeat`` passes over ``files`` and the peak RSS."""
    best, records = float("inf"), 0
    for _ in range(repeat):
        t = time.perf_counter()
        records = sum(READERS[name](f) for f in files)
        best = min(best, time.perf_counter() - t)
    return {"records": records, "seconds": best, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def throughput(files: list[str], repeat: int) -> None:
    size = sum(os.path.getsize(f) for f in files)
    print(f"throughput on {len(files)} file(s), {size / 1e6:.1f} MB, one process (one core) each, best of {repeat} "
          "rounds (the readers take turns, so that a busy machine weighs on all of them alike):")
    results: dict[str, dict] = {}
    for _ in range(repeat):
        for name in READERS:
            out = subprocess.run([sys.executable, __file__, "--measure", name, "--repeat", "1", "--", *files],
                                 capture_output=True, text=True, check=True).stdout
            r = json.loads(out)
            best = results.setdefault(name, r)
            best["seconds"], best["peak_rss"] = min(best["seconds"], r["seconds"]), max(best["peak_rss"], r["peak_rss"])
    for name, r in results.items():
        print(f"  {name:<9} {r['records']:>7} records  {r['records'] / r['seconds']:>9.0f} records/s  "
              f"{size / 1e6 / r['seconds']:>7.1f} MB/s  peak RSS {r['peak_rss'] / 2**20:>5.0f} MiB")
    base = results["fastwarc"]["seconds"]
    print(f"  time relative to FastWARC alone: project {results['project']['seconds'] / base:.2f}x, "
          f"warcio {results['warcio']['seconds'] / base:.2f}x")


def _count(records, path: str) -> str:
    """How many records ``records(path)`` yields; 'n ERR' when it stops with an error after n."""
    n = 0
    try:
        for _ in records(path):
            n += 1
    except Exception:  # noqa: BLE001 - the point is to see which library fails where
        return f"{n} ERR"
    return str(n)


def _fastwarc_records(path):
    from fastwarc.warc import ArchiveIterator

    for record in ArchiveIterator(path, parse_http=False):
        record.reader.consume()
        yield record


def _warcio_records(path):
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh, contextlib.redirect_stderr(io.StringIO()):  # its warnings would break the table
        for record in ArchiveIterator(fh):
            record.content_stream().read()
            yield record


def robustness() -> None:
    if not SAMPLES.exists():
        print(f"(robustness table of the shared files skipped: {SAMPLES} not found)")
    else:
        print("\nrobustness on ../shared/data/warc_samples (records read; 'n ERR': stopped with an error after n):")
        robustness_table(sorted(p for p in glob.glob(str(SAMPLES / "*" / "*")) if not p.endswith((".txt", ".json"))),
                         SAMPLES)
    print("\nrobustness on the hostile fixtures (tests/fixtures/warc_hostile):")
    robustness_table(sorted(glob.glob(str(HOSTILE / "hostile.warc*"))), HOSTILE)


def robustness_table(paths: list[str], root: Path) -> None:
    from pipeline.warc.reader import ReadReport, WarcRecord, read_warc

    print(f"  {'file':<62} {'project':>8} {'fastwarc':>9} {'warcio':>9} {'damaged':>8} {'recovered':>9} "
          f"{'skipped B':>9}")
    totals = [0, 0, 0]
    for path in paths:
        report = ReadReport()
        ours = sum(isinstance(r, WarcRecord) for r in read_warc(path, report=report))
        fastwarc, warcio = _count(_fastwarc_records, path), _count(_warcio_records, path)
        for i, value in enumerate((ours, fastwarc, warcio)):
            totals[i] += int(str(value).split()[0])
        print(f"  {os.path.relpath(path, root):<62} {ours:>8} {fastwarc:>9} {warcio:>9} {report.damaged:>8} "
              f"{report.recovered:>9} {report.bytes_skipped:>9}")
    print(f"  {'total records read':<62} {totals[0]:>8} {totals[1]:>9} {totals[2]:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", default=str(REPO / "sample_data" / "shards" / "*.warc.gz"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--measure", choices=READERS, help=argparse.SUPPRESS)
    parser.add_argument("measure_files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.measure_files, args.repeat)))
        return
    files = sorted(glob.glob(args.files))
    if files:
        throughput(files, args.repeat)
    else:
        print(f"no files match {args.files}")
    robustness()


if __name__ == "__main__":
    main()
