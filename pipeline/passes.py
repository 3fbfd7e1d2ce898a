"""Each pass's steps, built from the registry (:mod:`pipeline.registry`) and a config: the steps of the
extraction pass or of the filter pass, in registry order, each from its config section, those with per-language
thresholds wrapped so that every document is judged with its own language's (and domain's) config."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.config import CurateConfig, LanguageConfigs
from pipeline.quality.scoring import document_domain
from pipeline.registry import STEPS, StepLine
from pipeline.steps import Document, Step


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
