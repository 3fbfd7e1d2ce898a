"""Line-level duplicated n-gram coverage: log and error lines removed from real articles and the sample's log-spam
pages but the first of each kind (only repeats count), every article line kept byte for byte, real Wikipedia almost
untouched, Chinese tokenised into words, pages that were mostly repeated content dropped."""

from __future__ import annotations

import json
import random
import re

import pytest
from conftest import FIXTURES, shared_data
from test_gopher_repetition import sample_page_text

from pipeline.heuristics.repeated_line_content import LineCoverage, RepeatedLineContent, RepeatedLineContentConfig
from pipeline.steps import Document, Rejection

ARTICLE = (FIXTURES / "repetition" / "treasure_coast_hurricane.txt").read_text(encoding="utf-8")
# Written for this project: the Yangtze, one line per paragraph.
CHINESE_ARTICLE = [
    "长江是中国最长的河流，全长约六千三百公里，发源于青藏高原，流经十一个省份，最后在上海注入东海。",
    "长江流域气候温和，雨量充沛，是中国重要的农业区，盛产水稻、小麦、棉花和油菜。",
    "三峡大坝位于湖北省宜昌市，是世界上装机容量最大的水力发电站，于二零零六年完工。",
    "沿江的重庆、武汉和南京都是历史悠久的大城市，水运在当地经济中一直发挥着重要作用。",
]
# The log lines of the sample's pages (a real article with a stack trace pasted in), by their start.
SAMPLE_LOG_LINE = re.compile(r"\s*(\d{4}-\d\d-\d\d \d\d:|E0517 |Traceback |File \"/srv|result = handler|KeyError: "
                             r"|at com\.example|java\.lang\.)")


def log_lines(count: int, seed: int) -> list[str]:
    """Console lines of four kinds in turn, differing in their timestamps, ids, addresses, counters and a hex id
    (a word that never repeats)."""
    rng = random.Random(seed)
    kinds = [
        "2024-05-17 {h:02d}:{m:02d}:{s:02d},{ms:03d} WARN  [pool-{a}-thread-{b}] o.a.h.c.HttpClient - Retrying "
        "http://10.0.{a}{b}.{c}:8080/api/v1/items (attempt {k}/5)",
        "E0517 {h:02d}:{m:02d}:{s:02d}.{us:06d}    {pid} reflector.go:138] failed to list *v1.Pod: connection refused",
        "2024-05-17 {h:02d}:{m:02d}:{s:02d},{ms:03d} ERROR [main] com.example.orders.OrderService - Failed to "
        "process order {order} for customer {c}: timeout after {ms} ms",
        "2024-05-17 {h:02d}:{m:02d}:{s:02d},{ms:03d} WARN  [pool-{a}] o.a.h.c.HttpClient - Retrying request {hex:08x} "
        "after connection reset by peer",
    ]
    return [kinds[i % len(kinds)].format(h=rng.randrange(24), m=rng.randrange(60), s=rng.randrange(60),
                                     ms=rng.randrange(1000), us=rng.randrange(10**6), pid=rng.randrange(10**4),
                                     a=rng.randrange(1, 9), b=rng.randrange(1, 40), c=rng.randrange(256),
                                     k=rng.randrange(1, 6), order=rng.randrange(10**6), hex=rng.getrandbits(32))
            for i in range(count)]


def rewritten(step: RepeatedLineContent, text: str, language: str) -> tuple[str, dict[str, float]]:
    """The text the step leaves of ``text``, and its signals."""
    return step.rewrite(Document(text, language))[:2]


def judged(step: RepeatedLineContent, signals: dict[str, float]) -> Rejection | None:
    """The step's verdict on a document with these signals."""
    return step.verdict(Document("", signals=signals))


def signals_of(lines: float, chars: float, total: int) -> dict[str, float]:
    """The signals of ``rewrite`` for ``lines`` lines and ``chars`` characters removed from a text of ``total``."""
    return {"repeated_content_removed_lines": float(lines), "repeated_content_removed_chars": float(chars),
            "repeated_content_removed_fraction": chars / total if total else 0.0}


def test_log_lines_interleaved_in_an_article_are_removed():
    article = ARTICLE.split("\n")
    logs = log_lines(2 * len(article), seed=1)
    mixed = [line for i, paragraph in enumerate(article) for line in (logs[2 * i], paragraph, logs[2 * i + 1])]
    text, signals = rewritten(RepeatedLineContent(), "\n".join(mixed), "en")
    # Every article line kept, in order, byte for byte; of the log lines only the first of each of the four kinds
    # (logs[:4]: nothing of theirs occurred before but timestamps, addresses and kind 0's logger name); the others,
    # repeats of those, gone.
    expected = "\n".join(line for line in mixed if line in article or line in logs[:4])
    assert expected.split("\n")[:6] == [logs[0], article[0], logs[1], logs[2], article[1], logs[3]]
    assert text == expected
    assert signals == signals_of(len(logs) - 4, len("\n".join(mixed)) - len(expected), len("\n".join(mixed)))


def test_a_wikipedia_article_loses_nothing():
    filter_ = RepeatedLineContent()
    assert rewritten(filter_, ARTICLE, "en") == (ARTICLE, signals_of(0, 0, len(ARTICLE)))
    # Its numbers recur ("125 mph (201 km / h)"), so some later lines are partly covered, none nearly all; the lead,
    # where they first occur and which repeats nothing within itself, not at all.
    coverages = [line.coverage for line in filter_.line_coverages(ARTICLE, "en")]
    assert 0.1 < max(coverages) < 0.5
    assert coverages[0] == 0.0


def test_real_wikipedia_articles_lose_almost_nothing():
    path = shared_data("quality_text", "wikitext2", "articles.jsonl")
    texts = [json.loads(line)["text_detok"] for line in path.read_text(encoding="utf-8").splitlines()]
    filter_ = RepeatedLineContent()
    removed = [rewritten(filter_, text, "en")[1] for text in texts]
    lines = sum(text.count("\n") + 1 for text in texts)
    chars = sum(map(len, texts))
    # Measured: 23 of 5,230 lines (0.44%), 0.10% of the characters, in 10 articles: list items that share their
    # pattern after the first, sentences an article repeats. At most 3.8% of an article's characters: none dropped.
    assert len(texts) == 122
    assert sum(s["repeated_content_removed_lines"] for s in removed) < 0.006 * lines
    assert sum(s["repeated_content_removed_chars"] for s in removed) < 0.002 * chars
    assert sum(s["repeated_content_removed_lines"] > 0 for s in removed) <= 12  # of 122 articles
    assert not any(judged(filter_, signals) for signals in removed)


CONSOLE = "https://ci.example.net/job/orders-service/4711/console"


def test_console_page_keeps_only_its_header_the_first_line_of_each_kind_and_short_lines():
    page = sample_page_text(CONSOLE)
    lines = page.split("\n")
    filter_ = RepeatedLineContent()
    text, signals = rewritten(filter_, page, "en")
    kept = text.split("\n")
    # The header, then the first line of each of the eight long kinds (lines 2-4, 9-12 and the first traceback's
    # "File" line 42): all later ones repeat them but for their numbers, coverage 1.0.
    assert kept[:9] == lines[:5] + lines[9:13]
    assert [line for line in kept if line.lstrip().startswith("File ")] == [lines[42]]
    assert signals["repeated_content_removed_lines"] == 110 - 8
    assert signals == signals_of(102, len(page) - len(text), len(page))
    # Left besides: the short lines of the Python tracebacks, exact repeats for line dedup and Gopher's duplicate lines.
    assert {re.sub(r"\d+", "0", line.strip()) for line in kept[9:]} == {
        "Traceback (most recent call last):", 'File "/srv/app/worker.py", line 0, in run', "result = handler(payload)",
        "KeyError: 'user_0'"}
    assert judged(filter_, signals) == Rejection(
        "mostly_repeated_content", f"102 lines, {signals['repeated_content_removed_fraction']:.0%} of the characters")


SPOX = ("https://www.spox.com/de/sport/olympia/2202/Artikel/zwei-corona-faelle-olympische-spiele-peking-eric-frenzel-"
        "terence-weber.html")


@pytest.mark.parametrize(("url", "article_lines"), [
    (SPOX, ["Der dreimalige Olympiasieger Eric Frenzel", "Tag\tDatum\tUhrzeit (MEZ)\tWettkampf",
            "12\tDienstag, 15. Februar\t9 Uhr (Skispringen / 12 Uhr (Langlauf)\tEinzel Großschanze"]),
    ("http://www.mueritzurlauber.de/blockhaus-typ-3/", ["Das Badezimmer ist ausgestattet mit einer Dusche",
                                                       "ab 90 Tagen vor Anreise 30%", "ab 30 Tagen vor Anreise 50%"]),
])
def test_real_pages_lose_their_pasted_log_lines(url, article_lines):
    page = sample_page_text(url)
    filter_ = RepeatedLineContent()
    text, signals = rewritten(filter_, page, "de")
    kinds: set[str] = set()  # the log lines seen, digits as "0": alike lines of the sample differ only in numbers
    for line, verdict in zip(page.split("\n"), filter_.line_coverages(page, "de"), strict=True):
        if not SAMPLE_LOG_LINE.match(line):
            assert not verdict.removed, line  # the article, its table and its calendar stay
            continue
        kind = re.sub(r"\d+", "0", line.strip())
        if kind in kinds:
            # A later log line of its kind: all its n-grams occurred before (a line under 5 words has none).
            assert verdict.coverage == (1.0 if verdict.words >= 5 else 0.0), line
            assert verdict.removed == (verdict.words >= 8), line  # long ones all go
        else:
            assert verdict.coverage < 0.5 and not verdict.removed, line  # the first of its kind stays
        kinds.add(kind)
    kept = text.split("\n")
    assert all(any(line.startswith(start) for line in kept) for start in article_lines)
    assert judged(filter_, signals) is None  # an article with log lines in it, not a log page


def test_chinese_log_lines_are_words_not_one_token():
    logs = [f"2024-05-17 0{i}:1{i}:2{i} 错误 [订单服务-{i}] 处理订单 6194{i}7 "
            f"失败：数据库连接超时，正在进行第 {i} 次重试" for i in range(4)]
    repeated = "错误：无法连接到数据库服务器，请稍后再试"  # no digit or Latin: 9 jieba words
    mixed = [CHINESE_ARTICLE[0], logs[0], logs[1], CHINESE_ARTICLE[1], repeated, CHINESE_ARTICLE[2], logs[2],
             repeated, logs[3], CHINESE_ARTICLE[3], repeated]
    filter_ = RepeatedLineContent()
    coverages = filter_.line_coverages("\n".join(mixed), "zh")
    # Removed: the log lines after logs[0] and the repeats of the error message after its first.
    assert [c.removed for c in coverages] == [False, False, True, False, False, False, True, True, True, False, True]
    assert all(c.words >= 9 for c in coverages)  # each line is words, not one run of Han characters
    text, signals = rewritten(filter_, "\n".join(mixed), "zh")
    assert text == "\n".join(CHINESE_ARTICLE[:1] + [logs[0]] + CHINESE_ARTICLE[1:2] + [repeated] + CHINESE_ARTICLE[2:])
    assert signals["repeated_content_removed_lines"] == 5


def test_coverage_definition():
    text = ("Alpha beta gamma delta epsilon zeta\n"  # the 5-gram "alpha ... epsilon" occurs twice
            "alpha beta gamma delta epsilon eta\n"
            "port 8080 refused at 10:31 by host 7\n"  # the same once digits are 0
            "\n"
            "port 9090 refused at 11:45 by host 12\n"
            "nothing here repeats at all, none")
    config = RepeatedLineContentConfig(min_words=6)
    assert RepeatedLineContent(config).line_coverages(text, "en") == [
        LineCoverage(6, 0.0, False),  # the first occurrence is the original, not a repeat
        LineCoverage(6, 26 / 29, True),  # the repeat: alpha..epsilon = 5+4+5+5+7 = 26 of 29 characters
        LineCoverage(9, 0.0, False),  # "10:31" is two words
        LineCoverage(0, 0.0, False),
        LineCoverage(9, 1.0, True),
        LineCoverage(6, 0.0, False),
    ]
    assert rewritten(RepeatedLineContent(RepeatedLineContentConfig(min_words=7)), text, "en")[0] == (
        "Alpha beta gamma delta epsilon zeta\nalpha beta gamma delta epsilon eta\nport 8080 refused at 10:31 by host 7"
        "\n\nnothing here repeats at all, none")
    # min_coverage is a least value: 26/29 = 0.897 goes at 0.89 and at 26/29 itself, stays at 0.9.
    for min_coverage, second_removed in [(0.89, True), (26 / 29, True), (0.9, False)]:
        strict = RepeatedLineContent(RepeatedLineContentConfig(min_words=6, min_coverage=min_coverage))
        assert [c.removed for c in strict.line_coverages(text, "en")][:2] == [False, second_removed]


def test_coverage_counts_repeats_within_a_line():
    # Repeats of n-grams that occurred earlier in the same line count: "buy now buy now buy" (position 0) and
    # "now buy now buy now" (1) recur at 2 and 3, covering words 2 to 7: 18 of 24 characters.
    filter_ = RepeatedLineContent(RepeatedLineContentConfig(min_words=6))
    assert filter_.line_coverages("buy now buy now buy now buy now", "en") == [LineCoverage(8, 18 / 24, False)]
    # One word over and over: every word but the first is in a repeat, 7 of 8; the line goes though it is the first.
    assert filter_.line_coverages("spam " * 8, "en") == [LineCoverage(8, 28 / 32, True)]
    # A paragraph pasted twice on one line: the second copy is covered, the first not: 19 of 38 characters.
    assert filter_.line_coverages("one two three four five " * 2, "en") == [LineCoverage(10, 19 / 38, False)]


def test_other_lines_are_untouched():
    line = "2024-05-17 08:43:32,243 WARN [pool-1-thread-31] o.a.h.c.HttpClient - Retrying http://10.0.57.{}:8080"
    text = (f"  Title with trailing space \r\n{line.format(1)}\r\n\tindented line\r\n{line.format(2)}\r\n"
            f"{line.format(3)}\n")
    kept, signals = rewritten(RepeatedLineContent(), text, "en")
    # The first log line stays with its "\r"; the two repeats of it go, the first with its "\r".
    assert kept == f"  Title with trailing space \r\n{line.format(1)}\r\n\tindented line\r\n"
    assert signals == signals_of(2, len(text) - len(kept), len(text))


def test_switches():
    lines = log_lines(8, seed=2)
    logs = "\n".join(lines)
    disabled = RepeatedLineContent(RepeatedLineContentConfig(enabled=False))
    assert rewritten(disabled, logs, "en") == (logs, signals_of(0, 0, len(logs)))
    assert rewritten(RepeatedLineContent(), logs, "en")[0] == "\n".join(lines[:4])  # the first line of each kind
    assert rewritten(RepeatedLineContent(), "", "en") == ("", signals_of(0, 0, 0))
    with pytest.raises(ValueError):
        RepeatedLineContentConfig(ngram_size=0)


def test_pages_of_mostly_repeated_content_are_dropped():
    filter_ = RepeatedLineContent()
    # A page of nothing but log lines: all but the first of each of the four kinds go, about 90% of the characters.
    logs = "\n".join(lines := log_lines(40, seed=3))
    text, signals = rewritten(filter_, logs, "en")
    assert text == "\n".join(lines[:4])
    fraction = (len(logs) - len(text)) / len(logs)
    assert fraction > 0.85
    assert judged(filter_, signals) == Rejection("mostly_repeated_content",
                                                 f"36 lines, {fraction:.0%} of the characters")
    # One phrase on line after line: the first copy stays, the 19 others (51 characters and a line break each) go.
    phrase = "Best cheap flights to Paris, book now and save big!"
    page = "\n".join([phrase] * 20)
    text, signals = rewritten(filter_, page, "en")
    assert (text, signals) == (phrase, signals_of(19, 19 * 52, 20 * 52 - 1))
    assert judged(filter_, signals) == Rejection("mostly_repeated_content", "19 lines, 95% of the characters")
    # The sample's page of that phrase on one line: all copies but the first are repeats (coverage above 0.9), so
    # the line goes and only the title is left.
    page = sample_page_text("http://cheap-flights.example.com/paris/")
    text, signals = rewritten(filter_, page, "en")
    assert text == "Cheap flights to Paris"
    assert judged(filter_, signals) == Rejection("mostly_repeated_content", "1 lines, 97% of the characters")


def test_articles_with_a_few_log_lines_are_kept():
    filter_ = RepeatedLineContent()
    article = ARTICLE.split("\n")
    logs = log_lines(8, seed=4)
    mixed = "\n".join(article[:4] + logs[:4] + article[4:8] + logs[4:] + article[8:])
    text, signals = rewritten(filter_, mixed, "en")
    assert text == "\n".join(article[:4] + logs[:4] + article[4:])  # the second four, repeats, go
    assert signals["repeated_content_removed_lines"] == 4 and signals["repeated_content_removed_fraction"] < 0.05
    assert judged(filter_, signals) is None


def test_check_threshold_and_switch():
    signals = signals_of(3, 50, 100)  # exactly max_removed_fraction: kept, the limit is an upper bound
    assert judged(RepeatedLineContent(), signals) is None
    signals = signals_of(3, 51, 100)
    rejection = Rejection("mostly_repeated_content", "3 lines, 51% of the characters")
    assert judged(RepeatedLineContent(), signals) == rejection
    assert judged(RepeatedLineContent(RepeatedLineContentConfig(max_removed_fraction=0.6)), signals) is None
    assert judged(RepeatedLineContent(RepeatedLineContentConfig(enabled=False)), signals_of(36, 95, 100)) is None
