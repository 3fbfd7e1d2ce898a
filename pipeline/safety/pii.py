"""PII detection, redaction and the PII-heavy-domain rule (Llama 3 (2024) §3.1.1 "PII and safety filtering": "we
remove domains that contain large amounts of personally identifiable information (PII)"). The paper gives neither
detector nor thresholds; the kinds follow common practice (BigScience ROOTS and StarCoder's PII pipelines: e-mail,
phone, IP addresses; Microsoft Presidio's checksum-validated recognizers: credit cards, IBANs, US SSNs).

Precision comes first: a false detection on ordinary text can cost a whole domain. Each kind needs a shape *and* a
check that prose numbers fail:

- ``email``: ``local@domain.tld`` (ASCII, alphabetic TLD, not an image name such as ``logo@2x.png``), also written
  with bracketed ``(at)``/``[at]`` and ``(dot)``/``[dot]``.
- ``phone``: digit groups joined by single separators (space, ``-``, ``.``, ``/``, en dash, ``(area)``), 7-15
  digits, not a date, opening hours, a year range or a dotted quad, and *valid* by Google's libphonenumber metadata
  (``phonenumbers``: a number in a real numbering range of its country) where one of these holds: it starts with
  ``+``; it has the North-American shape ``(ddd) ddd-dddd`` / ``[1-]ddd-ddd-dddd`` (validated as US); a phone word
  ("tel", "phone", "fax", "mobile", "call", "Telefon", "☎", ...) ends at most 30 characters before it on its line
  with no digit in between, or it continues a list of numbers ("call 0800 111 2222 or 0800 111 3333"); those two
  are validated against ``phone_regions``. Year ranges, ISBNs, versions, prices, order numbers and bare digit runs
  fail. ``phonenumbers.PhoneNumberMatcher`` alone was measured on the same text and not used: without a region it
  only finds ``+`` numbers; with one (leniency VALID) it takes dates, years and page ranges for phones ("07.11.2023",
  "1645", "333 - 337" with DE; "2016-011092" with US) and runs 2-12x slower.
- ``ip_address``: IPv4 as four decimal octets 0-255 without leading zeros, not inside a longer dotted run
  (``1.2.840.113549``); a 4-part version string is not an address when a version word ("version", "v", "build",
  "release", "firmware", ...) stands just before it or when all four parts are single digits ("1.2.3.4"; also the
  resolvers 8.8.8.8, 1.1.1.1, which identify nobody). IPv6 when Python's ``ipaddress`` parses it and it has 3 or
  more groups, one of 4 hex digits (not times, ratios, C++ ``a::b``, MAC addresses). Addresses that identify no one
  are skipped: private, shared-NAT, loopback, link-local, multicast and reserved ranges (router manuals and build logs
  are full of 192.168.0.1 and 10.0.0.x); documentation ranges count, like ``example.com`` e-mails.
- ``credit_card``: 16 or 19 digits in groups of 4 (or contiguous) with an issuer prefix (Visa, Mastercard,
  Discover, JCB, UnionPay), or American Express's 15 (4-6-5), not inside a URL, with a valid Luhn checksum.
- ``iban``: country code, the registry length of that country (printed in groups of 4 or contiguous) and
  ISO 7064 mod-97 = 1.
- ``us_ssn``: strictly ``ddd-dd-dddd`` outside the never-issued ranges (area 000, 666, 900-999; group 00; serial
  0000).

Measured: no detection in the 122 WikiText-2 articles nor in the 20 Common Crawl documents of
``shared/data/quality_text``; on the 988 pages of the trafilatura evaluation set (extracted), 413 e-mails, 84 phone
numbers, 5 IBANs and 2 IP addresses in 51 pages, all real on inspection. ``find_pii`` runs at 6-16 MB/s of text
(350-900 WikiText articles/s, 1,000-2,000 web pages/s on one core), far less than extraction costs.

A document is *PII-dense* when it has at least ``dense_min_matches`` matches and at least
``dense_min_per_1k_words`` per 1,000 words: a staff directory (the sample shards': ~155 per 1k words) or a list of
contacts, not an article with a contact address nor a long page of service hotlines. A domain is *PII-heavy* (and
removed) when at least ``domain_min_dense_documents`` of its documents are PII-dense and they are at least
``domain_min_dense_share`` of its documents: its aggregate is two sums (documents, PII-dense documents), and one or
two team pages never condemn a site.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import NamedTuple

import phonenumbers

from pipeline.steps import DecisionVerdict, Document, TextStep

# Most specific first: where two kinds match the same span, the one listed first is kept.
KINDS = ("email", "credit_card", "iban", "us_ssn", "ip_address", "phone")


@dataclass(frozen=True)
class PiiConfig:
    """Options of PiiDetector and of the PII-heavy-domain rule, with the reason for each default beside it."""

    # Kinds detected (email, credit_card, iban, us_ssn, ip_address, phone); all by default, each is checked
    # by format and checksum/metadata so that ordinary text has ~0 matches; empty = detect nothing.
    kinds: tuple[str, ...] = KINDS
    # Replace every match in the kept text by its kind's token; off by default as the paper only removes domains.
    redact: bool = False
    # Token for e-mail addresses (with redact).
    email_token: str = "<EMAIL>"
    # Token for phone numbers (with redact).
    phone_token: str = "<PHONE>"
    # Token for IPv4 and IPv6 addresses (with redact).
    ip_address_token: str = "<IP_ADDRESS>"
    # Token for payment card numbers (with redact).
    credit_card_token: str = "<CREDIT_CARD>"
    # Token for IBANs (with redact).
    iban_token: str = "<IBAN>"
    # Token for US social security numbers (with redact).
    us_ssn_token: str = "<US_SSN>"
    # Regions a number without "+" is validated against when a phone word (or a number of the same list) stands
    # before it, as national formats ("030/1234567", "06 1234 5678") need one: countries of the large web languages.
    phone_regions: tuple[str, ...] = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "BR", "IN", "AU", "JP")
    # Fewest matches of a PII-dense document: a contact block or imprint has 1-4 (e-mail, phone, fax, IBAN), a
    # directory page dozens.
    dense_min_matches: int = 5
    # Fewest matches per 1,000 words of a PII-dense document: the sample staff-directory pages have ~155, press pages
    # with two contacts 4-22 (but fewer than 5 matches), a long page listing 41 service hotlines 4.8.
    dense_min_per_1k_words: float = 10.0
    # Remove PII-heavy domains (the paper's rule); off keeps every domain (redaction still applies).
    remove_heavy_domains: bool = True
    # Count per host name ("www." ignored) rather than registered domain: a staff-directory subdomain
    # (directory.example.edu) is removed without the rest of the site (news.example.edu).
    per_host: bool = True
    # Fewest PII-dense documents of a removed domain: one or two team/contact pages are normal on any site.
    domain_min_dense_documents: int = 3
    # Smallest share of PII-dense documents of a removed domain (one in ten): a site made largely of directories is
    # removed, a few directory pages do not condemn a big site.
    domain_min_dense_share: float = 0.1


class PiiMatch(NamedTuple):
    """One detection: its kind, its character span in the text and the matched text."""

    kind: str
    start: int
    end: int
    text: str


# --- e-mail -------------------------------------------------------------------------------------------------------
_AT = r"(?:@| ?[\[(] ?(?:at|@) ?[\])] ?)"
_DOT = r"(?:\.| ?[\[(] ?(?:dot|\.) ?[\])] ?)"
_EMAIL = re.compile(
    rf"(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]*[A-Za-z0-9_%+-])?{_AT}"
    rf"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?{_DOT})+(?P<tld>[A-Za-z]{{2,24}}|xn--[A-Za-z0-9-]+)\b",
    re.IGNORECASE,
)
# The *_HINT patterns are cheap checks (most start with a literal, which ``re`` skips ahead to) that a text must pass
# for the full pattern to run: they make detection 3x faster on text without PII.
_AT_BRACKETED = re.compile(r"[\[(] ?(?:at|AT|At|@) ?[\])]")
# Image names written like e-mails by responsive sites ("logo@2x.png").
_FILE_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico", "bmp", "tif", "tiff", "css", "js"})


def _emails(text: str) -> list[tuple[int, int]]:
    if "@" not in text and not _AT_BRACKETED.search(text):
        return []
    return [m.span() for m in _EMAIL.finditer(text) if m["tld"].lower() not in _FILE_TLDS]


# --- phone ---------------------------------------------------------------------------------------------------------
# Digit groups joined by one separator ("-", ".", "/", en dash, each with a space or not on either side; a space;
# a parenthesised group); not glued to a word, a longer number, a version, a path or an order "#".
_PHONE_SEPARATOR = r"(?: ?[\-./\u2013] ?| | ?\(\d{1,5}\) ?)"
_PHONE = re.compile(
    rf"(?<![\w+\-.,/#])(?:\+ ?)?(?:\(\d{{1,5}}\) ?)?\d{{1,12}}(?:{_PHONE_SEPARATOR}\d{{1,12}}){{0,6}}"
    r"(?![\w\-\u2013]|[.,/]\d)"
)
# Seven or more characters of digits and separators: a text without one has no phone number.
_PHONE_HINT = re.compile(r"\d[\d ().+/\-\u2013]{5,}\d")
_NANP = re.compile(r"(?:1[-. ]?)?(?:\(\d{3}\) ?|\d{3}([-.]))\d{3}(?(1)\1|[-.])\d{4}")
# Dates (21.09.2001, 9/21/2001, 2001-09-21), opening hours (8.30-12.30), year ranges (1990 - 2000) and IPv4
# addresses, which a phone word before them does not make phone numbers.
_NOT_PHONE = re.compile(
    r"\d{1,3}(?:\.\d{1,3}){3}|\d{1,2}([./-])\d{1,2}\1\d{2}(?:\d\d)?|\d{4}([./-])\d{1,2}\2\d{1,2}"
    r"|\d{1,2}[.:]\d\d ?[-\u2013] ?\d{1,2}[.:]\d\d|(?:1[5-9]|20)\d\d ?[-\u2013/] ?(?:1[5-9]|20)?\d\d"
)
# A phone word, then no digit up to the number: "Tel.: ", "phone (office): ", "call us at ", "Fax ".
_AFTER_PHONE_WORD = re.compile(
    r"(?<![^\W\d_])(?:tel|tél|phone|telephone|téléphone|telefon|telefone|telefono|teléfono|telefoon|fon|fax|mobile?"
    r"|mobil|cell|handy|call|ph|tlf|puh|whatsapp|тел|телефон)(?![^\W\d_])[^\d\n]*$|(?:☎|📞|電話)[^\d\n]*$",
    re.IGNORECASE,
)
# How far before a number (on its line) its phone word may end.
_PHONE_WORD_WINDOW = 30
# How far after a phone number the next one of a list ("call 0800 111 or 0800 222", "030 1234, 030 5678") may start.
_PHONE_LIST_GAP = 6


def _phones(text: str, regions: tuple[str, ...]) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for match in _PHONE.finditer(text) if _PHONE_HINT.search(text) else ():
        candidate = match.group()
        if not 7 <= sum(c.isdigit() for c in candidate) <= 15 or _NOT_PHONE.fullmatch(candidate):
            continue
        if candidate.startswith("+"):
            candidate_regions: tuple[str | None, ...] = (None,)
        elif _NANP.fullmatch(candidate):
            candidate_regions = ("US",)
        elif _after_phone_word(text, match.start(), found[-1][1] if found else None):
            candidate_regions = regions
        else:
            continue
        if any(_valid_phone(candidate, region) for region in candidate_regions):
            found.append(match.span())
    return found


def _after_phone_word(text: str, start: int, previous_end: int | None) -> bool:
    """Whether a phone word, or the phone number ending at ``previous_end``, stands shortly before ``start`` on its
    line with no digit in between."""
    if previous_end is not None and start - previous_end <= _PHONE_LIST_GAP:
        if not any(c.isdigit() or c == "\n" for c in text[previous_end:start]):
            return True
    window_start = max(text.rfind("\n", 0, start) + 1, start - _PHONE_WORD_WINDOW)
    return _AFTER_PHONE_WORD.search(text, window_start, start) is not None


def _valid_phone(candidate: str, region: str | None) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(candidate, region))
    except phonenumbers.NumberParseException:
        return False


# --- IP addresses --------------------------------------------------------------------------------------------------
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w]|\.\d)")
_VERSION_WORD = re.compile(
    r"\b(?:v|ver|version|versions|release|build|firmware|update|rev|revision)\.?:?\s*$", re.IGNORECASE
)
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:]|\.\d)"
)
_IPV4_HINT = re.compile(r"\.\d{1,3}\.\d{1,3}\.")
_IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")
_HEX4 = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{4}(?![0-9A-Fa-f])")
# Addresses that identify no one: private (RFC 1918, unique-local), shared NAT, loopback, link-local, unspecified,
# multicast and reserved; router manuals and server logs are full of 192.168.0.1 and 10.0.0.x.
_LOCAL_NETWORKS = tuple(ipaddress.ip_network(network) for network in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
    "224.0.0.0/3", "::/127", "fc00::/7", "fe80::/10", "ff00::/8",
))


def _ip_addresses(text: str) -> list[tuple[int, int]]:
    found = []
    for match in _IPV4.finditer(text) if _IPV4_HINT.search(text) else ():
        if all(len(part) == 1 for part in match.group().split(".")):
            continue
        if _VERSION_WORD.search(text, max(0, match.start() - 12), match.start()):
            continue
        if not _is_local(ipaddress.IPv4Address(match.group())):
            found.append(match.span())
    for match in _IPV6.finditer(text) if _IPV6_HINT.search(text) else ():
        candidate = match.group()
        if sum(1 for group in candidate.split(":") if group) < 3 or not _HEX4.search(candidate):
            continue
        try:
            address = ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        if not _is_local(address):
            found.append(match.span())
    return found


def _is_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in network for network in _LOCAL_NETWORKS if network.version == address.version)


# --- payment cards -------------------------------------------------------------------------------------------------
_CARD = re.compile(
    r"(?<![\w\-.,/=#?&])(?:\d{4}(?P<s>[ \-]?)\d{4}(?P=s)\d{4}(?P=s)\d{4}(?:(?P=s)\d{3})?"
    r"|3[47]\d\d(?P<a>[ \-]?)\d{6}(?P=a)\d{5})(?![\w\-]|[.,]\d)"
)
_CARD_HINT = re.compile(r"\d{4}[ \-]?\d{4,6}[ \-]?\d{4}")
# Issuer prefixes of 16- and 19-digit cards: Visa 4; Mastercard 51-55, 2221-2720; Discover 6011, 644-649, 65;
# JCB 3528-3589; UnionPay 62. (American Express, 34 and 37, has 15 digits: the pattern's second form.)
_CARD_ISSUER = re.compile(
    r"4|5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720|6011|64[4-9]|65|35(?:2[89]|[3-8]\d)|62"
)


def _cards(text: str) -> list[tuple[int, int]]:
    found = []
    for match in _CARD.finditer(text) if _CARD_HINT.search(text) else ():
        digits = re.sub(r"\D", "", match.group())
        if (len(digits) == 15 or _CARD_ISSUER.match(digits)) and _luhn_valid(digits):
            found.append(match.span())
    return found


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


# --- IBAN ----------------------------------------------------------------------------------------------------------
# IBAN length per country (SWIFT IBAN registry).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}
_IBAN = re.compile(r"(?<![A-Za-z0-9])(?P<country>[A-Z]{2})\d\d(?: ?[A-Z0-9]){11,30}")


def _ibans(text: str) -> list[tuple[int, int]]:
    found = []
    for match in _IBAN.finditer(text):
        length = _IBAN_LENGTHS.get(match["country"])
        end = _end_of_nth_character(text, match.start(), match.end(), length) if length else None
        if end is None or text[end:end + 1].isalnum():
            continue
        compact = text[match.start():end].replace(" ", "")
        if int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4])) % 97 == 1:
            found.append((match.start(), end))
    return found


def _end_of_nth_character(text: str, start: int, stop: int, n: int) -> int | None:
    """The position just after the ``n``-th non-space character of ``text[start:stop]``, None if it has fewer."""
    for i in range(start, stop):
        if text[i] != " ":
            n -= 1
            if n == 0:
                return i + 1
    return None


# --- US social security numbers ------------------------------------------------------------------------------------
_US_SSN = re.compile(r"(?<![\w\-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w\-])")
_US_SSN_HINT = re.compile(r"-\d\d-")


def _us_ssns(text: str) -> list[tuple[int, int]]:
    if not _US_SSN_HINT.search(text):
        return []
    return [m.span() for m in _US_SSN.finditer(text)]


# ------------------------------------------------------------------------------------------------------------------
def find_pii(text: str, config: PiiConfig = PiiConfig()) -> list[PiiMatch]:
    """The PII of ``text`` of the kinds in ``config``, sorted and non-overlapping (where two overlap, the longer one,
    then the kind listed first in KINDS, is kept)."""
    unknown = set(config.kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown PII kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
    finders = {"email": _emails, "phone": lambda t: _phones(t, config.phone_regions), "ip_address": _ip_addresses,
               "credit_card": _cards, "iban": _ibans, "us_ssn": _us_ssns}
    spans = [(start, -end, KINDS.index(kind), kind, end)
             for kind in config.kinds for start, end in finders[kind](text)]
    matches: list[PiiMatch] = []
    for start, _, _, kind, end in sorted(spans):
        if not matches or start >= matches[-1].end:
            matches.append(PiiMatch(kind, start, end, text[start:end]))
    return matches


def pii_signals(matches: list[PiiMatch], n_words: int) -> dict[str, float]:
    """``pii_count``, ``pii_<kind>`` for every kind, and ``pii_per_1k_words`` (matches per 1,000 words)."""
    signals = {"pii_count": float(len(matches))}
    signals.update({f"pii_{kind}": float(sum(m.kind == kind for m in matches)) for kind in KINDS})
    signals["pii_per_1k_words"] = 1000.0 * len(matches) / max(n_words, 1)
    return signals


def redact(text: str, matches: list[PiiMatch], config: PiiConfig = PiiConfig()) -> str:
    """``text`` with each of ``matches`` (sorted, non-overlapping, as from find_pii) replaced by its kind's token."""
    pieces, position = [], 0
    for match in matches:
        pieces += [text[position:match.start], getattr(config, f"{match.kind}_token")]
        position = match.end
    pieces.append(text[position:])
    return "".join(pieces)


def is_pii_dense_document(signals: dict[str, float], config: PiiConfig = PiiConfig()) -> bool:
    """Whether a document's ``pii_signals`` make it PII-dense (both the count and the rate reach their minimum)."""
    return (signals["pii_count"] >= config.dense_min_matches
            and signals["pii_per_1k_words"] >= config.dense_min_per_1k_words)


def is_pii_heavy_domain(documents: int, pii_dense_documents: int, config: PiiConfig = PiiConfig()) -> bool:
    """Whether a domain with ``documents`` documents, ``pii_dense_documents`` of them PII-dense, is removed."""
    return (config.remove_heavy_domains and pii_dense_documents >= config.domain_min_dense_documents
            and pii_dense_documents >= config.domain_min_dense_share * documents)


class PiiDetector(TextStep):
    """Finds (and optionally redacts) PII per document (stage ``pii``): signals ``pii_count``, ``pii_<kind>``,
    ``pii_per_1k_words`` and ``pii_dense``, the text redacted when ``config.redact``. The verdict is per site, not
    per document: the job counts PII-dense documents per host and removes PII-heavy ones
    (:func:`is_pii_heavy_domain`). Holds only its config, so it pickles to Spark workers."""

    stage = "pii"
    trimmed_signal = "pii_redacted_bytes"

    def __init__(self, config: PiiConfig = PiiConfig()):
        self.config = config

    def rewrite(self, doc: Document) -> tuple[str, dict[str, float]]:
        matches = find_pii(doc.text, self.config)
        signals = pii_signals(matches, len(doc.words))
        signals["pii_dense"] = float(is_pii_dense_document(signals, self.config))
        return (redact(doc.text, matches, self.config) if self.config.redact and matches else doc.text), signals


class PiiHeavySite(DecisionVerdict):
    """Stage ``pii``, filter pass: drops every document of a site the job found PII-heavy (``pii_heavy_domain``,
    detail: the site and its PII-dense share), from the per-site counts of ``pii_dense`` documents."""

    stage = "pii"
