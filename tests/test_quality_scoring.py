"""Model-based quality scoring (Llama 3 §3.1.1): which classifiers score which documents, per-language minimum
scores, and the code domain's own heuristic thresholds; the Spark stage with a freshly trained model."""

from __future__ import annotations

import dataclasses
import json

import pytest
from conftest import FIXTURES, REPO

from classifiers import wikipedia_fasttext
from pipeline.config import CurateConfig
from pipeline.heuristics import DocumentHeuristics
from pipeline.quality.scoring import QualityConfig, QualityScorer, check_scores, document_domain, named_values
from pipeline.spark.quality_stage import quality_stage
from pipeline.spark.schema import EXTRACTED_SCHEMA

WIKITEXT_LEADS = FIXTURES / "quality" / "wikitext2_leads.txt"
CC_PAGES = FIXTURES / "quality" / "cc_pages.jsonl"
CODE_PAGE = (FIXTURES / "quality" / "nomicon_hrtb.txt").read_text(encoding="utf-8")


def _wiki() -> list[str]:
    return list(wikipedia_fasttext.read_texts(str(WIKITEXT_LEADS)))


def _cc() -> list[str]:
    return [json.loads(line)["text"] for line in CC_PAGES.read_text(encoding="utf-8").splitlines()]


def test_the_shipped_english_model_scores_english_documents_only():
    records = [{"text": _wiki()[0], "language": "en"}, {"text": _cc()[0], "language": "en"},
               {"text": "Der Rhein ist ein Strom in Mitteleuropa.", "language": "de"}]
    scores = QualityScorer().score(records)
    assert scores[0]["wikipedia_fasttext"] > scores[1]["wikipedia_fasttext"]
    assert scores[2] == {}  # the demo model is English (its .json says so)
    everything = QualityScorer(QualityConfig(wikipedia_languages=("*",))).score(records)
    assert "wikipedia_fasttext" in everything[2]
    assert QualityScorer(QualityConfig(wikipedia_model="none")).score(records) == [{}, {}, {}]


def test_minimum_scores_are_per_classifier_and_per_language():
    config = CurateConfig().updated({"languages": {"en": {"quality": {"min_scores": ["wikipedia_fasttext=0.5"]}}}})
    low = {"wikipedia_fasttext": 0.2}
    assert check_scores(low, config.for_language("en").quality).reason == "low_quality_score"
    assert check_scores(low, config.for_language("de").quality) is None  # no minimum for German
    assert check_scores({}, config.for_language("en").quality) is None  # not scored: not judged
    assert named_values(("a=0.5", " b = 2 "), float) == {"a": 0.5, "b": 2.0}
    with pytest.raises(ValueError):
        named_values(("a",))


def test_a_code_page_is_judged_with_the_code_thresholds():
    heuristics = DocumentHeuristics()
    text, signals, verdict = heuristics.judge(CODE_PAGE, "en")
    assert verdict is not None and verdict.reason == "dup_line_fraction"  # repeated listings look like spam
    assert signals["repeated_content_removed_lines"] >= 3 and text != CODE_PAGE  # and lose repeated statements
    assert document_domain({"code": 0.9}, 0.5) == "code" and document_domain({"code": 0.2}, 0.5) is None
    record = {"text": CODE_PAGE, "language": "en", "scores": {"code": 0.9}, "signals": {}}
    kept = heuristics.apply(record)
    assert kept.get("reason") is None and kept["text"] == CODE_PAGE  # listings intact: no line removed
    assert kept["signals"]["repeated_content_removed_lines"] == 0 and kept["signals"]["gopher_dup_line_frac"] > 0.3


def _documents(spark, texts: list[str]):
    rows = [{f.name: None for f in EXTRACTED_SCHEMA.fields} | {"id": f"d{i}", "text": t, "source_file": "f",
                                                                 "source_record": i, "signals": {}, "scores": {},
                                                                 "language": "en"}
            for i, t in enumerate(texts)]
    return spark.createDataFrame(rows, EXTRACTED_SCHEMA).repartition(2)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A fastText model trained here, in seconds, on 12 WikiText leads against 12 Common Crawl pages."""
    model = tmp_path_factory.mktemp("model") / "tiny.ftz"
    assert wikipedia_fasttext.main([
        "--positive-text", str(WIKITEXT_LEADS), "--crawl-documents", str(CC_PAGES), "--output", str(model),
        "--test-fraction", "0.4", "--bucket", "20000", "--cutoff", "5000", "--min-count", "1", "--epoch", "100"]) == 0
    return model


def test_a_model_trained_here_loads_in_the_stage_and_changes_what_is_kept(spark, tiny_model):
    model = tiny_model
    texts = _wiki() + _cc()
    quality = QualityConfig(wikipedia_model=str(model))
    config = dataclasses.replace(CurateConfig(), quality=quality)
    scored = {r["id"]: r.asDict() for r in quality_stage(_documents(spark, texts), config).collect()}
    assert all("wikipedia_fasttext" in r["scores"] and r["reason"] is None for r in scored.values())
    strict = dataclasses.replace(config, quality=dataclasses.replace(quality, min_scores=("wikipedia_fasttext=0.5",)))
    judged = {r["id"]: r.asDict() for r in quality_stage(_documents(spark, texts), strict).collect()}
    kept = [i for i, r in judged.items() if r["reason"] is None]
    wiki = {f"d{i}" for i in range(len(_wiki()))}
    assert len(set(kept) & wiki) >= 10 and len(set(kept) - wiki) <= 2  # mostly the Wikipedia leads stay
    assert {r["reason"] for r in judged.values() if r["reason"]} == {"low_quality_score"}
    assert all(r["stage"] == "quality" for r in judged.values() if r["reason"])


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
    kept = spark.read.parquet(str(tmp_path / "documents")).collect()
    assert all(row["scores"]["wikipedia_fasttext"] >= 0.5 for row in kept if row["language"] == "en")
    assert any(row["language"] != "en" and "wikipedia_fasttext" not in row["scores"] for row in kept)
