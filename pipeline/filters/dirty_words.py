"""Dirty-word counting (Llama 3 (2024) §3.1.1 "Heuristic filtering": '"dirty word" counting to filter out adult
websites that are not covered by domain block lists'; the word-list rule is C4's, Raffel et al. 2020 §2.2).

The lists: for the 25 languages of the original LDNOOBW (the lists C4 used, CC BY 4.0; en, de, fr, es, it, pt, hi,
th, zh, ja, ...), that list; for the other 50 languages LDNOOBW v2 (CC0, its maintained extension), minus a few
common words. v2's lists for C4's languages match ordinary words (es "bien", "cita"; th "สร้าง" build, "วัง"
palace) and dropped 9 of 750 documents of real sentences; with these lists none is (see
``pipeline/resources/badwords/SOURCE.md``). Entries that are not whole words ("a$$", emoji) or shorter than 3
letters (2 in unspaced scripts: v2 has "es", "و", "干") are skipped. A document is checked against the list of its
language and the English list (upstream removes English words from the other lists, and English slang appears on
pages in every language); a document with no known language against English and, when it is mostly Chinese,
Japanese, Thai or Myanmar script, that script's list.

Matching is on whole words from ``pipeline.text_tokens.words``, lower-cased: "ass" is not found in "assessment",
nor "cunt" in "Scunthorpe". A list entry is tokenised the same way and matched as a token sequence, joined with a
space between spaced-script tokens and with nothing between unspaced ones (Chinese, Japanese, Thai): an entry of
the Chinese list then matches wherever the segmenter's word boundaries fall at its start and end, however it was
cut inside. Overlapping entries count once (the longest at each position).

C4 drops a page on any single listed word, which drops medical, news and literature pages (the English list has
"urine", "douche", "fondle", "kink"). Here a document is dropped only when it has at least ``min_count`` dirty
words, at least ``min_distinct`` different ones, *and* more than ``max_rate`` of its words are dirty: an adult page
repeats many of them, an article mentions a few, a cat shop says "Maine Coon" three times.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

import regex

from pipeline.filters.rejection import Rejection
from pipeline.steps import Document, Step
from pipeline.text_tokens import UNKNOWN, dominant_script, is_unspaced, words
from pipeline.textfiles import SHIPPED, read_list

# Characters a list entry may have between its words ("tit-bit", "s.o.b", "don't").
_SEPARATORS = regex.compile(r"[\s'’.\-]+")
# lid.176 language code -> LDNOOBW v2 file name, where they differ (kh.txt is Kannada despite its name).
_LIST_NAMES = {"kn": "kh", "nb": "no", "nn": "no", "tl": "fil", "yi": "yid"}


@dataclass(frozen=True)
class DirtyWordsConfig:
    """Options of DirtyWords, with the reason for each default beside it."""

    # Paper: "dirty word" counting removes adult pages that domain block lists miss.
    enabled: bool = True
    # Dropped above this share of dirty words: 122 real Wikipedia articles reach 0.54%, a spam porn page ~45%.
    max_rate: float = 0.01
    # Fewest dirty words that can drop a document (C4: 1), so one anatomical or slang word never drops an article.
    min_count: int = 3
    # Fewest *different* dirty words that can drop a document: a page saying "Maine Coon" three times or naming a
    # Mr Dick is not an adult page, which uses many of them.
    min_distinct: int = 2
    # Folder of <lang>.txt lists (one lower-case entry a line, same names as LDNOOBW v2); "" = the shipped lists.
    lists_dir: str = ""


class _Lexicon:
    """The entries of some lists as joined token keys, with the prefixes at which a longer entry may still match."""

    def __init__(self, entries: list[tuple[str, str]]):
        self.keys: set[str] = set()
        self.prefixes: set[str] = set()
        for entry, language in entries:
            tokens = [token.lower() for token in words(entry, language)]
            letters = "".join(tokens)
            if letters != _SEPARATORS.sub("", entry.lower()):  # "a$$", "sh!t", emoji: not whole words
                continue
            if len(letters) < (2 if is_unspaced(letters) else 3):  # v2's "s", "es", "و", "干": ambiguous
                continue
            self.prefixes.update(_join(tokens[:end]) for end in range(1, len(tokens)))
            self.keys.add(_join(tokens))

    def matches(self, tokens: list[str]) -> list[str]:
        """The entries found in ``tokens`` (lower-cased), left to right, the longest at each position."""
        found, i, n = [], 0, len(tokens)
        while i < n:
            key, end, j = tokens[i], 0, i
            while True:
                if key in self.keys:
                    end = j + 1
                j += 1
                if j >= n or key not in self.prefixes:
                    break
                key += _glue(tokens[j - 1], tokens[j]) + tokens[j]
            if end:
                found.append(_join(tokens[i:end]))
                i = end
            else:
                i += 1
        return found


def _glue(previous: str, token: str) -> str:
    return "" if is_unspaced(previous[-1]) and is_unspaced(token[0]) else " "


def _join(tokens: list[str]) -> str:
    key = tokens[0]
    for i in range(1, len(tokens)):
        key += _glue(tokens[i - 1], tokens[i]) + tokens[i]
    return key


class DirtyWords(Step):
    """Counts list words per document (stage ``heuristics``): signals ``dirty_word_count`` (list words found),
    ``dirty_word_distinct`` (different ones) and ``dirty_word_rate`` (per word of the text); the verdict rejects
    ``dirty_words`` when all three thresholds are passed. Holds only its config, so it pickles to Spark workers,
    which load the lists themselves on first use."""

    stage = "heuristics"

    def __init__(self, config: DirtyWordsConfig = DirtyWordsConfig()):
        self.config = config

    def found(self, doc: Document) -> list[str]:
        """The list entries found in the document, left to right."""
        tokens = [token.lower() for token in doc.words]
        return _lexicon(self.config.lists_dir, _list_name(doc.language, doc.text)).matches(tokens)

    def signals(self, doc: Document) -> dict[str, float]:
        found, total = self.found(doc), len(doc.words)
        return {"dirty_word_count": float(len(found)), "dirty_word_distinct": float(len(set(found))),
                "dirty_word_rate": len(found) / total if total else 0.0}

    def verdict(self, doc: Document) -> Rejection | None:
        """Rejection("dirty_words", "<count>/<words>: <most frequent words found>") past all thresholds."""
        config, signals = self.config, doc.signals
        count = signals["dirty_word_count"]
        if (config.enabled and count >= max(config.min_count, 1) and signals["dirty_word_rate"] > config.max_rate
                and signals["dirty_word_distinct"] >= config.min_distinct):
            common = ", ".join(word for word, _ in Counter(self.found(doc)).most_common(5))
            return Rejection("dirty_words", f"{int(count)}/{len(doc.words)}: {common}")
        return None


def _list_name(language: str | None, text: str) -> str:
    """The list of ``language``; without one, that of an unspaced script the text is mostly in, else English."""
    if not language or language == UNKNOWN:
        return {"zh": "zh", "ja": "ja", "thai": "th", "myanmar": "my"}.get(dominant_script(text), "en")
    return _LIST_NAMES.get(language, language)


@functools.cache
def _lexicon(lists_dir: str, name: str) -> _Lexicon:
    """English plus the list ``name`` (when there is one), loaded once per process and list."""
    folder = lists_dir or f"{SHIPPED}badwords"
    entries = []
    for list_name in dict.fromkeys(("en", name)):
        try:  # the list name as language: only "ja" (MeCab, not jieba) changes how entries are tokenised
            entries.extend((entry, list_name) for entry in read_list(f"{folder.rstrip('/')}/{list_name}.txt"))
        except FileNotFoundError:
            if list_name == "en":
                raise
    return _Lexicon(entries)
