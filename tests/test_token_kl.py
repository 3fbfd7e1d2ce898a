"""Token-distribution KL divergence (Llama 3 §3.1.1): random-token garbage is an outlier against a corpus of
real text, ordinary articles are not; the definition's pieces have their documented values."""

from __future__ import annotations

import json
import math
import random
import string

import numpy as np
import pytest
from conftest import FIXTURES, shared_data

from pipeline.heuristics.token_kl import (
    TokenKl,
    TokenKlConfig,
    bin_counts,
    excess_divergence,
    kl_divergence,
    length_fit,
    outlier_threshold,
    token_bins,
)
from pipeline.multilingual.text_tokens import words

PARAGRAPHS = [json.loads(line)["text"] for line in (FIXTURES / "token_kl" / "wikipedia_paragraphs.jsonl").open()]


def _garbage(tokens: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
                    for _ in range(tokens))


def test_kl_matches_the_definition_on_a_tiny_corpus():
    buckets, alpha = 8, 0.5
    corpus = np.array([4.0, 2, 0, 0, 1, 0, 0, 1])  # includes the document's own counts
    document = np.array([0, 0, 7])  # bins: P = {0: 2/3, 7: 1/3}
    q0 = (4 - 2 + alpha) / (8 - 3 + alpha * buckets)
    q7 = (1 - 1 + alpha) / (8 - 3 + alpha * buckets)
    expected = 2 / 3 * math.log((2 / 3) / q0) + 1 / 3 * math.log((1 / 3) / q7)
    assert kl_divergence(document, corpus, 8.0, alpha) == pytest.approx(expected)
    assert math.isnan(kl_divergence(np.array([], dtype=np.int64), corpus, 8.0, alpha))
    # the same from the document's distinct bins and their counts (what the job keeps of a document)
    assert kl_divergence(np.array([0, 7]), corpus, 8.0, alpha, np.array([2, 1])) == pytest.approx(expected)


def test_tokens_are_words_of_the_language_lower_cased():
    assert (token_bins(words("The the THE", "en"), 1024) == token_bins(["the"], 1024)[0]).all()
    chinese = token_bins(words("我们今天去北京大学参观图书馆", "zh"), 1 << 18)
    assert 3 <= chinese.size < 14  # words, neither one token nor one per character
    assert bin_counts(np.array([1, 1, 3]), 4).tolist() == [0, 2, 0, 1]


def test_length_fit_and_fence():
    x = np.log([100.0, 200, 400, 800])
    y = 5 - 0.5 * x
    a, b = length_fit(4, x.sum(), y.sum(), (x * x).sum(), (x * y).sum())
    assert (a, b) == (pytest.approx(5), pytest.approx(-0.5))
    assert excess_divergence(5 - 0.5 * math.log(300) + 1, 300, (a, b)) == pytest.approx(1)
    assert length_fit(3, 3 * math.log(50), 6.0, 3 * math.log(50) ** 2, 6 * math.log(50)) == (2.0, 0.0)
    assert outlier_threshold(1.0, 2.0, TokenKlConfig()) == 5.0
    assert outlier_threshold(1.0, 2.0, TokenKlConfig(max_excess=1.5)) == 1.5


def test_random_token_garbage_is_an_outlier_and_real_paragraphs_are_not():
    results = TokenKl(TokenKlConfig(min_documents=20)).judge(PARAGRAPHS + [_garbage(200)], "en")
    flagged = [PARAGRAPHS[i][:60] for i, (_, verdict) in enumerate(results[:-1]) if verdict]
    assert flagged == []
    garbage_signals, garbage_verdict = results[-1]
    assert garbage_verdict and garbage_verdict.reason == "token_kl_outlier"
    assert garbage_signals["token_kl"] > max(s["token_kl"] for s, _ in results[:-1])


def test_too_few_documents_or_tokens_are_never_judged():
    results = TokenKl().judge(PARAGRAPHS[:10] + [_garbage(200)], "en")  # 11 < min_documents
    assert all(verdict is None for _, verdict in results) and "token_kl_excess" not in results[-1][0]
    short = TokenKl(TokenKlConfig(min_documents=20)).judge(PARAGRAPHS + [_garbage(30)], "en")
    assert short[-1][1] is None  # 30 tokens < min_tokens


def test_real_wikipedia_articles_are_kept():
    path = shared_data("quality_text", "wikitext2", "articles.jsonl")
    articles = [json.loads(line)["text_detok"] for line in path.open()]
    # An article with a third of its tokens random strings is an outlier too (on this larger corpus).
    spiked = articles[0] + " " + _garbage(len(articles[0].split()) // 2, seed=3)
    results = TokenKl().judge(articles + [_garbage(300), spiked], "en")
    assert [articles[i][:40] for i, (_, v) in enumerate(results[:-2]) if v] == []
    assert results[-2][1] is not None and results[-1][1] is not None
