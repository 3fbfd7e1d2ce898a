"""Removal of lines of repeated content (Llama 3 (2024) §3.1.1 "Heuristic filtering": "We use duplicated n-gram
coverage ratio (Rae et al., 2021) to remove lines that consist of repeated content such as logging or error
messages. Those lines could be very long and unique, hence cannot be filtered by line-dedup.").

The paper gives no definition beyond Gopher's duplicate n-gram character fraction (``gopher_repetition``), applied
here per line. A line's *coverage* is the share of its word characters that lie in a *repeat*: an occurrence of a
word n-gram (``ngram_size`` words, inside one line) that already occurred earlier in the document, in an earlier line
or earlier in the same line (Gopher's "after the first" counting); each word counts once however many repeats cover it,
weighted by ``len(word)``. The first of a set of alike lines is kept (one log line, the first copy of a paragraph
pasted twice), the others go.
Words are ``multilingual.text_tokens.words`` of the line (so Chinese, Japanese and Thai lines have real words), compared
lower-cased with digit runs as "0" (ccNet's normalisation, as in line dedup and MinHash): log lines that differ only
in timestamps, ids, counters or IP addresses share all their n-grams, and all but the first score 1.0, however
unique each line is. A run of numbers repeats itself (a timestamp's seven "0"s hold the 5-gram of "0"s three times),
so a first line is partly covered by its own numbers, and a line of eight or more bare numbers goes even when first.
A line is removed when its coverage is at least ``min_coverage`` and it has at least ``min_words`` words. The other
lines keep their order and their exact text (the text is split and re-joined on ``\\n`` only). A document whose
removed lines were more than ``max_removed_fraction`` of its characters is dropped (``mostly_repeated_content``):
it was a log console or one phrase over and over, not an article with some log lines in it.

Defaults, measured on the 122 Wikipedia articles of WikiText-2 (``../shared/data/quality_text/wikitext2``) and the
``log_spam`` pages of ``sample_data`` (four CI console pages and two real pages with log lines interleaved): every log
line of 8 words or more after the first of its kind goes (coverage 1.0; the first of each kind scores 0 to 0.33, from
the numbers of its timestamp and addresses, and stays), while Wikipedia loses 0.44% of its lines (23 of
5,230, in 10 articles) and 0.10% of its characters (list items sharing a pattern, after the first: bibliography
entries, award lists; and sentences an article repeats). No Wikipedia article is dropped (at most 3.8% of one's
characters go); the console pages lose 83% to 85% of theirs and are dropped, the real pages 40% and 41%, kept.
Shorter log lines ("Traceback (most recent call last):", "KeyError: 'user_52'") are exact repeats across pages and
within a page, left to line dedup and to Gopher's duplicate-line fraction.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from pipeline.heuristics.gopher_repetition import covered_words, later_occurrences, repeated_ngrams
from pipeline.multilingual.text_tokens import words
from pipeline.steps import Document, Rejection, TextStep

_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class RepeatedLineContentConfig:
    """Options of RepeatedLineContent, with the reason for each default beside it."""

    # Paper: lines of repeated content (logging, error messages) are removed; off keeps every line.
    enabled: bool = True
    # Words per n-gram: 5, Gopher's smallest duplicate n-gram. The sample's log lines go alike at 2 to 9; of
    # Wikipedia's lines 3-grams remove 0.96%, 4-grams 0.46%, 5-grams 0.44% (with the other two defaults).
    ngram_size: int = 5
    # Least share of a line's word characters in repeated n-grams for it to go: log lines differing only in numbers
    # score 1.0, with one word of their own (a hex id: 0.91; a name 4 words from the end: 0.80) they still go.
    # At 0.7 Wikipedia loses 0.57% of its lines, at 0.9 0.25%.
    min_coverage: float = 0.8
    # Fewest words of a removed line: the paper's targets are long; shorter repeats are line dedup's and the
    # Gopher duplicate-line signal's. At 6, the second of alike price lines of a real page ("ab 30 Tagen vor Anreise
    # 50%" after "ab 90 Tagen vor Anreise 30%") would go, and Wikipedia would lose 0.71% of its lines.
    min_words: int = 8
    # Drop the whole document when removed lines were more than this share of its characters: a page that is mostly
    # log output or one phrase repeated is not an article with some log lines in it (the sample's log consoles: 0.83
    # to 0.85; its real pages with pasted log lines: 0.40 and 0.41; a WikiText-2 article: at most 0.038).
    max_removed_fraction: float = 0.5

    def __post_init__(self):
        if self.ngram_size < 1:
            raise ValueError("ngram_size must be at least 1")


class LineCoverage(NamedTuple):
    """One line's word count, its coverage by repeated n-grams, and whether it is removed."""

    words: int
    coverage: float
    removed: bool


class RepeatedLineContent(TextStep):
    """Removes the lines of a document that consist of repeated content (stage ``heuristics``); signals
    ``repeated_content_removed_lines``, ``repeated_content_removed_chars`` (characters removed, their line breaks
    included) and ``repeated_content_removed_fraction`` (of the characters of the text); the verdict drops a
    document that was mostly such lines (``mostly_repeated_content``). Holds only its config, so it pickles to
    Spark workers."""

    stage = "heuristics"
    trimmed_signal = "repeated_content_removed_bytes"

    def __init__(self, config: RepeatedLineContentConfig = RepeatedLineContentConfig()):
        self.config = config

    def line_coverages(self, text: str, language: str | None) -> list[LineCoverage]:
        """One LineCoverage per line of ``text.split("\\n")``, for inspection."""
        return self._coverages(self._line_words(text, language))

    @staticmethod
    def _line_words(text: str, language: str | None) -> list[list[str]]:
        return [words(line, language) for line in text.split("\n")]

    def _coverages(self, line_words: list[list[str]]) -> list[LineCoverage]:
        config = self.config
        tokens: list[str] = []
        lengths: list[int] = []
        owners: list[int] = []  # the line of each token
        lines: list[tuple[int, int]] = []  # words and word characters of each line
        for number, found in enumerate(line_words):
            if found:  # one normalisation call per line: words have no "\x00"
                tokens.extend(_DIGITS.sub("0", "\x00".join(found).lower()).split("\x00"))
            tokens.append(f"\n{number}")  # found once, so no repeated n-gram spans two lines
            lengths.extend(map(len, found))
            lengths.append(0)
            owners.extend(itertools.repeat(number, len(found) + 1))
            lines.append((len(found), sum(map(len, found))))
        *_, (_, positions, ids) = repeated_ngrams(tokens, config.ngram_size)
        mask = covered_words(later_occurrences(positions, ids), config.ngram_size, len(tokens))
        covered = np.bincount(np.asarray(owners, dtype=np.int64), weights=np.asarray(lengths) * mask,
                              minlength=len(lines))
        result = []
        for (count, chars), covered_chars in zip(lines, covered.tolist(), strict=True):
            coverage = covered_chars / chars if chars else 0.0
            result.append(LineCoverage(count, coverage, count >= config.min_words and coverage >= config.min_coverage))
        return result

    def rewrite(self, doc: Document) -> tuple[str, dict[str, float], list[str]]:
        """The text without its removed lines, the signals, and the words of the kept text (words never span
        lines), so the filters that follow need not tokenise it again."""
        text = doc.text
        line_words = self._line_words(text, doc.language)
        lines = text.split("\n")
        kept_lines, kept_words = lines, line_words
        if self.config.enabled:
            verdicts = self._coverages(line_words)
            kept_lines = [line for line, verdict in zip(lines, verdicts, strict=True) if not verdict.removed]
            kept_words = [found for found, verdict in zip(line_words, verdicts, strict=True) if not verdict.removed]
        removed_lines = len(lines) - len(kept_lines)
        kept_text = "\n".join(kept_lines) if removed_lines else text
        removed_chars = len(text) - len(kept_text)
        signals = {"repeated_content_removed_lines": float(removed_lines),
                   "repeated_content_removed_chars": float(removed_chars),
                   "repeated_content_removed_fraction": removed_chars / len(text) if text else 0.0}
        return kept_text, signals, [word for found in kept_words for word in found]

    def verdict(self, doc: Document) -> Rejection | None:
        """``mostly_repeated_content`` when the removed lines were most of the document (see
        ``max_removed_fraction``)."""
        signals = doc.signals
        fraction = signals["repeated_content_removed_fraction"]
        if self.config.enabled and fraction > self.config.max_removed_fraction:
            lines = int(signals["repeated_content_removed_lines"])
            return Rejection("mostly_repeated_content", f"{lines} lines, {fraction:.0%} of the characters")
        return None
