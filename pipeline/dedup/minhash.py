"""Global MinHash near-duplicate detection, the per-partition core (Llama 3 §3.1.1: "We perform global MinHash
(Broder, 1997) de-duplication across the entire dataset to remove near duplicate documents").

Plain Python and numpy, no Spark: ``pipeline.spark`` calls it on batches of documents and does the global part
(grouping band keys, verifying candidate pairs, connected components). Per document:

1. :func:`normalize_for_shingles`, then :func:`shingles`: the set of word n-grams (UTF-8 bytes);
2. :class:`MinHasher`: the MinHash signature of that set, value for value the ``hashvalues`` of
   ``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash)`` after ``update_batch(shingles(text, ngram))``
   (datasketch >= 2.0, whose default permutation scheme is ``affine32``: the xxh32 of each shingle is pre-mixed
   with the MurmurHash3 finalizer, then permuted as ``a * h + b mod 2**32``; unlike the pre-2.0 ``legacy``
   scheme it is collision-free and needs no 64-bit modulo), computed for a whole batch at once;
3. :func:`band_keys`: LSH over ``bands`` x ``rows`` signature values (:func:`lsh_params`); documents sharing a
   key in any band are candidate pairs, kept when :func:`estimated_jaccard` reaches ``verify_threshold``.

Signatures are ``uint64`` arrays whose values all fit in 32 bits (``0xFFFFFFFF`` in every column for a document
without words), so storing them as uint32 or int64 loses nothing. Accuracy against exact Jaccard and speed
against datasketch: ``tests/benchmarks/eval_minhash.py`` and ``tests/benchmarks/bench_minhash.py``.
"""

from __future__ import annotations

import functools
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xxhash
from datasketch.lsh import _optimal_param


@dataclass(frozen=True)
class MinHashConfig:
    # Paper: global MinHash de-duplication removes near-duplicate documents. Off only to inspect raw inputs.
    enabled: bool = True
    # Words per shingle: 5-grams as in FineWeb and Gopher; short enough that a few edits leave most shingles intact.
    ngram: int = 5
    # Signature length (datasketch's default): standard error of the estimated Jaccard at 0.8 is 0.035.
    num_perm: int = 128
    # Jaccard similarity of the shingle sets from which two documents are near duplicates (SlimPajama's value).
    threshold: float = 0.8
    # Seed of the permutations (datasketch's default); signatures are only comparable under one seed.
    seed: int = 1
    # LSH bands; 0 (with rows 0) takes datasketch's optimum for threshold and num_perm: 9 bands x 13 rows.
    bands: int = 0
    # Signature values per band; set together with bands (bands x rows <= num_perm).
    rows: int = 0
    # Keep an LSH candidate pair only if its estimated Jaccard reaches this (0 keeps all): removes the pairs LSH
    # lets through well below the threshold; 0.05 under it keeps ~92% of pairs right at 0.8 (1.4 standard errors).
    verify_threshold: float = 0.75
    # Compare only documents with equal values in this column: "" is global, as in the paper ("language" once
    # language identification exists).
    group_by: str = ""


def normalize_for_shingles(text: str) -> str:
    """The text reduced to what near-duplicates share: NFKC (full-width forms, ligatures, composed accents),
    lower case, every run of digits as ``0`` (pages that differ in dates, counts or prices match), and every
    character that is not a letter, combining mark or number (punctuation, symbols, controls, whitespace) as a
    word break, so tokenised and untokenised copies agree (``don't`` and ``don 't`` both give ``don t``); words
    are then joined by single spaces. Scripts written without spaces (Chinese, Japanese, Thai) get one "word"
    per run of letters."""
    buf, _, _, _ = _words([text])
    return buf[1:].decode("utf-8")


def shingles(text: str, ngram: int) -> list[bytes]:
    """The distinct word ``ngram``-grams of the normalised text, UTF-8 encoded (words joined by single spaces);
    a text of fewer words gives one shingle of all of them, a text without words none."""
    buf, starts, ends, counts = _words([text])
    first, last, _ = _shingle_words(counts, ngram)
    return list(dict.fromkeys(buf[s:e] for s, e in zip(starts[first].tolist(), ends[last].tolist())))


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
            raise ValueError(f"need bands >= 1, rows >= 1 and bands * rows <= num_perm ({config.num_perm}); "
                             f"got {config.bands} x {config.rows}")
        return config.bands, config.rows
    return _lsh_optimum(config.threshold, config.num_perm)


class MinHasher:
    """MinHash signatures of batches of texts, equal to datasketch's (see the module docstring); build one per
    worker and reuse it.

    Memory: documents are processed in groups of about ``_GROUP_CHARS`` characters (a longer document alone),
    with ~30 bytes of temporaries per character and ~50 per shingle; the permutations are applied one at a time,
    so nothing of size shingles x num_perm is ever held. The result itself is 8 x num_perm bytes per document.
    """

    def __init__(self, num_perm: int, seed: int = 1) -> None:
        self.num_perm = num_perm
        self.seed = seed
        # datasketch.MinHash._init_permutations for the affine32 scheme: odd a, any b, from RandomState(seed)
        gen = np.random.RandomState(seed)
        self._a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self._b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)

    def signatures(self, texts: Sequence[str], ngram: int) -> np.ndarray:
        """``(len(texts), num_perm)`` uint64: row i is the signature of ``shingles(texts[i], ngram)``."""
        out = np.full((len(texts), self.num_perm), _EMPTY, np.uint64)
        for lo, hi in _groups(texts):
            buf, starts, ends, counts = _words(texts[lo:hi])
            first, last, per_doc = _shingle_words(counts, ngram)
            docs = np.flatnonzero(per_doc)
            if not len(docs):
                continue
            hashed = _fmix32(_xxh32(buf, starts[first], ends[last]))
            bounds = (np.cumsum(per_doc) - per_doc)[docs]
            minima = np.empty((self.num_perm, len(docs)), np.uint32)
            permuted = np.empty_like(hashed)
            for i in range(self.num_perm):  # one permutation at a time: memory stays O(shingles)
                np.multiply(hashed, self._a[i], out=permuted)
                np.add(permuted, self._b[i], out=permuted)
                np.minimum.reduceat(permuted, bounds, out=minima[i])
            out[lo + docs] = minima.T
        return out


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(n, bands)`` uint64: a 64-bit hash of each band's ``rows`` values, seeded with the band's index, so a
    key never matches one of another band; equal bands give equal keys, unequal ones collide with probability
    ~2**-64 (each value is folded in through the MurmurHash3 64-bit finalizer, a bijection)."""
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows > {signatures.shape[1]} signature values")
    values = signatures.astype(np.uint64, copy=False)
    keys = np.empty((len(values), bands), np.uint64)
    for band in range(bands):
        key = _fmix64(np.full(len(values), band + 1, np.uint64))
        for column in range(band * rows, (band + 1) * rows):
            key = _fmix64(key ^ values[:, column])
        keys[:, band] = key
    return keys


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The fraction of equal signature values: an unbiased estimate of the shingle sets' Jaccard similarity."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


# --- normalisation and word boundaries, vectorised over a batch of texts

_EMPTY = 0xFFFFFFFF  # datasketch's initial hash value: the signature of an empty set
_SEPARATOR, _WORD, _DIGIT = 0, 1, 2
# what each class becomes in the normalised text (word characters stay themselves)
_REPLACEMENT = np.array([ord(" "), 0, ord("0")], np.uint32)
_GROUP_CHARS = 1 << 20


@functools.cache
def _char_classes() -> np.ndarray:
    """Class of every code point: letters (L*), combining marks (M*) and numbers other than decimal digits
    (Nl, No) are word characters, decimal digits (Nd) digits, all else separators. Built once per process
    (~0.2 s), from the running Python's Unicode data."""
    word = {"Nl", "No"} | {c for c in _CATEGORIES if c[0] in "LM"}
    lookup = {c: _WORD if c in word else _DIGIT if c == "Nd" else _SEPARATOR for c in _CATEGORIES}
    categories = map(unicodedata.category, map(chr, range(sys.maxunicode + 1)))
    return np.frombuffer(bytes(map(lookup.__getitem__, categories)), np.uint8)


_CATEGORIES = ("Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf",
               "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn")


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


def _words(texts: Sequence[str]) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """The normalised texts as one UTF-8 buffer with a space before every word, each word's byte range in it
    (``starts``, ``ends``, in text order) and the number of words of each text."""
    folded = [unicodedata.normalize("NFKC", text).lower() for text in texts]
    joined = " " + " ".join(folded)  # a separator before every text, so every word has one before it
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
    classes = np.take(_char_classes(), points)
    separator = classes == _SEPARATOR
    digit = classes == _DIGIT
    word_after = np.append(~separator[1:], False)
    digit_before = np.insert(digit[:-1], 0, False)
    # one space (the last separator) before each word, and each run of digits as one 0
    keep = np.where(separator, word_after, ~(digit & digit_before))
    normalized = np.where(classes == _WORD, points, np.take(_REPLACEMENT, classes))[keep]
    spaces = np.flatnonzero(normalized == ord(" "))
    starts = spaces + 1
    ends = np.append(spaces[1:], len(normalized))
    if joined.isascii():
        buf = normalized.astype(np.uint8).tobytes()
    else:  # character offsets to UTF-8 byte offsets
        utf8_length = 1 + (normalized >= 0x80).astype(np.int64) + (normalized >= 0x800) + (normalized >= 0x10000)
        offsets = np.concatenate(([0], np.cumsum(utf8_length)))
        starts, ends = offsets[starts], offsets[ends]
        buf = normalized.tobytes().decode("utf-32-le").encode("utf-8")
    # the space before text i's first word is at or after before[i], where the " " joined before it stands
    before = np.cumsum([0] + [len(t) + 1 for t in folded])
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


# --- xxh32 (= xxhash.xxh32_intdigest, seed 0) of many byte ranges of one buffer at once, and the mixers

_P1, _P2, _P3, _P4, _P5 = (np.uint32(p) for p in (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1))
# longer ranges are hashed one by one by xxhash: the vectorised stripe loop would run once per 16 bytes
_VECTOR_MAX_BYTES = 256


def _rotl32(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _xxh32(buf: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``xxhash.xxh32_intdigest(buf[s:e])`` for every range, as uint32, following the reference algorithm
    (16-byte stripes into four lanes, then 4-byte words, then single bytes, then the avalanche)."""
    lengths = ends - starts
    data = np.frombuffer(buf + bytes(4), np.uint8)  # padding: 4-byte reads of masked-out ranges stay in bounds
    word_at = np.ndarray((len(data) - 3,), "<u4", data, 0, (1,))  # little-endian uint32 at every byte offset
    h = np.full(len(starts), _P5, np.uint32)
    striped = np.flatnonzero((lengths >= 16) & (lengths <= _VECTOR_MAX_BYTES))
    if len(striped):
        lanes = [np.full(len(striped), seed, np.uint32)
                 for seed in (0x9E3779B1 + 0x85EBCA77 - (1 << 32), 0x85EBCA77, 0, (1 << 32) - 0x9E3779B1)]
        first, stripes = starts[striped], lengths[striped] >> 4
        active = np.arange(len(striped))
        for stripe in range(_VECTOR_MAX_BYTES // 16):
            p = first[active] + 16 * stripe
            for j, lane in enumerate(lanes):
                lane[active] = _rotl32(lane[active] + word_at[p + 4 * j] * _P2, 13) * _P1
            active = active[stripes[active] > stripe + 1]
            if not len(active):
                break
        h[striped] = _rotl32(lanes[0], 1) + _rotl32(lanes[1], 7) + _rotl32(lanes[2], 12) + _rotl32(lanes[3], 18)
    h += lengths.astype(np.uint32)
    p = starts + (lengths & ~15)
    rest = lengths & 15
    for j in range(3):
        take = (rest >> 2) > j
        h = np.where(take, _rotl32(h + word_at[p] * _P3, 17) * _P4, h)
        p = p + 4 * take
    for j in range(3):
        take = (rest & 3) > j
        h = np.where(take, _rotl32(h + data[p].astype(np.uint32) * _P5, 11) * _P1, h)
        p = p + take
    h ^= h >> np.uint32(15)
    h *= _P2
    h ^= h >> np.uint32(13)
    h *= _P3
    h ^= h >> np.uint32(16)
    long = np.flatnonzero(lengths > _VECTOR_MAX_BYTES)
    h[long] = [xxhash.xxh32_intdigest(buf[s:e]) for s, e in zip(starts[long].tolist(), ends[long].tolist())]
    return h


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme pre-mixes every input hash."""
    h = h ^ (h >> np.uint32(16))
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _fmix64(h):
    """MurmurHash3's 64-bit finalizer (a bijection of uint64), for band keys."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))
