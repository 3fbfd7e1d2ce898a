"""MinHash near-duplicate detection against exact Jaccard similarity of the same shingle sets.

Reads ../shared/data (beside the checkout, not part of it):

1. ``neardup_clough_stevenson/pairs.jsonl``: 95 short answers written from 5 Wikipedia articles (cut = near
   copy, light and heavy revision, non = written independently), plus the 5 articles (see its SOURCE.txt);
2. ``quality_text/wikitext2/articles.jsonl``: Wikipedia articles (at most ``--article-chars`` characters each,
   cut at a paragraph break), each with derived copies under graded, seeded edits: words replaced by random
   corpus words at 1-10%, boilerplate lines inserted (cookie banners, navigation, share buttons), truncation to
   90/70/50% of the words, paragraphs shuffled.

Ground truth for every pair of documents of a set: exact Jaccard of their ``shingles()`` sets >= threshold (all
pairs with any shared shingle are computed, as a sparse product). Predicted: the pair is an LSH candidate (equal
key in some band) and its estimated Jaccard >= verify_threshold. Pair-level precision and recall, the recall of
LSH alone, how each category / edit fares (against its source / original), and the purity of the clusters that
union-find makes of the accepted pairs: the fraction of clustered documents that belong to their cluster's
majority true group (the article a document was written from or derived from; "non" answers are each their own).
"Star" rows verify only each bucket's smallest member against the others, as a Spark job that avoids all-pairs
does. Several configurations are compared; the first is ``MinHashConfig()`` with the command-line overrides.

    python tests/benchmarks/eval_minhash.py [--threshold 0.8] [--num-perm 128] [--verify-threshold 0.79]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import sparse

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.dedup.minhash import MinHashConfig, MinHasher, band_keys, lsh_params, shingles  # noqa: E402

DATA = REPO.parent / "shared" / "data"
CLOUGH = DATA / "neardup_clough_stevenson" / "pairs.jsonl"
ARTICLES = DATA / "quality_text" / "wikitext2" / "articles.jsonl"
BOILERPLATE = [
    "We use cookies to improve your experience on our site. By continuing you agree to our use of cookies.",
    "Accept all cookies Manage preferences",
    "Home | News | Sport | Culture | Science | About us | Contact",
    "Share this article: Facebook Twitter LinkedIn Email Print",
    "Subscribe to our newsletter and get the latest stories delivered to your inbox every week.",
    "Copyright 2024 Example Media Group. All rights reserved.",
    "Privacy Policy Terms of Use Cookie Settings Accessibility",
    "Related articles you may also like",
    "Advertisement",
    "Sign in to leave a comment or create a free account today.",
    "This page was last edited on 12 March 2024, at 14:02.",
    "Follow us on Instagram and YouTube for more updates from our editors.",
]
SUBSTITUTION_RATES = (0.01, 0.02, 0.03, 0.05, 0.10)


@dataclass
class Corpus:
    name: str
    texts: list[str]
    groups: list[str]  # true origin of each document, for cluster purity
    # (document, its source / original, category) for the per-category table
    labelled: list[tuple[int, int, str]]


def clough_corpus() -> Corpus:
    with CLOUGH.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    sources = sorted({r["source"] for r in rows})
    texts = [next(r["source_text"] for r in rows if r["source"] == s) for s in sources]
    groups = list(sources)
    labelled = []
    for r in rows:
        labelled.append((len(texts), sources.index(r["source"]), r["category"]))
        texts.append(r["text"])
        groups.append(r["doc"] if r["category"] == "non" else r["source"])
    return Corpus("clough-stevenson (100 docs)", texts, groups, labelled)


def _truncate(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    cut = text.rfind("\n", 0, chars)
    return text[: cut if cut > chars // 2 else chars]


def edits(text: str, vocabulary: list[str], rng: random.Random) -> dict[str, str]:
    """Derived copies of one article, by edit name."""
    words = text.split(" ")
    out = {}
    for rate in SUBSTITUTION_RATES:
        out[f"substitute {rate:.0%} of words"] = " ".join(
            rng.choice(vocabulary) if rng.random() < rate else w for w in words)
    paragraphs = text.split("\n")
    for k in (3, 10):
        edited = list(paragraphs)
        for line in rng.sample(BOILERPLATE, k):
            edited.insert(rng.choice([0, len(edited), rng.randrange(len(edited) + 1)]), line)
        out[f"insert {k} boilerplate lines"] = "\n".join(edited)
    for keep in (0.9, 0.7, 0.5):
        out[f"truncate to {keep:.0%}"] = " ".join(words[: int(len(words) * keep)])
    shuffled = list(paragraphs)
    rng.shuffle(shuffled)
    out["shuffle paragraphs"] = "\n".join(shuffled)
    return out


def synthetic_corpus(article_chars: int, seed: int) -> Corpus:
    with ARTICLES.open(encoding="utf-8") as lines:
        articles = [json.loads(line) for line in lines]
    articles = [(a["title"], _truncate(a["text_detok"], article_chars)) for a in articles]
    articles = [(title, text) for title, text in articles if len(text.split()) >= 200]
    vocabulary = sorted({w for _, text in articles for w in text.split()})
    texts, groups, labelled = [], [], []
    for i, (title, text) in enumerate(articles):
        original = len(texts)
        texts.append(text)
        groups.append(title)
        for name, edited in edits(text, vocabulary, random.Random(seed * 100_003 + i)).items():
            labelled.append((len(texts), original, name))
            texts.append(edited)
            groups.append(title)
    return Corpus(f"wikitext2 edits ({len(articles)} articles + {len(texts) - len(articles)} copies)", texts,
                  groups, labelled)


def exact_jaccard_pairs(texts: list[str], ngram: int) -> dict[tuple[int, int], float]:
    """Exact Jaccard of every pair ``i < j`` that shares at least one shingle."""
    ids: dict[bytes, int] = {}
    rows, cols = [], []
    for i, text in enumerate(texts):
        for s in shingles(text, ngram):
            rows.append(i)
            cols.append(ids.setdefault(s, len(ids)))
    x = sparse.csr_matrix((np.ones(len(rows), np.int32), (rows, cols)), shape=(len(texts), len(ids)))
    sizes = np.asarray(x.sum(axis=1)).ravel()
    shared = sparse.triu(x @ x.T, k=1).tocoo()
    jaccard = shared.data / (sizes[shared.row] + sizes[shared.col] - shared.data)
    return dict(zip(zip(shared.row.tolist(), shared.col.tolist(), strict=True), jaccard.tolist(), strict=True))


def lsh_candidates(keys: np.ndarray, star: bool) -> set[tuple[int, int]]:
    """Pairs sharing a key in some band: all pairs of each bucket, or (star) its smallest member with each."""
    pairs = set()
    for band in range(keys.shape[1]):
        buckets = defaultdict(list)
        for doc, key in enumerate(keys[:, band].tolist()):
            buckets[key].append(doc)
        for members in buckets.values():
            if star:
                pairs.update((members[0], m) for m in members[1:])
            else:
                pairs.update((a, b) for k, a in enumerate(members) for b in members[k + 1:])
    return pairs


def clusters(n: int, pairs) -> list[int]:
    """Union-find: a root per document."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        parent[find(a)] = find(b)
    return [find(i) for i in range(n)]


def purity(roots: list[int], groups: list[str]) -> tuple[float, int, int]:
    """(purity, clusters of 2+ documents, documents in them)."""
    members = defaultdict(list)
    for doc, root in enumerate(roots):
        members[root].append(groups[doc])
    multi = [m for m in members.values() if len(m) > 1]
    clustered = sum(len(m) for m in multi)
    majority = sum(max(m.count(g) for g in set(m)) for m in multi)
    return (majority / clustered if clustered else 1.0), len(multi), clustered


def evaluate(corpus: Corpus, config: MinHashConfig, exact: dict, star: bool = False) -> dict:
    bands, rows = lsh_params(config)
    signatures = MinHasher(config.num_perm, config.seed).signatures(corpus.texts, config.ngram)
    candidates = lsh_candidates(band_keys(signatures, bands, rows), star)
    accepted = {(a, b) for a, b in candidates
                if np.count_nonzero(signatures[a] == signatures[b]) >= config.verify_threshold * config.num_perm}
    truth = {pair for pair, j in exact.items() if j >= config.threshold}
    tp = len(accepted & truth)
    roots = clusters(len(corpus.texts), accepted)
    p, n_clusters, clustered = purity(roots, corpus.groups)
    doc_precision, doc_recall = document_scores(roots, truth)
    return {"bands": f"{bands}x{rows}", "true": len(truth), "candidates": len(candidates), "accepted": len(accepted),
            "tp": tp, "fp": len(accepted - truth), "fn": len(truth - accepted),
            "precision": tp / len(accepted) if accepted else 1.0, "recall": tp / len(truth) if truth else 1.0,
            "lsh_recall": len(candidates & truth) / len(truth) if truth else 1.0,
            "doc_precision": doc_precision, "doc_recall": doc_recall,
            "purity": p, "clusters": n_clusters, "clustered": clustered, "star": star,
            "signatures": signatures, "accepted_pairs": accepted, "roots": roots}


def document_scores(roots: list[int], truth: set[tuple[int, int]]) -> tuple[float, float]:
    """(precision, recall) per document: of the documents in clusters of 2+, the fraction with a true near
    duplicate in the same cluster; of the documents with a true near duplicate, the fraction clustered with one."""
    partners = defaultdict(set)
    for a, b in truth:
        partners[a].add(b)
        partners[b].add(a)
    sizes = defaultdict(int)
    for root in roots:
        sizes[root] += 1
    clustered = [doc for doc, root in enumerate(roots) if sizes[root] > 1]
    found = {doc for doc in partners if any(roots[other] == roots[doc] for other in partners[doc])}
    precision = len(found & set(clustered)) / len(clustered) if clustered else 1.0
    return precision, (len(found) / len(partners) if partners else 1.0)


def print_results_table(rows: list[tuple[str, dict]]) -> None:
    print(f"  {'':<38} {'':>6} {'pairs':-^62}  {'documents':-^41}")
    print(f"  {'configuration':<38} {'bands':>6} {'true':>6} {'cand.':>6} {'acc.':>6} {'FP':>5} {'FN':>5} "
          f"{'prec.':>6} {'recall':>6} {'LSH rec.':>8}  {'prec.':>6} {'recall':>6} {'purity':>6} {'clusters':>13}")
    for name, r in rows:
        pairs = (f"{r['true']:>6} {r['candidates']:>6} {r['accepted']:>6} {r['fp']:>5} {r['fn']:>5} "
                 f"{r['precision']:>6.3f} {r['recall']:>6.3f} {r['lsh_recall']:>8.3f}")
        if r["star"]:  # only bucket roots are paired: pair scores do not compare, document scores do
            pairs = f"{'(star edges: see documents)':^62}"
        print(f"  {name:<38} {r['bands']:>6} {pairs}  {r['doc_precision']:>6.3f} {r['doc_recall']:>6.3f} "
              f"{r['purity']:>6.3f} {r['clusters']:>4} ({r['clustered']:>4} docs)")


def print_category_table(corpus: Corpus, result: dict, exact: dict, config: MinHashConfig) -> None:
    """How each category / edit fares against its source or original."""
    signatures, accepted, roots = result["signatures"], result["accepted_pairs"], result["roots"]
    by_category = defaultdict(list)
    for doc, source, category in corpus.labelled:
        pair = (min(doc, source), max(doc, source))
        by_category[category].append((
            exact.get(pair, 0.0),
            np.count_nonzero(signatures[doc] == signatures[source]) / config.num_perm,
            pair in accepted,
            roots[doc] == roots[source],
        ))
    print(f"  {'category / edit':<32} {'n':>4} {'exact J: mean':>13} {'min':>5} {'max':>5} {'>=thr':>6} "
          f"{'est. J':>6} {'pair acc.':>9} {'same cluster':>12}")
    for category, values in by_category.items():
        j, est, acc, same = (np.array(v) for v in zip(*values, strict=True))
        print(f"  {category:<32} {len(values):>4} {j.mean():>13.3f} {j.min():>5.2f} {j.max():>5.2f} "
              f"{np.mean(j >= config.threshold):>6.0%} {est.mean():>6.3f} {acc.mean():>9.0%} {same.mean():>12.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = MinHashConfig()
    parser.add_argument("--threshold", type=float, default=default.threshold)
    parser.add_argument("--num-perm", type=int, default=default.num_perm)
    parser.add_argument("--verify-threshold", type=float, default=default.verify_threshold)
    parser.add_argument("--bands", type=int, default=default.bands)
    parser.add_argument("--rows", type=int, default=default.rows)
    parser.add_argument("--ngram", type=int, default=default.ngram)
    parser.add_argument("--article-chars", type=int, default=12_000, help="wikitext2 articles are cut to this")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic edits")
    args = parser.parse_args()
    for path in (CLOUGH, ARTICLES):
        if not path.exists():
            sys.exit(f"{path} not found: ../shared/data must sit beside the checkout")
    started = time.perf_counter()
    config = replace(default, threshold=args.threshold, num_perm=args.num_perm, ngram=args.ngram,
                     verify_threshold=args.verify_threshold, bands=args.bands, rows=args.rows)
    configurations = [
        ("configured", config, False),
        ("configured, star verification", config, True),
        ("no verification", replace(config, verify_threshold=0.0), False),
        ("verify at the threshold", replace(config, verify_threshold=config.threshold), False),
        ("datasketch's optimum (bands, rows 0)", replace(config, bands=0, rows=0), False),
        ("FineWeb's num_perm 112, 14 x 8", replace(config, num_perm=112, bands=14, rows=8), False),
        ("num_perm 256, datasketch's optimum", replace(config, num_perm=256, bands=0, rows=0), False),
    ]
    print(f"threshold {config.threshold} (exact Jaccard of {config.ngram}-word shingle sets), configured: "
          f"num_perm {config.num_perm}, verify_threshold {config.verify_threshold}")
    for corpus in (clough_corpus(), synthetic_corpus(args.article_chars, args.seed)):
        exact = exact_jaccard_pairs(corpus.texts, config.ngram)
        n_pairs = len(corpus.texts) * (len(corpus.texts) - 1) // 2
        print(f"\n{corpus.name}: {n_pairs} pairs, {len(exact)} share a shingle")
        results = [(name, evaluate(corpus, c, exact, star)) for name, c, star in configurations]
        print_results_table(results)
        print("\n  by category / edit, against the source / original (configured):")
        print_category_table(corpus, results[0][1], exact, config)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
