"""Dirty-word counting: adult pages dropped, articles with a listed word kept, whole words only, unspaced scripts."""

from __future__ import annotations

from pipeline.filters.dirty_words import DirtyWords, DirtyWordsConfig

ADULT = ("Hot xxx porn videos! Watch free hardcore porn and horny milf sex cams, nude pussy pics and anal "
         "threesome clips. Best porn site with blowjob and cumshot galleries, updated daily. ") * 3
MEDICAL = ("The patient, a 54-year-old man, presented with pain during urination and blood in the urine. "
           "Examination of the penis and scrotum was unremarkable. An ultrasound of the kidneys and bladder "
           "showed a 6 mm stone in the left ureter, which passed spontaneously after two days of fluids and "
           "analgesia. He was advised to drink more water and to return if the symptoms came back.")
CHINESE_ADULT = "这个网站有很多免费的色情视频和做爱图片，每天更新成人色情内容，还有裸体美女直播。"


def test_adult_page_is_dropped():
    dirty = DirtyWords()
    signals = dirty.signals(ADULT, "en")
    assert signals["dirty_word_count"] >= 20 and signals["dirty_word_rate"] > 0.2
    rejection = dirty.filter(ADULT, "en")
    assert rejection is not None and rejection.reason == "dirty_words" and "porn" in rejection.detail


def test_medical_text_with_one_anatomical_word_is_kept():
    dirty = DirtyWords()
    assert dirty.signals(MEDICAL, "en")["dirty_word_count"] >= 1  # C4 would drop it
    assert dirty.filter(MEDICAL, "en") is None


def test_chinese_words_are_counted():
    signals = DirtyWords().signals(CHINESE_ADULT, "zh")
    assert signals["dirty_word_count"] >= 2  # a page that is one token would match nothing
    assert DirtyWords().signals(CHINESE_ADULT, None)["dirty_word_count"] >= 2  # script found without a language


def test_whole_words_only():
    dirty = DirtyWords()
    text = "The assessment in Scunthorpe was a classic passage about cocktails, Sussex and Essex shitake."
    assert dirty.signals(text, "en") == {"dirty_word_count": 0.0, "dirty_word_rate": 0.0}
    assert dirty.signals("what an ASS, a real ass.", "en")["dirty_word_count"] == 2


def test_multi_word_entries_count_once():
    assert DirtyWords().signals("He said: blow job, then left.", "en")["dirty_word_count"] == 1


def test_thresholds_and_switches(tmp_path):
    (tmp_path / "en.txt").write_text("zorg\nblorp fizz\n", encoding="utf-8")
    config = DirtyWordsConfig(lists_dir=str(tmp_path), min_count=2, max_rate=0.1)
    dirty = DirtyWords(config)
    assert dirty.filter("zorg " + "word " * 20, "en") is None  # below min_count
    assert dirty.filter("zorg blorp fizz " + "word " * 30, "en") is None  # rate 2/33 below max_rate
    assert dirty.filter("zorg blorp fizz word", "de") is not None  # no de.txt there: English only
    assert DirtyWords(DirtyWordsConfig(lists_dir=str(tmp_path), enabled=False)).filter("zorg zorg zorg", "en") is None
    assert dirty.signals("", "en") == {"dirty_word_count": 0.0, "dirty_word_rate": 0.0}
