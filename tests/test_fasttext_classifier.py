"""FastTextClassifier and its training job (classifiers/wikipedia_fasttext.py) on real text: WikiText-2 leads
(tokenised Wikipedia) and Common Crawl pages from tests/fixtures/quality, the shipped demo model, and WikiText-2
in ../shared/data when present."""

from __future__ import annotations

import gzip
import json
import pickle
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from conftest import FIXTURES, shared_data

from classifiers import wikipedia_fasttext
from pipeline.multilingual.language_id import _load_model
from pipeline.quality.fasttext_classifier import SHIPPED_MODEL, FastTextClassifier, FastTextClassifierConfig
from pipeline.resources import shipped

WIKITEXT_LEADS = FIXTURES / "quality" / "wikitext2_leads.txt"
CC_PAGES = FIXTURES / "quality" / "cc_pages.jsonl"
# The sample's "repeated_phrase" page (sample_data/manifest.jsonl) as the curate job extracts it.
CHEAP_FLIGHTS = "Cheap flights to Paris\n" + " ".join(["Best cheap flights to Paris, book now and save big!"] * 12)
SEO_SPAM = ("Buy cheap replica watches online! Best replica watches, cheap watches for sale, discount luxury watches, "
            "free shipping. Replica Rolex, replica Omega, cheap watches UK. Click here to buy now and save 70% on "
            "replica watches. Best prices guaranteed, order today!\n") * 5


def wikitext_leads() -> list[str]:
    return wikitext_articles_of(WIKITEXT_LEADS)


def wikitext_articles_of(path: Path) -> list[str]:
    return list(wikipedia_fasttext.read_texts(str(path)))


def cc_pages() -> list[dict]:
    return [json.loads(line) for line in CC_PAGES.read_text(encoding="utf-8").splitlines()]


def test_prepare_makes_one_lower_case_line_of_tokens():
    classifier = FastTextClassifier(FastTextClassifierConfig(max_chars=0))
    assert classifier.prepare("Papa Stour, Shetland:\n\tpopulation 15 (in 2011)!") == \
        "papa stour , shetland : population 00 ( in 0000 ) !"
    assert classifier.prepare(" \n ") == ""


def test_prepare_caps_at_a_token_boundary():
    text = wikitext_leads()[0]
    whole = FastTextClassifier(FastTextClassifierConfig(max_chars=0)).prepare(text)
    capped = FastTextClassifier(FastTextClassifierConfig(max_chars=100)).prepare(text)
    assert 90 < len(capped) <= 100 and whole.startswith(capped + " ")


def test_wikitext_articles_read_like_web_text():
    articles = wikitext_leads()
    assert [article.split("\n")[0] for article in articles[:3]] == [
        "Homarus gammarus", "Frank", "M-82 (Michigan highway)"]
    assert len(articles) == 12 and articles[4].startswith("Meridian, Mississippi\n")
    assert "a length of 60 cm (24 in) and a mass of 6 kilograms (13 lb), and bears" in articles[0]
    for article in articles:
        assert not any(artefact in article for artefact in ("@", "<unk>", " ,", " .", "( ", " )", " 's", "= "))


def test_wikitext_formula_lines_do_not_start_articles():
    articles = wikitext_articles_of(shared_data("quality_text", "wikitext2", "test.txt"))
    # 62 " = ... = " lines, two of them formulas inside "Constant k filter" (" = 1 <unk> and <unk> C = ")
    assert len(articles) == 60
    assert "Constant k filter" in [article.split("\n")[0] for article in articles]
    assert not any(article.startswith("1 ") for article in articles)


def test_shipped_model_scores_a_wikipedia_article_above_spam():
    papa = wikitext_leads()[5]  # in the shipped model's held-out split
    classifier = FastTextClassifier()
    wiki, flights, seo = classifier.score([papa, CHEAP_FLIGHTS, SEO_SPAM])
    assert wiki > 0.9 and flights < 0.1 and seo < 0.1


def test_shipped_model_metadata_matches_the_scorer_defaults():
    metadata = json.loads(shipped("models/wikipedia_fasttext.json").read_text(encoding="utf-8"))
    defaults = FastTextClassifierConfig()
    assert metadata["scorer_config"] == {"positive_label": defaults.positive_label, "max_chars": defaults.max_chars}
    assert len(shipped(SHIPPED_MODEL).read_bytes()) == metadata["model_bytes"] < 2_000_000
    assert metadata["held_out_metrics"]["roc_auc"] > 0.9


def test_score_batches_empty_texts_and_pickles():
    classifier = FastTextClassifier()
    texts = [wikitext_leads()[5], "", " \n", CHEAP_FLIGHTS]
    scores = classifier.score(texts)
    assert scores[1:3] == [0.0, 0.0]
    assert scores == [classifier.score([text])[0] for text in texts]
    assert pickle.loads(pickle.dumps(classifier)).score(texts) == scores
    assert classifier.score([]) == []


def test_unknown_positive_label_is_an_error():
    with pytest.raises(ValueError, match="no label 'hq'"):
        FastTextClassifier(FastTextClassifierConfig(positive_label="hq")).score(["some text"])


def test_training_job_writes_a_model_that_separates_its_classes(tmp_path):
    output = tmp_path / "model.ftz"
    assert wikipedia_fasttext.main([
        "--positive-text", str(WIKITEXT_LEADS), "--crawl-documents", str(CC_PAGES), "--output", str(output),
        "--test-fraction", "0.4", "--bucket", "20000", "--cutoff", "5000", "--min-count", "1", "--epoch", "100"]) == 0
    metadata = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    assert metadata["training_data"]["documents_per_class"] == 12
    assert metadata["labels"] == {"positive": "wiki", "negative": "cc"}
    assert set(metadata["held_out_metrics"]) == {"precision", "recall", "f1", "roc_auc", "threshold"}

    classifier = FastTextClassifier(FastTextClassifierConfig(model_path=str(output)))
    texts = wikitext_leads() + [page["text"] for page in cc_pages()]
    labels = [True] * 12 + [False] * 12
    scores = classifier.score(texts)
    trained = [(score, label) for score, label, text in zip(scores, labels, texts, strict=True)
               if not wikipedia_fasttext.is_held_out(classifier.prepare(text), 0.4)]
    assert min(s for s, label in trained if label) > 0.9 and max(s for s, label in trained if not label) < 0.1
    assert wikipedia_fasttext.roc_auc(scores, labels) > 0.9  # held-out documents included

    # the model saw only what prepare() makes of detokenised WikiText: no capitals, digits other than 0, or
    # WikiText tokens, and punctuation as tokens of its own
    words = set(_load_model(str(output)).get_words())
    assert {",", ".", "(", "0000", "homarus"} <= words
    assert not [w for w in words if w != w.lower() or any(c.isdigit() and c != "0" for c in w) or w in ("unk", "@")]


def test_reference_urls_match_crawl_documents_across_url_variants(tmp_path):
    pages = cc_pages()
    references = tmp_path / "references.txt.gz"
    with gzip.open(references, "wt", encoding="utf-8") as fh:
        fh.write("# external links\n"
                 "https://100kinvesting.com/2016/11/28/first-teleconference-calls-invoice-factoring\n"  # https, no /
                 "http://www.100women.ng/category/celebrating-female-entrepreneurs/?utm_source=wiki&utm_medium=ref\n"
                 "HTTPS://2011.RUBYWORLD-CONF.ORG/en/program/A-9/#abstract\n"
                 "http://9crimes.org/charlesxavier\n"
                 "http://911blogger.com/news/2006-11-02/\n"  # another page of a site in the crawl
                 "https://9pmstudios.com/\n")  # a home page only
    args = wikipedia_fasttext.parse_args(["--reference-urls", str(references), "--crawl-documents", str(CC_PAGES),
                                          "--output", str(tmp_path / "unused.ftz")])
    prepare = FastTextClassifier().prepare
    positives, negatives = wikipedia_fasttext.collect(args, prepare)
    assert sorted(positives) == sorted(prepare(page["text"]) for page in pages[:3] + pages[4:5])
    assert len(negatives) == 4 and not set(negatives) & set(positives)
    assert set(negatives) <= {prepare(page["text"]) for page in pages}


def test_crawl_documents_from_a_partitioned_parquet_dataset(tmp_path):
    pages = cc_pages()
    languages = ["en"] * 6 + ["de"] * 6
    table = pa.table({"id": [str(i) for i in range(12)], "url": [p["url"] for p in pages],
                      "text": [p["text"] for p in pages], "language": languages})
    ds.write_dataset(table, tmp_path / "documents", format="parquet", partitioning=["language"],
                     partitioning_flavor="hive")
    read = sorted(wikipedia_fasttext.read_crawl_documents(str(tmp_path / "documents"), "en"))
    assert read == sorted((p["url"], p["text"]) for p in pages[:6])
    assert len(list(wikipedia_fasttext.read_crawl_documents(str(tmp_path / "documents")))) == 12


def test_roc_auc_counts_ties_half():
    rng = random.Random(7)
    scores = [rng.choice([0.1, 0.2, 0.5, 0.7, 0.9]) for _ in range(60)]
    labels = [rng.random() < score for score in scores]
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    pairs = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    assert wikipedia_fasttext.roc_auc(scores, labels) == pytest.approx(pairs / (len(positives) * len(negatives)))
    assert wikipedia_fasttext.roc_auc([0.3, 0.3], [True, False]) == 0.5


def test_training_rejects_a_held_out_set_without_both_classes(tmp_path, capsys):
    args = ["--positive-text", str(WIKITEXT_LEADS), "--crawl-documents", str(CC_PAGES),
            "--output", str(tmp_path / "m.ftz"), "--max-documents", "1"]
    assert wikipedia_fasttext.main(args) == 2
    assert "too few documents" in capsys.readouterr().err
