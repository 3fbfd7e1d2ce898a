"""Benchmark and report of the heuristic filters (Llama 3 §3.1.1 "Heuristic filtering", "PII and safety filtering")
on the sample shards, without Spark, one core:

1. every HTML page the job would extract is extracted with the project's extractor (timed) and labelled by language;
2. each filter runs alone over those documents (timed): documents/s per core, and its cost as a share of the
   extraction time of the same documents (target: all together under 10%);
3. what each filter removes, alone, with three excerpts, and one kept document it must not remove;
4. with ``--languages``: the filters on real sentences of the paper's eight languages (and zh/ja) from
   ``../shared/data/langid_lingua`` (15 sentences a document, one a line), which should remove nothing.

    python tests/benchmarks/bench_heuristics.py [--shards 'sample_data/shards/*.warc.gz'] [--languages]
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_curate import html_pages  # noqa: E402

from pipeline.config import CurateConfig  # noqa: E402
from pipeline.extraction.encoding import decode_html  # noqa: E402
from pipeline.extraction.html import HtmlExtractor  # noqa: E402
from pipeline.heuristics.dirty_words import DirtyWords  # noqa: E402
from pipeline.heuristics.gopher_repetition import GopherRepetition  # noqa: E402
from pipeline.heuristics.repeated_line_content import RepeatedLineContent  # noqa: E402
from pipeline.heuristics.token_kl import TokenBins, TokenKl  # noqa: E402
from pipeline.multilingual.language_id import LanguageIdentifier  # noqa: E402
from pipeline.passes import pass_steps  # noqa: E402
from pipeline.registry import FILTER  # noqa: E402
from pipeline.safety.pii import PiiDetector  # noqa: E402
from pipeline.steps import Document, run_steps  # noqa: E402

OFFICIAL = ("en", "de", "fr", "it", "pt", "hi", "es", "th", "zh", "ja")


def extracted_documents(shards: str) -> tuple[list[tuple[str, str, str]], float]:
    """(url, text, language) of every page with text, and the seconds extraction took."""
    extractor, texts = HtmlExtractor(), []
    pages = html_pages(sorted(glob.glob(shards)))
    started = time.perf_counter()
    for payload, charset, url in pages:
        result = extractor.extract(decode_html(payload, charset)[0], url)
        if result.text:
            texts.append((url, result.text))
    seconds = time.perf_counter() - started
    languages = [p.language for p in LanguageIdentifier().predict([t for _, t in texts])]
    return [(url, text, lang) for (url, text), lang in zip(texts, languages, strict=True)], seconds


def filters(config: CurateConfig):
    """name -> function(url, text, language) -> verdict (a reason string or None), each filter alone."""
    repeated, gopher = RepeatedLineContent(config.repeated_lines), GopherRepetition(config.repetition)
    dirty, pii = DirtyWords(config.dirty_words), PiiDetector(config.pii)

    def repeated_lines(url, text, language):
        doc = repeated.apply(text, language)
        if doc.reason:
            return doc.reason
        return f"{int(doc.signals['repeated_content_removed_lines'])} lines" if doc.text != text else None

    def pii_dense(url, text, language):
        return "pii_dense" if pii.apply(text, language).signals["pii_dense"] else None

    return {
        "repeated_lines": repeated_lines,
        "gopher_repetition": lambda url, text, language: gopher.apply(text, language).reason,
        "dirty_words": lambda url, text, language: dirty.apply(text, language).reason,
        "pii": pii_dense,
    }


def heuristic_steps(config: CurateConfig) -> list:
    """The steps of the heuristics stage, as the filter pass builds them (per-language thresholds)."""
    return [step for step in pass_steps(FILTER, config) if step.stage == "heuristics"]


def excerpt(text: str, width: int = 90) -> str:
    return " ".join(text.split())[:width]


def run_filters(documents, config: CurateConfig, extraction_seconds: float) -> None:
    n = len(documents)
    print(f"\n{n} documents extracted in {extraction_seconds:.1f}s ({n / extraction_seconds:.1f} docs/s per core)")
    print(f"{'filter':20s} {'docs/s':>9s} {'% of extraction':>16s} {'flagged':>8s}")
    total = 0.0
    spent: dict[str, float] = {}
    flagged: dict[str, list] = {}
    checks = filters(config)
    for url, text, lang in {lang: (u, t, lang) for u, t, lang in documents}.values():  # load segmenters, lists
        for check in checks.values():
            check(url, text, lang)
    for name, check in checks.items():
        started = time.perf_counter()
        verdicts = [check(url, text, lang) for url, text, lang in documents]
        seconds = time.perf_counter() - started
        total += seconds
        spent[name] = seconds
        flagged[name] = [(doc, v) for doc, v in zip(documents, verdicts, strict=True) if v]
        print(f"{name:20s} {n / seconds:9,.0f} {100 * seconds / extraction_seconds:15.1f}% {len(flagged[name]):8d}")
    by_language = defaultdict(list)
    for _url, text, lang in documents:
        by_language[lang].append(text)
    started = time.perf_counter()
    kl = {lang: TokenKl(config.token_kl).judge(texts, lang) for lang, texts in by_language.items()}
    seconds = time.perf_counter() - started
    total += seconds
    spent["token_kl"] = seconds
    outliers = [(lang, excerpt(texts[i]), s) for lang, texts in by_language.items()
                for i, (s, v) in enumerate(kl[lang]) if v]
    print(f"{'token_kl':20s} {n / seconds:9,.0f} {100 * seconds / extraction_seconds:15.1f}% {len(outliers):8d}")
    print(f"{'all together':20s} {n / total:9,.0f} {100 * total / extraction_seconds:15.1f}%")
    started = time.perf_counter()
    run_steps([Document(text, lang) for _url, text, lang in documents], heuristic_steps(config))
    seconds = time.perf_counter() - started
    print(f"{'heuristics stage':20s} {n / seconds:9,.0f} {100 * seconds / extraction_seconds:15.1f}%  "
          "(repeated lines + Gopher + dirty words, one tokenisation)")
    # As the job runs them: PII in the extraction pass (words already counted by language ID), then the filter
    # pass (heuristics and the token bins, the KL itself from the bins against the corpus counts).
    docs = [Document(text, lang) for _url, text, lang in documents]
    for doc in docs:
        doc.words  # noqa: B018 - counted by language ID in the job
    started = time.perf_counter()
    run_steps(docs, [PiiDetector(config.pii), *heuristic_steps(config), TokenBins(config.token_kl)])
    job = time.perf_counter() - started
    print(f"{'as the job runs them':20s} {n / job:9,.0f} {100 * job / extraction_seconds:15.1f}%  "
          "(pii + heuristics stage + token bins)")

    print("\nwhat each filter flags alone (three excerpts; counts include planted sample cases):")
    for name, items in flagged.items():
        reasons = Counter(v for _, v in items)
        print(f"- {name}: {len(items)} documents {dict(reasons.most_common(4))}")
        for (url, text, lang), verdict in items[:3]:
            print(f"    [{lang}] {verdict:26s} {url[:60]}\n        {excerpt(text)}")
    print(f"- token_kl: {len(outliers)} outliers; largest excess per language (judged languages only):")
    for lang, results in kl.items():
        judged = [(s["token_kl_excess"], i) for i, (s, _) in enumerate(results) if "token_kl_excess" in s]
        for value, i in sorted(judged, reverse=True)[:3]:
            print(f"    [{lang}] excess {value:+.2f} nats  {excerpt(by_language[lang][i], 70)}")
    kept = [(url, text) for url, text, lang in documents
            if lang == "en" and "wikipedia.org" in url or "phys.org" in url]
    for url, text in kept[:1]:
        print(f"\nkept by every filter, as it must be: {url}\n    {excerpt(text)}")


def run_languages(config: CurateConfig) -> None:
    path = REPO.parent / "shared" / "data" / "langid_lingua" / "sentences_dev.jsonl"
    if not path.exists():
        print(f"\n{path} not available: skipping the per-language check")
        return
    sentences = defaultdict(list)
    for line in path.open():
        row = json.loads(line)
        sentences[row["lang"]].append(row["text"])
    heuristics = heuristic_steps(config)
    print("\nreal sentences, 15 a document (one a line), per language: documents dropped and largest signals")
    print(f"{'lang':5s} {'docs':>5s} {'dropped':>8s}  {'max dup5':>8s} {'max top2':>8s} {'max dirty':>9s} "
          f"{'lines cut':>9s}")
    for lang in OFFICIAL:
        docs = ["\n".join(sentences[lang][i:i + 15]) for i in range(0, len(sentences[lang]), 15)]
        results = run_steps([Document(doc, lang) for doc in docs], heuristics)
        dropped = Counter(doc.reason for doc in results if doc.reason)
        signals = [doc.signals for doc in results]
        print(f"{lang:5s} {len(docs):5d} {sum(dropped.values()):8d}  "
              f"{max(s['gopher_dup_5gram_char_frac'] for s in signals):8.3f} "
              f"{max(s['gopher_top_2gram_char_frac'] for s in signals):8.3f} "
              f"{max(s['dirty_word_rate'] for s in signals):9.4f} "
              f"{sum(s['repeated_content_removed_lines'] for s in signals):9.0f}  {dict(dropped)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", default=str(REPO / "sample_data" / "shards" / "*.warc.gz"))
    parser.add_argument("--languages", action="store_true", help="also check real sentences of 10 languages "
                        "(reads ../shared/data/langid_lingua)")
    args = parser.parse_args()
    config = CurateConfig()
    documents, seconds = extracted_documents(args.shards)
    run_filters(documents, config, seconds)
    if args.languages:
        run_languages(config)


if __name__ == "__main__":
    main()
