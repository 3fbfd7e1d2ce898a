"""A client for OpenAI-compatible chat-completion endpoints (vLLM, llama.cpp's server, OpenAI), with which the
annotation job asks an LLM to label documents, as Llama 3 (2024) §3.1.1 has Llama 2 label the training data of its
quality, code and reasoning classifiers.

Standard library only (``urllib.request``): one ``POST {endpoint}/chat/completions`` per call, answered with
``{"choices": [{"message": {"content": ...}}]}``. A call is retried, with exponential backoff and jitter, on what
a later attempt can fix: timeouts, connection errors, HTTP 408, 429 and 5xx (waiting the ``Retry-After`` the server
asks for, when it says) and answers the caller's ``parse`` rejects as malformed; every attempt counts against
``max_retries`` (a malformed answer is asked again at once, without backoff). Other 4xx answers are not retried:
401, 403 and 404 mean the endpoint, key or model name is wrong for every document (:class:`EndpointError`); any
other (400 for a prompt over the context length, 413) is this request's own failure (:class:`ChatError`).

A client is shared by the threads of a pool: its :class:`TokenBucket` spaces the requests of all of them to
``requests_per_second``.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_RETRYABLE_STATUS = frozenset({408, 429}) | frozenset(range(500, 600))
_FATAL_STATUS = frozenset({401, 403, 404})


@dataclass(frozen=True)
class ChatConfig:
    """Where and how to ask the LLM, with the reason for each default beside it."""

    # Base URL of the OpenAI-compatible API: vLLM's `vllm serve` listens here by default.
    endpoint: str = "http://localhost:8000/v1"
    # Model name as the server knows it: the paper has Llama 2's chat model annotate (it does not say which size).
    model: str = "meta-llama/Llama-2-70b-chat-hf"
    # Environment variable holding the API key (sent as a Bearer token); unset: no key, as a local vLLM needs none.
    api_key_env: str = "OPENAI_API_KEY"
    # Greedy decoding: the same document gets the same label, so cached labels are the ones a rerun would get.
    temperature: float = 0.0
    # Tokens the model may answer with: a reason of at most 50 words and a score take about 100.
    max_tokens: int = 256
    # Seconds for one request: a 70B model on a busy server answers in seconds, a queued request can wait longer.
    timeout_seconds: float = 120.0
    # Retries after the first attempt (timeouts, connection errors, 408/429/5xx, malformed answers): 7 attempts
    # wait 32-63 s in all with the default backoff, so a rate-limit window or a brief outage passes; a longer one
    # leaves errors, which the next run retries (errors are not cached).
    max_retries: int = 6
    # First backoff in seconds, doubled on every retry, with jitter (half fixed, half random) so threads that
    # failed together do not retry together.
    backoff_seconds: float = 1.0
    # Longest wait between two attempts, also the cap on a server's Retry-After (a buggy header cannot hang a thread).
    max_backoff_seconds: float = 60.0
    # Requests per second of all threads together (token bucket holding one token); 0 = no limit, for a server of
    # your own; set it to a hosted API's rate limit.
    requests_per_second: float = 0.0


class ChatError(Exception):
    """This request failed for good (retries spent, or a 4xx answer no retry can fix)."""


class EndpointError(ChatError):
    """The endpoint refuses every request (401, 403, 404): a wrong URL, API key or model name."""


class MalformedAnswer(ValueError):
    """Raised by a ``parse`` function for an answer it cannot read: the request is tried again."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TokenBucket:
    """Thread-safe token bucket: ``rate`` tokens a second, at most ``capacity`` stored. ``acquire`` reserves a
    token (the count may go negative) and sleeps until it is due, so waiting threads are served in arrival order."""

    def __init__(self, rate: float, capacity: float = 1.0) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError(f"rate must be > 0 and capacity >= 1, not {rate} and {capacity}")
        self.rate, self.capacity = rate, capacity
        self._tokens, self._stamp = capacity, time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate) - 1
            self._stamp = now
            wait = -self._tokens / self.rate
        if wait > 0:
            time.sleep(wait)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header (delay in seconds or an HTTP date) as seconds from now; None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time()) if when.tzinfo else None


class ChatClient:
    """Sends chat requests with retries and a shared rate limit; safe to call from many threads."""

    def __init__(self, config: ChatConfig = ChatConfig()) -> None:
        if config.max_retries < 0 or config.timeout_seconds <= 0:
            raise ValueError("max_retries must be >= 0 and timeout_seconds > 0")
        self.config = config
        self._url = config.endpoint.rstrip("/") + "/chat/completions"
        key = os.environ.get(config.api_key_env, "") if config.api_key_env else ""
        self._headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
        self._bucket = TokenBucket(config.requests_per_second) if config.requests_per_second > 0 else None
        self._lock = threading.Lock()
        self.requests_sent = 0

    def complete(self, messages: list[dict[str, str]], parse: Callable[[str], T]) -> T:
        """``parse`` of the assistant's answer to ``messages``; raises ChatError once retries are spent."""
        for attempt in range(self.config.max_retries + 1):
            try:
                return self._attempt(messages, parse)
            except _Retryable as exc:
                error = exc
            if attempt < self.config.max_retries:
                time.sleep(self._delay(attempt, error.retry_after))
        raise ChatError(f"{error} (after {self.config.max_retries + 1} attempts)")

    def _attempt(self, messages: list[dict[str, str]], parse: Callable[[str], T]) -> T:
        content = self._post(messages)
        try:
            return parse(content)
        except MalformedAnswer as exc:
            raise _Retryable(f"malformed answer: {exc}", retry_after=0.0) from exc  # the server is fine: no wait

    def _post(self, messages: list[dict[str, str]]) -> str:
        """The assistant message of one request; _Retryable for what another attempt may fix."""
        body = json.dumps({"model": self.config.model, "messages": messages,
                           "temperature": self.config.temperature, "max_tokens": self.config.max_tokens}).encode()
        request = urllib.request.Request(self._url, data=body, headers=self._headers, method="POST")
        if self._bucket is not None:
            self._bucket.acquire()
        with self._lock:
            self.requests_sent += 1
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_seconds) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            detail = f"HTTP {exc.code}: {exc.read()[:300].decode('utf-8', 'replace')}"
            if exc.code in _RETRYABLE_STATUS:
                raise _Retryable(detail, retry_after_seconds(exc.headers.get("Retry-After"))) from exc
            raise (EndpointError if exc.code in _FATAL_STATUS else ChatError)(f"{self._url}: {detail}") from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:  # timeouts, refused, reset
            raise _Retryable(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from exc
        try:
            content = json.loads(payload)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise _Retryable(f"not a chat-completion response: {payload[:200]!r}") from exc
        if not isinstance(content, str):
            raise _Retryable(f"no text in the response: {payload[:200]!r}")
        return content

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before the next attempt: the server's Retry-After, else backoff * 2**attempt, half of it random."""
        if retry_after is not None:
            return min(retry_after, self.config.max_backoff_seconds)
        delay = min(self.config.backoff_seconds * 2**attempt, self.config.max_backoff_seconds)
        return delay / 2 + random.uniform(0, delay / 2)
