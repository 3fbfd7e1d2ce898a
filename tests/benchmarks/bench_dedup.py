"""Benchmark: the MinHash and line-dedup Spark stages on inputs of 1x, 2x and 4x size, against datasketch and,
with ``--before DIR``, against the stages of another checkout (e.g. an earlier commit) on the same documents.

Documents are real text: ../shared/data/quality_text/wikitext2/articles.jsonl split into ~2 KB pieces, each
copied with light random edits (so every size has near-duplicate clusters and shared lines), then multiplied to
the requested size with distinct word substitutions. Each checkout and size is measured in its own process (its
own Spark and Python workers: ``--implementation DIR``), a warm-up run first; the checkouts take turns per size,
so a busy machine slows both alike. Per stage and size: seconds, documents/s per
core, CPU seconds of the whole process tree (driver, JVM and Python workers: on a shared machine this varies far
less than wall time), documents removed, shuffle bytes written (Spark's task metrics, from its status API), bytes
written to the checkpoint directory, and peak memory: the largest single Python worker and the whole process tree.
Linear cost shows as constant documents/s; bounded memory per task as a flat worker peak.

Reference: datasketch in one Python process (one core) on the same documents: ``MinHash`` per document,
``MinHashLSH`` (its optimal bands for the threshold), the exact Jaccard of every candidate and union-find (the
baseline of eval_minhash.py): the "vs datasketch" column is the stage's documents/s per core over that loop's
documents/s.

    python tests/benchmarks/bench_dedup.py [--base-docs 4000] [--sizes 1,2,4] [--cores 2] [--before DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
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


def datasketch_reference(docs: list[dict]) -> dict:
    """The one-process datasketch loop (eval_minhash.datasketch_clusters): seconds and documents removed."""
    sys.path.insert(0, str(HERE))
    from eval_minhash import datasketch_clusters

    from pipeline.dedup.minhash import MinHashConfig

    started = time.perf_counter()
    roots = datasketch_clusters([d["text"] for d in docs], [None] * len(docs), MinHashConfig())
    return {"seconds": time.perf_counter() - started, "removed": len(docs) - len(set(roots))}


def _shuffle_written(spark) -> int:
    """Shuffle bytes written by all completed stages so far, from Spark's status API."""
    url = f"{spark.sparkContext.uiWebUrl}/api/v1/applications/{spark.sparkContext.applicationId}/stages?status=complete"
    with urllib.request.urlopen(url) as response:
        return sum(stage["shuffleWriteBytes"] for stage in json.load(response))


def _tree_cpu_seconds() -> float:
    """User + system CPU seconds of this process and its live descendants (the JVM, Spark's Python workers)."""
    import psutil

    total = 0.0
    for proc in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def _tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure(args: argparse.Namespace) -> None:
    """One checkout's stages on every size; one JSON line per stage and size on stdout."""
    sys.path.insert(0, str(args.implementation))
    sys.path.insert(0, str(HERE))
    from peak_memory import PeakMemory

    from pipeline.dedup.line_dedup import LineDedupConfig
    from pipeline.dedup.minhash import MinHashConfig
    from pipeline.spark.dedup_stages import line_dedup_stage, minhash_stage
    from pipeline.spark.schema import EXTRACTED_SCHEMA
    from pipeline.spark.session import build_spark

    spark = build_spark("bench-dedup", master=f"local[{args.cores}]",
                        conf={"spark.ui.retainedStages": "100000", "spark.ui.retainedJobs": "100000",
                              "spark.ui.retainedTasks": "1000000"})
    checkpoints = Path(tempfile.mkdtemp(prefix="bench-dedup-checkpoints-"))
    spark.sparkContext.setCheckpointDir(str(checkpoints))
    stages = [("minhash_dedup", lambda df: minhash_stage(df, MinHashConfig())),
              ("line_dedup", lambda df: line_dedup_stage(df, LineDedupConfig()))]
    for size in [0] + [int(s) for s in args.sizes.split(",")]:  # 0: the warm-up (JVM, Python workers)
        docs = make_documents(args.base_docs * size if size else 500)
        rows = [{f.name: None for f in EXTRACTED_SCHEMA.fields} | d | {"source_file": "bench", "source_record": 0,
                                                                       "signals": {}} for d in docs]
        frame = spark.createDataFrame(rows, EXTRACTED_SCHEMA).repartition(4 * args.cores).cache()
        frame.count()
        for name, stage in stages:
            shuffled, written, cpu = _shuffle_written(spark), _tree_bytes(checkpoints), _tree_cpu_seconds()
            with PeakMemory() as memory:
                started = time.perf_counter()
                removed = stage(frame).where("reason is not null").count()
                seconds = time.perf_counter() - started
            if size:
                print(json.dumps({"stage": name, "size": size, "docs": len(docs), "seconds": seconds,
                                  "cpu": _tree_cpu_seconds() - cpu,
                                  "removed": removed, "shuffle": _shuffle_written(spark) - shuffled,
                                  "checkpoint": _tree_bytes(checkpoints) - written, "worker": memory.worker,
                                  "tree": memory.tree}), flush=True)
        frame.unpersist()
    spark.stop()


def run_checkout(checkout: Path, sizes: str, args: argparse.Namespace) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(checkout), PYSPARK_PYTHON=sys.executable)
    proc = subprocess.run([sys.executable, __file__, "--measure", "--implementation", str(checkout),
                           "--base-docs", str(args.base_docs), "--sizes", sizes, "--cores", str(args.cores)],
                          env=env, cwd=checkout, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"measuring {checkout} failed:\n{proc.stderr[-3000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-docs", type=int, default=4000)
    parser.add_argument("--sizes", default="1,2,4")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--before", type=Path, help="another checkout whose stages are measured on the same inputs")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--implementation", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not ARTICLES.exists():
        sys.exit(f"needs {ARTICLES}")
    if args.measure:
        measure(args)
        return
    sys.path.insert(0, str(REPO))
    checkouts = [("this", REPO)] + ([("before", args.before.resolve())] if args.before else [])
    results = {label: [] for label, _ in checkouts}
    for size in args.sizes.split(","):
        for label, path in checkouts:
            results[label] += run_checkout(path, size, args)
    reference = {}
    for size in (int(s) for s in args.sizes.split(",")):
        reference[size] = datasketch_reference(make_documents(args.base_docs * size))
    print(f"{args.cores} cores; checkouts: " + ", ".join(f"{label} = {path}" for label, path in checkouts))
    print(f"{'stage':<14} {'checkout':<8} {'size':>4} {'docs':>7} {'seconds':>8} {'docs/s/core':>11} {'CPU s':>6} "
          f"{'removed':>7} {'shuffle MB':>10} {'ckpt MB':>8} {'worker MiB':>10} {'tree MiB':>8} {'vs datasketch':>13} "
          f"{'time/this':>9} {'CPU/this':>8} {'shuffle/this':>12}")
    for stage in ("minhash_dedup", "line_dedup"):
        for label, rows in results.items():
            for r in (r for r in rows if r["stage"] == stage):
                rate = r["docs"] / r["seconds"] / args.cores
                ours = next(x for x in results["this"] if x["stage"] == stage and x["size"] == r["size"])
                datasketch_rate = r["docs"] / reference[r["size"]]["seconds"]
                versus = f"{rate / datasketch_rate:>13.2f}" if stage == "minhash_dedup" else f"{'':>13}"
                print(f"{stage:<14} {label:<8} {r['size']:>3}x {r['docs']:>7,} {r['seconds']:>8.1f} {rate:>11.0f} "
                      f"{r['cpu']:>6.0f} {r['removed']:>7,} {r['shuffle'] / 1e6:>10.1f} {r['checkpoint'] / 1e6:>8.1f} "
                      f"{r['worker'] / 2**20:>10.0f} {r['tree'] / 2**20:>8.0f} {versus} "
                      f"{r['seconds'] / ours['seconds']:>9.2f} {r['cpu'] / ours['cpu']:>8.2f} "
                      f"{r['shuffle'] / max(ours['shuffle'], 1):>12.2f}")
    for size, r in reference.items():
        n = args.base_docs * size
        print(f"{'datasketch':<14} {'':<8} {size:>3}x {n:>7,} {r['seconds']:>8.1f} {n / r['seconds']:>11.0f} "
              f"{r['removed']:>7,}   (one process, one core)")


if __name__ == "__main__":
    main()
