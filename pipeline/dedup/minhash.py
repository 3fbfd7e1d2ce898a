"""Global MinHash near-duplicate detection, the per-document core (Llama 3 §3.1.1: "We perform global MinHash
(Broder, 1997) de-duplication across the entire dataset to remove near duplicate documents").

Plain Python and numpy, no Spark: ``pipeline.spark.dedup_stages`` calls it on batches of documents and does the
global part (LSH buckets, verification of candidate pairs, choosing what to keep). Per document:

1. :func:`normalize_for_shingles`, then :func:`shingles`: the set of word n-grams (UTF-8 bytes). Scripts written
   without spaces (Chinese, Japanese, Thai; Lao, Khmer, Myanmar) are cut into words first by
   :func:`multilingual.text_tokens.words` (jieba, MeCab, PyThaiNLP; grapheme clusters), chosen by script: without
   that, every run of letters between two punctuation marks is one "word", a 5-gram spans five sentences and
   one changed character hides a near duplicate;
2. :class:`MinHasher`: the MinHash signature of that set, value for value the ``hashvalues`` of
   ``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash)`` after ``update_batch(shingles(text, ngram))``
   (datasketch >= 2.0, whose default permutation scheme is ``affine32``: the xxh32 of each shingle is pre-mixed
   with the MurmurHash3 finalizer, then permuted as ``a * h + b mod 2**32``; unlike the pre-2.0 ``legacy``
   scheme it is collision-free and needs no 64-bit modulo), computed for a whole batch at once;
   :meth:`MinHasher.shingle_hashes` gives the hashed sets themselves, for the exact Jaccard of candidate pairs;
3. LSH over ``bands`` x ``rows`` signature values (:func:`lsh_params`) makes candidate pairs; :func:`check_bounds`
   says which of them need the exact Jaccard of their shingle sets.

Signatures are ``uint64`` arrays whose values all fit in 32 bits, so storing them as uint32 or int64 loses
nothing. A document without words (empty, or only punctuation and symbols) has datasketch's empty signature,
``0xFFFFFFFF`` everywhere (:func:`has_words` is false), so all such documents would share every band key: keep
them out of LSH.

Everything per character or per shingle is numpy over the whole batch (normalisation through a code point
table, shingle boundaries, xxh32, the permutations); the per-document Python is NFKC, and word segmentation for
texts with letters of an unspaced script. On one core that is ~4-7x datasketch's per-document loop on spaced
text (``tests/benchmarks/bench_minhash.py``, which also measures the cost of segmentation).
"""

from __future__ import annotations

import functools
import math
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import regex
import xxhash
from datasketch.lsh import _optimal_param

from pipeline.multilingual.text_tokens import words
from pipeline.steps import DecisionVerdict, Document, Step


@dataclass(frozen=True)
class MinHashConfig:
    # Paper: global MinHash de-duplication removes near-duplicate documents. Off only to inspect raw inputs.
    enabled: bool = True
    # Words per shingle (FineWeb's 5): a changed word breaks only the 5 shingles that contain it.
    ngram: int = 5
    # Signature length (datasketch's default): the estimated Jaccard's standard error at 0.8 is 0.035.
    num_perm: int = 128
    # Jaccard similarity of the shingle sets from which two documents are near duplicates (SlimPajama's value).
    threshold: float = 0.8
    # Seed of the permutations (datasketch's default); signatures are only comparable under one seed.
    seed: int = 1
    # LSH bands: 14 x 9 makes candidates of 0.98 of the pairs at Jaccard >= 0.8 (datasketch's 9 x 13: 0.82); every
    # candidate is verified, so a wide net costs checks, never precision.
    bands: int = 14
    # Signature values per band; bands = rows = 0 takes datasketch's optimum for threshold and num_perm.
    rows: int = 9
    # Digit runs all read as 0 (datatrove's default): pages that differ only in numbers (dates, counters, prices)
    # are one template and near duplicates. false: numbers are words like any other, so such pages stay apart.
    normalize_digits: bool = True
    # Paper: dedup runs within each language. Documents are compared only if this column matches ("" = global; a
    # null value, e.g. before language ID or with it disabled, groups with all other nulls).
    group_by: str = "language"


def normalize_for_shingles(text: str, language: str | None = None, normalize_digits: bool = True) -> str:
    """The text reduced to what near-duplicates share: NFKC (full-width forms, ligatures, composed accents),
    lower case (one character for one, final sigma as sigma), every run of decimal digits as ``0`` unless
    ``normalize_digits`` is false (pages that differ only in dates, counts or prices match), and every character
    that is not a letter, combining mark or other number (punctuation, symbols, controls, whitespace) as a word
    break, so that tokenised and untokenised copies agree (``don't`` and ``don 't`` both give ``don t``); words
    joined by single spaces. Accents stay: they tell words apart in many languages. A text with letters of a
    script written without spaces is first cut into words by :func:`multilingual.text_tokens.words` (``language``
    picks MeCab for "ja", jieba for other Han; None decides by the share of kana)."""
    buf, _, _, _ = _words(_prepared([text], [language]), normalize_digits)
    return buf[1:].decode("utf-8")


def shingles(text: str, ngram: int, language: str | None = None, normalize_digits: bool = True) -> list[bytes]:
    """The distinct word ``ngram``-grams of the normalised text, UTF-8 encoded (words joined by single spaces);
    a text of fewer words gives one shingle of all of them, a text without words none."""
    buf, starts, ends, counts = _words(_prepared([text], [language]), normalize_digits)
    first, last, _ = _shingle_words(counts, ngram)
    ranges = zip(starts[first].tolist(), ends[last].tolist(), strict=True)
    return list(dict.fromkeys(buf[s:e] for s, e in ranges))


def shingle_hash(shingle: bytes) -> int:
    """32-bit xxHash of a shingle: fast, well mixed, and the hash datasketch's affine32 scheme expects."""
    return xxhash.xxh32_intdigest(shingle)


@functools.cache
def _lsh_optimum(threshold: float, num_perm: int) -> tuple[int, int]:
    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def lsh_params(config: MinHashConfig) -> tuple[int, int]:
    """``(bands, rows)``: the config's, or those ``datasketch.MinHashLSH(threshold, num_perm)`` would choose."""
    if config.bands or config.rows:
        if config.bands < 1 or config.rows < 1 or config.bands * config.rows > config.num_perm:
            raise ValueError(f"need bands >= 1, rows >= 1 and bands * rows <= num_perm ({config.num_perm}); got "
                             f"{config.bands} x {config.rows} (bands = rows = 0 takes datasketch's optimum)")
        return config.bands, config.rows
    return _lsh_optimum(config.threshold, config.num_perm)


class MinHasher:
    """MinHash signatures of batches of texts, equal to datasketch's (see the module docstring); build one per
    worker and reuse it.

    Memory: documents are processed in groups of about ``_GROUP_CHARS`` (256K) characters, a longer document
    alone, with ~35 bytes of temporaries per character (~9 MB a group, whatever the batch size); the
    permutations are applied one at a time, so nothing of size shingles x num_perm is held. Add the result,
    8 x num_perm bytes per document, and the code point table, 4.5 MB per process.
    """

    def __init__(self, num_perm: int, seed: int = 1, normalize_digits: bool = True) -> None:
        self.num_perm = num_perm
        self.seed = seed
        self.normalize_digits = normalize_digits
        # datasketch.MinHash._init_permutations for the affine32 scheme: odd a, any b, from RandomState(seed)
        gen = np.random.RandomState(seed)
        self._a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self._b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)

    def signatures(self, texts: Sequence[str], ngram: int,
                   languages: Sequence[str | None] | None = None) -> np.ndarray:
        """``(len(texts), num_perm)`` uint64: row i is the signature of ``shingles(texts[i], ngram,
        languages[i])``. Languages only choose the segmenter of Han text (see :func:`normalize_for_shingles`)."""
        out = np.full((len(texts), self.num_perm), _EMPTY, np.uint64)
        for lo, per_doc, hashes in self._hashed(texts, ngram, languages):
            docs = np.flatnonzero(per_doc)
            if not len(docs):
                continue
            hashed = _fmix32(hashes)
            bounds = (np.cumsum(per_doc) - per_doc)[docs]
            minima = np.empty((self.num_perm, len(docs)), np.uint32)
            permuted = np.empty_like(hashed)
            for i in range(self.num_perm):  # one permutation at a time: memory stays O(shingles)
                np.multiply(hashed, self._a[i], out=permuted)
                np.add(permuted, self._b[i], out=permuted)
                np.minimum.reduceat(permuted, bounds, out=minima[i])
            out[lo + docs] = minima.T
        return out

    def shingle_hashes(self, texts: Sequence[str], ngram: int,
                       languages: Sequence[str | None] | None = None) -> list[np.ndarray]:
        """Per text, the sorted distinct xxh32 hashes of its shingles (uint32): the set its signature summarises,
        so their Jaccard is the one the signatures estimate (a hash collision among a document's n shingles moves
        it by about 1/n; one between two documents' shingles happens with probability n**2 / 2**32)."""
        out = []
        for _, per_doc, hashes in self._hashed(texts, ngram, languages):
            out += [np.unique(part) for part in np.split(hashes, np.cumsum(per_doc)[:-1])]
        return out

    def _hashed(self, texts: Sequence[str], ngram: int, languages: Sequence[str | None] | None):
        """Per group of texts (see the class docstring): its first index, the number of shingles of each of its
        texts, and the xxh32 of every shingle, text after text."""
        for lo, hi in _groups(texts):
            group_languages = languages[lo:hi] if languages is not None else [None] * (hi - lo)
            buf, starts, ends, counts = _words(_prepared(texts[lo:hi], group_languages), self.normalize_digits)
            first, last, per_doc = _shingle_words(counts, ngram)
            yield lo, per_doc, _xxh32(buf, starts[first], ends[last])


@functools.lru_cache(maxsize=4)
def _hasher(num_perm: int, seed: int, normalize_digits: bool) -> MinHasher:
    return MinHasher(num_perm, seed, normalize_digits)


def document_signatures(texts: Sequence[str], languages: Sequence[str | None] | None,
                        config: MinHashConfig) -> np.ndarray:
    """The signatures of a batch of documents under ``config`` (one hasher per process, reused): what a job
    stores per document and hands to ``pipeline.spark.dedup_stages.near_duplicate_removals``. Rows of
    documents without words are the empty signature (:func:`has_words`)."""
    return _hasher(config.num_perm, config.seed, config.normalize_digits).signatures(texts, config.ngram, languages)


def document_shingle_hashes(texts: Sequence[str], languages: Sequence[str | None] | None,
                            config: MinHashConfig) -> list[np.ndarray]:
    """:meth:`MinHasher.shingle_hashes` under ``config``: the sets whose exact Jaccard verifies a candidate pair."""
    return _hasher(config.num_perm, config.seed, config.normalize_digits).shingle_hashes(texts, config.ngram,
                                                                                       languages)


def has_words(signatures: np.ndarray) -> np.ndarray:
    """Per row, whether it is a real signature: a text without words keeps datasketch's initial value everywhere
    (a text with words does too with probability ~2**-(32 * num_perm))."""
    return (signatures != _EMPTY).any(axis=1)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The fraction of equal signature values: an unbiased estimate of the shingle sets' Jaccard similarity."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


# A candidate pair is dropped unchecked when a pair at the threshold would show that few equal values with at most
# _DROP_ERROR; accepted unchecked when a pair below the threshold would show that many with at most _ACCEPT_ERROR.
_DROP_ERROR = 1e-6
_ACCEPT_ERROR = 1e-9


@functools.cache
def check_bounds(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(fewest, accepted_from)`` equal signature values: which LSH candidates need the exact Jaccard of their
    shingle sets. The number of equal values of a pair at Jaccard J is Binomial(num_perm, J) (each permutation's
    minimum is shared with probability J), so, for the binomial at the threshold:

    - a pair with fewer than ``fewest`` equal values is dropped: a pair at the threshold shows so few with
      probability below 1e-6 (at 0.8 and 128: fewer than 79, an estimate under 0.62), a loss of recall no
      benchmark can see, and most LSH candidates (Jaccard 0.4-0.7) never reach the exact check;
    - a pair with ``accepted_from`` equal values or more is accepted: one below the threshold shows so many with
      probability below 1e-9 (at 0.8 and 128: 126 or more, an estimate of 0.984), so copies and near copies, the
      bulk of large clusters, never need their texts. With a short signature nothing is accepted unchecked
      (``accepted_from`` is num_perm + 1; at 0.8 and 64 all agree with probability 6e-7).
    """
    binomial = [math.comb(num_perm, k) * threshold**k * (1 - threshold) ** (num_perm - k) for k in range(num_perm + 1)]
    fewest = 0
    while fewest < num_perm and sum(binomial[:fewest + 1]) <= _DROP_ERROR:
        fewest += 1
    accepted_from = num_perm + 1
    while accepted_from > 0 and sum(binomial[accepted_from - 1:]) <= _ACCEPT_ERROR:
        accepted_from -= 1
    return fewest, accepted_from


# --- normalisation and word boundaries, vectorised over a batch of texts

_EMPTY = 0xFFFFFFFF  # datasketch's initial hash value: the signature of an empty set
_SPACE, _ZERO = ord(" "), ord("0")
_GROUP_CHARS = 1 << 18
# Unicode general categories: letters, marks and numbers other than decimal digits are word characters
_WORD_CATEGORIES = ("Ll", "Lm", "Lo", "Mn", "Mc", "Me", "No")
_CASED_CATEGORIES = ("Lu", "Lt", "Nl")  # word characters with a lower-case form (Nl: Roman numerals)
_SEPARATOR_CATEGORIES = ("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp",
                         "Cc", "Cf", "Cs", "Co", "Cn")
# Letters of the scripts written without spaces, which multilingual.text_tokens.words segments (zh, ja, th, lo, km, my)
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")


@functools.cache
def _fold_table(normalize_digits: bool) -> np.ndarray:
    """What every code point becomes in normalised text: its lower case (one character for one; final sigma as
    sigma) for word characters, ``0`` for decimal digits (themselves, word characters, without
    ``normalize_digits``), a space for all else. Built once per process (~0.2 s, 4.5 MB), from the running
    Python's Unicode data."""
    kind = {c: 0 for c in _SEPARATOR_CATEGORIES} | {c: 1 for c in _WORD_CATEGORIES}
    kind |= {"Nd": 2 if normalize_digits else 1} | {c: 3 for c in _CASED_CATEGORIES}
    code_points = range(sys.maxunicode + 1)
    kinds = np.frombuffer(bytes(map(kind.__getitem__, map(unicodedata.category, map(chr, code_points)))), np.uint8)
    table = np.arange(len(kinds), dtype=np.uint32)
    table[kinds == 0] = _SPACE
    table[kinds == 2] = _ZERO
    cased = np.flatnonzero(kinds == 3)
    table[cased] = [ord(chr(c).lower()[0]) for c in cased.tolist()]  # U+0130 İ lower-cases to i + dot above
    table[ord("ς")] = ord("σ")
    return table


def _groups(texts: Sequence[str]) -> list[tuple[int, int]]:
    """Consecutive ``[lo, hi)`` ranges of about ``_GROUP_CHARS`` characters, at least one text each."""
    groups, lo, size = [], 0, 0
    for i, text in enumerate(texts):
        if size and size + len(text) > _GROUP_CHARS:
            groups.append((lo, i))
            lo, size = i, 0
        size += len(text) + 1
    if lo < len(texts):
        groups.append((lo, len(texts)))
    return groups


@functools.cache
def _unspaced_table() -> np.ndarray:
    """Per code point, whether it is a letter of an unspaced script (``_UNSPACED``); built once per process."""
    table = np.zeros(sys.maxunicode + 1, bool)
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    table[[m.start() for m in _UNSPACED.finditer(every)]] = True
    return table


def _prepared(texts: Sequence[str], languages: Sequence[str | None]) -> list[str]:
    """The texts in NFKC; one with letters of an unspaced script as its words (``multilingual.text_tokens.words``,
    which cuts the text into runs by script and segments each run as its script needs) joined by spaces. The
    segmenters get the text before NFKC, which would split Thai SARA AM (U+0E33) off its dictionary words. Which
    texts have such letters is a table lookup over the batch (a regex search per text would cost as much as the
    signatures of spaced text)."""
    code_points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32)
    found = np.concatenate([[0], np.cumsum(_unspaced_table()[code_points])])
    ends = np.cumsum([len(text) for text in texts], dtype=np.int64)
    unspaced = (found[ends] - found[ends - [len(text) for text in texts]] > 0).tolist()
    return [unicodedata.normalize("NFKC", " ".join(words(text, language)) if segment else text)
            for text, language, segment in zip(texts, languages, unspaced, strict=True)]


def _words(composed: Sequence[str], normalize_digits: bool) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """The NFKC texts normalised, as one UTF-8 buffer with a space before every word, each word's byte range in it
    (``starts``, ``ends``, in text order) and the number of words of each text."""
    joined = " " + " ".join(composed)  # a separator before every text, so every word has one before it
    folded = np.take(_fold_table(normalize_digits),
                     np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32))
    separator = folded == _SPACE
    zero = (folded == _ZERO) if normalize_digits else np.zeros(len(folded), bool)
    word_after = np.append(~separator[1:], False)
    zero_before = np.insert(zero[:-1], 0, False)
    # keep one space (the last separator) before each word, and one 0 of each run of digits
    normalized = folded[(separator & word_after) | ~(separator | (zero & zero_before))]
    spaces = np.flatnonzero(normalized == _SPACE)
    starts = spaces + 1
    ends = np.append(spaces[1:], len(normalized))
    wide = np.flatnonzero(normalized >= 0x80)
    if len(wide):  # character offsets to UTF-8 byte offsets: add the extra bytes of the wide characters before
        extra = np.cumsum(1 + (normalized[wide] >= 0x800).astype(np.int64) + (normalized[wide] >= 0x10000))
        extra = np.insert(extra, 0, 0)
        starts = starts + extra[np.searchsorted(wide, starts)]
        ends = ends + extra[np.searchsorted(wide, ends)]
        buf = normalized.tobytes().decode("utf-32-le").encode("utf-8")
    else:
        buf = normalized.astype(np.uint8).tobytes()
    # the space before text i's first word is at or after before[i], where the " " joined before it stands
    before = np.cumsum([0] + [len(text) + 1 for text in composed])
    counts = np.diff(np.searchsorted(np.flatnonzero(separator & word_after), before))
    return buf, starts, ends, counts


def _shingle_words(counts: np.ndarray, ngram: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every shingle of every text, in order, the indices of its first and last word; and shingles per text
    (``counts - ngram + 1``; 1 for a text of fewer words, 0 for one without)."""
    per_doc = np.where(counts >= ngram, counts - ngram + 1, np.minimum(counts, 1))
    first_word = np.cumsum(counts) - counts
    doc = np.repeat(np.arange(len(counts)), per_doc)
    first = np.arange(per_doc.sum()) - np.repeat(np.cumsum(per_doc) - per_doc, per_doc) + first_word[doc]
    last = np.minimum(first + ngram - 1, (first_word + counts - 1)[doc])
    return first, last, per_doc


# --- xxh32 (= xxhash.xxh32_intdigest, seed 0) of many byte ranges of one buffer at once, and the mixer

_P1, _P2, _P3, _P4, _P5 = (np.uint32(p) for p in (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1))
# longer ranges are hashed one by one by xxhash: the vectorised stripe loop would run once per 16 bytes
_VECTOR_MAX_BYTES = 256


def _rotl32(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _xxh32(buf: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``xxhash.xxh32_intdigest(buf[s:e])`` for every range, as uint32, following the reference algorithm
    (16-byte stripes into four lanes, then 4-byte words, then single bytes, then the avalanche)."""
    lengths = ends - starts
    data = np.frombuffer(buf, np.uint8)
    word_at = _words_at_every_offset(buf)
    h = np.full(len(starts), _P5, np.uint32)
    striped = np.flatnonzero((lengths >= 16) & (lengths <= _VECTOR_MAX_BYTES))
    if len(striped):
        # most stripes first, so the ranges that have a stripe k are a prefix (a uint8 key sorts by radix)
        striped = striped[np.argsort((16 - (lengths[striped] >> 4)).astype(np.uint8), kind="stable")]
        stripes = lengths[striped] >> 4
        position = starts[striped]
        lanes = [np.full(len(striped), seed, np.uint32)
                 for seed in (0x9E3779B1 + 0x85EBCA77 - (1 << 32), 0x85EBCA77, 0, (1 << 32) - 0x9E3779B1)]
        for stripe in range(int(stripes[0])):
            m = np.count_nonzero(stripes > stripe)
            for j, lane in enumerate(lanes):
                lane[:m] = _rotl32(lane[:m] + word_at[position[:m] + 4 * j] * _P2, 13) * _P1
            position[:m] += 16
        h[striped] = _rotl32(lanes[0], 1) + _rotl32(lanes[1], 7) + _rotl32(lanes[2], 12) + _rotl32(lanes[3], 18)
    h += lengths.astype(np.uint32)
    # the last (length % 16) bytes: 4-byte words, then single bytes; grouped by that count, so no masks
    rest = (lengths & 15).astype(np.uint8)
    order = np.argsort(rest, kind="stable")
    bounds = np.searchsorted(rest[order], np.arange(17))
    tail_h, tail_start = h[order], (starts + (lengths & ~15))[order]
    for r in range(1, 16):
        lo, hi = bounds[r], bounds[r + 1]
        if lo == hi:
            continue
        x, p = tail_h[lo:hi], tail_start[lo:hi]
        for j in range(0, r & ~3, 4):
            x = _rotl32(x + word_at[p + j] * _P3, 17) * _P4
        for j in range(r & ~3, r):
            x = _rotl32(x + data[p + j].astype(np.uint32) * _P5, 11) * _P1
        tail_h[lo:hi] = x
    h[order] = tail_h
    h ^= h >> np.uint32(15)
    h *= _P2
    h ^= h >> np.uint32(13)
    h *= _P3
    h ^= h >> np.uint32(16)
    long = np.flatnonzero(lengths > _VECTOR_MAX_BYTES)
    ranges = zip(starts[long].tolist(), ends[long].tolist(), strict=True)
    h[long] = [xxhash.xxh32_intdigest(buf[s:e]) for s, e in ranges]
    return h


def _words_at_every_offset(buf: bytes) -> np.ndarray:
    """The little-endian uint32 at every byte offset of ``buf`` (zero-padded at the end), as a contiguous array:
    gathering from it is ~5x faster than from an unaligned strided view of ``buf``."""
    n = len(buf) // 4 + 1
    padded = buf + bytes(7)
    words = np.empty(4 * n, np.uint32)
    for offset in range(4):
        words[offset::4] = np.frombuffer(padded, "<u4", count=n, offset=offset)
    return words


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme pre-mixes every input hash."""
    h = h ^ (h >> np.uint32(16))
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))



# --- the extraction pass's part of the minhash_dedup stage

class MinHashSignatures(Step):
    """Stage ``minhash_dedup``, extraction pass: each document's signature as the artifact ``minhash`` (None for a
    text without words: all such texts share every band, so they never cluster), computed vectorised over the
    batch with each document's language (the segmenter of Han text); the dedup phase groups band keys and
    verifies candidates."""

    stage = "minhash_dedup"

    def __init__(self, config: MinHashConfig = MinHashConfig()):
        self.config = config

    def signals_batch(self, docs: Sequence[Document]) -> list[dict[str, float]]:
        signatures = document_signatures([doc.text for doc in docs], [doc.language for doc in docs], self.config)
        usable = has_words(signatures)
        for doc, signature, with_words in zip(docs, signatures.astype(np.int64).tolist(), usable, strict=True):
            doc.artifacts["minhash"] = signature if with_words else None
        return [{} for _ in docs]


class NearDuplicate(DecisionVerdict):
    """Stage ``minhash_dedup``, filter pass: drops a document the dedup phase verified as a near duplicate of a
    kept one (``minhash_duplicate``, detail: the kept id)."""

    stage = "minhash_dedup"
