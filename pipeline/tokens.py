"""A tokenizer-free token count for per-language summaries: words in scripts written with spaces, one token per
character in scripts written without them (Chinese, Japanese kana and kanji, Thai, Lao, Khmer, Myanmar), where a
character is closer to a word piece of an LLM tokenizer than a space-separated run is."""

from __future__ import annotations

import re

_UNSPACED = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+")


def approx_token_count(text: str) -> int:
    """Words (runs of letters/digits) plus characters of unspaced scripts."""
    return len(_TOKEN.findall(text))
