from pipeline.safety.banned_url_words import BannedUrlWords
from pipeline.safety.domain_blocklist import DomainBlocklist
from pipeline.safety.url_safety import SafetyConfig, UrlSafetyFilter


def test_listed_domain_blocks_itself_and_its_subdomains_only():
    blocklist = DomainBlocklist.from_entries(["badsite.com", "user.hosting.net"])
    assert blocklist.check("http://badsite.com/").reason == "blocked_domain"
    assert blocklist.check("https://www.badsite.com/page").detail == "badsite.com"
    assert blocklist.check("https://cdn.img.badsite.com/a.jpg").detail == "badsite.com"
    assert blocklist.check("https://user.hosting.net/x").detail == "user.hosting.net"
    assert blocklist.check("https://hosting.net/x") is None
    assert blocklist.check("https://notbadsite.com/") is None
    assert blocklist.check("https://badsite.com.example.org/") is None


def test_exact_url_list():
    blocklist = DomainBlocklist.from_entries([], ["shady.example.com/path/page"])
    assert blocklist.check("https://www.shady.example.com/path/page/").reason == "blocked_url"
    assert blocklist.check("https://shady.example.com/path/other") is None


def test_default_ut1_list_blocks_real_adult_domains_and_keeps_ordinary_ones():
    safety = UrlSafetyFilter.from_config(SafetyConfig())
    assert len(safety.blocklist.domains) > 4_000_000
    assert safety.check("http://0-1sex.com/videos").reason == "blocked_domain"
    assert safety.check("https://www.0-1sex.com/").reason == "blocked_domain"
    for ok in ("https://en.wikipedia.org/wiki/Sussex", "https://www.bbc.co.uk/news", "https://www.nhs.uk/conditions/"):
        assert safety.check(ok) is None, ok


def test_banned_url_words_rules():
    words = BannedUrlWords(banned_words=["porn"], soft_banned_words=["escort", "babes", "sex"],
                           banned_subwords=["2 girls 1 cup"], soft_word_threshold=2)
    assert words.check("https://example.com/free-porn/").reason == "banned_url_word"
    assert words.check("https://example.com/pornography-law") is None  # whole words only
    assert words.check("https://example.com/escort-babes").reason == "soft_banned_url_words"
    assert words.check("https://example.com/escort-service") is None  # one soft word is not enough
    assert words.check("https://example.com/2girls1cupvideo").reason == "banned_url_subword"
    assert words.check("https://www.sussex.ac.uk/sex-education") is None


def test_default_word_lists_load():
    words = BannedUrlWords.from_files()
    assert words.banned_words and words.soft_banned_words
    assert words.check("https://example.com/bukkake-videos") is not None
    assert words.check("https://www.theguardian.com/science/2024/jan/01/climate") is None
