"""MinHash core: signatures equal datasketch's, the normalisation rules (digits, scripts without spaces), the hashed
shingle sets of the exact check, LSH parameters and the bounds of the exact check."""

from __future__ import annotations

import json
import random
import unicodedata

import numpy as np
import pytest
import xxhash
from conftest import FIXTURES, shared_data
from datasketch import MinHash, MinHashLSH

from pipeline.dedup import minhash
from pipeline.dedup.minhash import (
    MinHashConfig,
    MinHasher,
    check_bounds,
    document_shingle_hashes,
    document_signatures,
    estimated_jaccard,
    has_words,
    lsh_params,
    normalize_for_shingles,
    shingle_hash,
    shingles,
)
from pipeline.multilingual.text_tokens import words

PERMUTATIONS = [(128, 1), (64, 42), (256, 7)]
INLINE_TEXTS = [
    "",
    "   \n\t ",
    "!!! ... ???",
    "word",
    "Two words.",
    "exactly five words in this",
    "six words are in this text",
    "the same five words again the same five words again the same five words again",
    "Numbers: 3.14159, 2024-05-01, 1,000,000 and 42!",
    "Ünïcödé café, ﬁne ＦＵＬＬＷＩＤＴＨ text; ΟΔΟΣ and οδος; İstanbul",
    "हिन्दी भाषा में लिखा गया एक छोटा वाक्य है।",
    "中文文本没有空格。日本語のテキストも。",
    "emoji 🙂 between 🙃 words and a lone surrogate \ud800 here",
    "x" * 300 + " follows a very long token, hashed outside the vectorised path",
    "a " * 40 + "b" * 70 + " " + "c" * 30,
]


def _datasketch(text: str, num_perm: int, seed: int, ngram: int = 5, language: str | None = None,
                normalize_digits: bool = True) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash)
    m.update_batch(shingles(text, ngram, language, normalize_digits))
    return m.hashvalues


def _assert_equal_datasketch(texts: list[str], num_perm: int, seed: int, ngram: int = 5,
                             languages: list[str | None] | None = None, normalize_digits: bool = True) -> None:
    signatures = MinHasher(num_perm, seed, normalize_digits).signatures(texts, ngram, languages)
    assert signatures.shape == (len(texts), num_perm) and signatures.dtype == np.uint64
    for i, (text, signature) in enumerate(zip(texts, signatures, strict=True)):
        language = languages[i] if languages else None
        expected = _datasketch(text, num_perm, seed, ngram, language, normalize_digits)
        np.testing.assert_array_equal(signature, expected, err_msg=text[:80])


@pytest.mark.parametrize("num_perm,seed", PERMUTATIONS)
def test_signatures_equal_datasketch_on_inline_texts(num_perm, seed):
    _assert_equal_datasketch(INLINE_TEXTS, num_perm, seed)
    _assert_equal_datasketch(INLINE_TEXTS, num_perm, seed, ngram=1)
    _assert_equal_datasketch(INLINE_TEXTS, num_perm, seed, normalize_digits=False)


def test_text_without_words_has_datasketch_initial_signature():
    signatures = MinHasher(64).signatures(["", "...", "word", "。、！"], 5)
    assert (signatures[[0, 1, 3]] == 0xFFFFFFFF).all()
    np.testing.assert_array_equal(signatures[0], MinHash(num_perm=64, hashfunc=shingle_hash).hashvalues)
    assert (signatures[2] < 0xFFFFFFFF).any()
    assert has_words(signatures).tolist() == [False, False, True, False]
    assert MinHasher(64).signatures([], 5).shape == (0, 64)


def _wikitext_articles() -> list[str]:
    with shared_data("quality_text", "wikitext2", "articles.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line)["text_detok"] for line in lines]


def _clough_texts() -> list[str]:
    with shared_data("neardup_clough_stevenson", "pairs.jsonl").open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return [r["text"] for r in rows] + sorted({r["source_text"] for r in rows})


def _multilingual_sentences(languages: bool = False):
    """Every 15th lingua sentence (10 per language, zh, ja and th included); with ``languages`` also their labels."""
    with shared_data("langid_lingua", "sentences_dev.jsonl").open(encoding="utf-8") as lines:
        rows = [json.loads(line) for i, line in enumerate(lines) if i % 15 == 0]
    texts = [r["text"] for r in rows]
    return (texts, [r["lang"] for r in rows]) if languages else texts


@pytest.mark.parametrize("num_perm,seed", PERMUTATIONS[:2])
def test_signatures_equal_datasketch_on_real_texts(num_perm, seed):
    _assert_equal_datasketch(_wikitext_articles() + _clough_texts(), num_perm, seed)


def test_signatures_equal_datasketch_on_multilingual_texts():
    texts, languages = _multilingual_sentences(languages=True)
    _assert_equal_datasketch(texts, 128, 1)
    _assert_equal_datasketch(texts, 128, 1, languages=languages)


def test_document_signatures_and_shingle_hashes_follow_the_config():
    texts = INLINE_TEXTS + ["Release 3.14 of 2024", "Release 2.71 of 2023"]
    languages = [None] * len(INLINE_TEXTS) + ["en", "en"]
    config = MinHashConfig(num_perm=64, seed=42, ngram=2, normalize_digits=False)
    signatures = document_signatures(texts, languages, config)
    np.testing.assert_array_equal(signatures, MinHasher(64, 42, False).signatures(texts, 2, languages))
    assert (signatures[-1] != signatures[-2]).any()
    assert (document_signatures(texts[-2:], None, MinHashConfig())[0] == document_signatures(
        texts[-1:], None, MinHashConfig())[0]).all()  # digits normalised: the same page
    hashes = document_shingle_hashes(texts, languages, config)
    for text, language, hashed in zip(texts, languages, hashes, strict=True):
        expected = sorted({shingle_hash(s) for s in shingles(text, 2, language, normalize_digits=False)})
        assert hashed.dtype == np.uint32 and hashed.tolist() == expected, text[:40]


def test_signatures_do_not_depend_on_batching(monkeypatch):
    texts = INLINE_TEXTS * 3
    whole = MinHasher(128).signatures(texts, 5)
    monkeypatch.setattr(minhash, "_GROUP_CHARS", 50)  # many groups, some of one long text
    np.testing.assert_array_equal(MinHasher(128).signatures(texts, 5), whole)
    for i, text in enumerate(texts):
        np.testing.assert_array_equal(MinHasher(128).signatures([text], 5)[0], whole[i])


def test_vectorised_xxh32_equals_xxhash():
    rng = np.random.default_rng(3)
    buf = rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    lengths = np.concatenate([np.arange(0, 300), rng.integers(0, 80, 3000), np.arange(0, 300)])
    starts = rng.integers(0, len(buf) - 300, len(lengths))
    starts[-300:] = len(buf) - lengths[-300:]  # ranges that end with the buffer
    expected = [xxhash.xxh32_intdigest(buf[s:s + n]) for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)]
    np.testing.assert_array_equal(minhash._xxh32(buf, starts, starts + lengths), expected)


# --- normalisation and shingles


def _reference_normalize(text: str, normalize_digits: bool = True) -> str:
    """The docstring's rules, character by character (after word segmentation of unspaced scripts)."""
    if any(minhash._UNSPACED.match(ch) for ch in text):
        text = " ".join(words(text))
    chars = []
    previous_digit = False
    for ch in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(ch)
        digit = category == "Nd" and normalize_digits
        if digit:
            if not previous_digit:
                chars.append("0")
        elif category[0] in "LM" or category in ("Nl", "No", "Nd"):
            chars.append("σ" if ch == "ς" else ch.lower()[0])
        else:
            chars.append(" ")
        previous_digit = digit
    return " ".join("".join(chars).split())


def test_normalisation_follows_its_rules_on_many_scripts():
    code_points = [*range(0, 0x3000, 7), *range(0x10000, 0x30000, 331)]
    texts = INLINE_TEXTS + [chr(c) + " a" + chr(c) + "b1" + chr(c) + "2" for c in code_points]
    try:
        texts += _multilingual_sentences()
    except pytest.skip.Exception:
        pass
    for text in texts:
        assert normalize_for_shingles(text) == _reference_normalize(text), text[:80]
        assert normalize_for_shingles(text, normalize_digits=False) == _reference_normalize(text, False), text[:80]


def test_normalisation_merges_case_punctuation_whitespace_and_tokenisation_variants():
    variants = [
        "The quick brown fox -- it jumped over the lazy dog's back in 1999.",
        "the QUICK brown fox, it jumped over the lazy dog ' s back in 2023 !",
        "  The quick\tbrown\n\nfox: it jumped over the lazy dog’s back in 7…  ",
        "The quick brown fox — it jumped over the lazy dog‘s back in ２０２４.",
    ]
    assert len({normalize_for_shingles(v) for v in variants}) == 1
    assert normalize_for_shingles(variants[0]) == "the quick brown fox it jumped over the lazy dog s back in 0"
    assert len({frozenset(shingles(v, 5)) for v in variants}) == 1


def test_normalisation_keeps_letters_marks_and_digit_positions():
    assert normalize_for_shingles("Café naïve ﬁ Ⅻ") == "café naïve fi xii"
    assert normalize_for_shingles("हिन्दी, भाषा!") == "हिन्दी भाषा"  # vowel signs and virama stay in the word
    assert normalize_for_shingles("v2.0.1-rc3") == "v0 0 0 rc0"
    assert normalize_for_shingles("v2.0.1-rc3", normalize_digits=False) == "v2 0 1 rc3"
    assert normalize_for_shingles("Page 1,024 of ２０２４", normalize_digits=False) == "page 1 024 of 2024"
    assert normalize_for_shingles("snake_case") == "snake case"


def test_scripts_without_spaces_are_cut_into_words():
    assert normalize_for_shingles("我们今天去北京大学。", "zh") == "我们 今天 去 北京大学"
    assert normalize_for_shingles("東京都に住んでいます。", "ja") == "東京 都 に 住ん で い ます"
    assert normalize_for_shingles("ภาษาไทยไม่มีช่องว่าง", "th") == "ภาษาไทย ไม่ มี ช่องว่าง"
    assert normalize_for_shingles("iPhone 15 发布会在2023年举行", "zh") == "iphone 0 发布会 在 0 年 举行"
    # Khmer, Lao, Myanmar: a token per grapheme cluster (a base character with its marks), never one per line
    assert len(normalize_for_shingles("ភាសាខ្មែរ").split()) > 1
    assert normalize_for_shingles("Ordinary spaced text.") == "ordinary spaced text"


def cjk_near_duplicates() -> dict[str, dict]:
    """tests/fixtures/minhash: per zh, ja, th a page of real sentences, an edit of it and an unrelated page."""
    with (FIXTURES / "minhash" / "cjk_near_duplicates.jsonl").open(encoding="utf-8") as lines:
        return {row["id"]: row for row in map(json.loads, lines)}


def test_a_few_changed_characters_no_longer_hide_a_near_duplicate_in_zh_ja_th():
    # Each run of letters between punctuation marks was one "word" before segmentation, so a 5-gram spanned up
    # to five clauses and one changed character broke every shingle around it.
    def unsegmented(text: str) -> set[bytes]:  # the same normalisation without the segmentation step
        buf, starts, ends, counts = minhash._words([unicodedata.normalize("NFKC", text)], True)
        first, last, _ = minhash._shingle_words(counts, 5)
        return {buf[a:b] for a, b in zip(starts[first].tolist(), ends[last].tolist(), strict=True)}

    pages = cjk_near_duplicates()
    for language in ("zh", "ja", "th"):
        page, edited = pages[f"{language}-page"]["text"], pages[f"{language}-edited"]["text"]
        before_a, before_b = unsegmented(page), unsegmented(edited)
        assert len(before_a & before_b) / len(before_a | before_b) < 0.75, language
        assert _exact_jaccard(page, edited, language=language) > 0.85, language
        assert _exact_jaccard(page, pages[f"{language}-other"]["text"], language=language) < 0.05, language
        a, b = MinHasher(128).signatures([page, edited], 5, [language, language])
        assert estimated_jaccard(a, b) > check_bounds(0.8, 128)[0] / 128, language  # reaches the exact check


def test_shingles():
    assert shingles("", 5) == [] and shingles(" ,;. ", 5) == []
    assert shingles("Only three words", 5) == [b"only three words"]
    assert shingles("one two three four five", 5) == [b"one two three four five"]
    assert sorted(shingles("a b c d e f", 5)) == [b"a b c d e", b"b c d e f"]
    assert sorted(shingles("a b a b a b", 2)) == [b"a b", b"b a"]  # distinct only
    assert shingles("Grüße", 1) == ["grüße".encode()]


def test_shingle_hash_is_xxh32():
    assert shingle_hash(b"a b c d e") == xxhash.xxh32_intdigest(b"a b c d e")


# --- estimates, LSH


def _vocabulary(size: int, seed: int) -> list[str]:
    rng = random.Random(seed)  # letters only: digits would all normalise to 0
    return ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 10))) for _ in range(size)]


def _edited(text: str, rate: float, seed: int) -> str:
    rng = random.Random(seed)
    replacements = _vocabulary(100, seed)
    return " ".join(rng.choice(replacements) if rng.random() < rate else w for w in text.split())


def _exact_jaccard(a: str, b: str, ngram: int = 5, language: str | None = None) -> float:
    sa, sb = set(shingles(a, ngram, language)), set(shingles(b, ngram, language))
    return len(sa & sb) / len(sa | sb)


def test_estimated_jaccard_is_close_to_exact():
    rng = random.Random(0)
    vocabulary = _vocabulary(3000, seed=0)
    base = " ".join(rng.choice(vocabulary) for _ in range(2000))
    hasher = MinHasher(256)
    for rate in (0.0, 0.01, 0.03, 0.08):
        near = _edited(base, rate, seed=int(rate * 100))
        exact = _exact_jaccard(base, near)
        assert rate == 0 or 0.3 < exact < 1
        a, b = hasher.signatures([base, near], 5)
        standard_error = max((exact * (1 - exact) / 256) ** 0.5, 1e-9)
        assert abs(estimated_jaccard(a, b) - exact) <= 4 * standard_error + 1e-9, (rate, exact)
    assert estimated_jaccard(a, a) == 1.0


def test_lsh_params_match_datasketch_when_not_set():
    for threshold, num_perm in [(0.8, 128), (0.7, 112), (0.85, 256), (0.5, 64)]:
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        config = MinHashConfig(threshold=threshold, num_perm=num_perm, bands=0, rows=0)
        assert lsh_params(config) == (lsh.b, lsh.r)


def test_lsh_params_set_in_the_config():
    assert lsh_params(MinHashConfig()) == (14, 9)
    assert lsh_params(MinHashConfig(bands=14, rows=8, num_perm=112)) == (14, 8)
    for bands, rows in [(14, 0), (0, 8), (20, 8)]:
        with pytest.raises(ValueError):
            lsh_params(MinHashConfig(bands=bands, rows=rows, num_perm=112))
    with pytest.raises(ValueError, match="num_perm"):
        lsh_params(MinHashConfig(num_perm=64))


def test_check_bounds_follow_the_binomial_tails():
    fewest, accepted_from = check_bounds(0.8, 128)
    assert (fewest, accepted_from) == (79, 126)  # estimates under 0.62 are dropped, from 0.984 accepted
    rng = np.random.default_rng(0)
    at_threshold = rng.binomial(128, 0.8, 1_000_000)  # equal values of pairs at the threshold
    assert np.count_nonzero(at_threshold < fewest) <= 3  # P < 1e-6 per pair
    assert np.count_nonzero(at_threshold >= accepted_from) == 0  # P < 1e-9 per pair (and less below 0.8)
    assert np.count_nonzero(at_threshold >= accepted_from - 6) > 0  # the bound is not far off
    assert check_bounds(0.8, 64)[1] == 65  # 0.8 ** 64 = 6e-7: not negligible, every pair is checked
    assert check_bounds(0.5, 128)[0] < check_bounds(0.9, 128)[0]
