"""Gopher repetition signals: exact values on hand-computed inputs, repetitive pages dropped (the sample's
repeated-phrase and CI console pages), real Wikipedia articles kept, word n-grams for Chinese and Thai."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import Counter

import pytest
from conftest import FIXTURES, REPO, shared_data

from pipeline.extraction.encoding import decode_html
from pipeline.extraction.html import HtmlExtractor
from pipeline.heuristics.gopher_repetition import GopherRepetition, GopherRepetitionConfig, repeated_ngrams
from pipeline.multilingual.text_tokens import words
from pipeline.steps import Document, Rejection
from pipeline.warc.reader import read_warc

ARTICLE = (FIXTURES / "repetition" / "treasure_coast_hurricane.txt").read_text(encoding="utf-8")
# Written for this project: the Yangtze in Chinese, Bangkok in Thai.
CHINESE = "长江是中国最长的河流，全长约六千三百公里，流经十一个省份，最后注入东海。"
THAI = ("กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย ตั้งอยู่ริมแม่น้ำเจ้าพระยา มีประชากรมากกว่าสิบล้านคน "
        "เมืองนี้มีวัดเก่าแก่และพระราชวังที่สวยงามหลายแห่ง นักท่องเที่ยวจากทั่วโลกเดินทางมาชมตลาดน้ำและชิมอาหารริมทาง")


@functools.cache
def sample_page_text(url: str) -> str:
    """The extracted text of the response for ``url`` in sample_data's shards (found through the manifest)."""
    with open(REPO / "sample_data" / "manifest.jsonl", encoding="utf-8") as fh:
        entry = next(e for e in map(json.loads, fh) if e["url"] == url and e["warc_type"] == "response")
    path = str(REPO / "sample_data" / "shards" / entry["shard"])
    record = next(r for r in read_warc(path, want_payload=entry["index"].__eq__, decode_http=True)
                  if r.ordinal == entry["index"])
    html, _ = decode_html(record.payload, record.http_charset)
    return HtmlExtractor().extract(html, url).text


def test_repeated_phrase_page_is_rejected():
    text = sample_page_text("http://cheap-flights.example.com/paris/")
    gopher = GopherRepetition()
    doc = gopher.apply(text, "en")
    assert doc.signals["gopher_dup_10gram_char_frac"] > 0.8  # all but the first copy of the phrase
    assert doc.stage == "heuristics" and doc.reason == "top_ngram_fraction"
    assert doc.detail.startswith("gopher_top_2gram_char_frac=")
    assert gopher.apply("Cheap flights to Paris! Book now. " * 200, "en").reason == "top_ngram_fraction"


def test_console_log_page_is_rejected():
    text = sample_page_text("https://ci.example.net/job/orders-service/4711/console")
    rejection = GopherRepetition().apply(text, "en").rejection
    assert rejection == Rejection("dup_ngram_fraction", rejection.detail)
    assert rejection.detail.startswith("gopher_dup_5gram_char_frac=")


def test_wikipedia_article_is_kept():
    doc = GopherRepetition().apply(ARTICLE, "en")
    signals = doc.signals
    assert doc.rejection is None
    assert 0 < signals["gopher_dup_5gram_char_frac"] < 0.05  # "125 mph (201 km / h)" comes back, little else
    assert signals["gopher_dup_line_frac"] == 0.0 and signals["gopher_top_2gram_char_frac"] < 0.05


def test_real_wikipedia_articles_are_kept():
    path = shared_data("quality_text", "wikitext2", "articles.jsonl")
    articles = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    gopher = GopherRepetition()
    rejected = {a["title"]: gopher.apply(a["text_detok"], "en").rejection for a in articles}
    rejected = {title: rejection for title, rejection in rejected.items() if rejection}
    # Measured: 4 of 122. Two short biographies whose lead repeats the body word for word, a taxonomy whose
    # 19 "Family <unk>" lines are WikiText's <unk> replacing the names, and a runs of "<unk> <unk> ..." page.
    assert len(articles) == 122 and len(rejected) <= 4, rejected
    assert Counter(r.reason for r in rejected.values()) <= Counter(dup_ngram_fraction=3, dup_line_fraction=1)


def test_line_and_paragraph_fractions():
    text = "one two\n\nthree\n\n one two\n  \none two\nfour\n"
    signals = GopherRepetition().apply(text, "en").signals
    # Lines (stripped, blank ones ignored): "one two", "three", "one two", "one two", "four": 2 repeats.
    assert signals["gopher_dup_line_frac"] == 2 / 5
    assert signals["gopher_dup_line_char_frac"] == 14 / 30
    # Paragraphs (a whitespace-only line is blank): "one two", "three", "one two", "one two\nfour": 1 repeat.
    assert signals["gopher_dup_para_frac"] == 1 / 4
    assert signals["gopher_dup_para_char_frac"] == 7 / 31


def test_top_ngram_fraction_counts_overlapping_occurrences():
    signals = GopherRepetition().apply("aa b AA b aa c", "en").signals  # lower-cased: aa b aa b aa c, 9 characters
    assert signals["gopher_top_2gram_char_frac"] == 2 * 3 / 9  # "aa b" (or "b aa") twice
    assert signals["gopher_top_3gram_char_frac"] == 2 * 5 / 9  # "aa b aa" at 0 and 2, overlapping: above 1
    assert signals["gopher_top_4gram_char_frac"] == 0.0  # no 4-gram occurs twice
    # A tie on the count goes to the longer n-gram: "xx y" and "y z" occur twice each.
    assert GopherRepetition().apply("xx y z xx y z", "en").signals["gopher_top_2gram_char_frac"] == 2 * 3 / 8


def test_duplicate_ngram_fraction_counts_repeats_once():
    text = "one two three four five six one two three four five seven"
    signals = GopherRepetition().apply(text, "en").signals
    # The 5-gram "one two three four five" repeats at word 6: 3+3+5+4+4 = 19 of 46 characters; no 6-gram repeats.
    assert signals["gopher_dup_5gram_char_frac"] == 19 / 46
    assert signals["gopher_dup_6gram_char_frac"] == 0.0
    signals = GopherRepetition().apply("a b c d e " * 3, "en").signals
    # Every 5-gram from word 5 on is a repeat; the words they cover, 5..14, count once: 10 of 15, not 6 x 5.
    assert signals["gopher_dup_5gram_char_frac"] == 10 / 15
    assert signals["gopher_dup_10gram_char_frac"] == 10 / 15
    assert signals["gopher_top_2gram_char_frac"] == 3 * 2 / 15


def test_repeated_ngrams_positions_and_names():
    levels = list(repeated_ngrams(["a", "b", "a", "b", "c", "a", "b"], 3))
    assert [n for n, _, _ in levels] == [1, 2, 3]
    _, positions, ids = levels[1]  # "a b" at 0, 2, 5; "b a" once, "b c", "c a" once
    assert positions.tolist() == [0, 2, 5] and len(set(ids.tolist())) == 1
    assert levels[2][1].tolist() == []  # "a b a", "b a b", "a b c", "b c a", "c a b": all once


@pytest.mark.parametrize(("text", "language"), [(CHINESE, "zh"), (THAI, "th")])
def test_unspaced_scripts_have_word_ngrams(text, language):
    gopher = GopherRepetition()
    assert gopher.apply(text, language).rejection is None
    page = gopher.apply(text * 10, language)
    assert page.signals["gopher_dup_5gram_char_frac"] > 0.85  # nine copies of ten are repeats
    assert page.rejection is not None
    as_one_word = Document(text * 10, language)
    as_one_word.set_text(as_one_word.text, [as_one_word.text])  # what cutting at whitespace makes of Chinese
    assert all(value == 0.0 for name, value in gopher.signals(as_one_word).items() if "gram" in name)


def test_the_words_a_step_left_are_used():
    text = "alpha beta gamma delta epsilon " * 3
    gopher, doc = GopherRepetition(), Document(text, "en")
    assert doc.words == words(text, "en") and gopher.signals(doc)["gopher_dup_5gram_char_frac"] > 0
    doc.set_text(text, [])  # as if an earlier step had found no words in it
    assert gopher.signals(doc)["gopher_dup_5gram_char_frac"] == 0.0


def test_thresholds_are_configurable():
    paragraph = ARTICLE.split("\n")[0]
    text = paragraph + " " + paragraph  # the second copy repeats the first: half the characters
    rejection = GopherRepetition().apply(text, "en").rejection
    assert rejection == Rejection("dup_ngram_fraction", "gopher_dup_5gram_char_frac=0.500 > 0.15")
    lenient = GopherRepetitionConfig(max_dup_ngram_char_frac=(0.6, 0.6, 0.6, 0.6, 0.6, 0.6))
    assert GopherRepetition(lenient).apply(text, "en").rejection is None
    only_ten = GopherRepetition(dataclasses.replace(lenient, dup_ngram_sizes=(10,), max_dup_ngram_char_frac=(0.1,)))
    assert "gopher_dup_5gram_char_frac" not in only_ten.apply(text, "en").signals
    assert only_ten.apply(text, "en").detail == "gopher_dup_10gram_char_frac=0.500 > 0.1"
    assert GopherRepetition(GopherRepetitionConfig(enabled=False)).apply(text, "en").rejection is None
    # The verdict is a function of the signals: re-judged from them with other thresholds, nothing recomputed.
    at_limit = GopherRepetition().apply("x\ny\nz\nx\nv\nw\nu\nt\ns\nr", "en")  # 1 repeated line of 10
    assert at_limit.signals["gopher_dup_line_frac"] == 0.1
    assert GopherRepetition(GopherRepetitionConfig(max_dup_line_frac=0.1)).verdict(at_limit) is None  # not above
    assert GopherRepetition(GopherRepetitionConfig(max_dup_line_frac=0.09)).verdict(at_limit).reason == (
        "dup_line_fraction")
    with pytest.raises(ValueError):
        GopherRepetitionConfig(top_ngram_sizes=(2, 3))


def test_empty_text():
    signals = GopherRepetition().apply("", "en").signals
    assert set(signals.values()) == {0.0} and len(signals) == 13
    assert GopherRepetition().apply(" \n\n ", None).rejection is None
