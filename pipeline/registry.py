"""The stages of the curation job in the paper's order, and the one registry of the per-document steps each pass
runs.

Stages (what the statistics, the ``rejected/`` output and ``--help`` name) come in the order of Llama 3 §3.1.1:
record screening, URL safety, URL dedup, extraction, language ID, PII, MinHash dedup, line dedup, model-based
quality, heuristics, token-distribution KL. The job runs them in a few passes over the documents (see
:mod:`pipeline.spark.curate`): the *extract* pass (extraction and every per-document step that needs no corpus-wide
result), the *filter* pass after the global dedup decisions, and the *judge* pass after the corpus token statistics.

Adding a document filter is one file and one line: write a :class:`pipeline.steps.Step` subclass with its config
dataclass (``pipeline/filters/<name>.py``), add the config as a section of :class:`pipeline.config.CurateConfig`,
and add a :class:`StepLine` to :data:`STEPS` below, where its place in the list is its place in its pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.config import CurateConfig, LanguageConfigs
from pipeline.dedup.line_dedup import LineHashes, LineRemoval
from pipeline.dedup.minhash import MinHashSignatures, NearDuplicate
from pipeline.filters.dirty_words import AdultSite, DirtyWords, DirtyWordsVerdict
from pipeline.filters.gopher_repetition import GopherRepetition
from pipeline.filters.pii import PiiDetector, PiiHeavySite
from pipeline.filters.repeated_line_content import RepeatedLineContent
from pipeline.filters.token_kl import TokenBins
from pipeline.language_id import LanguageIdentifier
from pipeline.quality.scoring import QualityScorer, document_domain
from pipeline.steps import Document, Step

# Every stage, in the paper's order: a rejected document names the first stage that dropped it.
STAGES = ("read", "safety", "url_dedup", "extract", "language_id", "pii", "minhash_dedup", "line_dedup", "quality",
          "heuristics", "token_kl")
EXTRACT, FILTER = "extract", "filter"


@dataclass(frozen=True)
class StepLine:
    """One step of a pass: its class (built from its config section, the only constructor argument), the
    section (whose ``enabled = false`` leaves the step out) and whether its thresholds are set per language (and,
    for pages the code/reasoning classifiers flag, per domain)."""

    pass_name: str
    step: type[Step]
    section: str
    per_language: bool = False


STEPS = (
    StepLine(EXTRACT, LanguageIdentifier, "language_id"),
    StepLine(EXTRACT, PiiDetector, "pii"),
    StepLine(EXTRACT, MinHashSignatures, "minhash"),
    StepLine(EXTRACT, LineHashes, "line_dedup"),
    StepLine(EXTRACT, DirtyWords, "dirty_words", per_language=True),
    StepLine(FILTER, PiiHeavySite, "pii"),
    StepLine(FILTER, NearDuplicate, "minhash"),
    StepLine(FILTER, LineRemoval, "line_dedup"),
    StepLine(FILTER, QualityScorer, "quality", per_language=True),
    StepLine(FILTER, AdultSite, "dirty_words"),
    StepLine(FILTER, RepeatedLineContent, "repeated_lines", per_language=True),
    StepLine(FILTER, GopherRepetition, "repetition", per_language=True),
    StepLine(FILTER, DirtyWordsVerdict, "dirty_words", per_language=True),
    StepLine(FILTER, TokenBins, "token_kl"),
)
# The signal in which each stage that shortens kept documents records the bytes it removed.
TRIM_SIGNALS = {line.step.stage: line.step.trimmed_signal for line in STEPS if getattr(line.step, "trimmed_signal", "")}


def enabled(config: CurateConfig, section: str) -> bool:
    return getattr(getattr(config, section), "enabled", True)


def pass_steps(pass_name: str, config: CurateConfig, lines: Sequence[StepLine] = STEPS) -> list[Step]:
    """The steps of one pass, in order, built from ``config``."""
    steps: list[Step] = []
    for line in lines:
        if line.pass_name != pass_name or not enabled(config, line.section):
            continue
        steps.append(PerLanguage(line, config) if line.per_language else line.step(getattr(config, line.section)))
    return steps


class PerLanguage(Step):
    """A step with its thresholds per language: each document is handled by the step built from its own
    config (:meth:`CurateConfig.for_language`: its language's section, and its domain's when the code or
    reasoning classifier flagged it), built once per (language, domain) in each worker."""

    def __init__(self, line: StepLine, config: CurateConfig):
        self.line, self.configs = line, LanguageConfigs(config)
        self.domain_threshold = config.quality.domain_threshold
        self.stage, self.trimmed_signal = line.step.stage, getattr(line.step, "trimmed_signal", "")
        self._steps: dict[tuple[str, str | None], Step] = {}

    def _step(self, doc: Document) -> Step:
        key = (doc.language or "", document_domain(doc.scores, self.domain_threshold))
        if key not in self._steps:
            self._steps[key] = self.line.step(getattr(self.configs(*key), self.line.section))
        return self._steps[key]

    def outcomes(self, docs: Sequence[Document]) -> list[tuple]:
        groups: dict[int, list[int]] = {}
        steps = [self._step(doc) for doc in docs]
        for i, step in enumerate(steps):
            groups.setdefault(id(step), []).append(i)
        results: list[tuple] = [()] * len(docs)
        for members in groups.values():
            for i, outcome in zip(members, steps[members[0]].outcomes([docs[i] for i in members]), strict=True):
                results[i] = outcome
        return results

    def verdict(self, doc: Document):
        return self._step(doc).verdict(doc)
