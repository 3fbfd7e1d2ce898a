"""URL normalisation and domain helpers.

Used by the URL-level de-duplication (Llama 3 §3.1.1: keep only the most recent fetch of each URL) and by the
domain block list. A URL's *dedup key* is its normalised form: two fetches share a key when a browser would show
them the same page.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

# Query parameters that only track the visitor (analytics, ad clicks, sessions) and never change the page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id",
        "rb_clickid", "s_cid", "ref_src", "ref_url", "spm", "scid",
        "jsessionid", "phpsessid", "aspsessionid", "sessionid", "cfid", "cftoken",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
DEFAULT_PORTS = {"http": "80", "https": "443"}
_UNRESERVED = "-._~"
_PERCENT_RE = re.compile(r"%[0-9A-Fa-f]{2}")


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def _normalise_percent(component: str, safe: str) -> str:
    """Decode then re-encode, so `%7E`, `~` and `%7e` compare equal while reserved characters stay escaped."""
    if "%" not in component and component.isascii() and " " not in component:
        return component
    return quote(unquote(component), safe=safe + _UNRESERVED)


def normalize_host(host: str) -> str:
    """Lower-case, strip a trailing dot and IDNA-encode a host name."""
    host = host.strip().rstrip(".").lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return host


def url_dedup_key(url: str) -> str | None:
    """Normalised form of ``url`` used as the URL-dedup key, or None when there is no host.

    Scheme (http/https), host case, a leading ``www.``, default ports, the fragment, tracking parameters
    (``utm_*``, ``fbclid``, ``gclid``, session ids, ...), query-parameter order, percent-encoding case and trailing
    slashes are all ignored; the path and the remaining query are kept.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    host = normalize_host(parts.hostname)
    if host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    scheme = parts.scheme.lower()
    if port is not None and str(port) != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    path = _normalise_percent(parts.path, safe="/:@!$&'()*+,;=")
    path = re.sub(r"/{2,}", "/", path).rstrip("/")
    query = ""
    if parts.query:
        params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
        query = urlencode(sorted(params), doseq=True)
    return f"{host}{path or '/'}" + (f"?{query}" if query else "")


def url_host(url: str) -> str | None:
    """The normalised host of ``url`` (no port), or None."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return normalize_host(host) if host else None


@functools.lru_cache(maxsize=1)
def _tld_extractor():
    import tldextract

    # The public-suffix snapshot bundled with tldextract: no network access, identical on every worker.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registered_domain(host: str | None) -> str | None:
    """The registered domain (eTLD+1) of ``host``, e.g. ``news.bbc.co.uk`` -> ``bbc.co.uk``.

    IP addresses and hosts without a public suffix are returned unchanged.
    """
    if not host:
        return None
    ext = _tld_extractor()(host)
    return ext.top_domain_under_public_suffix or host


def parent_domains(host: str) -> list[str]:
    """``host`` and each parent domain with at least two labels: ``a.b.c.com`` -> [a.b.c.com, b.c.com, c.com].

    A block-list entry matches a host when it equals one of these, so listing a domain blocks its subdomains.
    """
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(max(len(labels) - 1, 1))]
