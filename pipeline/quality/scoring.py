"""Model-based quality scoring of documents (Llama 3 (2024) §3.1.1 "Model-based quality filtering" and "Code and
reasoning data"), as one step over dict records (stage ``quality``).

Every configured classifier scores the documents of the languages it knows, in batches; its score (probability of
its positive class) goes into the document's ``scores`` map under the classifier's name, so a user can rank or
re-threshold from the output. A document is dropped (``low_quality_score``) only when a minimum is configured for a
classifier (``min_scores``, per language with ``[languages.<lang>.quality]``) and its score is below it; by default
nothing is dropped, because the shipped models are demo models trained on the little data available here.

Classifiers:

- ``wikipedia_fasttext``: fastText, "would this page be referenced by Wikipedia" (LLaMA 1's classifier), shipped as
  an English demo model (:mod:`pipeline.quality.fasttext_classifier`); thousands of documents/s per core.
- transformer classifiers named in ``transformer_models`` (:mod:`pipeline.quality.transformer_classifier`): the
  shipped ``quality_minilm``, ``code_minilm`` and ``reasoning_minilm`` heads on MiniLM, or directories written by
  ``classifiers/train_transformer.py`` (DistilRoberta when its weights are on disk). Tens of documents/s per CPU
  core, so they are off by default; on a GPU they use it.

Pages the classifier named ``code`` or ``reasoning`` flags (score >= ``domain_threshold``) belong to that *domain*: the
heuristics that follow use the domain's thresholds (``pipeline/resources/domains/<domain>.toml``,
``[domains.<domain>.<section>]`` in a config file), so code listings and derivations, which repeat their
identifiers and symbols, are not removed as repeated content.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.quality.fasttext_classifier import SHIPPED_MODEL, FastTextClassifier, FastTextClassifierConfig
from pipeline.quality.transformer_classifier import TransformerClassifier, TransformerClassifierConfig
from pipeline.resources import shipped
from pipeline.steps import Document, Rejection, Step

WIKIPEDIA = "wikipedia_fasttext"
DOMAINS = ("code", "reasoning")


@dataclass(frozen=True)
class QualityConfig:
    """Options of the quality stage, with the reason for each default beside it."""

    # Paper: model-based quality filtering; off skips the stage (no scores).
    enabled: bool = True
    # fastText "referenced by Wikipedia" model file ("" = the shipped English demo model, "none" = not used).
    wikipedia_model: str = ""
    # Languages the fastText model scores (empty = the "language" of the model's .json metadata; "*" = all).
    wikipedia_languages: tuple[str, ...] = ()
    # Transformer classifiers as name=model directory (shipped: quality_minilm, code_minilm, reasoning_minilm, e.g.
    # "code=code_minilm"); none by default: tens of documents/s per CPU core, meant for GPUs or small runs.
    transformer_models: tuple[str, ...] = ()
    # Lowest score kept per classifier as name=minimum (e.g. "wikipedia_fasttext=0.2"); empty = score and rank only.
    min_scores: tuple[str, ...] = ()
    # Score from which the "code" / "reasoning" classifier puts a page in its domain (its own heuristic thresholds).
    domain_threshold: float = 0.5


def named_values(pairs: Sequence[str], kind=str) -> dict[str, object]:
    """``("a=1", "b=2")`` -> ``{"a": kind("1"), "b": kind("2")}``; a malformed entry raises ValueError."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"expected name=value, got {pair!r}")
        values[name.strip()] = kind(value.strip())
    return values


def _model_languages(model_path: str) -> tuple[str, ...]:
    """The language a fastText model was trained on, from the .json beside it (empty: unknown, score all)."""
    metadata = Path(model_path).with_suffix(".json") if model_path else shipped(SHIPPED_MODEL[: -len(".ftz")] + ".json")
    if not metadata.is_file():
        return ()
    language = json.loads(metadata.read_text(encoding="utf-8")).get("language")
    return (language,) if language else ()


class QualityScorer(Step):
    """Scores documents with every configured classifier (stage ``quality``): each score goes into
    ``doc.scores``; the verdict rejects ``low_quality_score`` below a configured minimum. Holds only its config
    (pickles to Spark workers, which load each model once)."""

    stage = "quality"

    def __init__(self, config: QualityConfig = QualityConfig()):
        self.config = config
        self.min_scores = named_values(config.min_scores, float)
        self.transformers = {name: TransformerClassifier(TransformerClassifierConfig(model_path=str(path)))
                             for name, path in named_values(config.transformer_models).items()}
        self.wikipedia = None
        if config.wikipedia_model.lower() != "none":
            self.wikipedia = FastTextClassifier(FastTextClassifierConfig(model_path=config.wikipedia_model))
            self.wikipedia_languages = set(config.wikipedia_languages or _model_languages(config.wikipedia_model))

    def score(self, docs: Sequence[Document]) -> list[dict[str, float]]:
        """Per document, the scores of the classifiers that apply to it (by its language)."""
        scores: list[dict[str, float]] = [{} for _ in docs]
        if self.wikipedia is not None:
            chosen = [i for i, doc in enumerate(docs)
                      if "*" in self.wikipedia_languages or not self.wikipedia_languages
                      or doc.language in self.wikipedia_languages]
            for i, value in zip(chosen, self.wikipedia.score([docs[i].text for i in chosen]), strict=True):
                scores[i][WIKIPEDIA] = value
        texts = [doc.text for doc in docs]
        for name, classifier in self.transformers.items():
            for i, value in enumerate(classifier.score(texts)):
                scores[i][name] = value
        return scores

    def signals_batch(self, docs: Sequence[Document]) -> list[dict[str, float]]:
        for doc, scores in zip(docs, self.score(docs), strict=True):
            doc.scores.update(scores)
        return [{} for _ in docs]

    def verdict(self, doc: Document) -> Rejection | None:
        """Rejection("low_quality_score", "<name> <score> < <minimum>") for the first classifier below its
        minimum."""
        for name, minimum in self.min_scores.items():
            if name in doc.scores and doc.scores[name] < minimum:
                return Rejection("low_quality_score", f"{name} {doc.scores[name]:.3f} < {minimum:g}")
        return None


def document_domain(scores: dict[str, float] | None, threshold: float) -> str | None:
    """"code" or "reasoning" when the classifier of that name scored the document at least ``threshold`` (code
    first), else None."""
    return next((d for d in DOMAINS if (scores or {}).get(d, -1.0) >= threshold), None)
