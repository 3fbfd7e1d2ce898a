"""PII detection, redaction and the PII-heavy-domain rule on real text: pages of the sample shards (the synthetic
staff directory, the page with one contact e-mail, real press pages, CI logs), WikiText articles, and written cases of
numbers that must not count."""

from __future__ import annotations

import json
import pickle
import re
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import shared_data

from pipeline.extraction.html import HtmlExtractor
from pipeline.multilingual.text_tokens import words
from pipeline.safety.pii import (
    KINDS,
    PiiConfig,
    PiiDetector,
    PiiMatch,
    find_pii,
    is_pii_dense_document,
    is_pii_heavy_domain,
    pii_signals,
    redact,
)
from pipeline.warc.records import extract_documents

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "sample_data" / "manifest.jsonl"
SHARDS = REPO / "sample_data" / "shards"

# Real pages of the sample shards and everything they hold that must be found (press contacts, a bank account).
REAL_PAGES = {
    "https://www.dsv.de/synchronschwimmen/": [
        ("email", "stensen@dsv.de"), ("phone", "0561 940 83-14"), ("iban", "DE54 5205 0353 0002 0650 69")],
    "https://www.baumev.de/News/10365/": [
        ("phone", "+49 (0)40 / 49 07 11 06"), ("email", "jan.koch@baumev.de"),
        ("phone", "+49 (0)40 / 49 07 11 05"), ("email", "antonia.thiele@baumev.de")],
    "https://www.iwrpressedienst.de/energie-themen/pm-7663": [
        ("phone", "+49 (0)40-30030-1000"), ("email", "flosada@nordex-online.com"),
        ("phone", "+49 (0)40-30030\u20131000"), ("email", "fzander@nordex-online.com")],
    "https://www.bsi.bund.de/DE/Service-Navi/Presse/": [("phone", "0228-999582-5777"), ("email", "presse@bsi.bund.de")],
    # build logs full of private 10.0.x.x addresses, which identify no one
    "https://ci.example.net/job/orders-service/": [],
}


@pytest.fixture(scope="module")
def pages() -> dict[str, list[str]]:
    """Extracted text of the manifest's pii_heavy and pii_single pages and of REAL_PAGES (key: case or URL prefix),
    read from the shards and extracted as the curate job does."""
    wanted, key_of = defaultdict(list), {}
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["warc_type"] != "response":
            continue
        key = entry["case"] if entry["case"] in ("pii_heavy", "pii_single") else next(
            (prefix for prefix in REAL_PAGES if entry["url"].startswith(prefix)), None)
        if key:
            key_of[entry["record_id"]] = key
            wanted[entry["shard"]].append({"id": entry["record_id"], "url": entry["url"],
                                           "source_record": entry["index"]})
    texts = defaultdict(list)
    extractor = HtmlExtractor()
    for shard, rows in wanted.items():
        for doc in extract_documents(str(SHARDS / shard), sorted(rows, key=lambda r: r["source_record"]), extractor):
            texts[key_of[doc["id"]]].append(doc["text"])
    return texts


def kinds_and_texts(text: str, config: PiiConfig = PiiConfig()) -> list[tuple[str, str]]:
    return [(m.kind, m.text) for m in find_pii(text, config)]


def test_staff_directory_pages_every_email_and_phone_found(pages):
    staff = pages["pii_heavy"]
    assert len(staff) == 6
    for text in staff:
        matches = find_pii(text)
        rows = [line for line in text.splitlines() if " e-mail " in line]
        assert len(rows) >= 20
        found = {m.text for m in matches}
        for row in rows:
            email, phone, mobile, ip = re.search(
                r"e-mail (\S+), phone (.+), mobile (.+), last login from (\S+)", row).groups()
            assert {email, phone, mobile} <= found, row
            # documentation ranges stand in for public addresses; 10.x is private, so not personal
            assert (ip in found) == (not ip.startswith("10.")), row
        # the footer: "Questions about this list: sales-admin@example.com or hr@example.org, fax +1 415-555-0199."
        footer = re.search(r"list: (\S+) or (\S+), fax (.+)\.", text).groups()
        assert set(footer) <= found
        assert [m.start for m in matches] == sorted(m.start for m in matches)
        assert all(a.end <= b.start for a, b in zip(matches, matches[1:], strict=False))
        signals = pii_signals(matches, len(words(text, "en")))
        assert signals["pii_email"] == len(rows) + 2 and signals["pii_phone"] == 2 * len(rows) + 1
        assert signals["pii_per_1k_words"] > 100
        assert is_pii_dense_document(signals)


def test_single_contact_email_page(pages):
    (text,) = pages["pii_single"]
    assert kinds_and_texts(text) == [("email", "newsroom-tips@example.com")]
    assert not is_pii_dense_document(PiiDetector().apply(text, "de").signals)


@pytest.mark.parametrize("prefix", sorted(REAL_PAGES))
def test_real_pages_find_exactly_their_contacts(pages, prefix):
    assert pages[prefix], prefix
    for text in pages[prefix]:
        assert kinds_and_texts(text) == REAL_PAGES[prefix]
        assert not is_pii_dense_document(PiiDetector().apply(text, None).signals)
    if prefix.startswith("https://ci.example.net"):
        assert all(re.search(r"\b10\.0\.\d+\.\d+", text) for text in pages[prefix])


def test_domain_rule_removes_the_staff_directory_and_keeps_the_rest(pages):
    detector = PiiDetector()
    staff_dense = sum(is_pii_dense_document(detector.apply(text, "en").signals) for text in pages["pii_heavy"])
    assert staff_dense == 6
    assert is_pii_heavy_domain(documents=6, pii_dense_documents=staff_dense)
    single_dense = sum(is_pii_dense_document(detector.apply(text, "de").signals) for text in pages["pii_single"])
    assert single_dense == 0
    assert not is_pii_heavy_domain(documents=1, pii_dense_documents=single_dense)
    # the same six directory pages inside a big site, one such page, or the rule turned off: kept
    assert not is_pii_heavy_domain(documents=1000, pii_dense_documents=staff_dense)
    assert not is_pii_heavy_domain(documents=1, pii_dense_documents=1)
    assert not is_pii_heavy_domain(documents=2, pii_dense_documents=2)
    assert is_pii_heavy_domain(documents=30, pii_dense_documents=3)
    assert not is_pii_heavy_domain(documents=6, pii_dense_documents=6, config=PiiConfig(remove_heavy_domains=False))


def test_dense_document_needs_both_count_and_rate():
    def dense(count: int, n_words: int) -> bool:
        return is_pii_dense_document(pii_signals([PiiMatch("email", 0, 1, "x")] * count, n_words))

    assert dense(5, 500)  # 10 per 1k words
    assert not dense(4, 100)  # a contact block: too few
    assert not dense(41, 8600)  # a long page of service hotlines: too sparse
    assert dense(41, 4100)


def test_wikipedia_articles_have_no_pii():
    path = shared_data("quality_text", "wikitext2", "articles.jsonl")
    articles = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(articles) == 122
    for article in articles:
        for text in (article["text_detok"], article["text_tokenized"]):
            assert find_pii(text) == [], article["title"]


def test_common_crawl_documents_have_no_pii():
    folder = shared_data("quality_text", "cc_negative_dolma")
    texts = [json.loads(line)["text"] for path in sorted(folder.glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(texts) == 20
    assert [kinds_and_texts(text) for text in texts if find_pii(text)] == []


NOT_PII = [
    "The war lasted 1990-2000; the other 1914\u20131918 and 1939 - 1945.",
    "Released version 1.2.3.4 and v2.10.0.1; build 10.0.19041.1; Chrome 120.0.6099.109; Version 4.3.22.15; "
    "firmware 2.11.45.3; OID 1.2.840.113549.",
    "See ISBN 978-0-415-12345-6 and ISBN 0-415-12345-6, ISBN-13: 978-3-16-148410-0, ISBN 3-16-148410-X.",
    "Prices: $1,299.00, 1.299,00 \u20ac, 12.500.000 inhabitants, EUR 2 345 678, \u00a3 1 250 000.",
    "Order #123-456-7890 shipped; order number 2024051812345; invoice 4711-0815-2024.",
    "Dates 2024-05-18, 18.05.2024, 5/18/2024, 18/05/2024; phone call on 9/21/2001.",
    "Population 8336817 in 2019; id 1234567890123; 4111111111111112; 4111 1111 1111 1112.",
    "At 10:30:45 the ratio was 1:2:3; std::vector; a::b; MAC 00:1A:2B:3C:4D:5E.",
    "<img src=logo@2x.png> and icon@3x.webp",
    "Router login at 192.168.0.1 or 10.0.0.138, localhost 127.0.0.1 and ::1, link-local fe80::1ff:fe23:4567:890a.",
    "Never issued: 666-12-3456, 000-12-3456, 123-00-4567, 912-34-5678, 123-45-0000.",
    "IBAN DE89 3704 0044 0532 0130 01 has a wrong check digit.",
    "Coordinates 51.5074, -0.1278; the score was 6\u20134, 7\u20136 (7\u20133).",
    "https://www.facebook.com/parcoabruzzo/posts/2395361813834269",
]


@pytest.mark.parametrize("text", NOT_PII)
def test_numbers_that_are_not_pii(text):
    assert find_pii(text) == []


PII = [
    ("Write to jane.doe@example.org, jane.doe (at) uni-example (dot) de or john[at]example[dot]org.",
     [("email", "jane.doe@example.org"), ("email", "jane.doe (at) uni-example (dot) de"),
      ("email", "john[at]example[dot]org")]),
    ("Call +1 650-555-0192 or (212) 555-0177; Tel.: 030 / 2325 786-122; phone 030/1234588.",
     [("phone", "+1 650-555-0192"), ("phone", "(212) 555-0177"), ("phone", "030 / 2325 786-122"),
      ("phone", "030/1234588")]),
    ("Please call 0800 138 1016 or 0800 138 1018 (Textphone).",
     [("phone", "0800 138 1016"), ("phone", "0800 138 1018")]),
    ("Server 93.184.216.34 answered 2001:db8:85a3::8a2e:370:7334.",
     [("ip_address", "93.184.216.34"), ("ip_address", "2001:db8:85a3::8a2e:370:7334")]),
    ("Card 4111 1111 1111 1111, Amex 378282246310005, MC 5555-5555-5555-4444.",
     [("credit_card", "4111 1111 1111 1111"), ("credit_card", "378282246310005"),
      ("credit_card", "5555-5555-5555-4444")]),
    ("IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX, GB82WEST12345698765432.",
     [("iban", "DE89 3704 0044 0532 0130 00"), ("iban", "GB82WEST12345698765432")]),
    ("SSN 123-45-6789.", [("us_ssn", "123-45-6789")]),
    ("Tel. 6533 6002, Mo-Fr 8.30-12.30 and 9.00 - 16.00, Tel 030 1234567 (2019-2020)",
     [("phone", "6533 6002"), ("phone", "030 1234567")]),
]


@pytest.mark.parametrize(("text", "expected"), PII)
def test_pii_found_with_its_exact_span(text, expected):
    assert kinds_and_texts(text) == expected


def test_redaction_replaces_exactly_the_matches(pages):
    text = pages["pii_heavy"][0] + "\n" + pages["pii_single"][0]
    config = PiiConfig(redact=True)
    matches = find_pii(text, config)
    redacted = redact(text, matches, config)
    tokens = {kind: getattr(config, f"{kind}_token") for kind in KINDS}
    # walking the redacted text: every gap between matches is byte-identical, every match is its kind's token
    position = cursor = 0
    for match in matches:
        gap = text[position:match.start]
        assert redacted[cursor:cursor + len(gap)] == gap
        cursor += len(gap)
        assert redacted.startswith(tokens[match.kind], cursor)
        cursor += len(tokens[match.kind])
        position = match.end
    assert redacted[cursor:] == text[position:]
    assert "@example.com" not in redacted and "650-555" not in redacted
    assert "<EMAIL>" in redacted and "<PHONE>" in redacted and "<IP_ADDRESS>" in redacted
    assert redact(text, [], config) == text

    doc = PiiDetector(config).apply(text, "en")
    assert doc.text == redacted and doc.signals["pii_redacted_bytes"] == len(text.encode()) - len(redacted.encode())
    unredacted = PiiDetector().apply(text, "en")
    assert unredacted.text is text and unredacted.signals["pii_redacted_bytes"] == 0
    assert {k: v for k, v in doc.signals.items() if k != "pii_redacted_bytes"} == {
        k: v for k, v in unredacted.signals.items() if k != "pii_redacted_bytes"}


def test_kinds_and_tokens_are_configurable():
    text = "Mail jane.doe@example.org or call +1 650-555-0192 from 93.184.216.34."
    assert kinds_and_texts(text, PiiConfig(kinds=("email",))) == [("email", "jane.doe@example.org")]
    assert find_pii(text, PiiConfig(kinds=())) == []
    config = PiiConfig(kinds=("email", "phone"), email_token="[e-mail]", phone_token="")
    assert redact(text, find_pii(text, config), config) == "Mail [e-mail] or call  from 93.184.216.34."
    with pytest.raises(ValueError, match="unknown PII kinds"):
        find_pii(text, PiiConfig(kinds=("email", "passport")))


def test_overlapping_candidates_keep_one_match():
    # an IBAN's digits also form a Luhn-valid card-shaped run; a phone word before an SSN-shaped number
    assert kinds_and_texts("IBAN: DE89 3704 0044 0532 0130 00") == [("iban", "DE89 3704 0044 0532 0130 00")]
    assert kinds_and_texts("phone or SSN 123-45-6789") == [("us_ssn", "123-45-6789")]


def test_signals_and_detector_pickle():
    detector = pickle.loads(pickle.dumps(PiiDetector(PiiConfig(redact=True))))
    text = "Kontakt: info@example.de, Tel. 030 1234567"
    doc = detector.apply(text, "de")
    signals = doc.signals
    assert set(signals) == {"pii_count", "pii_per_1k_words", "pii_dense", "pii_redacted_bytes",
                            *(f"pii_{kind}" for kind in KINDS)}
    assert signals["pii_count"] == 2 and signals["pii_email"] == 1 and signals["pii_phone"] == 1
    assert signals["pii_per_1k_words"] == pytest.approx(1000 * 2 / len(words(text, "de")))
    assert doc.text == "Kontakt: <EMAIL>, Tel. <PHONE>" and doc.rejection is None  # the verdict is per site
