"""The LLM annotation job against a local OpenAI-style chat server: labels, retries, malformed answers, the label
cache across runs, the rate limit, and the input readers."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifiers.annotate import (
    PROMPTS_DIR,
    AnnotateConfig,
    annotate,
    load_prompt,
    main,
    parse_answer,
    read_documents,
    truncate,
)
from classifiers.llm_client import ChatClient, ChatConfig, EndpointError, MalformedAnswer, retry_after_seconds


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None  # body sent instead of a chat completion


def good(doc: str, _attempt: int) -> Reply:
    """A well-formed answer whose score is the document's number modulo 6."""
    return Reply(json.dumps({"reason": f"judged {doc}", "score": int(doc[3:]) % 6}))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # socketserver's 5 refuses connections when many client threads connect at once


class FakeLLM:
    """POST /v1/chat/completions on 127.0.0.1: ``answer(doc, attempt)`` makes each reply, where ``doc`` is the
    ``docN`` word of the user message and ``attempt`` counts that document's requests (1 = first)."""

    def __init__(self, answer: Callable[[str, int], Reply] = good) -> None:
        self.answer, self.requests, self.bodies, self.times = answer, Counter(), [], []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                doc = re.search(r"\bdoc\d+\b", body["messages"][1]["content"]).group()
                with fake.lock:
                    fake.requests[doc] += 1
                    fake.bodies.append((self.path, dict(self.headers), body))
                    fake.times.append(time.monotonic())
                    attempt = fake.requests[doc]
                reply = fake.answer(doc, attempt)
                time.sleep(reply.delay)
                payload = reply.raw or json.dumps({"choices": [{"index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant", "content": reply.content}}]}).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def llm(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    servers = []

    def start(answer=good):
        servers.append(FakeLLM(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def client_for(server: FakeLLM, **overrides) -> ChatClient:
    settings = dict(endpoint=server.url, model="test-model", api_key_env="TEST_LLM_KEY", timeout_seconds=2.0,
                    max_retries=3, backoff_seconds=0.001, max_backoff_seconds=0.01)
    return ChatClient(ChatConfig(**{**settings, **overrides}))


def docs(*numbers: int) -> list[dict]:
    return [{"id": f"id{n}", "text": f"doc{n} is a page about topic {n}."} for n in numbers]


def run(server, tmp_path, documents, client=None, **overrides):
    config = AnnotateConfig(**{"cache_path": str(tmp_path / "cache.sqlite"), "concurrency": 4, **overrides})
    output = tmp_path / "labels.jsonl"
    summary = annotate(documents, output, config, client or client_for(server))
    with output.open() as lines:
        return summary, {(r["id"], r["classifier"]): r for r in map(json.loads, lines)}


def test_labels_are_written_with_the_scores_of_the_answers(llm, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test")
    formats = {  # every way a model wraps its answer that parse_answer must read
        "doc1": '{"reason": "plain", "score": 1}',
        "doc2": 'Sure! Here is my evaluation:\n```json\n{"score": 2, "reason": "fenced"}\n```\nHope it helps.',
        "doc3": '<think>maybe {"score": 0}?</think>{"Score": "3", "reason": "after thinking"}',
        "doc4": "The page is clear and informative.\nEducational score: 4",
        "doc5": '{"reason": "float", "score": 5.0}',
    }
    server = llm(lambda doc, _attempt: Reply(formats[doc]))
    summary, labels = run(server, tmp_path, docs(1, 2, 3, 4, 5))

    assert {doc_id: r["score"] for (doc_id, _), r in labels.items()} == {"id1": 1, "id2": 2, "id3": 3, "id4": 4,
                                                                         "id5": 5}
    assert [labels[f"id{n}", "quality"]["label"] for n in range(1, 6)] == [False, False, True, True, True]
    assert labels["id2", "quality"]["reason"] == "fenced"
    assert "Educational score: 4" in labels["id4", "quality"]["reason"]
    prompt = load_prompt("quality")
    assert all(r["model"] == "test-model" and r["prompt_version"] == prompt.tag and r["error"] is None
               for r in labels.values())
    assert (summary.documents, summary.labels, summary.errors, summary.requests) == (5, 5, 0, 5)
    assert summary.positives["quality"] == 3
    path, headers, body = next(sent for sent in server.bodies if "doc1 " in sent[2]["messages"][1]["content"])
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "test-model" and body["temperature"] == 0.0 and body["max_tokens"] == 256
    assert body["messages"][0] == {"role": "system", "content": prompt.system}
    assert body["messages"][1]["content"] == prompt.user.replace("{document}", docs(1)[0]["text"])  # sent whole


def test_every_classifier_gets_its_prompt_and_the_document_is_truncated(llm, tmp_path):
    server = llm()
    text = "doc3 " + "word " * 40
    _summary, labels = run(server, tmp_path, [{"id": "a", "text": text}], classifiers=("quality", "code", "reasoning"),
                           max_chars=50)
    assert {classifier for _, classifier in labels} == {"quality", "code", "reasoning"}
    assert server.requests["doc3"] == 3
    systems = {body["messages"][0]["content"] for _, _, body in server.bodies}
    assert systems == {load_prompt(name).system for name in ("quality", "code", "reasoning")}
    sent = {body["messages"][1]["content"] for _, _, body in server.bodies}
    assert sent == {load_prompt("quality").user.replace("{document}", truncate(text, 50))}
    assert len(truncate(text, 50)) <= 50


def test_a_request_past_the_timeout_is_retried(llm, tmp_path):
    server = llm(lambda doc, attempt: Reply('{"score": 4, "reason": "late"}', delay=1.0 if attempt == 1 else 0))
    started = time.monotonic()
    _summary, labels = run(server, tmp_path, docs(7), client=client_for(server, timeout_seconds=0.3))
    assert labels["id7", "quality"]["score"] == 4 and labels["id7", "quality"]["error"] is None
    assert server.requests["doc7"] == 2
    assert time.monotonic() - started < 1.0  # the client gave up on the first attempt at its timeout


def test_malformed_answers_and_server_errors_are_retried_and_a_hopeless_document_gets_an_error(llm, tmp_path):
    first_attempts = {
        "doc1": Reply("I think this page is rather good."),  # no JSON, no score
        "doc2": Reply('{"score": 7, "reason": "out of range"}'),
        "doc3": Reply('{"score": 2.5, "reason": "not an integer"}'),
        "doc4": Reply("overloaded", status=500),
        "doc5": Reply("slow down", status=429, headers={"Retry-After": "0"}),
        "doc6": Reply(raw=b'{"error": "not a chat completion"}'),
    }

    def answer(doc, attempt):
        if doc == "doc8":  # never answers well
            return Reply('{"score": -1, "reason": "negative"}')
        if doc == "doc9":  # a request the server refuses for good: no retry
            return Reply('{"object": "error", "message": "maximum context length exceeded"}', status=400)
        return first_attempts[doc] if attempt == 1 and doc in first_attempts else good(doc, attempt)

    server = llm(answer)
    summary, labels = run(server, tmp_path, docs(1, 2, 3, 4, 5, 6, 8, 9))
    for n in (1, 2, 3, 4, 5, 6):
        assert labels[f"id{n}", "quality"]["score"] == n % 6 and server.requests[f"doc{n}"] == 2
    hopeless = labels["id8", "quality"]
    assert hopeless["score"] is None and hopeless["label"] is None
    assert "malformed answer" in hopeless["error"] and "outside 0-5" in hopeless["error"]
    assert server.requests["doc8"] == 4  # max_retries=3: four attempts
    assert server.requests["doc9"] == 1 and "HTTP 400" in labels["id9", "quality"]["error"]
    assert (summary.labels, summary.errors, summary.requests) == (6, 2, 17)


def test_retry_after_is_honoured(llm, tmp_path):
    server = llm(lambda doc, attempt: Reply("busy", status=503, headers={"Retry-After": "1"}) if attempt == 1
                 else good(doc, attempt))
    _summary, labels = run(server, tmp_path, docs(2), client=client_for(server, max_backoff_seconds=5.0))
    assert labels["id2", "quality"]["score"] == 2
    assert server.times[1] - server.times[0] >= 0.95


def test_retry_after_header_values():
    assert retry_after_seconds("2") == 2.0 and retry_after_seconds("-3") == 0.0
    assert 8 < retry_after_seconds(formatdate(time.time() + 10, usegmt=True)) <= 10
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


def test_a_rerun_sends_only_what_has_no_label_yet(llm, tmp_path):
    failing = {"doc2", "doc5"}
    down = llm(lambda doc, attempt: Reply("down", status=502) if doc in failing else good(doc, attempt))
    summary, labels = run(down, tmp_path, docs(*range(1, 7)))
    assert summary.errors == 2 and {doc_id for (doc_id, _), r in labels.items() if r["error"]} == {"id2", "id5"}

    healthy = llm()
    summary, labels = run(healthy, tmp_path, docs(*range(1, 7)))
    assert healthy.requests == Counter({"doc2": 1, "doc5": 1})
    assert summary.cached == 4 and summary.errors == 0
    assert {doc_id: r["score"] for (doc_id, _), r in labels.items()} == {f"id{n}": n % 6 for n in range(1, 7)}

    healthy.requests.clear()
    summary, again = run(healthy, tmp_path, docs(*range(1, 7)))
    assert not healthy.requests and summary.requests == 0 and summary.cached == 6
    assert again == labels

    # another model, or an edited prompt, is another label: asked again
    run(healthy, tmp_path, docs(1), client=client_for(healthy, model="other-model"))
    edited = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, edited)
    text = (edited / "quality.md").read_text().replace("You are a strict", "You are a careful")
    (edited / "quality.md").write_text(text)
    _summary, edited_labels = run(healthy, tmp_path, docs(1), prompts_dir=str(edited))
    assert healthy.requests == Counter({"doc1": 2})
    assert edited_labels["id1", "quality"]["prompt_version"] != labels["id1", "quality"]["prompt_version"]


def test_documents_of_the_same_text_are_asked_once(llm, tmp_path):
    server = llm()
    same = [{"id": "a", "text": "doc4 twice"}, {"id": "b", "text": "doc4 twice"}, {"id": "c", "text": "  "}]
    summary, labels = run(server, tmp_path, same)
    assert server.requests["doc4"] == 1 and labels["a", "quality"]["score"] == labels["b", "quality"]["score"] == 4
    assert labels["c", "quality"]["error"] == "empty text" and summary.errors == 1


def test_the_input_is_streamed_with_a_bounded_number_of_requests_in_flight(llm, tmp_path):
    server = llm()
    unanswered = []  # per document read: documents read so far that the server has not answered yet

    def documents():
        for number, document in enumerate(docs(*range(60)), 1):
            unanswered.append(number - len(server.times))
            yield document

    summary, _labels = run(server, tmp_path, documents(), concurrency=2)
    assert summary.labels == 60 and len(unanswered) == 60
    # at most 2 x concurrency requests in flight, and the document just read (reading everything at once: 60)
    assert max(unanswered) <= 2 * 2 + 1


def test_requests_per_second_spaces_all_threads(llm, tmp_path):
    server = llm()
    started = time.monotonic()
    run(server, tmp_path, docs(*range(10)), client=client_for(server, requests_per_second=20), concurrency=8)
    assert time.monotonic() - started >= 0.43  # 10 requests at 20/s: the first at once, then one every 50 ms
    assert len(server.times) == 10 and server.times[-1] - server.times[0] >= 0.4
    gaps = sorted(later - earlier for earlier, later in zip(server.times, server.times[1:], strict=False))
    assert gaps[len(gaps) // 2] > 0.03  # spaced one by one, not in a late burst


def test_a_refusing_endpoint_stops_the_job_and_writes_no_output(llm, tmp_path):
    server = llm(lambda _doc, _attempt: Reply("invalid api key", status=401))
    with pytest.raises(EndpointError, match="HTTP 401"):
        run(server, tmp_path, docs(*range(40)))
    assert not list(tmp_path.glob("labels.jsonl*"))
    assert sum(server.requests.values()) < 40  # requests not yet started were cancelled


def test_parse_answer():
    assert parse_answer('{"score": 3, "reason": " ok "}') == (3, "ok")
    assert parse_answer('Answer: {"details": {"score": 2}}') == (2, "")
    assert parse_answer("**Score:** 5 - excellent")[0] == 5
    assert parse_answer("I would give it a score of 2. Score: 1")[0] == 1
    for bad in ("no idea", '{"reason": "no score"}', '{"score": 6}', '{"score": "high"}', '{"score": true}',
                '{"score": NaN}', "Score: 3.5"):
        with pytest.raises(MalformedAnswer):
            parse_answer(bad)


def test_truncate_cuts_at_a_word_boundary():
    assert truncate("alpha beta gamma", 0) == "alpha beta gamma"
    assert truncate("alpha beta gamma", 12) == "alpha beta"
    assert truncate("alpha beta gamma", 10) == "alpha beta"
    assert truncate("alpha\nbeta gamma", 9) == "alpha"
    assert truncate("ab cdefghijkl", 10) == "ab cdefghi"  # the last space would keep less than half: hard cut
    assert truncate("中文没有空格的文本 结束", 6) == "中文没有空格"


def test_shipped_prompts_load():
    for name in ("quality", "code", "reasoning"):
        prompt = load_prompt(name)
        assert prompt.version == f"{name}-1" and prompt.user.count("{document}") == 1
        assert '"score"' in prompt.system and "```" not in prompt.system + prompt.user
    with pytest.raises(ValueError, match="known: code, quality, reasoning"):
        load_prompt("nonexistent")


def test_read_documents_from_partitioned_parquet_and_jsonl(tmp_path):
    root = tmp_path / "documents"
    for language, ids in (("en", ["e1", "e2", "e3"]), ("de", ["d1"])):
        (root / f"language={language}").mkdir(parents=True)
        table = pa.table({"id": ids, "text": [f"text of {i}" for i in ids], "url": ["u"] * len(ids)})
        pq.write_table(table, root / f"language={language}" / "part-0.parquet")
    (root / "_SUCCESS").write_text("")
    assert sorted(d["id"] for d in read_documents(str(root))) == ["d1", "e1", "e2", "e3"]
    assert [d["id"] for d in read_documents(str(root), ("de",))] == ["d1"]

    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wt") as out:
        out.write('{"id": 1, "text": "one", "language": "en"}\n\n{"id": 2, "text": "zwei", "language": "de"}\n')
    assert [d["id"] for d in read_documents(str(path), ("de",))] == [2]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "one"}\n{"text": "no id"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        list(read_documents(str(bad)))


def test_command_line(llm, tmp_path, capsys):
    server = llm()
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in docs(*range(6))))
    output = tmp_path / "out" / "labels.jsonl"
    common = ["--input", str(source), "--output", str(output), "--endpoint", server.url, "--model", "m",
              "--cache-path", str(tmp_path / "cache.sqlite"), "--backoff-seconds", "0.001"]
    assert main([*common, "--classifiers", "quality,code", "--max-documents", "4", "--threshold", "2",
                 "--progress-every", "2"]) == 0
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(records) == 8 and {r["classifier"] for r in records} == {"quality", "code"}
    assert all(r["label"] == (r["score"] >= 2) for r in records)
    captured = capsys.readouterr()
    assert "8 labels (0 from the cache)" in captured.out and captured.err.count("annotate: ") == 2
    assert main([*common, "--threshold", "9"]) == 2 and "threshold" in capsys.readouterr().err
    assert main([*common, "--classifiers", "nonexistent"]) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0 and "--requests-per-second" in capsys.readouterr().out
