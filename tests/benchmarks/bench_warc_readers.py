"""Benchmark: FastWARC vs warcio on the same WARC files (why pipeline.warc_reader uses FastWARC).

For each library: records/s and MB/s (compressed input) reading every record and its HTTP body, single process,
best of ``--repeat`` runs; and which of the real and malformed files in ../shared/data/warc_samples each library
reads to the end.

    python tests/benchmarks/bench_warc_readers.py [--files 'sample_data/shards/*.warc.gz'] [--repeat 3]

Reads ../shared/data/warc_samples for the robustness table (skipped when absent).
"""

from __future__ import annotations

import argparse
import glob
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "data" / "warc_samples"


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


READERS = {"fastwarc": read_fastwarc, "warcio": read_warcio}


def throughput(files: list[str], repeat: int) -> None:
    size = sum(os.path.getsize(f) for f in files)
    print(f"throughput on {len(files)} file(s), {size / 1e6:.1f} MB compressed (best of {repeat}):")
    results = {}
    for name, reader in READERS.items():
        best, records = float("inf"), 0
        for _ in range(repeat):
            t = time.perf_counter()
            records = sum(reader(f) for f in files)
            best = min(best, time.perf_counter() - t)
        results[name] = best
        print(f"  {name:<9} {records:>7} records  {records / best:>9.0f} records/s  {size / 1e6 / best:>7.1f} MB/s")
    print(f"  fastwarc is {results['warcio'] / results['fastwarc']:.1f}x faster than warcio")


def robustness() -> None:
    if not SAMPLES.exists():
        print(f"(robustness table skipped: {SAMPLES} not found)")
        return
    print("\nrobustness on ../shared/data/warc_samples (records read; ERR = stopped with an error):")
    print(f"  {'file':<62} {'fastwarc':>14} {'warcio':>14}")
    for path in sorted(p for p in glob.glob(str(SAMPLES / "*" / "*")) if not p.endswith((".txt", ".json"))):
        row = []
        for reader in READERS.values():
            try:
                row.append(str(reader(path)))
            except Exception as exc:  # noqa: BLE001 - the point is to see which library fails where
                row.append(f"ERR {type(exc).__name__[:9]}")
        print(f"  {os.path.relpath(path, SAMPLES):<62} {row[0]:>14} {row[1]:>14}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", default=str(REPO / "sample_data" / "shards" / "*.warc.gz"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = sorted(glob.glob(args.files))
    if files:
        throughput(files, args.repeat)
    else:
        print(f"no files match {args.files}")
    robustness()


if __name__ == "__main__":
    main()
