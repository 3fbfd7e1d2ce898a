"""The per-document heuristic filters of Llama 3 (2024) §3.1.1 "Heuristic filtering", as one step over dict records
(stage ``heuristics``), with each language's thresholds, and for pages the code or reasoning classifier flagged,
their domain's (:meth:`pipeline.config.CurateConfig.for_language`, :func:`pipeline.quality.scoring.document_domain`):

1. lines made of repeated content (log and error messages) are removed (:mod:`pipeline.filters.repeated_line_content`,
   duplicated n-gram coverage per line); a document that was mostly such lines is dropped;
2. the Gopher repetition signals of what is left (:mod:`pipeline.filters.gopher_repetition`), so an article with
   log lines pasted in is judged on the article;
3. "dirty word" counting on the same text (:mod:`pipeline.filters.dirty_words`).

Every signal is recorded on every document, dropped or not, so thresholds can be changed without re-running; the
first filter (in this order) that drops a document gives its reason. The corpus-level heuristics (token-distribution
KL divergence, PII-heavy domains) need aggregations and live in :mod:`pipeline.spark.heuristic_stages`.
"""

from __future__ import annotations

from pipeline.config import CurateConfig
from pipeline.filters.dirty_words import DirtyWords
from pipeline.filters.gopher_repetition import GopherRepetition
from pipeline.filters.rejection import Rejection
from pipeline.filters.repeated_line_content import RepeatedLineContent
from pipeline.quality.scoring import document_domain

STAGE = "heuristics"


class _LanguageFilters:
    """The filters of one language, built from its config."""

    def __init__(self, config: CurateConfig):
        self.repeated_lines = RepeatedLineContent(config.repeated_lines)
        self.repetition = GopherRepetition(config.repetition)
        self.dirty_words = DirtyWords(config.dirty_words)


class DocumentHeuristics:
    """``apply(record)`` runs the filters on ``record["text"]`` in its ``record["language"]``. Holds the config and
    builds each language's filters on first use (so it pickles small to Spark workers)."""

    def __init__(self, config: CurateConfig = CurateConfig()):
        self.config = config
        self._filters: dict[tuple[str, str | None], _LanguageFilters] = {}

    def _for(self, language: str | None, domain: str | None) -> _LanguageFilters:
        key = (language or "", domain)
        if key not in self._filters:
            self._filters[key] = _LanguageFilters(self.config.for_language(*key))
        return self._filters[key]

    def judge(self, text: str, language: str | None,
              domain: str | None = None) -> tuple[str, dict[str, float], Rejection | None]:
        """The text without repeated-content lines, all signals, and the first rejection (or None), with the
        thresholds of ``language`` and ``domain`` ("code", "reasoning" or None)."""
        filters = self._for(language, domain)
        text, signals, tokens = filters.repeated_lines.apply_with_words(text, language)
        signals.update(filters.repetition.signals(text, language, tokens))
        dirty, dirty_verdict = filters.dirty_words.judge(text, language, tokens)
        signals.update(dirty)
        verdicts = (filters.repeated_lines.check(signals), filters.repetition.check(signals), dirty_verdict)
        return text, signals, next((v for v in verdicts if v), None)

    def apply(self, record: dict) -> dict:
        """The record with its new text, signals added, and ``stage``/``reason``/``detail`` set when dropped."""
        original = record.get("text") or ""
        domain = document_domain(dict(record.get("scores") or {}), self.config.quality.domain_threshold)
        text, signals, rejection = self.judge(original, record.get("language"), domain)
        signals["repeated_content_removed_bytes"] = float(len(original.encode()) - len(text.encode()))
        record["text"], record["signals"] = text, {**dict(record.get("signals") or {}), **signals}
        if rejection:
            record["stage"], record["reason"], record["detail"] = STAGE, *rejection
        return record
