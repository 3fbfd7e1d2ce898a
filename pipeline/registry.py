"""The stages of the curation job in the paper's order, and the one registry of the per-document steps each pass
runs.

Stages (what the statistics, the ``rejected/`` output and ``--help`` name) come in the order of Llama 3 §3.1.1:
record screening, URL safety, URL dedup, extraction, language ID, PII, MinHash dedup, line dedup, model-based
quality, heuristics, token-distribution KL. The job runs them in a few passes over the documents (see
:mod:`pipeline.spark.curate`): the *extract* pass (extraction and every per-document step that needs no corpus-wide
result), the *filter* pass after the global dedup decisions, and the *judge* pass after the corpus token statistics.

Adding a document filter is one file and one line (README, "Adding a filter"): a :class:`pipeline.steps.Step`
subclass whose constructor takes its config dataclass, in the package of its paper section (``pipeline/heuristics/
<name>.py``, ...), with its paper reference and its defaults; and a :class:`StepLine` in :data:`STEPS` below,
whose place in the list is its place in its pass. The line's section becomes a section of
:class:`pipeline.config.CurateConfig`, so ``--<section>.<field>``
options and ``[<section>]`` TOML tables exist for it without another edit.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, is_dataclass

from pipeline.dedup.line_dedup import LineHashes, LineRemoval
from pipeline.dedup.minhash import MinHashSignatures, NearDuplicate
from pipeline.heuristics.dirty_words import AdultSite, DirtyWords, DirtyWordsVerdict
from pipeline.heuristics.gopher_repetition import GopherRepetition
from pipeline.heuristics.repeated_line_content import RepeatedLineContent
from pipeline.heuristics.token_kl import TokenBins
from pipeline.multilingual.language_id import LanguageIdentifier
from pipeline.quality.scoring import QualityScorer
from pipeline.safety.pii import PiiDetector, PiiHeavySite
from pipeline.steps import Step

# Every stage, in the paper's order: a rejected document names the first stage that dropped it.
STAGES = ("read", "safety", "url_dedup", "extract", "language_id", "pii", "minhash_dedup", "line_dedup", "quality",
          "heuristics", "token_kl")
EXTRACT, FILTER = "extract", "filter"


@dataclass(frozen=True)
class StepLine:
    """One step of a pass: its class, built from its config section (the constructor's only argument), and
    whether its thresholds are set per language (and, for pages the code/reasoning classifiers flag, per domain).
    A section whose config has ``enabled = false`` leaves its steps out."""

    pass_name: str
    step: type[Step]
    section: str
    per_language: bool = False

    @property
    def config_class(self) -> type | None:
        """The config dataclass of the step: the type of its constructor's default ``config``."""
        config = inspect.signature(self.step).parameters.get("config")
        if config is None:
            raise TypeError(f"{self.step.__name__}: a step's constructor takes its config section as `config=...`")
        default = config.default
        return type(default) if is_dataclass(default) else None


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
    StepLine(FILTER, TokenBins, "token_kl", per_language=True),
)
_UNLISTED = sorted({line.step.stage for line in STEPS} - set(STAGES))
if _UNLISTED:  # caught at import, not by the statistics at the end of a run
    raise ValueError(f"steps of stages {_UNLISTED} that STAGES does not list: add a new stage's name to STAGES, "
                     "at its place in the paper's order")
# The signal in which each stage that shortens kept documents records the bytes it removed.
TRIM_SIGNALS = {line.step.stage: line.step.trimmed_signal for line in STEPS if getattr(line.step, "trimmed_signal", "")}
# Sections a document filter reads per language (the others are global: a per-language value would be ignored).
PER_LANGUAGE_SECTIONS = tuple(dict.fromkeys(line.section for line in STEPS if line.per_language))


@functools.cache
def step_sections() -> dict[str, type]:
    """The config section of every registered step and its dataclass, in the order the steps come."""
    sections: dict[str, type] = {}
    for line in STEPS:
        if line.section not in sections and line.config_class is not None:
            sections[line.section] = line.config_class
    missing = {line.section for line in STEPS} - set(sections)
    if missing:
        raise TypeError(f"no step of section(s) {sorted(missing)} declares its config class as the default of its "
                        "constructor's 'config' argument")
    return sections
