"""Train the fastText "would be referenced by Wikipedia" quality classifier (Llama 3 (2024) §3.1.1 "Model-based
quality filtering"; LLaMA 1 (Touvron et al. 2023a) §2: "a linear model to classify pages used as references in
Wikipedia v.s. randomly sampled pages").

Positives, one of:
  --reference-urls FILE   URLs cited by Wikipedia, one a line (plain or .gz; e.g. the external links of a Wikipedia
                          dump): the crawl documents whose URL matches one after normalisation
                          (pipeline.warc.urls.url_dedup_key: http/https, www., trailing slash, utm_* etc. ignored).
  --positive-text FILE... text that stands in for them: JSONL with a "text" field (.jsonl/.json, may be .gz),
                          WikiText files (split into articles on their " = Title = " lines and detokenised, so they
                          read like extracted web text and the model cannot learn the tokenisation), or plain text
                          (one document a file).
Negatives: random crawl documents (--crawl-documents: the curate job's documents/ Parquet, partitioned by
language, or JSONL with "text" and optionally "url" and "language"/"lang", also dolma-style metadata.url and
metadata.language), minus the positives; --language keeps documents of one language (and those without one).

Each class is sampled deterministically (the documents with the smallest hashes of their text, duplicates once)
and cut to the size of the smaller one; a hash of the text puts --test-fraction of each class in the held-out set.
Documents go through pipeline.quality.fasttext_classifier's ``prepare``, the one the scorer uses. fastText is
trained in a fresh process on one thread with a fixed seed (the same inputs give a byte-identical model),
quantised to a small .ftz (the words and n-grams of largest norm, --cutoff), and evaluated on the held-out
set: precision, recall and F1 of the positive class at score 0.5, and ROC AUC. Writes the model and a .json with
the training data, hyperparameters, metrics and labels beside it.

    python -m classifiers.wikipedia_fasttext --reference-urls enwiki-external-links.txt.gz \\
        --crawl-documents out/documents --language en --output wikipedia_fasttext.ftz
"""

from __future__ import annotations

import argparse
import datetime
import heapq
import json
import multiprocessing
import re
import shlex
import sys
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import xxhash

from pipeline.quality.fasttext_classifier import (
    LABEL_PREFIX,
    FastTextClassifier,
    FastTextClassifierConfig,
    positive_probabilities,
)
from pipeline.resources import read_list
from pipeline.warc.urls import url_dedup_key

# WikiText's tokenisation, undone in this order: number and hyphen splitting, the <unk> of rare words and
# <formula> (tokens no web page has) and the brackets they leave empty, spaces before closing and after opening
# punctuation, contractions, quoted spans.
_WIKITEXT_FIXES = [
    (re.compile(r" @([-,.])@ "), r"\1"),
    (re.compile(r" ?<(?:unk|formula)>"), ""),
    (re.compile(r" \( \)"), ""),
    (re.compile(r" ([,.;:!?%)\]}])"), r"\1"),
    (re.compile(r"([(\[{$£€]) "), r"\1"),
    (re.compile(r" ('s|'re|'ve|'ll|'d|'m)\b"), r"\1"),
    (re.compile(r"\b(\w+n) 't\b"), r"\1't"),
    (re.compile(r'" ([^"\n]*?) "'), r'"\1"'),
]
_WIKITEXT_TITLE = re.compile(r"^ = [^=].* = $")
_WIKITEXT_HEADING = re.compile(r"^ ?(?:= )+(.*?)(?: =)+ ?$")
_JSON_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".json.gz")


def detokenize_wikitext(text: str) -> str:
    """WikiText-tokenised text as plain text: headings as their words, one paragraph a line, no lines without a
    letter or digit."""
    lines = []
    for line in text.split("\n"):
        line = _WIKITEXT_HEADING.sub(r"\1", line)
        for pattern, replacement in _WIKITEXT_FIXES:
            line = pattern.sub(replacement, line)
        line = " ".join(line.split())
        if any(ch.isalnum() for ch in line):
            lines.append(line)
    return "\n".join(lines)


def wikitext_articles(text: str) -> list[str]:
    """The articles of a WikiText file, detokenised. An article starts at a " = Title = " line between blank lines
    (a formula line such as " = 1 <unk> and <unk> C = " inside an article has text beside it)."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if _WIKITEXT_TITLE.match(line)
              and (i == 0 or not lines[i - 1].strip()) and (i + 1 == len(lines) or not lines[i + 1].strip())]
    ends = starts[1:] + [len(lines)]
    articles = (detokenize_wikitext("\n".join(lines[start:end])) for start, end in zip(starts, ends, strict=True))
    return [article for article in articles if article]


def read_texts(path: str) -> Iterator[str]:
    """Documents of a positive-text file: JSONL "text" fields, WikiText articles, or the whole file as one."""
    import fsspec

    with fsspec.open(path, "rt", encoding="utf-8", compression="infer") as fh:
        if path.endswith(_JSON_SUFFIXES):
            for line in fh:
                if line.strip():
                    yield json.loads(line)["text"]
            return
        text = fh.read()
    if any(_WIKITEXT_TITLE.match(line) for line in text.split("\n")):
        yield from wikitext_articles(text)
    else:
        yield text


def read_crawl_documents(path: str, language: str | None = None) -> Iterator[tuple[str | None, str]]:
    """``(url, text)`` of the documents of a Parquet dataset (a curate job's documents/) or a JSONL file; with
    ``language``, only documents of that language or of none."""
    if path.endswith(_JSON_SUFFIXES):
        yield from _jsonl_documents(path, language)
        return
    import pyarrow.dataset as ds

    dataset = ds.dataset(path, format="parquet", partitioning="hive")
    names = dataset.schema.names
    columns = [name for name in ("url", "text") if name in names]
    selected = None
    if language and "language" in names:
        selected = (ds.field("language") == language) | ds.field("language").is_null()
    for batch in dataset.to_batches(columns=columns, filter=selected):
        urls = batch.column("url").to_pylist() if "url" in columns else [None] * batch.num_rows
        yield from zip(urls, batch.column("text").to_pylist(), strict=True)


def _jsonl_documents(path: str, language: str | None) -> Iterator[tuple[str | None, str]]:
    import fsspec

    with fsspec.open(path, "rt", encoding="utf-8", compression="infer") as fh:
        for line in fh:
            if not line.strip():
                continue
            doc = json.loads(line)
            metadata = doc.get("metadata") or {}
            doc_language = doc.get("language") or doc.get("lang") or metadata.get("language")
            if language and doc_language and doc_language != language:
                continue
            yield doc.get("url") or metadata.get("url"), doc["text"]


def reference_url_keys(path: str) -> set[str]:
    """The normalised keys (``url_dedup_key``) of the URLs in a list file; unparsable URLs are skipped."""
    return {key for key in map(url_dedup_key, read_list(path)) if key}


def _hash(salt: str, line: str) -> int:
    return xxhash.xxh64_intdigest(f"{salt}:{line}".encode())


def is_held_out(line: str, test_fraction: float) -> bool:
    """Whether a prepared document is in the held-out set: a hash of its text, so a document (and any exact copy)
    is always on the same side, whatever else is sampled."""
    return _hash("split", line) % 10_000 < test_fraction * 10_000


class _Sample:
    """The ``size`` distinct lines with the smallest hashes of those added: a deterministic random sample of a
    stream, in bounded memory, whatever the input order."""

    def __init__(self, size: int):
        self.size = size
        self._heap: list[tuple[int, str]] = []  # (-hash, line): the root is the largest hash kept
        self._kept: set[str] = set()

    def add(self, line: str) -> None:
        if not line or line in self._kept:
            return
        entry = (-_hash("sample", line), line)
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, entry)
        elif entry > self._heap[0]:
            self._kept.discard(heapq.heapreplace(self._heap, entry)[1])
        else:
            return
        self._kept.add(line)

    def lines(self) -> list[str]:
        """The sample, smallest hash first (so a prefix is a smaller sample)."""
        return [line for _, line in sorted(self._heap, reverse=True)]


def roc_auc(scores: list[float], labels: list[bool]) -> float:
    """Area under the ROC curve: the probability that a random positive outscores a random negative (ties count
    half), from the rank sum of the positives (Mann-Whitney U) with tied scores given their average rank."""
    order = sorted(range(len(scores)), key=scores.__getitem__)
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        for i in order[start:end + 1]:
            ranks[i] = (start + end) / 2 + 1
        start = end + 1
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        raise ValueError("ROC AUC needs both classes")
    rank_sum = sum(rank for rank, label in zip(ranks, labels, strict=True) if label)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def classification_metrics(scores: list[float], labels: list[bool], threshold: float = 0.5) -> dict[str, float]:
    """Precision, recall and F1 of the positive class at ``threshold``, and ROC AUC."""
    predicted = [score >= threshold for score in scores]
    true_positives = sum(p and y for p, y in zip(predicted, labels, strict=True))
    precision = true_positives / sum(predicted) if any(predicted) else 0.0
    recall = true_positives / sum(labels)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "roc_auc": roc_auc(scores, labels),
            "threshold": threshold}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m classifiers.wikipedia_fasttext", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    positives = parser.add_mutually_exclusive_group(required=True)
    positives.add_argument("--reference-urls", metavar="FILE",
                           help="URLs cited by Wikipedia (one a line, may be .gz): crawl documents there are positive")
    positives.add_argument("--positive-text", nargs="+", metavar="FILE",
                           help="positive documents: JSONL with 'text', WikiText files, or plain-text files")
    parser.add_argument("--crawl-documents", nargs="+", required=True, metavar="PATH",
                        help="curate job documents/ (Parquet) or JSONL files: the negatives (and, with "
                             "--reference-urls, the positives)")
    parser.add_argument("--output", required=True, metavar="MODEL.ftz", help="model file; the .json goes beside it")
    parser.add_argument("--language", help="use only crawl documents of this language (and those without one)")
    parser.add_argument("--max-documents", type=int, default=100_000,
                        help="documents sampled per class, before balancing (default: %(default)s)")
    parser.add_argument("--test-fraction", type=float, default=0.2,
                        help="share of each class held out for the metrics, by text hash (default: %(default)s)")
    parser.add_argument("--positive-label", default=FastTextClassifierConfig().positive_label,
                        help="label of the positive class, the scorer's positive_label (default: %(default)s)")
    parser.add_argument("--negative-label", default="cc", help="label of the negative class (default: %(default)s)")
    parser.add_argument("--max-chars", type=int, default=FastTextClassifierConfig().max_chars,
                        help="characters of a document the model reads; give the scorer the same max_chars "
                             "(default: %(default)s)")
    parser.add_argument("--note", default="", help="free text stored in the metadata (what the model is for)")
    hyper = parser.add_argument_group("fastText hyperparameters")
    hyper.add_argument("--epoch", type=int, default=25,
                       help="passes over the data: a few hundred documents need many (demo data, lr 0.5: held-out "
                            "F1 0.87 at 10, 0.96 at 25); with millions fastText's 5 is enough (default: %(default)s)")
    hyper.add_argument("--lr", type=float, default=0.5,
                       help="learning rate, as in fastText's text-classification tutorial (demo data: held-out log "
                            "loss 0.14 at 0.5, 0.53 at 0.1) (default: %(default)s)")
    hyper.add_argument("--word-ngrams", type=int, default=2,
                       help="word n-grams: bigrams catch phrases as 'book now' (default: %(default)s)")
    hyper.add_argument("--dim", type=int, default=64,
                       help="embedding size: the demo model's metrics at 64 and 100 are the same, its .ftz 1.3 MB "
                            "against 1.9 MB (default: %(default)s)")
    hyper.add_argument("--min-count", type=int, default=2,
                       help="words seen fewer times are ignored: drops one-off tokens (default: %(default)s)")
    hyper.add_argument("--bucket", type=int, default=1_000_000,
                       help="hash buckets for the n-grams (fastText: 2M; half keeps the matrix at 256 MB) "
                            "(default: %(default)s)")
    hyper.add_argument("--cutoff", type=int, default=30_000,
                       help="words and n-grams kept by quantisation (largest norms): bounds the .ftz, about "
                            "dim/2 bytes each (default: %(default)s)")
    hyper.add_argument("--seed", type=int, default=1, help="fastText's random seed (default: %(default)s)")
    return parser.parse_args(argv)


def collect(args: argparse.Namespace, prepare) -> tuple[list[str], list[str]]:
    """The prepared positive and negative lines, sampled, without overlap, and cut to the same size."""
    positives, negatives = _Sample(args.max_documents), _Sample(args.max_documents)
    keys = reference_url_keys(args.reference_urls) if args.reference_urls else None
    for path in args.positive_text or ():
        for text in read_texts(path):
            positives.add(prepare(text))
    for path in args.crawl_documents:
        for url, text in read_crawl_documents(path, args.language):
            referenced = keys is not None and url is not None and url_dedup_key(url) in keys
            (positives if referenced else negatives).add(prepare(text or ""))
    positive_lines = positives.lines()
    seen = set(positive_lines)
    negative_lines = [line for line in negatives.lines() if line not in seen]
    size = min(len(positive_lines), len(negative_lines))
    return positive_lines[:size], negative_lines[:size]


def fit(train_file: str, output: str, hyperparameters: dict, cutoff: int, test_lines: list[str],
        positive_label: str) -> list[float]:
    """Trains on ``train_file``, quantises (keeping the ``cutoff`` words and n-grams of largest norm, retrained),
    saves to ``output`` and returns the positive-label probabilities of ``test_lines``. Call it in a fresh process
    (``train`` does): a fastText training in a process that already trained gives another model, even NaN."""
    import fasttext

    model = fasttext.train_supervised(input=train_file, verbose=0, **hyperparameters)
    model.quantize(input=train_file, qnorm=True, retrain=True, cutoff=cutoff, verbose=0)
    model.save_model(output)
    return positive_probabilities(model, test_lines, positive_label)


def train(args: argparse.Namespace, command: str) -> dict:
    """Trains, quantises and evaluates the model, writes it and its metadata, and returns the metadata."""
    prepare = FastTextClassifier(FastTextClassifierConfig(max_chars=args.max_chars)).prepare
    positive_lines, negative_lines = collect(args, prepare)
    if len(positive_lines) < 2:
        raise ValueError(f"too few documents: {len(positive_lines)} per class after balancing")
    examples = [(line, True) for line in positive_lines] + [(line, False) for line in negative_lines]
    held_out = [is_held_out(line, args.test_fraction) for line, _ in examples]
    train_set = sorted((e for e, h in zip(examples, held_out, strict=True) if not h),
                       key=lambda e: _hash("order", e[0]))  # classes interleaved: SGD must not see one, then the other
    test_set = [e for e, h in zip(examples, held_out, strict=True) if h]
    if not any(y for _, y in test_set) or all(y for _, y in test_set):
        raise ValueError("the held-out set lacks a class: give more documents or a larger --test-fraction")

    labels = {True: LABEL_PREFIX + args.positive_label, False: LABEL_PREFIX + args.negative_label}
    hyperparameters = {"epoch": args.epoch, "lr": args.lr, "wordNgrams": args.word_ngrams, "dim": args.dim,
                       "minCount": args.min_count, "bucket": args.bucket, "loss": "softmax", "thread": 1,
                       "seed": args.seed}
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, \
            ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as fresh_process:
        train_file = Path(tmp) / "train.txt"
        train_file.write_text("".join(f"{labels[y]} {line}\n" for line, y in train_set), encoding="utf-8")
        scores = fresh_process.submit(fit, str(train_file), str(output), hyperparameters, args.cutoff,
                                      [line for line, _ in test_set], args.positive_label).result()
    metrics = classification_metrics(scores, [y for _, y in test_set])
    metadata = {
        "model": output.name,
        "created": datetime.date.today().isoformat(),
        "command": command,
        "note": args.note,
        "language": args.language,
        "labels": {"positive": args.positive_label, "negative": args.negative_label},
        "scorer_config": {"positive_label": args.positive_label, "max_chars": args.max_chars},
        "training_data": {
            "positives": {"reference_urls": args.reference_urls} if args.reference_urls
            else {"positive_text": args.positive_text},
            "negatives": {"crawl_documents": args.crawl_documents},
            "documents_per_class": len(positive_lines),
            "train": {"positive": sum(y for _, y in train_set), "negative": sum(not y for _, y in train_set)},
            "test": {"positive": sum(y for _, y in test_set), "negative": sum(not y for _, y in test_set)},
        },
        "hyperparameters": {**hyperparameters, "quantize": {"cutoff": args.cutoff, "qnorm": True, "retrain": True}},
        "held_out_metrics": {k: round(v, 4) for k, v in metrics.items()},
        "model_bytes": output.stat().st_size,
    }
    output.with_suffix(".json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return metadata


def main(argv: Iterable[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    try:
        metadata = train(args, shlex.join(["python", "-m", "classifiers.wikipedia_fasttext", *argv]))
    except ValueError as exc:
        print(f"wikipedia_fasttext: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        if "NaN" not in str(exc):
            raise
        print("wikipedia_fasttext: fastText diverged (Encountered NaN): try a lower --lr", file=sys.stderr)
        return 2
    data, metrics = metadata["training_data"], metadata["held_out_metrics"]
    print(f"{args.output}: {metadata['model_bytes']:,} bytes; {data['documents_per_class']} documents per class "
          f"(train {data['train']}, test {data['test']}); held out: precision {metrics['precision']:.3f} "
          f"recall {metrics['recall']:.3f} F1 {metrics['f1']:.3f} ROC AUC {metrics['roc_auc']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
