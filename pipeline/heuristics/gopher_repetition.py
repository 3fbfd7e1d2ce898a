"""Gopher repetition filters (Llama 3 (2024) §3.1.1 "Heuristic filtering" uses the duplicated n-gram coverage
ratio of Rae et al. 2021, *Scaling Language Models: Methods, Analysis & Insights from Training Gopher*, Appendix A,
"Repetition removal" and Table A1, whose thresholds are the defaults here).

A document is dropped when any of these signals is *above* its threshold:

- ``gopher_dup_line_frac``: lines that repeat an earlier line, per line (0.30); ``gopher_dup_line_char_frac``:
  their characters per character of all lines (0.20). Lines are split on ``\\n``, stripped of surrounding
  whitespace, blank ones ignored; compared exactly. The first occurrence is not a duplicate ("a\\na\\nb": 1/3).
- ``gopher_dup_para_frac`` (0.30) and ``gopher_dup_para_char_frac`` (0.20): the same over paragraphs, split at
  blank lines (``\\n\\n+``, whitespace-only lines count as blank). Extracted pages here have one block per line and
  rarely a blank line, so these mostly see one paragraph; the line signals do the work.
- ``gopher_top_{n}gram_char_frac`` for n = 2, 3, 4 (0.20, 0.18, 0.16): occurrences of the most frequent word n-gram
  times its characters, per character of all words. Occurrences are counted as datatrove's ``find_top_duplicate`` does,
  overlaps included (so a run of one word can score above 1); ties go to the n-gram with more characters. As in
  RedPajama-V2 (``rps_doc_frac_chars_top_{n}gram``) an n-gram found only once scores 0: datatrove would score a
  document's first n-gram, so a four-word title is "repetitive"; short texts are a length filter's job.
- ``gopher_dup_{n}gram_char_frac`` for n = 5..10 (0.15 .. 0.10): the characters of the words covered by a
  *repeat*, an occurrence of a word n-gram that already occurred earlier in the text, per character of all words;
  a word counts once however many repeats overlap it (Gopher: "we take care not to count characters that occur in
  overlapping n-grams more than once"). As for lines, the first occurrence is the original: a paragraph pasted
  twice scores 0.5. datatrove counts repeats too (scanning greedily, skipping n words after each); RedPajama-V2's
  ``rps_doc_frac_chars_dupe_{n}grams`` also counts first occurrences, and with it this filter would drop 12 of the
  122 WikiText-2 articles instead of 4 (Wikipedia leads restate their body).

Words are ``multilingual.text_tokens.words`` lower-cased (RedPajama-V2's normalisation; punctuation is not a word), so
Chinese, Japanese and Thai have word n-grams rather than one n-gram per line. A word's characters are ``len(word)``
and an n-gram's the sum over its words: no spaces are counted, so spaced and unspaced scripts compare.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.steps import Document, Rejection, Step

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class GopherRepetitionConfig:
    """Options of GopherRepetition; every threshold is Gopher's (Rae et al. 2021, Table A1)."""

    # Paper: repeated n-gram coverage removes pages of repeated content; off skips the filter.
    enabled: bool = True
    # Dropped above this share of lines repeating an earlier line (Gopher 0.30).
    max_dup_line_frac: float = 0.30
    # Dropped above this share of characters in lines repeating an earlier line (Gopher 0.20).
    max_dup_line_char_frac: float = 0.20
    # Dropped above this share of paragraphs (blank-line separated) repeating an earlier one (Gopher 0.30).
    max_dup_para_frac: float = 0.30
    # Dropped above this share of characters in paragraphs repeating an earlier one (Gopher 0.20).
    max_dup_para_char_frac: float = 0.20
    # Word n-gram sizes whose most frequent n-gram is measured (Gopher: 2, 3, 4).
    top_ngram_sizes: tuple[int, ...] = (2, 3, 4)
    # Per size above, dropped above this share of characters in the most frequent n-gram (Gopher 0.20, 0.18, 0.16).
    max_top_ngram_char_frac: tuple[float, ...] = (0.20, 0.18, 0.16)
    # Word n-gram sizes whose repeated occurrences are measured (Gopher: 5 to 10).
    dup_ngram_sizes: tuple[int, ...] = (5, 6, 7, 8, 9, 10)
    # Per size above, dropped above this share of characters covered by repeated n-grams (Gopher 0.15 down to 0.10).
    max_dup_ngram_char_frac: tuple[float, ...] = (0.15, 0.14, 0.13, 0.12, 0.11, 0.10)

    def __post_init__(self):
        if len(self.top_ngram_sizes) != len(self.max_top_ngram_char_frac):
            raise ValueError("top_ngram_sizes and max_top_ngram_char_frac need one value each per size")
        if len(self.dup_ngram_sizes) != len(self.max_dup_ngram_char_frac):
            raise ValueError("dup_ngram_sizes and max_dup_ngram_char_frac need one value each per size")
        if min(self.top_ngram_sizes + self.dup_ngram_sizes, default=1) < 1:
            raise ValueError("n-gram sizes must be at least 1")


def repeated_ngrams(tokens: Sequence[str], max_n: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """For n = 1, ..., ``max_n``: the start positions (ascending int64 array) of the word n-grams of ``tokens`` that
    occur more than once, and beside each an integer naming its n-gram (equal integers, equal n-grams; numbered per
    n, from 0).

    An n-gram can only repeat where the (n-1)-gram it starts with repeats, so each n extends only the positions
    kept for n-1, by one word id: n-grams are exact integers (id of the (n-1)-gram x vocabulary + id of the word,
    renumbered after each n so they stay small), counted with numpy, never tuples or joined strings.
    """
    vocabulary: dict[str, int] = {}
    word_ids = np.fromiter((vocabulary.setdefault(token, len(vocabulary)) for token in tokens), dtype=np.int64,
                           count=len(tokens))
    size = max(len(vocabulary), 1)
    positions, ids = np.arange(len(word_ids), dtype=np.int64), word_ids
    for n in range(1, max_n + 1):
        if n > 1:
            fits = positions <= len(word_ids) - n
            positions = positions[fits]
            ids = ids[fits] * size + word_ids[positions + n - 1]
        _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
        repeated = counts[inverse] > 1
        number = np.cumsum(counts > 1) - 1  # each repeated n-gram's number among the repeated ones
        positions, ids = positions[repeated], number[inverse[repeated]]
        yield n, positions, ids


def covered_words(starts: np.ndarray, n: int, words_count: int) -> np.ndarray:
    """A boolean mask of the words covered by the n-grams starting at ``starts`` (each word once)."""
    edges = np.zeros(words_count + 1, dtype=np.int64)
    np.add.at(edges, starts, 1)
    np.add.at(edges, starts + n, -1)
    return np.cumsum(edges[:-1]) > 0


def later_occurrences(positions: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The positions (ascending) of the occurrences of repeated n-grams after their first one."""
    later = np.ones(len(ids), dtype=bool)
    later[np.unique(ids, return_index=True)[1]] = False
    return positions[later]


def _duplicates(parts: list[str], name: str) -> dict[str, float]:
    """Share of ``parts`` equal to an earlier part, and share of their characters, as ``gopher_dup_<name>_...``."""
    seen: set[str] = set()
    count = chars = 0
    for part in parts:
        if part in seen:
            count += 1
            chars += len(part)
        else:
            seen.add(part)
    total = sum(map(len, parts))
    return {f"gopher_dup_{name}_frac": count / len(parts) if parts else 0.0,
            f"gopher_dup_{name}_char_frac": chars / total if total else 0.0}


def _top_ngram_chars(positions: np.ndarray, ids: np.ndarray, n: int, offsets: np.ndarray) -> int:
    """Occurrences of the most frequent repeated n-gram times its characters (the longer one on a tie)."""
    counts = np.bincount(ids)
    most = counts.max()
    starts = positions[counts[ids] == most]
    return int(most * (offsets[starts + n] - offsets[starts]).max())


def _repeat_chars(positions: np.ndarray, ids: np.ndarray, n: int, lengths: np.ndarray) -> int:
    """Characters of the words in occurrences of repeated n-grams after their first, each word once."""
    return int(lengths[covered_words(later_occurrences(positions, ids), n, len(lengths))].sum())


class GopherRepetition(Step):
    """Gopher's repetition signals per document and their thresholds (stage ``heuristics``). Holds only its config,
    so it pickles to Spark workers."""

    stage = "heuristics"

    def __init__(self, config: GopherRepetitionConfig = GopherRepetitionConfig()):
        self.config = config

    def signals(self, doc: Document) -> dict[str, float]:
        """The signals named in the module docstring."""
        config, text = self.config, doc.text
        lines = [line for line in (line.strip() for line in text.split("\n")) if line]
        paragraphs = [part for part in (part.strip() for part in _PARAGRAPH_BREAK.split(text)) if part]
        signals = _duplicates(lines, "line") | _duplicates(paragraphs, "para")
        signals.update({f"gopher_top_{n}gram_char_frac": 0.0 for n in config.top_ngram_sizes})
        signals.update({f"gopher_dup_{n}gram_char_frac": 0.0 for n in config.dup_ngram_sizes})
        tokens = [token.lower() for token in doc.words]
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        offsets = np.concatenate([[0], np.cumsum(lengths)])  # characters before each word
        total = int(offsets[-1])
        if not total:
            return signals
        top, dup = set(config.top_ngram_sizes), set(config.dup_ngram_sizes)
        for n, positions, ids in repeated_ngrams(tokens, max(top | dup, default=0)):
            if not positions.size:
                break  # no longer n-gram repeats either: the remaining signals stay 0
            if n in top:
                signals[f"gopher_top_{n}gram_char_frac"] = _top_ngram_chars(positions, ids, n, offsets) / total
            if n in dup:
                signals[f"gopher_dup_{n}gram_char_frac"] = _repeat_chars(positions, ids, n, lengths) / total
        return signals

    def verdict(self, doc: Document) -> Rejection | None:
        """The first threshold the document's signals exceed, as Rejection(reason, "<signal>=<value> > <limit>")
        with reason ``dup_line_fraction``, ``dup_paragraph_fraction``, ``top_ngram_fraction`` or
        ``dup_ngram_fraction``; None when none is exceeded."""
        config, signals = self.config, doc.signals
        if not config.enabled:
            return None
        limits = [
            ("dup_line_fraction", "gopher_dup_line_frac", config.max_dup_line_frac),
            ("dup_line_fraction", "gopher_dup_line_char_frac", config.max_dup_line_char_frac),
            ("dup_paragraph_fraction", "gopher_dup_para_frac", config.max_dup_para_frac),
            ("dup_paragraph_fraction", "gopher_dup_para_char_frac", config.max_dup_para_char_frac),
        ]
        limits += [("top_ngram_fraction", f"gopher_top_{n}gram_char_frac", limit)
                   for n, limit in zip(config.top_ngram_sizes, config.max_top_ngram_char_frac, strict=True)]
        limits += [("dup_ngram_fraction", f"gopher_dup_{n}gram_char_frac", limit)
                   for n, limit in zip(config.dup_ngram_sizes, config.max_dup_ngram_char_frac, strict=True)]
        for reason, name, limit in limits:
            if signals[name] > limit:
                return Rejection(reason, f"{name}={signals[name]:.3f} > {limit}")
        return None
