"""Model-based quality scoring (Llama 3 §3.1.1): which classifiers score which documents, per-language minimum
scores, and the code domain's own heuristic thresholds; the step and the job with a freshly trained model."""

from __future__ import annotations

import dataclasses
import json

import pytest
from conftest import FIXTURES, REPO, output_rows

from classifiers import wikipedia_fasttext
from pipeline.config import CurateConfig
from pipeline.passes import pass_steps
from pipeline.quality.scoring import QualityConfig, QualityScorer, document_domain, named_values
from pipeline.registry import FILTER
from pipeline.steps import Document, run_steps

WIKITEXT_LEADS = FIXTURES / "quality" / "wikitext2_leads.txt"
CC_PAGES = FIXTURES / "quality" / "cc_pages.jsonl"
CODE_PAGE = (FIXTURES / "quality" / "nomicon_hrtb.txt").read_text(encoding="utf-8")


def _wiki() -> list[str]:
    return list(wikipedia_fasttext.read_texts(str(WIKITEXT_LEADS)))


def _cc() -> list[str]:
    return [json.loads(line)["text"] for line in CC_PAGES.read_text(encoding="utf-8").splitlines()]


def test_the_shipped_english_model_scores_english_documents_only():
    records = [Document(_wiki()[0], "en"), Document(_cc()[0], "en"),
               Document("Der Rhein ist ein Strom in Mitteleuropa.", "de")]
    scores = QualityScorer().score(records)
    assert scores[0]["wikipedia_fasttext"] > scores[1]["wikipedia_fasttext"]
    assert scores[2] == {}  # the demo model is English (its .json says so)
    everything = QualityScorer(QualityConfig(wikipedia_languages=("*",))).score(records)
    assert "wikipedia_fasttext" in everything[2]
    assert QualityScorer(QualityConfig(wikipedia_model="none")).score(records) == [{}, {}, {}]


def test_minimum_scores_are_per_classifier_and_per_language():
    config = CurateConfig().updated({"languages": {"en": {"quality": {"min_scores": ["wikipedia_fasttext=0.5"]}}}})
    (quality,) = [step for step in pass_steps(FILTER, config) if step.stage == "quality"]
    low = {"wikipedia_fasttext": 0.2}
    assert quality.verdict(Document("", "en", scores=low)).reason == "low_quality_score"
    assert quality.verdict(Document("", "de", scores=low)) is None  # no minimum for German
    assert quality.verdict(Document("", "en")) is None  # not scored: not judged
    assert named_values(("a=0.5", " b = 2 "), float) == {"a": 0.5, "b": 2.0}
    with pytest.raises(ValueError):
        named_values(("a",))


def test_a_code_page_is_judged_with_the_code_thresholds():
    heuristics = [step for step in pass_steps(FILTER, CurateConfig()) if step.stage == "heuristics"]
    (general,) = run_steps([Document(CODE_PAGE, "en")], heuristics)
    assert general.reason == "dup_line_fraction"  # repeated listings look like spam
    assert general.signals["repeated_content_removed_lines"] >= 3 and general.text != CODE_PAGE  # and lose lines
    assert document_domain({"code": 0.9}, 0.5) == "code" and document_domain({"code": 0.2}, 0.5) is None
    (code,) = run_steps([Document(CODE_PAGE, "en", scores={"code": 0.9})], heuristics)
    assert code.reason is None and code.text == CODE_PAGE  # listings intact: no line removed
    assert code.signals["repeated_content_removed_lines"] == 0 and code.signals["gopher_dup_line_frac"] > 0.3


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A fastText model trained here, in seconds, on 12 WikiText leads against 12 Common Crawl pages."""
    model = tmp_path_factory.mktemp("model") / "tiny.ftz"
    assert wikipedia_fasttext.main([
        "--positive-text", str(WIKITEXT_LEADS), "--crawl-documents", str(CC_PAGES), "--output", str(model),
        "--test-fraction", "0.4", "--bucket", "20000", "--cutoff", "5000", "--min-count", "1", "--epoch", "100"]) == 0
    return model


def test_a_model_trained_here_loads_in_the_step_and_changes_what_is_kept(tiny_model):
    texts = _wiki() + _cc()
    quality = QualityConfig(wikipedia_model=str(tiny_model))
    scored = run_steps([Document(t, "en", id=f"d{i}") for i, t in enumerate(texts)], [QualityScorer(quality)])
    assert all("wikipedia_fasttext" in doc.scores and doc.reason is None for doc in scored)
    strict = QualityScorer(dataclasses.replace(quality, min_scores=("wikipedia_fasttext=0.5",)))
    judged = run_steps([Document(t, "en", id=f"d{i}") for i, t in enumerate(texts)], [strict])
    kept = {doc.id for doc in judged if doc.reason is None}
    wiki = {f"d{i}" for i in range(len(_wiki()))}
    assert len(kept & wiki) >= 10 and len(kept - wiki) <= 2  # mostly the Wikipedia leads stay
    assert {(doc.stage, doc.reason) for doc in judged if doc.reason} == {("quality", "low_quality_score")}


def test_the_curate_job_loads_a_trained_model_and_filters_by_it(spark, tiny_model, tmp_path):
    """The whole job on a sample shard: with a minimum score the trained model decides which English pages stay."""
    from pipeline.config import IoConfig
    from pipeline.spark.curate import run_curation

    io = IoConfig(input=str(REPO / "sample_data" / "shards" / "sample-0001.warc.gz"), output=str(tmp_path))
    quality = QualityConfig(wikipedia_model=str(tiny_model), wikipedia_languages=("en",),
                            min_scores=("wikipedia_fasttext=0.5",))
    stats = run_curation(spark, dataclasses.replace(CurateConfig(), io=io, quality=quality), log=lambda line: None)
    assert stats.balanced
    quality_stats = next(s for s in stats.stages if s.stage == "quality")
    assert quality_stats.docs_in >= 20 and quality_stats.rejected.get("low_quality_score", 0) >= 1
    kept = output_rows(tmp_path / "documents").values()
    assert all(row["scores"]["wikipedia_fasttext"] >= 0.5 for row in kept if row["language"] == "en")
    assert any(row["language"] != "en" and "wikipedia_fasttext" not in row["scores"] for row in kept)
