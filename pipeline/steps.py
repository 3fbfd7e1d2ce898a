"""The one contract of a per-document step, and the adapter that runs a list of steps in one Python pass.

A step looks at a :class:`Document` and produces **signals** (numbers, recorded on every document, kept or not, so
thresholds can be changed from the output), then a **verdict** (a :class:`Rejection` or None) from them:

    class MyFilter(Step):
        stage = "heuristics"                          # the registry stage it belongs to
        def signals(self, doc):  return {"shouting": sum(c.isupper() for c in doc.text) / max(len(doc.text), 1)}
        def verdict(self, doc):  return Rejection("shouting") if doc.signals["shouting"] > 0.5 else None

A step that changes the text (line removal, redaction) is a :class:`TextStep` and overrides ``rewrite(doc) -> (new
text, signals)`` instead of ``signals`` (it may add the new text's words as a third item, saving a tokenisation). A
model that is faster on batches overrides ``signals_batch(docs)``. That is the whole contract, in the spirit of
datatrove's ``filter(doc) -> bool | (bool, reason)`` and NeMo Curator's ``score_document`` / ``keep_document``: the
verdict is a pure function of the document's signals (and its language's thresholds), so a user can
re-judge an output row without recomputing anything.

:func:`run_steps` runs steps in order over a batch of documents: each sees only the documents no earlier step
rejected; an exception on one document rejects that document (reason ``step_error``), never its batch.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from pipeline.multilingual.text_tokens import words

STEP_ERROR = "step_error"


class Rejection(NamedTuple):
    """Why a record was dropped: a short snake_case ``reason`` (aggregated in the statistics) and a free-form
    ``detail`` (the matched domain or word, an HTTP status, an error message, the id of the kept duplicate)."""

    reason: str
    detail: str | None = None


@dataclass(eq=False)
class Document:
    """One document as steps see it: the columns of the output schema (``pipeline/spark/schema.py`` documents
    each), plus what travels between phases (``artifacts``: a MinHash signature, line hashes, token bins) and what a
    global phase decided about it (``decision``: lines to remove, the kept duplicate)."""

    text: str
    language: str | None = None
    id: str = ""
    url: str | None = None
    url_key: str | None = None
    host: str | None = None
    domain: str | None = None
    fetch_time: datetime | None = None
    source_file: str = ""
    source_offset: int | None = None
    source_record: int = 0
    charset: str | None = None
    html_bytes: int | None = None
    language_score: float | None = None
    language_runner_up: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    signals: dict[str, float] = field(default_factory=dict)
    stage: str | None = None
    reason: str | None = None
    detail: str | None = None
    artifacts: dict[str, Any] = field(default_factory=dict)
    decision: dict[str, Any] = field(default_factory=dict)
    _words: tuple[str, str | None, list[str]] | None = field(default=None, repr=False)

    @property
    def words(self) -> list[str]:
        """``pipeline.multilingual.text_tokens.words(text, language)``, computed once per text and language."""
        if self._words is None or self._words[0] is not self.text or self._words[1] != self.language:
            self._words = (self.text, self.language, words(self.text, self.language))
        return self._words[2]

    def set_text(self, text: str, text_words: list[str] | None = None) -> None:
        """Replace the text; ``text_words``: its words, when the step that made it has them already."""
        self.text = text
        self._words = (text, self.language, text_words) if text_words is not None else None

    @property
    def rejected(self) -> bool:
        return self.stage is not None

    def reject(self, stage: str, rejection: Rejection) -> None:
        self.stage, self.reason, self.detail = stage, rejection.reason, rejection.detail

    @property
    def rejection(self) -> Rejection | None:
        return Rejection(self.reason, self.detail) if self.reason else None

    @classmethod
    def from_row(cls, row: dict) -> Document:
        """A document from a row of the output schema (columns it does not know are ignored)."""
        values = {name: row[name] for name in _ROW_FIELDS if name in row}
        values["text"] = values.get("text") or ""
        values["scores"] = dict(values.get("scores") or {})
        values["signals"] = dict(values.get("signals") or {})
        return cls(**values)

    def to_row(self) -> dict:
        """The output-schema columns of this document (artifacts and decision are not part of it)."""
        return {name: getattr(self, name) for name in _ROW_FIELDS}


_ROW_FIELDS = tuple(f.name for f in dataclasses.fields(Document) if f.name not in ("artifacts", "decision", "_words"))


class Step:
    """A per-document step: signals, then a verdict (see the module docstring)."""

    stage: str = ""

    def signals(self, doc: Document) -> dict[str, float]:
        return {}

    def signals_batch(self, docs: Sequence[Document]) -> list[dict[str, float]]:
        """Signals of many documents at once; override for models that batch."""
        return [self.signals(doc) for doc in docs]

    def verdict(self, doc: Document) -> Rejection | None:
        """Why ``doc`` (with this step's signals already in ``doc.signals``) is dropped, or None to keep it."""
        return None

    def apply(self, text: str, language: str | None = None, **fields) -> Document:
        """This step alone on one text (``fields``: other document fields, such as ``scores``): the document after
        it, with its text, ``signals`` and ``rejection``."""
        return run_steps([Document(text, language, **fields)], [self])[0]

    def outcomes(self, docs: Sequence[Document]) -> list[tuple]:
        """Per document: its new text (None: unchanged) and its signals (optionally also the new text's words),
        computed without changing the text, so a batch that fails can be retried one document at a time. (A step
        may fill other fields it owns, such as the language or a score: setting them twice does no harm.)"""
        return [(None, signals) for signals in self.signals_batch(docs)]


class TextStep(Step):
    """A step that changes the text: ``rewrite(doc)`` returns the new text and the signals about the change."""

    # Signal recording the UTF-8 bytes this step removed from a document it kept (negative: added), for the
    # per-stage byte accounting.
    trimmed_signal: str = ""

    def rewrite(self, doc: Document) -> tuple:
        """(new text, signals) or (new text, signals, the new text's words); must not change ``doc``."""
        raise NotImplementedError

    def signals(self, doc: Document) -> dict[str, float]:
        return self.rewrite(doc)[1]

    def outcomes(self, docs: Sequence[Document]) -> list[tuple]:
        return [self.rewrite(doc) for doc in docs]


class DecisionVerdict(Step):
    """The verdict a global phase reached for a document (a PII-heavy site, a near duplicate of a kept document),
    applied in the pass that follows it: ``doc.decision["verdicts"]`` maps a stage to the ``reason`` and
    ``detail`` of its verdict. Subclasses name their stage."""

    def __init__(self, config: Any = None):
        self.config = config

    def verdict(self, doc: Document) -> Rejection | None:
        decided = doc.decision.get("verdicts", {}).get(self.stage)
        return Rejection(decided["reason"], decided.get("detail")) if decided else None


def _settle(step: Step, doc: Document, outcome: tuple) -> None:
    text, signals, *text_words = outcome
    trimmed_signal = getattr(step, "trimmed_signal", "")
    if text is not None and trimmed_signal:
        signals[trimmed_signal] = float(len(doc.text.encode("utf-8")) - len(text.encode("utf-8")))
    if text is not None and text is not doc.text:
        doc.set_text(text, *text_words)
    doc.signals.update(signals)
    rejection = step.verdict(doc)
    if rejection:
        doc.reject(step.stage, rejection)


def _error(step: Step, exc: Exception) -> Rejection:
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return Rejection(STEP_ERROR, f"{type(step).__name__}: {type(exc).__name__}: {exc} "
                                 f"({where.filename}:{where.lineno})"[:500])


def _run_one(step: Step, docs: Sequence[Document], outcomes: Sequence[tuple]) -> None:
    for doc, outcome in zip(docs, outcomes, strict=True):
        try:
            _settle(step, doc, outcome)
        except Exception as exc:  # noqa: BLE001 - one document's problem, recorded on it
            doc.reject(step.stage, _error(step, exc))


def run_steps(docs: Iterable[Document], steps: Sequence[Step]) -> list[Document]:
    """Run ``steps`` in order over ``docs`` (documents already rejected pass through untouched). A step whose
    batch computation fails is retried document by document, so an exception costs only the document that raised
    it; that document is rejected by the step's stage with reason ``step_error`` and the exception as detail."""
    docs = list(docs)
    for step in steps:
        pending = [doc for doc in docs if not doc.rejected]
        if not pending:
            break
        try:
            outcomes = step.outcomes(pending)
        except Exception:  # noqa: BLE001 - isolate the failing document below
            for doc in pending:
                try:
                    _run_one(step, [doc], step.outcomes([doc]))
                except Exception as exc:  # noqa: BLE001 - one document's problem, recorded on it
                    doc.reject(step.stage, _error(step, exc))
            continue
        _run_one(step, pending, outcomes)
    return docs
