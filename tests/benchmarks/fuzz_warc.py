"""Seeded fuzz benchmark: damaged copies of the sample shards, read and curated, against an undamaged run.

For each N in ``--ranges`` (1, 5, 20) and each seed: copies of ``sample_data/shards/*.warc.gz`` in which N random
byte ranges per file (1 to 1,024 bytes each) are overwritten with random bytes. A record is *hit* when a range
overlaps its bytes (its gzip member). Reported per run, against the undamaged shards:

- records not hit that are still read: same id, offset and read-stage verdict as in the undamaged index;
- kept pages not hit whose text is the same as in the undamaged run;
- the reader's accounting (``ReadReport``): damage rows, records recovered after damage, bytes skipped;
- wall time, and its ratio to the undamaged run (python mode: also the read stage alone, best of 5).

Modes (``--modes``): ``python`` runs ``index_warc`` + ``screen_url`` + ``extract_documents`` in one process (no Spark,
no dedup: what the reader and extraction do); ``spark`` runs the curate job's command line
(``python jobs/curate.py --input DIR --output OUT --master local[2]``) and reads ``OUT/documents`` and
``OUT/stats.json``. In the job, a lost record can also change later stages' verdicts on other pages (URL and
near-duplicate winners, line counts for line dedup, the token-KL corpus); such pages are listed by reason.

    python tests/benchmarks/fuzz_warc.py [--ranges 1,5,20] [--seeds 1] [--modes python,spark]
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
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.config import CurateConfig  # noqa: E402
from pipeline.extraction.html import HtmlExtractor  # noqa: E402
from pipeline.safety.url_safety import UrlSafetyFilter  # noqa: E402
from pipeline.warc.reader import ReadReport  # noqa: E402
from pipeline.warc.records import extract_documents, index_warc, screen_url  # noqa: E402

SHARDS = sorted((REPO / "sample_data" / "shards").glob("*.warc.gz"))
MAX_RANGE = 1024


def damage(source: Path, target: Path, ranges: int, rng: random.Random) -> list[tuple[int, int]]:
    """Write ``source`` to ``target`` with ``ranges`` random byte ranges overwritten; returns the ranges."""
    data = bytearray(source.read_bytes())
    hits = []
    for _ in range(ranges):
        start = rng.randrange(len(data))
        end = min(start + rng.randint(1, MAX_RANGE), len(data))
        data[start:end] = rng.randbytes(end - start)
        hits.append((start, end))
    target.write_bytes(bytes(data))
    return hits


def hit_records(index: list[dict], size: int, ranges: list[tuple[int, int]]) -> set[str]:
    """Ids of the records whose bytes (from their offset to the next record's) a range overlaps."""
    offsets = [row["source_offset"] for row in index] + [size]
    return {row["id"] for row, start, end in zip(index, offsets, offsets[1:], strict=False)
            if any(a < end and start < b for a, b in ranges)}


def read_seconds(files: list[Path]) -> float:
    """Best of 5 passes of the read stage alone (``index_warc``) over ``files``: less noisy than one job."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for path in files:
            for _row in index_warc(str(path), path.name):
                pass
        best = min(best, time.perf_counter() - started)
    return best


def python_run(files: list[Path], safety, extractor) -> dict:
    """The read, safety and extract steps without Spark: index rows and texts by id, reports, seconds."""
    started = time.perf_counter()
    index, texts, reports = {}, {}, []
    for path in files:
        report = ReadReport()
        rows = [screen_url(row, safety) if row["stage"] is None else row
                for row in index_warc(str(path), path.name, report=report)]
        reports.append(report)
        index.update({row["id"]: row for row in rows})
        wanted = sorted((row for row in rows if row["stage"] is None), key=lambda row: row["source_record"])
        if wanted:
            texts.update({doc["id"]: doc["text"] for doc in extract_documents(str(path), wanted, extractor)
                          if doc["stage"] is None})
    return {"index": index, "texts": texts, "reports": reports, "seconds": time.perf_counter() - started,
            "read_seconds": read_seconds(files)}


def spark_run(directory: Path, out: Path) -> dict:
    """The curate job's command line on ``directory``: kept texts and rejections by id, stats, seconds."""
    import pyarrow.parquet as pq

    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(REPO / "jobs" / "curate.py"), "--master", "local[2]", "--input",
                           str(directory), "--output", str(out)], cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if not (out / "stats.json").exists():
        raise SystemExit(f"the job failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    texts = {r["id"]: r["text"] for r in pq.read_table(out / "documents", columns=["id", "text"]).to_pylist()}
    rejected = {r["id"]: (r["stage"], r["reason"])
                for r in pq.read_table(out / "rejected", columns=["id", "stage", "reason"]).to_pylist()}
    stats = json.loads((out / "stats.json").read_text())
    return {"texts": texts, "rejected": rejected, "stats": stats, "seconds": seconds, "exit": proc.returncode}


def compare_python(clean: dict, damaged: dict, hit: set[str]) -> dict:
    not_hit = [i for i in clean["index"] if i not in hit]
    read = sum(1 for i in not_hit if i in damaged["index"]
               and all(damaged["index"][i][k] == clean["index"][i][k] for k in ("stage", "reason", "source_offset")))
    kept = [i for i in clean["texts"] if i not in hit]
    same = sum(1 for i in kept if damaged["texts"].get(i) == clean["texts"][i])
    return {"records": len(clean["index"]), "hit": len(hit), "not_hit": len(not_hit), "not_hit_read": read,
            "kept_not_hit": len(kept), "kept_same_text": same,
            "damaged_rows": sum(r.damaged for r in damaged["reports"]),
            "recovered": sum(r.recovered for r in damaged["reports"]),
            "bytes_skipped": sum(r.bytes_skipped for r in damaged["reports"]),
            "seconds": round(damaged["seconds"], 2), "ratio": round(damaged["seconds"] / clean["seconds"], 2),
            "read_seconds": round(damaged["read_seconds"], 3),
            "read_ratio": round(damaged["read_seconds"] / clean["read_seconds"], 2)}


def _difference(clean: str, damaged: str | None, rejection: tuple[str, str] | None) -> str:
    """Why a page kept in the undamaged run differs: its rejection, or how its text changed."""
    if damaged is None:
        return "/".join(rejection) if rejection else "missing"
    if set(clean.splitlines()) < set(damaged.splitlines()):
        return "more lines kept (line dedup counted fewer documents)"
    return "text changed"


def compare_spark(clean: dict, damaged: dict, hit: set[str], all_ids: set[str]) -> dict:
    kept = [i for i in clean["texts"] if i not in hit]
    same = sum(1 for i in kept if damaged["texts"].get(i) == clean["texts"][i])
    other = Counter(_difference(clean["texts"][i], damaged["texts"].get(i), damaged["rejected"].get(i))
                    for i in kept if damaged["texts"].get(i) != clean["texts"][i])
    accounted = set(damaged["texts"]) | set(damaged["rejected"])
    return {"not_hit": len(all_ids - hit), "not_hit_in_output": len((all_ids - hit) & accounted),
            "kept_not_hit": len(kept), "kept_same_text": same, "differences": dict(other),
            "balanced": damaged["stats"]["balanced"], "exit": damaged["exit"],
            "read_rejections": {k: v for k, v in damaged["stats"]["stages"][0]["rejected"].items()
                                if k in ("read_error", "oversized_header")},
            "seconds": round(damaged["seconds"], 1), "ratio": round(damaged["seconds"] / clean["seconds"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranges", default="1,5,20", help="comma-separated numbers of damaged ranges per file")
    parser.add_argument("--seeds", type=int, default=1, help="damaged copies per number of ranges")
    parser.add_argument("--modes", default="python,spark")
    args = parser.parse_args()
    counts, modes = [int(n) for n in args.ranges.split(",")], args.modes.split(",")
    safety, extractor = UrlSafetyFilter.from_config(CurateConfig().safety), HtmlExtractor()
    print(f"{len(SHARDS)} shards, {sum(p.stat().st_size for p in SHARDS) / 1e6:.1f} MB; ranges of 1-{MAX_RANGE} "
          f"bytes per file; {args.seeds} seed(s) each")
    python_run(SHARDS, safety, extractor)  # warm-up: imports, models, file cache
    clean = python_run(SHARDS, safety, extractor)
    all_ids = set(clean["index"])
    print(f"undamaged (python): {len(all_ids)} records, {len(clean['texts'])} pages kept, {clean['seconds']:.1f} s "
          f"(read stage alone, best of 5: {clean['read_seconds']:.3f} s)")
    with tempfile.TemporaryDirectory(prefix="fuzz_warc-") as tmp:
        tmp = Path(tmp)
        clean_spark = spark_run(REPO / "sample_data" / "shards", tmp / "clean-out") if "spark" in modes else None
        if clean_spark:
            print(f"undamaged (spark): {len(clean_spark['texts'])} documents kept, {clean_spark['seconds']:.1f} s, "
                  f"balanced {clean_spark['stats']['balanced']}")
        for n in counts:
            for seed in range(args.seeds):
                rng, directory = random.Random(f"{n}-{seed}"), tmp / f"damaged-{n}-{seed}"
                directory.mkdir()
                hit = set()
                for shard in SHARDS:
                    ranges = damage(shard, directory / shard.name, n, rng)
                    rows = sorted((r for r in clean["index"].values() if r["source_file"] == shard.name),
                                  key=lambda r: r["source_record"])
                    hit |= hit_records(rows, shard.stat().st_size, ranges)
                files = sorted(directory.glob("*.warc.gz"))
                if "python" in modes:
                    result = compare_python(clean, python_run(files, safety, extractor), hit)
                    print(f"N={n:<3} seed {seed} python: " + json.dumps(result))
                if clean_spark:
                    result = compare_spark(clean_spark, spark_run(directory, tmp / f"out-{n}-{seed}"), hit, all_ids)
                    print(f"N={n:<3} seed {seed} spark:  " + json.dumps(result))
                for path in files:
                    os.remove(path)


if __name__ == "__main__":
    main()
