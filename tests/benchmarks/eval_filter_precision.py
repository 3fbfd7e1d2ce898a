"""What each filter drops from real pages that should mostly be kept: the 990 pages of trafilatura's extraction
benchmark (../shared/data/extraction_trafilatura_eval: news, blogs, shops, forums, documentation, in several
languages), and the sample shards' real pages (manifest expectation "keep", planted cases left out).

Runs the curate job through ``spark-submit`` on each input and prints, per (stage, reason), the documents dropped
and their share of the documents extracted, then every ``dirty_words`` and ``adult_site`` drop with an excerpt (the
target: no news or medical page among them), and the planted adult pages of the sample (blocked domains, banned
URL words) with their outcome (they must stay dropped).

    python tests/benchmarks/eval_filter_precision.py [--cores 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from conftest import output_rows  # noqa: E402
from test_runs import submit  # noqa: E402

HEURISTIC_CASES = ("log_spam", "repeated_phrase", "pii_heavy", "pii_single", "garbage")
ADULT_CASES = ("blocked_domain", "blocked_subdomain", "banned_url_word")


def run(shards: str, out: Path, cores: int) -> tuple[dict, dict, dict]:
    proc = submit(out, f"local[{cores}]", input_spec=shards, job_options=())
    log, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"the job failed:\n{log[-3000:]}")
    return (json.loads((out / "stats.json").read_text()), output_rows(out / "documents"),
            output_rows(out / "rejected"))


def report(name: str, stats: dict, rejected: dict, ids: set[str] | None = None) -> None:
    """Drops per reason among the extracted documents (of ``ids`` only, when given)."""
    rows = [r for r in rejected.values() if ids is None or r["id"] in ids]
    extracted = next(s for s in stats["stages"] if s["stage"] == "extract")["docs_in"] if ids is None else len(ids)
    after_extraction = [r for r in rows if r["stage"] not in ("read", "safety", "url_dedup")]
    print(f"\n== {name}: {extracted:,} documents reached extraction")
    for (stage, reason), n in Counter((r["stage"], r["reason"]) for r in after_extraction).most_common():
        print(f"  {stage:<14} {reason:<26} {n:>5} {n / max(extracted, 1):>7.1%}")
    site = [r for r in after_extraction if r["reason"] in ("dirty_words", "adult_site")]
    print(f"  dirty_words / adult_site drops: {len(site)}")
    for r in site:
        print(f"    [{r['language']}] {r['reason']}: {r['url']}\n        {r['detail']}\n"
              f"        {' '.join((r['text'] or '').split())[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        shards = Path(tmp) / "eval"
        subprocess.run([sys.executable, str(REPO / "sample_data" / "build_sample_data.py"), "--bench-all-pages",
                        "--out", str(shards), "--shards", "2"], check=True, stdout=subprocess.DEVNULL)
        stats, _, rejected = run(str(shards / "*.warc.gz"), Path(tmp) / "eval-out", args.cores)
        report("990 extraction-benchmark pages", stats, rejected)

        manifest = [json.loads(line) for line in (REPO / "sample_data" / "manifest.jsonl").open()]
        stats, documents, rejected = run(str(REPO / "sample_data" / "shards" / "*.warc.gz"),
                                         Path(tmp) / "sample-out", args.cores)
        real = {m["record_id"] for m in manifest if m["expect"] == "keep" and m["warc_type"] == "response"
                and m["case"] not in HEURISTIC_CASES}
        report("the sample's real pages (expected kept)", stats, rejected, real & (set(documents) | set(rejected)))
        adult = [m for m in manifest if m["case"] in ADULT_CASES and m["warc_type"] == "response"]
        print(f"\n== the sample's planted adult pages: {len(adult)}")
        for m in adult:
            outcome = rejected.get(m["record_id"], {}).get("reason", "KEPT")
            print(f"  {outcome:<22} {m['url']}")


if __name__ == "__main__":
    main()
