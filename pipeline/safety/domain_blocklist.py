"""Domain and URL block list (Llama 3 §3.1.1, "PII and safety filtering": "filters designed to remove data from
websites [that] are likely to contain unsafe content or high volumes of PII, domains that have been ranked as
harmful according to a variety of Meta safety standards, and domains that are known to contain adult content").

The default list is the UT1 "adult" category (4.56M domains, CC BY-SA 4.0), shipped in ``pipeline/resources``.
A host is blocked when it, or any parent domain of it, is listed: listing ``example.com`` blocks
``www.example.com`` and ``cdn.example.com`` but listing ``user.example.com`` does not block ``example.com``.

Millions of domains as a Python set would cost ~0.5 GB per worker, so entries are stored as a sorted array of
64-bit xxhash values (8 bytes each, ~36 MB for UT1); a lookup is a binary search. With 4.6M entries the chance
that an unlisted host collides with a listed one is below 1e-12.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import xxhash

from pipeline.resources import SHIPPED, read_list, shipped
from pipeline.steps import Rejection
from pipeline.warc.urls import normalize_host, parent_domains, url_host

DEFAULT_DOMAIN_LISTS = (f"{SHIPPED}blocklists/ut1_adult_domains.txt.gz",)
DEFAULT_URL_LISTS = (f"{SHIPPED}blocklists/ut1_adult_urls.txt.gz",)
_CACHE_DIR = Path(os.environ.get("LLAMA3_CURATION_CACHE", Path.home() / ".cache" / "llama3-curation"))


def _hash(text: str) -> int:
    return xxhash.xxh64_intdigest(text.encode("utf-8", "surrogatepass"))


class HashedStringSet:
    """A read-only set of strings stored as sorted 64-bit xxhash values."""

    def __init__(self, hashes: np.ndarray):
        hashes = np.sort(np.asarray(hashes, dtype=np.uint64))
        if len(hashes) > 1:
            hashes = hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))]
        self.hashes = hashes

    @classmethod
    def from_strings(cls, strings: Iterable[str]) -> HashedStringSet:
        return cls(np.fromiter((_hash(s) for s in strings), dtype=np.uint64))

    def __len__(self) -> int:
        return len(self.hashes)

    def __contains__(self, item: str) -> bool:
        h = np.uint64(_hash(item))
        i = np.searchsorted(self.hashes, h)
        return bool(i < len(self.hashes) and self.hashes[i] == h)


def _cached_hash_set(paths: Sequence[str], normalise) -> HashedStringSet:
    """Build the hash set of the entries in ``paths``, caching it on local disk (parsing UT1 takes seconds)."""
    signature = hashlib.sha1()
    for p in paths:
        signature.update(f"{p}:{_version_of(p)};".encode())
    signature.update(normalise.__name__.encode())
    cache = _CACHE_DIR / f"hashset-{signature.hexdigest()[:20]}.npy"
    if cache.exists():
        try:
            return HashedStringSet(np.load(cache))
        except (OSError, ValueError):
            pass
    result = HashedStringSet.from_strings(normalise(e) for p in paths for e in read_list(p))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, result.hashes)
        os.replace(tmp, cache)
    except OSError:
        pass
    return result


def _version_of(path: str) -> str:
    """What tells an edited list from the one hashed before: the size of a shipped list (wherever the package is
    imported from), size and modification time of a local one, nothing for a remote one (its name decides)."""
    if path.startswith(SHIPPED):
        return str(len(shipped(path[len(SHIPPED):]).read_bytes()))
    try:
        stat = os.stat(path)
    except OSError:
        return ""
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _url_list_key(url: str) -> str:
    """UT1 lists URLs as host + path without scheme; compare lower-cased, without ``www.`` and trailing slash."""
    url = url.strip().lower()
    for prefix in ("http://", "https://"):
        if url.startswith(prefix):
            url = url[len(prefix):]
    if url.startswith("www."):
        url = url[4:]
    return url.split("#", 1)[0].rstrip("/")


def _domain_key(domain: str) -> str:
    return normalize_host(domain)


class DomainBlocklist:
    """Rejects URLs whose host (or a parent domain of it) or whose exact URL is on a block list.

    ``check(url)`` returns None for an allowed URL and a :class:`Rejection` (``blocked_domain`` with the listed
    domain, or ``blocked_url``) otherwise.
    """

    def __init__(self, domains: HashedStringSet, urls: HashedStringSet | None = None):
        self.domains = domains
        self.urls = urls if urls is not None else HashedStringSet(np.empty(0, dtype=np.uint64))

    @classmethod
    def from_files(cls, domain_lists: Sequence[str] = DEFAULT_DOMAIN_LISTS,
                   url_lists: Sequence[str] = DEFAULT_URL_LISTS) -> DomainBlocklist:
        domains = _cached_hash_set(list(domain_lists), _domain_key) if domain_lists else None
        urls = _cached_hash_set(list(url_lists), _url_list_key) if url_lists else None
        return cls(domains if domains is not None else HashedStringSet(np.empty(0, dtype=np.uint64)), urls)

    @classmethod
    def from_entries(cls, domains: Iterable[str] = (), urls: Iterable[str] = ()) -> DomainBlocklist:
        return cls(HashedStringSet.from_strings(_domain_key(d) for d in domains),
                   HashedStringSet.from_strings(_url_list_key(u) for u in urls))

    def check(self, url: str, host: str | None = None) -> Rejection | None:
        host = host if host is not None else url_host(url)
        if host:
            for domain in parent_domains(host):
                if domain in self.domains:
                    return Rejection("blocked_domain", domain)
        if len(self.urls) and _url_list_key(url) in self.urls:
            return Rejection("blocked_url", None)
        return None
