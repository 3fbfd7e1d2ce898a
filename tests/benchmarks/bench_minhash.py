"""Benchmark: MinHash signatures of a batch with ``MinHasher.signatures`` vs datasketch, one document at a time.

Reads ../shared/data/quality_text/wikitext2/articles.jsonl (122 Wikipedia articles, WikiText-2 valid + test,
detokenised) and cuts the articles at paragraph breaks into documents of about ``--doc-chars`` characters.
Both sides get the same texts and must produce the same signatures (checked):

- batch: ``MinHasher(num_perm, seed).signatures(texts, ngram)``, one call for all documents;
- datasketch, as a per-document loop would use it: ``shingles(text, ngram)``, then
  ``MinHash(num_perm, seed, hashfunc=shingle_hash).update_batch(...)``; also split into the two parts, and with
  permutations shared between documents (``MinHash(..., permutations=..., scheme="affine32")``, which skips
  drawing them per document).

Single process, single thread (numpy does not multithread these operations), best of ``--repeat`` runs. Peak
memory: tracemalloc's peak of Python and numpy allocations during one batch call, and the process's peak RSS.

Scripts without spaces: pages of 15 real sentences per language (``../shared/data/langid_lingua``) in Chinese,
Japanese and Thai, signed with their language (segmented into words by ``multilingual.text_tokens.words``: jieba,
MeCab, PyThaiNLP), against the segmentation alone and against English pages of the same sentences' source: the
cost of segmentation per character, and per document against datasketch's loop on the same shingles.

    python tests/benchmarks/bench_minhash.py [--doc-chars 3000] [--num-perm 128] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from datasketch import MinHash

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.dedup.minhash import MinHashConfig, MinHasher, shingle_hash, shingles  # noqa: E402
from pipeline.multilingual.text_tokens import words  # noqa: E402

ARTICLES = REPO.parent / "shared" / "data" / "quality_text" / "wikitext2" / "articles.jsonl"
SENTENCES = REPO.parent / "shared" / "data" / "langid_lingua" / "sentences_dev.jsonl"


def documents(doc_chars: int) -> list[str]:
    """The articles cut at paragraph breaks into pieces of at least ``doc_chars`` characters (shorter rests
    of at least a fifth of that are kept too)."""
    docs = []
    with ARTICLES.open(encoding="utf-8") as lines:
        for line in lines:
            piece = ""
            for paragraph in json.loads(line)["text_detok"].split("\n"):
                piece += paragraph + "\n"
                if len(piece) >= doc_chars:
                    docs.append(piece)
                    piece = ""
            if len(piece) >= doc_chars // 5:
                docs.append(piece)
    return docs


def best_time(function, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = MinHashConfig()
    parser.add_argument("--doc-chars", type=int, default=3000, help="document size to cut articles into")
    parser.add_argument("--num-perm", type=int, default=default.num_perm)
    parser.add_argument("--ngram", type=int, default=default.ngram)
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported")
    parser.add_argument("--datasketch-docs", type=int, default=400,
                        help="documents timed for datasketch's per-document loop (it is the slow side)")
    args = parser.parse_args()
    if not ARTICLES.exists():
        sys.exit(f"{ARTICLES} not found: ../shared/data must sit beside the checkout")

    texts = documents(args.doc_chars)
    hasher = MinHasher(args.num_perm, args.seed)
    hasher.signatures(texts[:1], args.ngram)  # builds the per-process character table (reported below)
    sample = texts[: args.datasketch_docs]
    n_shingles = sum(len(shingles(t, args.ngram)) for t in sample) / len(sample)
    print(f"{len(texts)} documents, {sum(map(len, texts)) / len(texts):.0f} characters and "
          f"{n_shingles:.0f} distinct {args.ngram}-word shingles each on average; num_perm {args.num_perm}, "
          f"best of {args.repeat}")

    batch_s, signatures = best_time(lambda: hasher.signatures(texts, args.ngram), args.repeat)

    def datasketch_loop():
        out = []
        for text in sample:
            m = MinHash(num_perm=args.num_perm, seed=args.seed, hashfunc=shingle_hash)
            m.update_batch(shingles(text, args.ngram))
            out.append(m.hashvalues)
        return out

    loop_s, expected = best_time(datasketch_loop, args.repeat)
    if not np.array_equal(signatures[: len(sample)], np.array(expected)):
        sys.exit("signatures differ from datasketch's")
    shingle_s, shingle_sets = best_time(lambda: [shingles(t, args.ngram) for t in sample], args.repeat)

    def datasketch_only():
        for s in shingle_sets:
            MinHash(num_perm=args.num_perm, seed=args.seed, hashfunc=shingle_hash).update_batch(s)

    sketch_s, _ = best_time(datasketch_only, args.repeat)
    permutations = MinHash(num_perm=args.num_perm, seed=args.seed).permutations

    def datasketch_shared_permutations():
        for text in sample:
            m = MinHash(num_perm=args.num_perm, seed=args.seed, hashfunc=shingle_hash,
                        permutations=permutations, scheme="affine32")
            m.update_batch(shingles(text, args.ngram))

    shared_s, _ = best_time(datasketch_shared_permutations, args.repeat)

    batch_rate = len(texts) / batch_s
    rows = [
        ("MinHasher.signatures (one batch)", batch_rate),
        ("datasketch loop: shingles + MinHash + update_batch", len(sample) / loop_s),
        ("  its shingles() part alone", len(sample) / shingle_s),
        ("  its MinHash + update_batch part alone", len(sample) / sketch_s),
        ("datasketch loop, permutations shared", len(sample) / shared_s),
    ]
    print(f"\n{'':<52} {'docs/s':>9} {'us/doc':>8} {'batch is':>9}")
    for name, rate in rows:
        print(f"{name:<52} {rate:>9.0f} {1e6 / rate:>8.1f} {batch_rate / rate:>8.1f}x")
    print(f"\nbatch throughput: {sum(map(len, texts)) / batch_s / 1e6:.1f} M characters/s")

    tracemalloc.start()
    hasher.signatures(texts, args.ngram)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    text_mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    print(f"peak traced memory of one batch call: {peak / 1e6:.1f} MB for {text_mb:.1f} MB of text "
          f"({len(texts)} documents; the result is {signatures.nbytes / 1e6:.1f} MB)")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB")
    unspaced_scripts(hasher, args)


def unspaced_scripts(hasher: MinHasher, args: argparse.Namespace) -> None:
    """Signatures of zh/ja/th pages with word segmentation, against the segmentation alone, English pages and
    datasketch on the same shingles (see the module docstring)."""
    by_language: dict[str, list[str]] = {}
    with SENTENCES.open(encoding="utf-8") as lines:
        for row in map(json.loads, lines):
            by_language.setdefault(row["lang"], []).append(row["text"])
    print(f"\n{'pages of 15 lingua sentences':<30} {'docs':>5} {'chars/doc':>9} {'signatures':>11} "
          f"{'segmentation':>12} {'share':>6} {'datasketch loop':>15} {'batch is':>8}")
    print(f"{'':<30} {'':>5} {'':>9} {'K chars/s':>11} {'K chars/s':>12} {'':>6} {'K chars/s':>15}")
    for language, joiner in (("en", " "), ("zh", ""), ("ja", ""), ("th", " ")):
        sentences = by_language[language]
        texts = [joiner.join(sentences[i:i + 15]) for i in range(0, len(sentences) - 14, 15)]
        chars = sum(map(len, texts))
        sign_s, segment_s, loop_s = _unspaced_times(hasher, texts, language, args)
        segment = f"{chars / segment_s / 1e3:>12.0f} {segment_s / sign_s:>6.0%}" if language != "en" else f"{'-':>19}"
        print(f"{language:<30} {len(texts):>5} {chars / len(texts):>9.0f} {chars / sign_s / 1e3:>11.0f} {segment} "
              f"{chars / loop_s / 1e3:>15.0f} {loop_s / sign_s:>7.1f}x")


def _unspaced_times(hasher: MinHasher, texts: list[str], language: str, args) -> tuple[float, float, float]:
    """Seconds for: the batch's signatures, its segmentation alone, datasketch's per-document loop."""
    words(texts[0], language)  # loads the segmenter
    sign_s, _ = best_time(lambda: hasher.signatures(texts, args.ngram, [language] * len(texts)), args.repeat)
    segment_s, _ = best_time(lambda: [words(t, language) for t in texts], args.repeat)

    def loop():
        for text in texts:
            m = MinHash(num_perm=args.num_perm, seed=args.seed, hashfunc=shingle_hash)
            m.update_batch(shingles(text, args.ngram, language))

    loop_s, _ = best_time(loop, args.repeat)
    return sign_s, segment_s, loop_s


if __name__ == "__main__":
    main()
