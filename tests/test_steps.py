"""The step contract: signals then a verdict, text steps, decisions of a global phase, per-language thresholds,
and a failing document costing only itself."""

from __future__ import annotations

from pipeline.config import CurateConfig
from pipeline.heuristics.gopher_repetition import GopherRepetition
from pipeline.passes import PerLanguage
from pipeline.registry import FILTER, STEPS
from pipeline.steps import STEP_ERROR, DecisionVerdict, Document, Rejection, Step, TextStep, run_steps


class Shouting(Step):
    stage = "heuristics"

    def signals(self, doc):
        letters = [c for c in doc.text if c.isalpha()]
        if "boom" in doc.text:
            raise ValueError("a pathological document")
        return {"upper": sum(c.isupper() for c in letters) / len(letters) if letters else 0.0}

    def verdict(self, doc):
        return Rejection("shouting", f"{doc.signals['upper']:.0%}") if doc.signals["upper"] > 0.5 else None


class DropSecondLine(TextStep):
    stage = "line_dedup"
    trimmed_signal = "dropped_bytes"

    def rewrite(self, doc):
        lines = doc.text.split("\n")
        return "\n".join(lines[:1] + lines[2:]), {"lines_dropped": float(len(lines) > 1)}


def test_signals_then_verdict_and_later_steps_see_only_kept_documents():
    docs = [Document("quiet words here", id="a"), Document("LOUD WORDS HERE", id="b"), Document("one\ntwo\nthree",
                                                                                             id="c")]
    run_steps(docs, [Shouting(), DropSecondLine()])
    a, b, c = docs
    assert (b.stage, b.reason, b.detail) == ("heuristics", "shouting", "100%") and b.text == "LOUD WORDS HERE"
    assert "lines_dropped" not in b.signals  # dropped before the second step
    assert c.text == "one\nthree" and c.signals["dropped_bytes"] == 4.0 and c.signals["lines_dropped"] == 1.0
    assert a.rejection is None and a.signals["upper"] == 0.0 and a.signals["dropped_bytes"] == 0.0


def test_an_exception_costs_only_the_document_that_raised_it():
    docs = [Document(f"document {i}", id=str(i)) for i in range(5)]
    docs[2] = Document("this one goes boom", id="2")
    run_steps(docs, [Shouting(), DropSecondLine()])
    assert (docs[2].stage, docs[2].reason) == ("heuristics", STEP_ERROR)
    assert "ValueError: a pathological document" in docs[2].detail
    assert all(d.rejection is None and "dropped_bytes" in d.signals for i, d in enumerate(docs) if i != 2)


def test_a_decision_of_a_global_phase_is_applied_by_its_stage_only():
    class NearDuplicate(DecisionVerdict):
        stage = "minhash_dedup"

    decided = Document("text", id="x", decision={"verdicts": {"minhash_dedup": {"reason": "minhash_duplicate",
                                                                                 "detail": "y"}}})
    other = Document("text", id="z", decision={"verdicts": {"pii": {"reason": "pii_heavy_domain"}}})
    run_steps([decided, other], [NearDuplicate()])
    assert decided.rejection == Rejection("minhash_duplicate", "y") and other.rejection is None


def test_per_language_thresholds_judge_each_document_with_its_own():
    config = CurateConfig().updated({"languages": {"th": {"repetition": {"max_top_ngram_char_frac": [5.0, 5.0, 5.0]}}}})
    (line,) = [line for line in STEPS if line.pass_name == FILTER and line.step is GopherRepetition]
    step = PerLanguage(line, config)
    text = "buy cheap flights now " * 30
    english, thai = Document(text, "en"), Document(text, "th")
    run_steps([english, thai], [step])
    assert english.reason == "top_ngram_fraction"  # Gopher's 0.20
    assert thai.reason == "dup_ngram_fraction"  # the top n-gram limit raised for th; the repeats still go
    assert english.signals == thai.signals  # the same signals, judged with other thresholds
