"""Word tokenisation per script: unspaced scripts give several words, spaced ones their words, script detection."""

from __future__ import annotations

import pytest

from pipeline.multilingual.text_tokens import dominant_script, is_unspaced, ngrams, words

CHINESE = "我们在北京大学学习自然语言处理，这是一个很好的例子。"
JAPANESE = "私は東京大学で自然言語処理を勉強しています。"
THAI = "ผมกำลังเรียนภาษาไทยที่มหาวิทยาลัยในกรุงเทพ"


@pytest.mark.parametrize("text, language, expected", [
    (CHINESE, "zh", ["北京大学", "学习", "处理", "例子"]),
    (JAPANESE, "ja", ["東京", "大学", "勉強", "ます"]),
    (THAI, "th", ["เรียน", "ภาษาไทย", "มหาวิทยาลัย"]),
])
def test_unspaced_scripts_give_several_words(text, language, expected):
    tokens = words(text, language)
    assert len(tokens) >= 6  # one token per page/line would fail here
    assert all(len(token) < len(text) // 2 for token in tokens)
    assert set(expected) <= set(tokens)
    assert "".join(tokens) in text.replace("，", "").replace("。", "")  # only punctuation dropped


def test_lao_khmer_myanmar_are_cut_into_clusters():
    for text in ["ພາສາລາວເປັນພາສາ", "ភាសាខ្មែរជាភាសា", "မြန်မာဘာသာစကား"]:
        tokens = words(text, None)
        assert len(tokens) >= 4 and "".join(tokens) == text


@pytest.mark.parametrize("text, expected", [
    ("Hello, world! It's 2024.", ["Hello", "world", "It", "s", "2024"]),
    ("L'homme est-il là ?", ["L", "homme", "est", "il", "là"]),
    ("Привет, мир", ["Привет", "мир"]),
    ("मैं हिन्दी बोलता हूँ", ["मैं", "हिन्दी", "बोलता", "हूँ"]),  # vowel signs and virama stay in the word
    ("안녕하세요 세계", ["안녕하세요", "세계"]),
    ("naïve café über_cool", ["naïve", "café", "über", "cool"]),
])
def test_spaced_languages(text, expected):
    assert words(text, "xx") == expected
    assert words(text) == expected


def test_mixed_text_keeps_latin_words_whole():
    assert words("我爱Python编程", "zh") == ["我", "爱", "Python", "编程"]


def test_script_detection_without_a_language():
    assert dominant_script(CHINESE) == "zh"
    assert dominant_script(JAPANESE) == "ja"
    assert dominant_script(THAI) == "thai"
    assert dominant_script("Ein ganz normaler Satz.") == "spaced"
    assert dominant_script("12 34 !!") == ""
    # without a language, kana picks MeCab, which splits 東京大学 and keeps ます; jieba would not
    assert words(JAPANESE, None) == words(JAPANESE, "ja") == words(JAPANESE, "unknown")
    assert words(CHINESE, None) == words(CHINESE, "zh")


def test_empty_and_punctuation_only():
    assert words("", None) == []
    assert words("  \n ... !!! ", "en") == []
    assert words("。、！", "zh") == []


def test_is_unspaced_and_ngrams():
    assert is_unspaced("北京") and is_unspaced("ภาษา") and not is_unspaced("word") and not is_unspaced("")
    assert ngrams(["a", "b", "c"], 2) == [("a", "b"), ("b", "c")]
    assert ngrams(["a"], 2) == []
