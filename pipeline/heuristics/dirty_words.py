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

Matching is on whole words from ``multilingual.text_tokens.words``, lower-cased: "ass" is not found in "assessment",
nor "cunt" in "Scunthorpe". A list entry is tokenised the same way and matched as a token sequence, joined with a
space between spaced-script tokens and with nothing between unspaced ones (Chinese, Japanese, Thai): an entry of
the Chinese list then matches wherever the segmenter's word boundaries fall at its start and end, however it was
cut inside. Overlapping entries count once (the longest at each position).

The paper counts dirty words "to filter out adult websites": a decision about a *site*, not about one story. C4
drops a page on any single listed word, which drops medical, news and literature pages (the English list has
"urine", "douche", "fondle", "kink"; a report on a sex crime names it). So the counts are evidence, judged in two
ways:

1. per site (:func:`is_adult_site`): a page is *dirty* with at least ``min_count`` listed words, ``min_distinct``
   different ones, and more than ``max_rate`` of its words (an adult page repeats many, an article mentions a few,
   a cat shop says "Maine Coon" three times); the job counts dirty pages per host (a Spark aggregation, as for
   PII) and drops every page of a site where they are common (``adult_site``), its galleries of few words too;
2. per page, far stricter (``page_min_*``): a page goes alone (``dirty_words``) only when it uses many different
   listed words, often, so that an explicit page on a general site still goes, a news, medical or legal page
   does not.

The counts are made in the extraction pass (:class:`DirtyWords`), before the site aggregation needs them; the
verdicts come in the filter pass, at the heuristics' place in the paper's order (:class:`AdultSite`,
:class:`DirtyWordsVerdict`).
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

import regex

from pipeline.multilingual.text_tokens import UNKNOWN, dominant_script, is_unspaced, words
from pipeline.resources import SHIPPED, read_list
from pipeline.steps import DecisionVerdict, Document, Rejection, Step

# Characters a list entry may have between its words ("tit-bit", "s.o.b", "don't").
_SEPARATORS = regex.compile(r"[\s'’.\-]+")
# lid.176 language code -> LDNOOBW v2 file name, where they differ (kh.txt is Kannada despite its name).
_LIST_NAMES = {"kn": "kh", "nb": "no", "nn": "no", "tl": "fil", "yi": "yid"}


@dataclass(frozen=True)
class DirtyWordsConfig:
    """Options of dirty-word counting, with the reason for each default beside it."""

    # Paper: "dirty word" counting removes adult websites that domain block lists miss.
    enabled: bool = True
    # A dirty page (evidence against its site) has at least this many listed words (C4: 1), so one anatomical or
    # slang word is never evidence.
    min_count: int = 3
    # ... at least this many *different* ones: a page saying "Maine Coon" three times or naming a Mr Dick is not
    # an adult page, which uses many of them.
    min_distinct: int = 2
    # ... and more than this share of its words: 122 real Wikipedia articles reach 0.54%, a spam porn page ~45%.
    max_rate: float = 0.01
    # An adult site has at least this many dirty pages: one or two stories on a news site are not a pattern.
    site_min_pages: int = 3
    # ... making at least this share of its pages: a big news site with some crime reports stays.
    site_min_share: float = 0.3
    # Count per host name ("www." ignored) rather than per registered domain: one adult blog on a blog host does
    # not condemn the host's other blogs.
    per_host: bool = True
    # A page goes alone only past all three of these: explicit pages use many different listed words, often (the
    # sample's Chinese adult story: 18 words, 9 different, 1.34%), news on sex crimes few (a brothel story: 10, 3
    # different, 1.75%; an article on disability and sex: 15, 6 different, 1.01%).
    page_min_count: int = 10
    page_min_distinct: int = 7
    page_min_rate: float = 0.012
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


def is_adult_site(pages: int, dirty_pages: int, config: DirtyWordsConfig = DirtyWordsConfig()) -> bool:
    """Whether a site with ``pages`` pages, ``dirty_pages`` of them dirty, is an adult site (all its pages go)."""
    return (config.enabled and dirty_pages >= config.site_min_pages
            and dirty_pages >= config.site_min_share * pages)


class DirtyWords(Step):
    """Counts list words per document (extraction pass; stage ``heuristics``): signals ``dirty_word_count`` (list
    words found), ``dirty_word_distinct`` (different ones), ``dirty_word_rate`` (per word of the text) and
    ``dirty_page`` (1 when they make the page evidence against its site). No verdict here: the site's comes from
    the job's per-site counts, the page's from :class:`DirtyWordsVerdict`. Holds only its config, so it pickles
    to Spark workers, which load the lists themselves on first use."""

    stage = "heuristics"

    def __init__(self, config: DirtyWordsConfig = DirtyWordsConfig()):
        self.config = config

    def found(self, doc: Document) -> list[str]:
        """The list entries found in the document, left to right."""
        tokens = [token.lower() for token in doc.words]
        return _lexicon(self.config.lists_dir, _list_name(doc.language, doc.text)).matches(tokens)

    def signals(self, doc: Document) -> dict[str, float]:
        config, found, total = self.config, self.found(doc), len(doc.words)
        count, distinct, rate = len(found), len(set(found)), len(found) / total if total else 0.0
        dirty = count >= max(config.min_count, 1) and distinct >= config.min_distinct and rate > config.max_rate
        return {"dirty_word_count": float(count), "dirty_word_distinct": float(distinct), "dirty_word_rate": rate,
                "dirty_page": float(dirty)}


class DirtyWordsVerdict(DirtyWords):
    """Filter pass (stage ``heuristics``): drops a page alone, from its :class:`DirtyWords` signals, only when it
    passes the strict ``page_min_*`` thresholds: Rejection("dirty_words", "<count>/<words>: <frequent words>")."""

    def signals(self, doc: Document) -> dict[str, float]:
        return {}  # counted in the extraction pass

    def verdict(self, doc: Document) -> Rejection | None:
        config, signals = self.config, doc.signals
        if "dirty_word_count" not in signals:
            return None
        count = signals["dirty_word_count"]
        if (count >= config.page_min_count and signals["dirty_word_distinct"] >= config.page_min_distinct
                and signals["dirty_word_rate"] >= config.page_min_rate):
            common = ", ".join(word for word, _ in Counter(self.found(doc)).most_common(5))
            return Rejection("dirty_words", f"{int(count)} listed words, {int(signals['dirty_word_distinct'])} "
                                            f"different, {signals['dirty_word_rate']:.1%} of words: {common}")
        return None


class AdultSite(DecisionVerdict):
    """Filter pass (stage ``heuristics``): drops every page of a site the job found to be an adult site
    (:func:`is_adult_site` on its per-site counts of dirty pages; ``adult_site``, detail: the site and its
    counts)."""

    stage = "heuristics"


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
