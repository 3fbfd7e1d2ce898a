"""Benchmark: language-ID throughput (documents/s on one core) on extracted documents.

Reads the ``documents/`` of a curate run (default ./out, made by ``spark-submit jobs/curate.py``), predicts every
text with LanguageIdentifier in batches of 256, best of ``--repeat`` runs, and prints documents/s and MB/s.

    python tests/benchmarks/bench_language_id.py [--documents out/documents] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipeline.multilingual.language_id import LanguageIdentifier  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", default="out/documents")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = [t for t in pq.read_table(args.documents, columns=["text"]).column("text").to_pylist() if t]
    identifier = LanguageIdentifier()
    identifier.predict(texts[:1])  # load the model outside the timing
    best = float("inf")
    for _ in range(args.repeat):
        t = time.perf_counter()
        for i in range(0, len(texts), 256):
            identifier.predict(texts[i:i + 256])
        best = min(best, time.perf_counter() - t)
    size = sum(len(t.encode("utf-8")) for t in texts)
    print(f"{len(texts)} documents, {size / 1e6:.1f} MB of text: {len(texts) / best:,.0f} documents/s, "
          f"{size / 1e6 / best:.1f} MB/s on one core")


if __name__ == "__main__":
    main()
