"""Banned words in URLs (Llama 3 §3.1.1 safety filtering; the word lists and rule are RefinedWeb's, arXiv:2306.01116
§G.1.2, as implemented by datatrove's URLFilter).

A URL is split into lower-case alphanumeric words. It is rejected when it contains a *banned word* (a whole word:
``sex`` in ``/sex-videos/`` but not in ``/sussex/``), at least ``soft_word_threshold`` distinct *soft-banned words*
(words that are only suspicious together, like ``escort`` and ``babes``), or a *banned subword* anywhere in the URL
with all separators removed (phrases such as ``2girls1cup`` that are unambiguous even inside other words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.resources import SHIPPED, read_list
from pipeline.steps import Rejection

DEFAULT_BANNED_WORDS = f"{SHIPPED}blocklists/banned_words.txt"
DEFAULT_SOFT_BANNED_WORDS = f"{SHIPPED}blocklists/soft_banned_words.txt"
DEFAULT_BANNED_SUBWORDS = f"{SHIPPED}blocklists/banned_subwords.txt"
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _squash(text: str) -> str:
    return _NON_ALNUM.sub("", text.lower())


class BannedUrlWords:
    """``check(url)`` returns None or a Rejection ``banned_url_word`` / ``soft_banned_url_words`` /
    ``banned_url_subword`` with the matched word(s) as detail."""

    def __init__(self, banned_words: Iterable[str] = (), soft_banned_words: Iterable[str] = (),
                 banned_subwords: Iterable[str] = (), soft_word_threshold: int = 2):
        self.banned_words = frozenset(_squash(w) for w in banned_words) - {""}
        self.soft_banned_words = frozenset(_squash(w) for w in soft_banned_words) - {""}
        subwords = sorted({_squash(w) for w in banned_subwords} - {""}, key=lambda w: (-len(w), w))
        # One alternation regex: re's C engine scans the URL once for all ~130 subwords.
        self._subword_re = re.compile("|".join(map(re.escape, subwords))) if subwords else None
        self.soft_word_threshold = soft_word_threshold

    @classmethod
    def from_files(cls, banned_words: str | None = DEFAULT_BANNED_WORDS,
                   soft_banned_words: str | None = DEFAULT_SOFT_BANNED_WORDS,
                   banned_subwords: str | None = DEFAULT_BANNED_SUBWORDS,
                   soft_word_threshold: int = 2) -> BannedUrlWords:
        def load(path):
            return list(read_list(path)) if path else []

        return cls(load(banned_words), load(soft_banned_words), load(banned_subwords), soft_word_threshold)

    def check(self, url: str) -> Rejection | None:
        words = set(_NON_ALNUM.split(url.lower()))
        hard = sorted(words & self.banned_words)
        if hard:
            return Rejection("banned_url_word", hard[0])
        soft = sorted(words & self.soft_banned_words)
        if len(soft) >= self.soft_word_threshold:
            return Rejection("soft_banned_url_words", ",".join(soft))
        if self._subword_re is not None:
            match = self._subword_re.search(_squash(url))
            if match:
                return Rejection("banned_url_subword", match.group(0))
        return None
