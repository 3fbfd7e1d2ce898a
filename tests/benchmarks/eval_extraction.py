"""Extraction quality and speed: the project's HtmlExtractor against bare trafilatura, on the same pages.

Reads ../shared/data/extraction_trafilatura_eval (990 real pages and their expectations, from trafilatura's
own evaluation; see its SOURCE.txt), which sits beside the project checkout and is not part of it.
Scoring as upstream trafilatura (tests/eval_common.py): per page, a ``with`` snippet found in the output is a
true positive, one missing a false negative, a ``without`` snippet found a false positive; output and snippets
are whitespace-normalised alike; no output counts as a full miss. Every system gets the same decoded ``str``
(``trafilatura.utils.decode_file`` of the page bytes, done once), single process, timed around the call only;
the systems take turns on each page so that other load on the machine affects them alike.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import trafilatura
from trafilatura.utils import decode_file

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.extraction.html import ExtractionConfig, HtmlExtractor  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "extraction_trafilatura_eval"
FIXTURES = REPO / "tests" / "fixtures" / "extraction"
DEFAULT = ExtractionConfig()
BALANCED = replace(DEFAULT, favor_precision=False)
# the project's extractor under each candidate trafilatura setting (same pre/post passes)
CANDIDATES = {
    "HtmlExtractor default (precision, no comments)": DEFAULT,
    "HtmlExtractor balanced, no comments": BALANCED,
    "HtmlExtractor balanced, comments (trafilatura defaults)": replace(BALANCED, include_comments=True),
    "HtmlExtractor precision, comments": replace(DEFAULT, include_comments=True),
    "HtmlExtractor recall, no comments": replace(BALANCED, favor_recall=True),
    "HtmlExtractor fast, no comments": replace(BALANCED, fast=True),
    "HtmlExtractor fast + precision, no comments": replace(DEFAULT, fast=True),
}
BARE = "trafilatura.extract(html) defaults"
BARE_CHOSEN = "trafilatura.extract precision, no comments"


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def load_pages(limit: int | None) -> list[tuple[str, dict, str]]:
    expectations = json.loads((DATA / "expectations.json").read_text(encoding="utf-8"))
    names = sorted(expectations)[:limit]
    return [(n, expectations[n], decode_file(gzip.decompress((DATA / "html" / f"{n}.gz").read_bytes()))) for n in names]


def systems() -> dict[str, Callable[[str, str], str | None]]:
    runners = {name: _extractor_runner(HtmlExtractor(config)) for name, config in CANDIDATES.items()}
    runners[BARE] = lambda html, url: trafilatura.extract(html)
    runners[BARE_CHOSEN] = lambda html, url: trafilatura.extract(html, favor_precision=True, include_comments=False)
    return runners


def _extractor_runner(extractor: HtmlExtractor):
    return lambda html, url: extractor.extract(html, url).text


def evaluate(runners: dict[str, Callable], pages) -> tuple[dict[str, dict], dict[str, dict[str, str]]]:
    """Score every system; the systems take turns on each page (rotating order), so load on the machine
    during the run affects all of their timings alike."""
    counts = {name: {"tp": 0, "fp": 0, "fn": 0, "seconds": 0.0, "slowest_page_s": 0.0} for name in runners}
    outputs: dict[str, dict[str, str]] = {name: {} for name in runners}
    names = list(runners)
    for i, (page, item, html) in enumerate(pages):
        for name in names[i % len(names):] + names[: i % len(names)]:
            start = time.perf_counter()
            try:
                text = runners[name](html, item["url"])
            except Exception:  # a crash is a full miss, as upstream
                text = None
            took = time.perf_counter() - start
            c = counts[name]
            c["seconds"] += took
            c["slowest_page_s"] = max(c["slowest_page_s"], took)
            outputs[name][page] = text or ""
            found = norm(text) if text else ""
            hits = sum(norm(w) in found for w in item["with"]) if found else 0
            c["tp"], c["fn"] = c["tp"] + hits, c["fn"] + len(item["with"]) - hits
            c["fp"] += sum(norm(w) in found for w in item["without"]) if found else 0
    table = {}
    for name, c in counts.items():
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[name] = {"precision": precision, "recall": recall, "f1": f1, **c,
                       "pages_per_s": len(pages) / c["seconds"] if c["seconds"] else 0.0}
    return table, outputs


_IMG_ALT = re.compile(r"""<img\b[^>]*?\balt\s*=\s*(?:"([^"]+)"|'([^']+)')""", re.IGNORECASE)
_CODE_BLOCK = re.compile(r"(?m)^\S.*\n(?:[ \t]+\S.*\n?){2,}")


def examples(pages, ours: dict[str, str], bare: dict[str, str]) -> dict[str, tuple[str, str]]:
    """One real (source, excerpt) each for alt text, code and math kept by our extractor.

    Alt text (TeX alt text first) and code come from eval pages; math markup (MathML, MathJax, KaTeX) does
    not survive on any eval page's main text (Wikipedia's MathML is hidden), so it comes from a fixture."""
    found: dict[str, tuple[str, str]] = {}
    for name, _item, html in pages:
        text = ours[name]
        for groups in _IMG_ALT.findall(html):
            alt = " ".join((groups[0] or groups[1]).split())
            if "\\" in alt and alt in text and alt not in bare[name] and "alt" not in found:
                found["alt"] = (name, _around(text, alt))
        if "code" not in found and "<pre" in html and (block := _CODE_BLOCK.search(text)):
            found["code"] = (name, block[0][:400])
    extractor = HtmlExtractor()
    for kind, fixture, needle in (("alt", "alt_text.html", "Euler showed"), ("code", "code.html", "def count"),
                                  ("math", "math.html", "MathJax 2")):
        if kind not in found and (FIXTURES / fixture).exists():
            text = extractor.extract((FIXTURES / fixture).read_text(encoding="utf-8")).text or ""
            found[kind] = (f"tests/fixtures/extraction/{fixture}", _around(text, needle, 0, 400))
    return found


def _around(text: str, needle: str, before: int = 160, after: int = 160) -> str:
    at = max(text.find(needle), 0)
    return text[max(at - before, 0): at + len(needle) + after]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only the first N pages (sorted by file name)")
    parser.add_argument("--json", metavar="OUT", help="also write the table as JSON to OUT")
    parser.add_argument("--systems", help="comma-separated substrings: run only systems whose name contains one")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"eval data not found at {DATA} (it sits beside the checkout as ../shared/data)")
    logging.disable(logging.CRITICAL)  # trafilatura logs every discarded page
    pages = load_pages(args.limit)
    runners = systems()
    if args.systems:
        wanted = [s.strip() for s in args.systems.split(",")]
        runners = {n: r for n, r in runners.items() if any(w in n for w in wanted)}

    print(f"{len(pages)} pages, {len(runners)} systems taking turns on each page ...", flush=True)
    table, outputs = evaluate(runners, pages)
    print(f"{'system':58s} {'precision':>9s} {'recall':>7s} {'F1':>7s} {'pages/s':>8s} {'slowest s':>9s}")
    for name, row in table.items():
        print(f"{name:58s} {row['precision']:9.4f} {row['recall']:7.4f} {row['f1']:7.4f} "
              f"{row['pages_per_s']:8.1f} {row['slowest_page_s']:9.2f}")

    default_name = next(iter(CANDIDATES))
    if default_name in outputs and BARE in outputs:
        for kind, (source, excerpt) in examples(pages, outputs[default_name], outputs[BARE]).items():
            print(f"\n--- {kind} kept ({source}):\n{excerpt}")
    if args.json:
        Path(args.json).write_text(json.dumps({"pages": len(pages), "systems": table}, indent=2) + "\n")


if __name__ == "__main__":
    main()
