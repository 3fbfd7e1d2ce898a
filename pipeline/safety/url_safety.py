"""The URL safety step (Llama 3 §3.1.1, "PII and safety filtering"): a domain/URL block list, then banned URL
words. Both look only at the URL, so they run before any page is decompressed or parsed."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.safety.banned_url_words import (
    DEFAULT_BANNED_SUBWORDS,
    DEFAULT_BANNED_WORDS,
    DEFAULT_SOFT_BANNED_WORDS,
    BannedUrlWords,
)
from pipeline.safety.domain_blocklist import DEFAULT_DOMAIN_LISTS, DEFAULT_URL_LISTS, DomainBlocklist
from pipeline.steps import Rejection


@dataclass(frozen=True)
class SafetyConfig:
    # Domain block lists (plain or .gz, one domain per line); default: UT1 adult, shipped with the package.
    blocklist_domains: tuple[str, ...] = DEFAULT_DOMAIN_LISTS
    # Exact-URL block lists (host + path); default: UT1 adult URLs.
    blocklist_urls: tuple[str, ...] = DEFAULT_URL_LISTS
    # RefinedWeb URL word lists ("" disables a list).
    banned_words: str = DEFAULT_BANNED_WORDS
    soft_banned_words: str = DEFAULT_SOFT_BANNED_WORDS
    banned_subwords: str = DEFAULT_BANNED_SUBWORDS
    # RefinedWeb/datatrove: two distinct soft-banned words in one URL reject it.
    soft_word_threshold: int = 2


class UrlSafetyFilter:
    """``check(url, host)`` -> None or the first Rejection of the block list, then the banned words."""

    def __init__(self, blocklist: DomainBlocklist, words: BannedUrlWords):
        self.blocklist = blocklist
        self.words = words

    @classmethod
    def from_config(cls, config: SafetyConfig) -> UrlSafetyFilter:
        return cls(
            DomainBlocklist.from_files(config.blocklist_domains, config.blocklist_urls),
            BannedUrlWords.from_files(config.banned_words, config.soft_banned_words, config.banned_subwords,
                                      config.soft_word_threshold),
        )

    def check(self, url: str, host: str | None = None) -> Rejection | None:
        return self.blocklist.check(url, host) or self.words.check(url)
