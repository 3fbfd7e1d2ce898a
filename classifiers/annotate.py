"""LLM annotation of documents for the model-based quality classifiers of Llama 3 (2024) §3.1.1.

"Model-based quality filtering": "we create a training set of cleaned web documents, describe the quality
requirements, and instruct Llama 2's chat model to determine if the documents meets these requirements", and
DistilRoberta classifiers trained on those labels score every document. "Code and reasoning data": "both the code and
reasoning classifiers are DistilRoberta models trained on web data annotated by Llama 2", with prompts tuned "to
target web pages containing math deduction, reasoning in STEM areas and code interleaved with natural language".
This job produces those labels: it sends each document, with the prompt of each classifier asked for
(``classifiers/prompts/<name>.md``: quality, code, reasoning), to an OpenAI-compatible chat endpoint (vLLM,
llama.cpp's server, OpenAI; :mod:`classifiers.llm_client`) and writes one label per document and classifier:

    python -m classifiers.annotate --input out/documents --output labels.jsonl --classifiers quality,code,reasoning

Input: the curate job's ``documents/`` Parquet directory (hive-partitioned by ``language=xx``, read in streamed
batches) or a JSONL file (``.gz`` too) of ``{"id", "text", "language"?}`` objects; ``--languages`` keeps some
languages (partition pruning on Parquet), ``--max-documents`` a prefix. Output: JSONL, one line per document and
classifier: ``id, classifier, score`` (0-5), ``label`` (score >= ``--threshold``), ``model, prompt_version``
(version line @ first 8 hex digits of the prompt's SHA-256), ``reason``, ``error`` (null, or why there is no
score: then score, label and reason are null). Each prompt asks for ``{"reason": ..., "score": N}``;
:func:`parse_answer` also reads it in code fences, with text around it, after a ``<think>`` block, or as a
``Score: N`` line; a score that is not an integer in 0-5 is malformed, and a malformed answer is asked again (it
counts against ``--max-retries``) before the document is recorded with an error. The job never stops for one
document; it stops (status 1) when the endpoint refuses every request (HTTP 401/403/404).

Labels are cached in SQLite (``--cache-path``) under the SHA-256 of (model, prompt version, SHA-256 of the prompt
text, classifier, the document text as sent): each label is committed as it arrives, so a rerun, or a run after a
crash, sends only what has no label yet, and the output is written complete again (to a temporary file renamed at
the end). Errors are not cached: the next run asks again. Documents of identical text are asked once. The chat API
takes one document per request; the input is streamed and at most ``2 x concurrency`` requests are in flight, so
memory stays bounded whatever the input size.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import sqlite3
import sys
import time
import typing
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.llm_client import ChatClient, ChatConfig, ChatError, EndpointError, MalformedAnswer

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
MAX_SCORE = 5
# Rows per Arrow batch read from Parquet: a few MB of text, far ahead of what the LLM labels in a second.
_READ_BATCH_ROWS = 1024

_VERSION = re.compile(r"^version:[ \t]*(\S+)[ \t]*$", re.MULTILINE)
_BLOCK = re.compile(r"^## (System|User)[ \t]*\n+```text\n(.*?)\n```[ \t]*$", re.MULTILINE | re.DOTALL)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_SCORE_LINE = re.compile(r"\bscore\W{0,6}?(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_DOCUMENT = "{document}"


@dataclass(frozen=True)
class AnnotateConfig:
    """What to annotate and how; the endpoint and retries are :class:`ChatConfig`'s."""

    # Prompts to run (names of files in prompts_dir): the paper's general quality classifier; add code and reasoning
    # for the domain classifiers (each costs one request per document).
    classifiers: tuple[str, ...] = ("quality",)
    # Directory of <classifier>.md prompt files; "" = classifiers/prompts shipped with the job.
    prompts_dir: str = ""
    # Characters of a document sent (cut at a word boundary; 0 = all): about 2,000 Llama tokens of English, so
    # prompt (~550), document and answer fit Llama 2's 4,096-token context; denser scripts (CJK) may not fit, and a
    # document the server refuses as too long is recorded with an error.
    max_chars: int = 8_000
    # label = score >= threshold: 3, FineWeb-Edu's cut on the same additive 0-5 scale.
    threshold: int = 3
    # Requests in flight at once: a vLLM server batches concurrent requests, and 16 keep one replica busy.
    concurrency: int = 16
    # SQLite label cache, shared by runs (keys hold model, prompt and text, so different setups never collide).
    cache_path: str = "~/.cache/llama3-curation/labels.sqlite"
    # Languages to annotate (empty = all): labels for a classifier are usually drawn from one language.
    languages: tuple[str, ...] = ()
    # Documents to read (0 = all): annotating a training set needs a sample, not the whole crawl.
    max_documents: int = 0
    # Documents between two progress lines on stderr (0 = none): a long run shows it is moving.
    progress_every: int = 1000


@dataclass(frozen=True)
class Prompt:
    """One classifier's prompt: the system message, and the user message with ``{document}`` in it."""

    name: str
    version: str
    system: str
    user: str
    sha256: str

    @property
    def tag(self) -> str:
        """The prompt_version written with each label: version line @ first 8 hex digits of the text's SHA-256."""
        return f"{self.version}@{self.sha256[:8]}"

    def messages(self, document: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system},
                {"role": "user", "content": self.user.replace(_DOCUMENT, document)}]


def load_prompt(name: str, directory: str | Path = "") -> Prompt:
    """The prompt in ``<directory>/<name>.md``: its ``version:`` line and the fenced ``text`` blocks under
    ``## System`` and ``## User`` (the rest of the file documents it and is not sent)."""
    path = Path(directory or PROMPTS_DIR) / f"{name}.md"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.md"))
        raise ValueError(f"no prompt {path} for classifier {name!r}; known: {', '.join(known) or 'none'}")
    text = path.read_text(encoding="utf-8")
    version = _VERSION.search(text)
    blocks = {title.lower(): body for title, body in _BLOCK.findall(text)}
    if version is None or set(blocks) != {"system", "user"} or blocks["user"].count(_DOCUMENT) != 1:
        raise ValueError(f"{path}: a prompt needs a 'version:' line, and ```text blocks under '## System' and "
                         f"'## User', the user block holding {_DOCUMENT} once")
    digest = hashlib.sha256(json.dumps([blocks["system"], blocks["user"]]).encode()).hexdigest()
    return Prompt(name, version.group(1), blocks["system"], blocks["user"], digest)


def truncate(text: str, max_chars: int) -> str:
    """The first ``max_chars`` characters, cut at the last whitespace; hard cut when that would keep less than half
    (text without spaces, as Chinese or Japanese)."""
    if max_chars <= 0 or len(text) <= max_chars:
        return text
    cut = max(text.rfind(space, 0, max_chars + 1) for space in " \n\t")
    return text[: cut if cut >= max_chars // 2 else max_chars].rstrip()


def parse_answer(content: str) -> tuple[int, str]:
    """(score, reason) from the model's answer; MalformedAnswer when it holds no integer score in 0-5.

    Read, in order: the first JSON object with a ``score`` key anywhere in the answer (so code fences and text
    around it do not matter), else the last ``Score: N`` (FineWeb-Edu's format; the reason is then the whole
    answer). A ``<think>...</think>`` block of a reasoning model is skipped first."""
    text = _THINK.sub("", content)
    answer = _json_with_score(text)
    if answer is not None:
        score, reason = answer["score"], answer.get("reason") or ""
    else:
        matches = _SCORE_LINE.findall(text)
        if not matches:
            raise MalformedAnswer(f"no JSON object with a score and no 'Score: N' in {content[:200]!r}")
        score, reason = matches[-1], " ".join(text.split())
    return _valid_score(score), str(reason).strip()


def _json_with_score(text: str) -> dict | None:
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _end = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            value = {str(key).lower(): item for key, item in value.items()}
            if "score" in value:
                return value
    return None


def _valid_score(score: object) -> int:
    if isinstance(score, str):
        try:
            score = float(score.strip())
        except ValueError:
            raise MalformedAnswer(f"score {score!r} is not a number") from None
    if isinstance(score, bool) or not isinstance(score, (int, float)) or (
            isinstance(score, float) and not score.is_integer()):  # also NaN and infinities
        raise MalformedAnswer(f"score {score!r} is not an integer")
    if not 0 <= score <= MAX_SCORE:
        raise MalformedAnswer(f"score {score!r} is outside 0-{MAX_SCORE}")
    return int(score)


def cache_key(model: str, prompt: Prompt, text: str) -> str:
    """SHA-256 of everything that decides the label: model, prompt version and text, classifier, document."""
    return hashlib.sha256(json.dumps([model, prompt.version, prompt.sha256, prompt.name, text]).encode()).hexdigest()


class LabelCache:
    """Labels in SQLite, committed one by one. Used from one thread: the job's main thread, which receives every
    answer, is its single writer (sqlite3 refuses other threads)."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        # WAL: a commit is one append; synchronous=NORMAL keeps every commit through a crash of this process
        # (only a power loss can drop the last ones, which the next run then asks again)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS labels (key TEXT PRIMARY KEY, score INTEGER NOT NULL, "
                         "reason TEXT NOT NULL, classifier TEXT, model TEXT, prompt_version TEXT, created REAL)")
        self._db.commit()

    def get(self, key: str) -> tuple[int, str] | None:
        return self._db.execute("SELECT score, reason FROM labels WHERE key = ?", (key,)).fetchone()

    def put(self, key: str, score: int, reason: str, prompt: Prompt, model: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (key, score, reason, prompt.name, model, prompt.tag, time.time()))
        self._db.commit()

    def close(self) -> None:
        self._db.close()


def read_documents(path: str, languages: Sequence[str] = ()) -> Iterator[Mapping]:
    """Documents (``id``, ``text``, ...) of a JSONL file (``.jsonl``/``.json``, compressed too) or else of Parquet
    (the curate job's ``documents/`` directory, a file, or a URL pyarrow reads), read in batches; with
    ``languages``, only those whose ``language`` is one of them."""
    if re.search(r"\.jsonl?(\.\w+)?$", path):
        yield from _read_jsonl(path, languages)
    else:
        yield from _read_parquet(path, languages)


def _read_parquet(path: str, languages: Sequence[str]) -> Iterator[Mapping]:
    import pyarrow.dataset as ds

    dataset = ds.dataset(path, format="parquet", partitioning="hive")
    names = set(dataset.schema.names)
    if not {"id", "text"} <= names or (languages and "language" not in names):
        raise ValueError(f"{path}: Parquet documents need columns id and text (and language for --languages)")
    where = ds.field("language").isin(list(languages)) if languages else None
    for batch in dataset.to_batches(columns=["id", "text"], filter=where, batch_size=_READ_BATCH_ROWS):
        yield from batch.to_pylist()


def _read_jsonl(path: str, languages: Sequence[str]) -> Iterator[Mapping]:
    import fsspec

    with fsspec.open(path, "rt", encoding="utf-8", compression="infer") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                document = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc})") from exc
            if not isinstance(document, dict) or document.get("id") is None or not isinstance(
                    document.get("text"), str):
                raise ValueError(f"{path}:{number}: a document needs an 'id' and a string 'text'")
            if not languages or document.get("language") in languages:
                yield document


@dataclass
class AnnotateSummary:
    """Counts of one run; ``labels`` includes the ``cached`` ones, ``requests`` every attempt sent."""

    threshold: int
    documents: int = 0
    labels: int = 0
    cached: int = 0
    errors: int = 0
    requests: int = 0
    positives: Counter = field(default_factory=Counter)
    scored: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def __str__(self) -> str:
        rates = ", ".join(f"{name} {self.positives[name]}/{count} ({self.positives[name] / count:.1%})"
                          for name, count in sorted(self.scored.items()))
        return (f"annotate: {self.documents} documents, {self.labels} labels ({self.cached} from the cache), "
                f"{self.errors} errors, {self.requests} requests, {self.seconds:.1f} s; "
                f"label (score >= {self.threshold}): {rates or 'none'}")


class _Run:
    """One annotation run: cache lookups, requests in flight, and the output lines, all on the calling thread."""

    def __init__(self, config: AnnotateConfig, client: ChatClient, cache: LabelCache, pool: ThreadPoolExecutor,
                 out: typing.TextIO) -> None:
        self.config, self.client, self.cache, self.pool, self.out = config, client, cache, pool, out
        self.prompts = [load_prompt(name, config.prompts_dir) for name in config.classifiers]
        self.summary = AnnotateSummary(config.threshold)
        self.pending: dict[Future, tuple[str, Prompt]] = {}
        self.waiting: dict[str, list] = {}  # cache key in flight -> ids of the documents waiting for its label

    def add(self, document: Mapping) -> None:
        """Writes the document's cached labels and sends the others."""
        self.summary.documents += 1
        text = truncate(document["text"] or "", self.config.max_chars)
        for prompt in self.prompts:
            if not text.strip():
                self.write(document["id"], prompt, error="empty text")
                continue
            key = cache_key(self.client.config.model, prompt, text)
            if key in self.waiting:
                self.waiting[key].append(document["id"])
            elif (hit := self.cache.get(key)) is not None:
                self.summary.cached += 1
                self.write(document["id"], prompt, *hit)
            else:
                self.waiting[key] = [document["id"]]
                self.pending[self.pool.submit(self.client.complete, prompt.messages(text), parse_answer)] = key, prompt

    def drain(self, keep: int) -> None:
        """Writes answers as they come until at most ``keep`` requests are in flight."""
        while len(self.pending) > keep:
            done, _running = wait(self.pending, return_when=FIRST_COMPLETED)
            for future in done:
                key, prompt = self.pending.pop(future)
                ids = self.waiting.pop(key)
                try:
                    score, reason = future.result()
                except EndpointError:
                    raise
                except ChatError as exc:
                    for document_id in ids:
                        self.write(document_id, prompt, error=str(exc))
                    continue
                self.cache.put(key, score, reason, prompt, self.client.config.model)
                for document_id in ids:
                    self.write(document_id, prompt, score, reason)

    def write(self, document_id, prompt: Prompt, score: int | None = None, reason: str | None = None,
              error: str | None = None) -> None:
        label = None if score is None else score >= self.config.threshold
        if error is None:
            self.summary.labels += 1
            self.summary.scored[prompt.name] += 1
            self.summary.positives[prompt.name] += label
        else:
            self.summary.errors += 1
        self.out.write(json.dumps({"id": document_id, "classifier": prompt.name, "score": score, "label": label,
                                   "model": self.client.config.model, "prompt_version": prompt.tag,
                                   "reason": reason, "error": error}, ensure_ascii=False) + "\n")


def annotate(documents: Iterable[Mapping], output: str | Path, config: AnnotateConfig = AnnotateConfig(),
             client: ChatClient | None = None) -> AnnotateSummary:
    """Labels every document with every classifier of ``config`` into the JSONL file ``output``; raises
    EndpointError when the endpoint refuses every request (labels received until then stay cached)."""
    if not config.classifiers or not 0 <= config.threshold <= MAX_SCORE or config.concurrency < 1:
        raise ValueError(f"need at least one classifier, a threshold in 0-{MAX_SCORE} and concurrency >= 1")
    client = client or ChatClient()
    started, requests_before = time.monotonic(), client.requests_sent
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    cache = LabelCache(config.cache_path)
    pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="annotate")
    try:
        with partial.open("w", encoding="utf-8") as out:
            run = _Run(config, client, cache, pool, out)
            for document in itertools.islice(documents, config.max_documents or None):
                run.drain(keep=max(2 * config.concurrency - len(run.prompts), 0))
                run.add(document)
                if config.progress_every and run.summary.documents % config.progress_every == 0:
                    run.summary.requests = client.requests_sent - requests_before
                    print(run.summary, file=sys.stderr, flush=True)
            run.drain(keep=0)
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        cache.close()
    run.summary.requests = client.requests_sent - requests_before
    run.summary.seconds = time.monotonic() - started
    return run.summary


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m classifiers.annotate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, help="Parquet directory (curate's documents/) or JSONL file")
    parser.add_argument("--output", required=True, help="labels JSONL file to write")
    from pipeline.cli import add_dataclass_arguments  # imported late: pipeline.config loads much

    for cls in (ChatConfig, AnnotateConfig):
        add_dataclass_arguments(parser, cls)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from pipeline.cli import dataclass_from_arguments

    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = dataclass_from_arguments(AnnotateConfig, args)
        client = ChatClient(dataclass_from_arguments(ChatConfig, args))
        summary = annotate(read_documents(args.input, config.languages), args.output, config, client)
    except EndpointError as exc:
        print(f"annotate: the endpoint refuses requests: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"annotate: {exc}", file=sys.stderr)
        return 2
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
