"""Dirty-word counting: adult pages dropped, articles with a listed word kept, whole words only, unspaced scripts."""

from __future__ import annotations

from pipeline.filters.dirty_words import DirtyWords, DirtyWordsConfig

ADULT = ("Hot xxx porn videos! Watch free hardcore porn and horny milf sex cams, nude pussy pics and anal "
         "threesome clips. Best porn site with blowjob and cumshot galleries, updated daily. ") * 3
MEDICAL = ("The patient, a 54-year-old man, presented with pain during urination and blood in the urine. "
           "Examination of the penis and scrotum was unremarkable. An ultrasound of the kidneys and bladder "
           "showed a 6 mm stone in the left ureter, which passed spontaneously after two days of fluids and "
           "analgesia. He was advised to drink more water and to return if the symptoms came back.")
NONE_FOUND = {"dirty_word_count": 0.0, "dirty_word_distinct": 0.0, "dirty_word_rate": 0.0}
CHINESE_ADULT = "这个网站有很多免费的色情视频和做爱图片，每天更新成人色情内容，还有裸体美女直播。"


def test_adult_page_is_dropped():
    dirty = DirtyWords()
    doc = dirty.apply(ADULT, "en")
    assert doc.signals["dirty_word_count"] >= 20 and doc.signals["dirty_word_rate"] > 0.2
    rejection = doc.rejection
    assert rejection is not None and rejection.reason == "dirty_words" and "porn" in rejection.detail


def test_medical_text_with_one_anatomical_word_is_kept():
    dirty = DirtyWords()
    assert dirty.apply(MEDICAL, "en").signals["dirty_word_count"] >= 1  # C4 would drop it
    assert dirty.apply(MEDICAL, "en").rejection is None


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
    (tmp_path / "en.txt").write_text("zorg\nblorp fizz\n", encoding="utf-8")
    config = DirtyWordsConfig(lists_dir=str(tmp_path), min_count=2, max_rate=0.1)
    dirty = DirtyWords(config)
    assert dirty.apply("zorg " + "word " * 20, "en").rejection is None  # below min_count
    assert dirty.apply("zorg blorp fizz " + "word " * 30, "en").rejection is None  # rate 2/33 below max_rate
    assert dirty.apply("zorg blorp fizz word", "de").rejection is not None  # no de.txt there: English only
    disabled = DirtyWords(DirtyWordsConfig(lists_dir=str(tmp_path), enabled=False))
    assert disabled.apply("zorg zorg zorg", "en").rejection is None
    assert dirty.apply("", "en").signals == NONE_FOUND
