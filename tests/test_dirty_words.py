"""Dirty-word counting: explicit pages dropped, articles with listed words kept, adult sites found from their
pages' counts, whole words only, unspaced scripts."""

from __future__ import annotations

import gzip

import pytest
from conftest import shared_data
from test_gopher_repetition import sample_page_text

from pipeline.extraction.encoding import decode_html
from pipeline.extraction.html import HtmlExtractor
from pipeline.heuristics.dirty_words import DirtyWords, DirtyWordsConfig, DirtyWordsVerdict, is_adult_site
from pipeline.steps import Document, run_steps


def judged(text: str, language: str | None, config: DirtyWordsConfig = DirtyWordsConfig()) -> Document:
    """The counts (extraction pass), then the page verdict (filter pass)."""
    return run_steps([Document(text, language)], [DirtyWords(config), DirtyWordsVerdict(config)])[0]


ADULT = ("Hot xxx porn videos! Watch free hardcore porn and horny milf sex cams, nude pussy pics and anal "
         "threesome clips. Best porn site with blowjob and cumshot galleries, updated daily. ") * 3
MEDICAL = ("The patient, a 54-year-old man, presented with pain during urination and blood in the urine. "
           "Examination of the penis and scrotum was unremarkable. An ultrasound of the kidneys and bladder "
           "showed a 6 mm stone in the left ureter, which passed spontaneously after two days of fluids and "
           "analgesia. He was advised to drink more water and to return if the symptoms came back.")
NONE_FOUND = {"dirty_word_count": 0.0, "dirty_word_distinct": 0.0, "dirty_word_rate": 0.0, "dirty_page": 0.0}
CHINESE_ADULT = "这个网站有很多免费的色情视频和做爱图片，每天更新成人色情内容，还有裸体美女直播。"


def test_adult_page_is_dropped():
    doc = judged(ADULT, "en")
    assert doc.signals["dirty_word_count"] >= 20 and doc.signals["dirty_word_rate"] > 0.2
    assert doc.signals["dirty_page"] == 1.0
    assert (doc.stage, doc.reason) == ("heuristics", "dirty_words") and "porn" in doc.detail


def test_medical_text_with_one_anatomical_word_is_kept():
    doc = judged(MEDICAL, "en")
    assert doc.signals["dirty_word_count"] >= 1 and doc.rejection is None  # C4 would drop it


def test_chinese_words_are_counted():
    signals = DirtyWords().apply(CHINESE_ADULT, "zh").signals
    assert signals["dirty_word_count"] >= 2  # a page that is one token would match nothing
    # the script is found without a language
    assert DirtyWords().apply(CHINESE_ADULT, None).signals["dirty_word_count"] >= 2


def test_whole_words_only():
    dirty = DirtyWords()
    text = "The assessment in Scunthorpe was a classic passage about cocktails, Sussex and Essex shitake."
    assert dirty.apply(text, "en").signals == NONE_FOUND
    assert dirty.apply("what an ASS, a real ass.", "en").signals["dirty_word_count"] == 2


def test_multi_word_entries_count_once():
    assert DirtyWords().apply("He said: blow job, then left.", "en").signals["dirty_word_count"] == 1


def test_thresholds_and_switches(tmp_path):
    (tmp_path / "en.txt").write_text("zorg\nblorp fizz\nquux\n", encoding="utf-8")
    config = DirtyWordsConfig(lists_dir=str(tmp_path), min_count=2, max_rate=0.1, page_min_count=3,
                              page_min_distinct=3, page_min_rate=0.5)
    dirty = DirtyWords(config)
    assert dirty.apply("zorg " + "word " * 20, "en").signals["dirty_page"] == 0.0  # below min_count
    assert dirty.apply("zorg blorp fizz " + "word " * 30, "en").signals["dirty_page"] == 0.0  # rate 2/33
    assert dirty.apply("zorg blorp fizz word", "de").signals["dirty_page"] == 1.0  # no de.txt: English only
    assert judged("zorg blorp fizz word", "de", config).rejection is None  # evidence, not explicit alone
    assert judged("zorg blorp fizz quux", "en", config).reason == "dirty_words"  # 3 different, 3 of 4 words
    disabled = DirtyWordsConfig(lists_dir=str(tmp_path), enabled=False)
    assert not is_adult_site(10, 10, disabled)
    assert dirty.apply("", "en").signals == NONE_FOUND


def test_adult_sites_are_sites_where_dirty_pages_are_common():
    assert is_adult_site(pages=5, dirty_pages=3)
    assert is_adult_site(pages=10, dirty_pages=3)  # 30%
    assert not is_adult_site(pages=11, dirty_pages=3)  # a news site with some crime reports
    assert not is_adult_site(pages=2, dirty_pages=2)  # too few to be a pattern
    assert not is_adult_site(pages=1000, dirty_pages=40)


def test_the_sample_adult_story_goes_alone():
    text = sample_page_text("http://0513mt.com/index.php/art/detail/id/8884.html")
    doc = judged(text, "zh")
    assert doc.reason == "dirty_words" and doc.signals["dirty_word_distinct"] >= 7


# Real articles of the extraction benchmark that name sex, crimes or anatomy, and are not adult pages.
ARTICLES = {"bostonherald.com-Brothel-catering.html.gz": "en", "missy-magazine.de-interabled.html.gz": "de",
            "nymag.com.polarization.html.gz": "en", "threatpost.com.android.html.gz": "en",
            "thisisjanewayne.com.bauch.html.gz": "de", "blog.gaijinpot.com.chikan.html.gz": "ja"}


@pytest.mark.parametrize("name", sorted(ARTICLES))
def test_news_and_magazine_articles_stay(name):
    html = gzip.decompress(shared_data("extraction_trafilatura_eval", "html", name).read_bytes())
    text = HtmlExtractor().extract(decode_html(html, None)[0]).text
    doc = judged(text, ARTICLES[name])
    assert doc.signals["dirty_word_count"] >= 3 and doc.rejection is None
