"""Line-level duplicated n-gram coverage: log and error lines removed from real articles and the sample's log-spam
pages, every article line kept byte for byte, real Wikipedia almost untouched, Chinese tokenised into words."""

from __future__ import annotations

import json
import random
import re

import pytest
from conftest import FIXTURES, shared_data
from test_gopher_repetition import sample_page_text

from pipeline.filters.repeated_line_content import LineCoverage, RepeatedLineContent, RepeatedLineContentConfig

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


def test_log_lines_interleaved_in_an_article_are_removed():
    article = ARTICLE.split("\n")
    logs = log_lines(2 * len(article), seed=1)
    mixed = "\n".join(line for i, paragraph in enumerate(article) for line in (logs[2 * i], paragraph, logs[2 * i + 1]))
    text, signals = RepeatedLineContent().apply(mixed, "en")
    assert text == ARTICLE  # every article line kept, in order, byte for byte; every log line gone
    assert signals == {"repeated_content_removed_lines": float(len(logs)),
                       "repeated_content_removed_chars": float(len(mixed) - len(ARTICLE))}


def test_a_wikipedia_article_loses_nothing():
    filter_ = RepeatedLineContent()
    assert filter_.apply(ARTICLE, "en") == (ARTICLE, {"repeated_content_removed_lines": 0.0,
                                                      "repeated_content_removed_chars": 0.0})
    # Its numbers recur ("125 mph (201 km / h)"), so some lines are partly covered, none nearly all.
    coverages = [line.coverage for line in filter_.line_coverages(ARTICLE, "en")]
    assert 0.1 < max(coverages) < 0.5


def test_real_wikipedia_articles_lose_almost_nothing():
    path = shared_data("quality_text", "wikitext2", "articles.jsonl")
    texts = [json.loads(line)["text_detok"] for line in path.read_text(encoding="utf-8").splitlines()]
    filter_ = RepeatedLineContent()
    removed = [filter_.apply(text, "en")[1] for text in texts]
    lines = sum(text.count("\n") + 1 for text in texts)
    chars = sum(map(len, texts))
    # Measured: 40 of 5,230 lines (0.76%), 0.23% of the characters: list items that share their pattern.
    assert sum(s["repeated_content_removed_lines"] for s in removed) < 0.01 * lines
    assert sum(s["repeated_content_removed_chars"] for s in removed) < 0.005 * chars
    assert sum(s["repeated_content_removed_lines"] > 0 for s in removed) <= 15  # of 122 articles


def test_console_page_keeps_only_its_header_and_short_lines():
    page = sample_page_text("https://ci.example.net/job/orders-service/4711/console")
    text, signals = RepeatedLineContent().apply(page, "en")
    kept = text.split("\n")
    assert kept[:2] == ["Console output of build #4711", "Started by timer. Build failed."]
    assert signals["repeated_content_removed_lines"] == 110
    assert signals["repeated_content_removed_chars"] > 0.85 * len(page)
    # Left: the short lines of the Python tracebacks, exact repeats for line dedup and Gopher's duplicate lines.
    assert {re.sub(r"\d+", "0", line.strip()) for line in kept[2:]} == {
        "Traceback (most recent call last):", "result = handler(payload)", "KeyError: 'user_0'"}


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
    text, _ = filter_.apply(page, "de")
    for line, verdict in zip(page.split("\n"), filter_.line_coverages(page, "de"), strict=True):
        if SAMPLE_LOG_LINE.match(line):
            assert verdict.removed or verdict.words < 8, line  # long log lines all go
        else:
            assert not verdict.removed, line  # the article, its table and its calendar stay
    kept = text.split("\n")
    assert all(any(line.startswith(start) for line in kept) for start in article_lines)


def test_chinese_log_lines_are_words_not_one_token():
    logs = [f"2024-05-17 0{i}:1{i}:2{i} 错误 [订单服务-{i}] 处理订单 6194{i}7 "
            f"失败：数据库连接超时，正在进行第 {i} 次重试" for i in range(4)]
    repeated = "错误：无法连接到数据库服务器，请稍后再试"  # no digit or Latin: 9 jieba words
    mixed = [CHINESE_ARTICLE[0], logs[0], logs[1], CHINESE_ARTICLE[1], repeated, CHINESE_ARTICLE[2], logs[2],
             repeated, logs[3], CHINESE_ARTICLE[3], repeated]
    filter_ = RepeatedLineContent()
    coverages = filter_.line_coverages("\n".join(mixed), "zh")
    assert [c.removed for c in coverages] == [line not in CHINESE_ARTICLE for line in mixed]
    assert all(c.words >= 9 for c in coverages)  # each line is words, not one run of Han characters
    text, signals = filter_.apply("\n".join(mixed), "zh")
    assert text == "\n".join(CHINESE_ARTICLE) and signals["repeated_content_removed_lines"] == 7


def test_coverage_definition():
    text = ("Alpha beta gamma delta epsilon zeta\n"  # the 5-gram "alpha ... epsilon" occurs twice
            "alpha beta gamma delta epsilon eta\n"
            "port 8080 refused at 10:31 by host 7\n"  # the same once digits are 0
            "\n"
            "port 9090 refused at 11:45 by host 12\n"
            "nothing here repeats at all, none")
    config = RepeatedLineContentConfig(min_words=6)
    assert RepeatedLineContent(config).line_coverages(text, "en") == [
        LineCoverage(6, 26 / 30, True),  # alpha..epsilon = 5+4+5+5+7 = 26 of 30 characters
        LineCoverage(6, 26 / 29, True),
        LineCoverage(9, 1.0, True),  # "10:31" is two words
        LineCoverage(0, 0.0, False),
        LineCoverage(9, 1.0, True),
        LineCoverage(6, 0.0, False),
    ]
    assert RepeatedLineContent(RepeatedLineContentConfig(min_words=7)).apply(text, "en")[0] == (
        "Alpha beta gamma delta epsilon zeta\nalpha beta gamma delta epsilon eta\n\nnothing here repeats at all, none")
    strict = RepeatedLineContentConfig(min_words=6, min_coverage=0.88)  # 26/30 = 0.867 stays, 26/29 = 0.897 goes
    assert [c.removed for c in RepeatedLineContent(strict).line_coverages(text, "en")][:2] == [False, True]


def test_other_lines_are_untouched():
    line = "2024-05-17 08:43:32,243 WARN [pool-1-thread-31] o.a.h.c.HttpClient - Retrying http://10.0.57.{}:8080"
    text = f"  Title with trailing space \r\n{line.format(1)}\r\n\tindented line\r\n{line.format(2)}\n"
    kept, signals = RepeatedLineContent().apply(text, "en")
    assert kept == "  Title with trailing space \r\n\tindented line\r\n"
    assert signals["repeated_content_removed_chars"] == len(text) - len(kept)


def test_switches():
    logs = "\n".join(log_lines(8, seed=2))
    assert RepeatedLineContent(RepeatedLineContentConfig(enabled=False)).apply(logs, "en") == (
        logs, {"repeated_content_removed_lines": 0.0, "repeated_content_removed_chars": 0.0})
    assert RepeatedLineContent().apply(logs, "en")[0] == ""  # a page of nothing but log lines: the stage decides
    assert RepeatedLineContent().apply("", "en") == ("", {"repeated_content_removed_lines": 0.0,
                                                          "repeated_content_removed_chars": 0.0})
    with pytest.raises(ValueError):
        RepeatedLineContentConfig(ngram_size=0)
