"""Benchmark and report of the model-based quality classifiers (Llama 3 §3.1.1 "Model-based quality filtering")
on the documents of a curate run, one core:

- documents/s per core of fastText scoring (the shipped "referenced by Wikipedia" demo model) and of each shipped
  transformer classifier on CPU (one torch thread, batches of 8, 256 tokens);
- each classifier's score distribution on those documents (deciles and a text histogram) and its five top- and five
  bottom-scored documents.

    spark-submit jobs/curate.py --output out          # or any curate output
    python tests/benchmarks/bench_quality.py [--documents out/documents] [--transformers quality_minilm,...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipeline.quality.fasttext_classifier import FastTextClassifier  # noqa: E402


def timed(score, texts: list[str]) -> tuple[list[float], float]:
    score(texts[:8])  # load the model outside the timing
    started = time.perf_counter()
    values = score(texts)
    return values, time.perf_counter() - started


def report(name: str, rows: list[dict], values: list[float], seconds: float) -> None:
    scores = np.array(values)
    print(f"\n{name}: {len(rows)} documents in {seconds:.1f}s = {len(rows) / seconds:,.1f} documents/s on one core")
    print("  deciles: " + " ".join(f"{q:.2f}" for q in np.quantile(scores, np.linspace(0, 1, 11))))
    counts, edges = np.histogram(scores, bins=10, range=(0, 1))
    for count, low in zip(counts, edges, strict=False):
        print(f"  {low:.1f}-{low + 0.1:.1f} {'#' * int(60 * count / max(counts.max(), 1)):60s} {count}")
    order = np.argsort(-scores)
    for label, picks in (("top", order[:5]), ("bottom", order[-5:][::-1])):
        print(f"  {label} 5:")
        for i in picks:
            text = " ".join(rows[i]["text"].split())[:70]
            print(f"    {scores[i]:.3f} [{rows[i]['language']}] {rows[i]['url'][:60]}\n          {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", default="out/documents")
    parser.add_argument("--transformers", default="quality_minilm,code_minilm,reasoning_minilm",
                        help="shipped or trained transformer classifiers to time (empty: none)")
    args = parser.parse_args()
    rows = ds.dataset(args.documents, format="parquet", partitioning="hive").to_table(
        columns=["url", "text", "language"]).to_pylist()
    english = [r for r in rows if r["language"] == "en"]
    values, seconds = timed(FastTextClassifier().score, [r["text"] for r in rows])
    report("wikipedia_fasttext (all languages; the demo model is English: read the English lines)", rows, values,
           seconds)
    values, seconds = timed(FastTextClassifier().score, [r["text"] for r in english])
    report("wikipedia_fasttext, English documents", english, values, seconds)
    for model in filter(None, args.transformers.split(",")):
        from pipeline.quality.transformer_classifier import TransformerClassifier, TransformerClassifierConfig

        classifier = TransformerClassifier(TransformerClassifierConfig(model_path=model, torch_threads=1,
                                                                       batch_size=8))
        values, seconds = timed(classifier.score, [r["text"] for r in english])
        report(f"{model} (CPU, English documents)", english, values, seconds)


if __name__ == "__main__":
    main()
