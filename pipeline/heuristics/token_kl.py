"""Token-distribution KL divergence (Llama 3 (2024) §3.1.1 "Heuristic filtering": "We use token-distribution
Kullback-Leibler divergence to filter out documents containing excessive numbers of outlier tokens compared to the
training corpus distribution").

Definition, per document *d* of a group *g* (its language by default):

- tokens: the words of :func:`~pipeline.multilingual.text_tokens.words` (segmented per script, so Chinese or Thai
  are words, not one token a line), lower-cased, hashed with xxh64 into ``buckets`` bins (a bounded vocabulary:
  memory is ``buckets`` counts per group however large the crawl; colliding rare words are merged, which barely moves a
  divergence dominated by frequent words and by words unseen elsewhere);
- P_d(i) = c_d(i) / n_d, the document's bin frequencies;
- Q_g(i) = (C_g(i) - c_d(i) + alpha) / (N_g - n_d + alpha * buckets): the group's corpus counts *without the
  document itself* (leave-one-out, so a page of gibberish does not make its own tokens look familiar, which matters
  on small corpora), with additive smoothing ``alpha`` so unseen tokens have a finite, small probability;
- KL(P_d || Q_g) = sum_i P_d(i) * ln(P_d(i) / Q_g(i)), in nats. This direction is the one that measures how
  unexpected the *document's* tokens are under the corpus: it grows with the share of the document made of tokens
  the corpus rarely or never uses (random strings, hashes, keyword salad in a foreign vocabulary), while corpus
  words the document does not use cost nothing.

KL(P||Q) = cross-entropy(P, Q) - entropy(P), and a document's entropy grows with its length, so KL falls with
length even for ordinary text (on 122 Wikipedia articles, corr(KL, ln n) = -0.91). The filter therefore judges the
*excess* divergence: KL minus the group's least-squares line KL ~ a + b ln(n_d), fitted over the group's documents
of at least ``min_tokens`` tokens (shorter ones get the signals but are never dropped: too few tokens to tell). A
document is dropped when its excess is above Tukey's "far out" fence Q3 + ``fence`` x (Q3 - Q1) of the group's
excesses: the threshold comes from each group's own distribution and removes documents far outside its bulk, not a
fixed share of every corpus as a percentile cut would. Groups with fewer than ``min_documents`` such documents get
the signals but are not filtered (their distribution is too thin to judge against). ``max_excess`` > 0 replaces the
fence with a fixed threshold in nats.

On the 122 WikiText-2 articles (detokenised; ``tests/test_token_kl.py``) the fence is +0.91 nats and no article is
above it; 300 random tokens score +5.0, an article whose tokens are a third random strings is dropped, one where they
are a quarter (+0.83) is not. The judgement needs a corpus: on 60 paragraphs every content word is rare and only
whole-garbage documents stand out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xxhash

from pipeline.multilingual.text_tokens import words
from pipeline.steps import Document, Rejection, Step


@dataclass(frozen=True)
class TokenKlConfig:
    """Options of the token-distribution KL divergence filter, with the reason for each default beside it."""

    # Paper: documents with excessive outlier tokens compared to the corpus distribution are removed.
    enabled: bool = True
    # Hashed vocabulary size per group: 2^18 bins = 2 MB of counts per language, whatever the crawl size.
    buckets: int = 1 << 18
    # Additive smoothing of the corpus counts, so a token the corpus never saw has a finite probability.
    alpha: float = 0.5
    # Documents with fewer tokens get the signal but are never dropped: KL is inflated by low entropy when short.
    min_tokens: int = 50
    # Drop above Q3 + fence x IQR of the group's excess divergences (Tukey's far-out fence: outliers, not a quota).
    fence: float = 3.0
    # Fixed excess-divergence threshold in nats instead of the fence (0 = use the fence).
    max_excess: float = 0.0
    # Groups with fewer documents of min_tokens are not filtered: too little text to judge against.
    min_documents: int = 50
    # Column whose groups get their own corpus distribution ("language", or "" for one global distribution).
    group_by: str = "language"


def token_bins(tokens: Sequence[str], buckets: int) -> np.ndarray:
    """The hashed bins of the lower-cased ``tokens`` (a text's ``words``), in order (int64)."""
    return np.fromiter((xxhash.xxh64_intdigest(t.lower().encode()) % buckets for t in tokens), dtype=np.int64,
                       count=len(tokens))


def bin_counts(bins: np.ndarray, buckets: int) -> np.ndarray:
    """Dense counts per bin (float64, length ``buckets``): what a partition adds to its group's corpus counts."""
    return np.bincount(bins, minlength=buckets).astype(np.float64)


def kl_divergence(bins: np.ndarray, corpus_counts: np.ndarray, corpus_total: float, alpha: float,
                  counts: np.ndarray | None = None) -> float:
    """KL(P_d || Q_g) in nats, as defined in the module docstring; ``corpus_counts`` (summing to ``corpus_total``)
    include the document, which is left out here. ``bins``: the document's bins in order, or its distinct bins when
    their ``counts`` are given. NaN for a document without tokens."""
    ids, counts = np.unique(bins, return_counts=True) if counts is None else (bins, np.asarray(counts))
    if ids.size == 0:
        return float("nan")
    n = float(counts.sum())
    p = counts / n
    others = np.maximum(corpus_counts[ids] - counts, 0.0)
    denominator = max(corpus_total - n, 0.0) + alpha * corpus_counts.size
    q = (others + alpha) / denominator
    return float(np.sum(p * np.log(p / q)))


def length_fit(documents: float, sum_x: float, sum_y: float, sum_xx: float, sum_xy: float) -> tuple[float, float]:
    """(a, b) of the least-squares line KL ~ a + b ln(n) from the sums over a group's documents of x = ln(n) and
    y = KL (so Spark computes it as one aggregation); a flat line at the mean when all lengths are equal."""
    if documents <= 0:
        return 0.0, 0.0
    spread = documents * sum_xx - sum_x * sum_x
    slope = (documents * sum_xy - sum_x * sum_y) / spread if spread > 1e-9 * documents * documents else 0.0
    return (sum_y - slope * sum_x) / documents, slope


def excess_divergence(divergence: float, tokens: int, fit: tuple[float, float]) -> float:
    """How far ``divergence`` is above what the group's length fit expects for a document of ``tokens`` tokens."""
    intercept, slope = fit
    return float(divergence - (intercept + slope * np.log(tokens))) if tokens > 0 else float("nan")


def is_outlier(excess: float, tokens: int, threshold: float, config: TokenKlConfig) -> bool:
    """The filter's rule: a document long enough to judge whose excess divergence is above its group's threshold."""
    return tokens >= config.min_tokens and bool(np.isfinite(excess)) and excess > threshold


def outlier_threshold(q1: float, q3: float, config: TokenKlConfig) -> float:
    """The excess divergence above which a document of a group is an outlier: the fixed ``max_excess`` when set,
    else Tukey's fence Q3 + fence x (Q3 - Q1)."""
    if config.max_excess > 0:
        return config.max_excess
    return q3 + config.fence * (q3 - q1)


class TokenKl:
    """The filter on plain strings, for one group of documents held in memory (the Spark stage does the same at
    crawl scale with aggregations): ``judge`` builds the corpus distribution from the texts themselves."""

    def __init__(self, config: TokenKlConfig = TokenKlConfig()):
        self.config = config

    def judge(self, texts: list[str], language: str | None = None) -> list[tuple[dict[str, float], Rejection | None]]:
        """Per text: its signals (``tokens``, ``token_kl``, ``token_kl_excess``) and a ``token_kl_outlier``
        Rejection or None."""
        cfg = self.config
        bins = [token_bins(words(text, language), cfg.buckets) for text in texts]
        corpus = np.zeros(cfg.buckets)
        for document in bins:
            corpus += bin_counts(document, cfg.buckets)
        total = float(corpus.sum())
        divergences = [kl_divergence(document, corpus, total, cfg.alpha) for document in bins]
        judged = [(np.log(b.size), kl) for b, kl in zip(bins, divergences, strict=True) if b.size >= cfg.min_tokens]
        fit, threshold = (0.0, 0.0), float("inf")
        if len(judged) >= cfg.min_documents:
            x, y = np.array(judged).T
            fit = length_fit(len(x), x.sum(), y.sum(), (x * x).sum(), (x * y).sum())
            q1, q3 = np.percentile(y - (fit[0] + fit[1] * x), [25, 75])
            threshold = outlier_threshold(float(q1), float(q3), cfg)
        results = []
        for document, kl in zip(bins, divergences, strict=True):
            signals = {"tokens": float(document.size), "token_kl": kl}
            verdict = None
            if np.isfinite(threshold) and document.size:
                signals["token_kl_excess"] = excess = excess_divergence(kl, document.size, fit)
                if is_outlier(excess, document.size, threshold, cfg):
                    verdict = _rejection(excess, threshold)
            results.append((signals, verdict))
        return results


def _rejection(excess: float, threshold: float) -> Rejection:
    return Rejection("token_kl_outlier", f"excess {excess:.2f} > {threshold:.2f} nats")


class TokenBins(Step):
    """Stage ``token_kl``, filter pass (after the text is final): the document's distinct hashed bins and their
    counts (artifacts ``token_bins``, ``token_counts``), from which the job sums each group's corpus distribution,
    and the ``tokens`` signal (words of the final text)."""

    stage = "token_kl"

    def __init__(self, config: TokenKlConfig = TokenKlConfig()):
        self.config = config

    def signals(self, doc: Document) -> dict[str, float]:
        bins = token_bins(doc.words, self.config.buckets)
        distinct, counts = np.unique(bins, return_counts=True)
        doc.artifacts["token_bins"], doc.artifacts["token_counts"] = distinct.tolist(), counts.tolist()
        return {"tokens": float(bins.size)}


@dataclass(frozen=True)
class GroupJudgement:
    """What the job decided for one group: its corpus counts (``buckets`` floats) and their total, its length fit,
    its outlier threshold, and the group's settings."""

    counts: np.ndarray
    total: float
    fit: tuple[float, float]
    threshold: float
    config: TokenKlConfig


def group_of(doc: Document, group_by: str) -> str:
    """The group a document's distribution is compared with: its language (``group_by = "language"``), or one
    group for all (``""``)."""
    if group_by not in ("language", ""):
        raise ValueError(f"token_kl.group_by must be 'language' or '', not {group_by!r}")
    return (doc.language or "") if group_by else ""


class TokenKlJudge(Step):
    """Stage ``token_kl``, last pass: signals ``token_kl`` and ``token_kl_excess`` of every document of a judged
    group (from its ``token_bins``/``token_counts`` artifacts and the group's corpus), and the verdict
    ``token_kl_outlier`` above the group's threshold. ``judgements(group)`` gives a group's
    :class:`GroupJudgement`, or None for a group too small to judge (its documents get no KL signal)."""

    stage = "token_kl"

    def __init__(self, judgements, group_by: str = "language"):
        self.judgements, self.group_by = judgements, group_by

    def signals(self, doc: Document) -> dict[str, float]:
        judgement = self.judgements(group_of(doc, self.group_by))
        bins = doc.artifacts.get("token_bins")
        if judgement is None or not bins:
            return {}
        counts = np.asarray(doc.artifacts["token_counts"], dtype=np.float64)
        kl = kl_divergence(np.asarray(bins, dtype=np.int64), judgement.counts, judgement.total,
                           judgement.config.alpha, counts)
        return {"token_kl": kl, "token_kl_excess": excess_divergence(kl, int(counts.sum()), judgement.fit)}

    def verdict(self, doc: Document) -> Rejection | None:
        judgement = self.judgements(group_of(doc, self.group_by))
        excess = doc.signals.get("token_kl_excess")
        if judgement is None or excess is None:
            return None
        if is_outlier(excess, int(doc.signals.get("tokens", 0)), judgement.threshold, judgement.config):
            return _rejection(excess, judgement.threshold)
        return None
