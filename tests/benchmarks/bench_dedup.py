"""Benchmark: the MinHash and line-dedup Spark stages on inputs of 1x, 2x and 4x size.

Documents are real text: ../shared/data/quality_text/wikitext2/articles.jsonl split into ~2 KB pieces, each
copied with light random edits (so every size has near-duplicate clusters and shared lines), then multiplied to
the requested size with distinct word substitutions. Prints per stage: seconds, documents/s per core, and peak
memory: the largest single Python worker and the whole process tree (driver + JVM + workers). Linear cost shows as
constant documents/s; bounded memory per task as a flat worker peak.

    python tests/benchmarks/bench_dedup.py [--base-docs 4000] [--sizes 1,2,4] [--cores 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak_memory import PeakMemory  # noqa: E402

ARTICLES = REPO.parent / "shared" / "data" / "quality_text" / "wikitext2" / "articles.jsonl"


def make_documents(count: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    pieces = []
    for line in ARTICLES.read_text().splitlines():
        text = json.loads(line)["text_tokenized"]
        pieces += [text[i:i + 2000] for i in range(0, len(text) - 1000, 2000)]
    docs = []
    while len(docs) < count:
        piece = pieces[len(docs) % len(pieces)]
        words = piece.split(" ")
        generation = len(docs) // len(pieces)
        if generation:  # later generations: distinct documents, each edited by its generation number
            for _ in range(max(3, len(words) // 10)):
                words[rng.randrange(len(words))] = f"gen{generation}w{rng.randrange(10**6)}"
        docs.append({"id": f"doc-{len(docs):07d}", "text": " ".join(words)})
        if len(docs) % 5 == 0:  # one near duplicate in five
            near = list(words)
            near[rng.randrange(len(near))] = "edited"
            docs.append({"id": f"doc-{len(docs):07d}", "text": " ".join(near)})
    return docs[:count]


def run(spark, docs: list[dict], cores: int) -> None:
    from pipeline.dedup.line_dedup import LineDedupConfig
    from pipeline.dedup.minhash import MinHashConfig
    from pipeline.spark.dedup_stages import line_dedup_stage, minhash_stage
    from pipeline.spark.schema import EXTRACTED_SCHEMA

    rows = [{f.name: None for f in EXTRACTED_SCHEMA.fields} | d | {"source_file": "bench", "source_record": 0,
                                                                   "signals": {}} for d in docs]
    frame = spark.createDataFrame(rows, EXTRACTED_SCHEMA).repartition(4 * cores).cache()
    frame.count()
    for name, stage in [("minhash_dedup", lambda df: minhash_stage(df, MinHashConfig())),
                        ("line_dedup", lambda df: line_dedup_stage(df, dataclasses.replace(LineDedupConfig())))]:
        with PeakMemory() as memory:
            t = time.perf_counter()
            dropped = stage(frame).where("reason is not null").count()
            seconds = time.perf_counter() - t
        print(f"  {name:<14} {len(docs):>8,} docs {seconds:>7.1f}s {len(docs) / seconds / cores:>8.0f} docs/s/core "
              f"{dropped:>6,} dropped  peak worker {memory.worker / 2**20:>5.0f} MiB  "
              f"tree {memory.tree / 2**20:>5.0f} MiB")
    frame.unpersist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-docs", type=int, default=4000)
    parser.add_argument("--sizes", default="1,2,4")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    if not ARTICLES.exists():
        sys.exit(f"needs {ARTICLES}")
    from pipeline.spark.session import build_spark

    spark = build_spark("bench-dedup", master=f"local[{args.cores}]")
    run(spark, make_documents(500), args.cores)  # warm-up: JVM, Python workers
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"{size}x:")
        run(spark, make_documents(args.base_docs * size), args.cores)
    spark.stop()


if __name__ == "__main__":
    main()
