from pipeline.warc.urls import parent_domains, registered_domain, url_dedup_key, url_host


def test_variants_of_one_url_share_a_key():
    variants = [
        "https://www.example.com/news/article",
        "HTTP://WWW.Example.COM/news/article/",
        "http://example.com:80/news/article#comments",
        "https://example.com:443/news/article?utm_source=twitter&utm_medium=social",
        "https://example.com/news/article?fbclid=abc123&gclid=xyz",
        "https://example.com/news//article",
    ]
    assert {url_dedup_key(u) for u in variants} == {"example.com/news/article"}


def test_meaningful_differences_are_kept():
    assert url_dedup_key("https://example.com/a?id=1") != url_dedup_key("https://example.com/a?id=2")
    assert url_dedup_key("https://example.com/a") != url_dedup_key("https://example.com/b")
    assert url_dedup_key("https://example.com:8080/a") != url_dedup_key("https://example.com/a")
    assert url_dedup_key("https://blog.example.com/a") != url_dedup_key("https://example.com/a")


def test_query_order_and_percent_case_do_not_matter():
    assert url_dedup_key("https://e.com/p?b=2&a=1") == url_dedup_key("https://e.com/p?a=1&b=2")
    assert url_dedup_key("https://e.com/%7Euser") == url_dedup_key("https://e.com/~user")


def test_unparseable_urls_have_no_key():
    assert url_dedup_key("not a url") is None
    assert url_dedup_key("http://[::1/") is None


def test_registered_domain_uses_the_public_suffix_list():
    assert registered_domain("news.bbc.co.uk") == "bbc.co.uk"
    assert registered_domain("a.b.example.com") == "example.com"
    assert registered_domain("192.168.0.1") == "192.168.0.1"
    assert url_host("https://Bücher.Example/x") == "xn--bcher-kva.example"


def test_parent_domains():
    assert parent_domains("a.b.example.com") == ["a.b.example.com", "b.example.com", "example.com"]
    assert parent_domains("localhost") == ["localhost"]

