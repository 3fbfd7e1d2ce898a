"""Word tokenisation for the heuristic document signals of Llama 3 (2024) §3.1.1 "Heuristic filtering" (n-gram
repetition, "dirty word" counting, token-distribution outliers), which count *words*; a script written without
spaces must not become one giant word per line.

The text is cut into runs by script, and each run is tokenised as suits its script:

- Spaced scripts (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Hangul, ...): maximal runs of letters, marks,
  digits and zero-width (non-)joiners, so Indic vowel signs and viramas stay inside their word (stdlib ``re``'s
  ``\\w`` splits them off, hence the ``regex`` package). Apostrophes and hyphens split words ("don't" -> "don",
  "t"; "l'homme" -> "l", "homme"): French/Italian/Catalan elision otherwise glues articles to the word after them.
- Chinese (Han without kana): jieba (``jieba.lcut``, default mode), pure Python, ships its dictionary.
- Japanese (language "ja", or kana in the text): MeCab through fugashi with unidic-lite (a wheel that ships its
  dictionary); it segments kanji and kana together, so each run of Han+kana is passed to it as one piece.
- Thai: PyThaiNLP's ``word_tokenize`` (newmm, dictionary-based maximal matching, dictionary in the wheel, no
  dependencies, no download at run time).
- Lao, Khmer, Myanmar: no segmenter installable offline with bundled data, so one token per grapheme cluster (a
  base character with its combining marks, ``\\X``): a syllable-sized unit, never one word per line.

Tokens keep their case; callers that compare with word lists lower-case them. Punctuation and symbols (emoji
included) are not tokens. The segmenters are loaded lazily, once per process (Spark workers each load their own),
and only when a text has characters of their script.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import regex

UNKNOWN = "unknown"
_UNSPACED_CLASS = r"\p{Han}\p{Hiragana}\p{Katakana}\u30fc\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_UNSPACED = regex.compile(f"[{_UNSPACED_CLASS}]")
_SPACED_WORD = regex.compile(r"[\p{L}\p{M}\p{N}\u200c\u200d]+")
_RUNS = regex.compile(
    f"(?P<cjk>[\\p{{Han}}\\p{{Hiragana}}\\p{{Katakana}}\\u30fc]+)|(?P<thai>\\p{{Thai}}+)"
    f"|(?P<clusters>[\\p{{Lao}}\\p{{Khmer}}\\p{{Myanmar}}]+)"
    f"|(?P<word>[[\\p{{L}}\\p{{M}}\\p{{N}}\\u200c\\u200d]--[{_UNSPACED_CLASS}]]+)",
    regex.VERSION1,
)
_HAN = regex.compile(r"\p{Han}")
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}\u30fc]")
_CLUSTER = regex.compile(r"\X")
_SCRIPTS = {"han": _HAN, "kana": _KANA, "thai": regex.compile(r"\p{Thai}"), "lao": regex.compile(r"\p{Lao}"),
            "khmer": regex.compile(r"\p{Khmer}"), "myanmar": regex.compile(r"\p{Myanmar}"),
            "spaced": regex.compile(f"[[\\p{{L}}\\p{{M}}]--[{_UNSPACED_CLASS}]]", regex.VERSION1)}
# Share of kana among Han+kana characters from which an unlabelled text is Japanese (real Japanese is mostly kana).
_JAPANESE_KANA_SHARE = 0.2


def dominant_script(text: str) -> str:
    """The script most of the letters of ``text`` are in: "zh" (Han), "ja" (Han with kana), "thai", "lao",
    "khmer", "myanmar" or "spaced"; "" for a text without letters."""
    counts = {name: len(pattern.findall(text)) for name, pattern in _SCRIPTS.items()}
    han, kana = counts.pop("han"), counts.pop("kana")
    counts["ja" if kana and kana >= _JAPANESE_KANA_SHARE * (han + kana) else "zh"] = han + kana
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ""


def is_unspaced(token: str) -> bool:
    """Whether ``token`` is in a script written without spaces (so its neighbours are not space-separated)."""
    return bool(token) and _UNSPACED.match(token) is not None


def words(text: str, language: str | None = None) -> list[str]:
    """The words of ``text``; ``language`` (lid.176 code) picks the Han segmenter ("ja" -> MeCab, else jieba);
    None or "unknown" decides it from the share of kana in the text."""
    if _UNSPACED.search(text) is None:
        return _SPACED_WORD.findall(text)
    japanese = language == "ja" or (language in (None, "", UNKNOWN) and dominant_script(text) == "ja")
    tokens: list[str] = []
    for match in _RUNS.finditer(text):
        run, kind = match.group(), match.lastgroup
        if kind == "word":
            tokens.append(run)
        elif kind == "cjk":
            tokens.extend(_japanese(run) if japanese else _chinese(run))
        elif kind == "thai":
            tokens.extend(_thai(run))
        else:
            tokens.extend(_CLUSTER.findall(run))
    return tokens


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """The ``n``-grams of ``tokens`` in order (none when there are fewer than ``n`` tokens)."""
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


@functools.cache
def _jieba():
    """jieba's default tokenizer, its dictionary loaded once per process (about 0.8 s, cached by jieba on disk)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _chinese(run: str) -> list[str]:
    return _jieba().lcut(run)


@functools.cache
def _mecab():
    """One MeCab tagger per process, on unidic-lite's dictionary (fugashi finds it when unidic-lite is installed)."""
    import fugashi

    return fugashi.Tagger()


def _japanese(run: str) -> list[str]:
    return [word.surface for word in _mecab()(run)]


@functools.cache
def _thai_tokenize():
    """PyThaiNLP's word_tokenize; its import and dictionary load (about 0.7 s) happen once per process."""
    from pythainlp.tokenize import word_tokenize

    return word_tokenize


def _thai(run: str) -> list[str]:
    return _thai_tokenize()(run, engine="newmm", keep_whitespace=False)
