"""fastText quality classifier, after Llama 3 (2024) §3.1.1 "Model-based quality filtering": "we use fast
classifiers such as fasttext trained to recognize if a given text would be referenced by Wikipedia (Touvron et al.,
2023a)". LLaMA 1 (Touvron et al. 2023a, §2 "English CommonCrawl") trained "a linear model to classify pages used
as references in Wikipedia v.s. randomly sampled pages, and discarded pages not classified as references".

The model is a fastText supervised classifier (Joulin et al. 2016, "Bag of Tricks for Efficient Text
Classification"): the averaged embeddings of a document's words and word bigrams, then a linear softmax. Its score
for a document is the probability of the positive label ("wiki": Wikipedia-like), in [0, 1]. The shipped
``pipeline/resources/models/wikipedia_fasttext.ftz`` is a small English *demo* model, trained on WikiText-2
articles against random crawl pages; ``wikipedia_fasttext.json`` beside it records its training data,
hyperparameters and held-out metrics, and ``classifiers/wikipedia_fasttext.py`` trains a real one (from the
pages Wikipedia cites, with ``--reference-urls``).

``prepare`` turns a document into the one line the model reads, for training and scoring alike: lower-cased, every
digit as 0, punctuation split off words (as fastText's tutorial preprocesses), at most ``max_chars`` long.
A ``FastTextClassifier`` holds only its config, so it pickles to Spark workers; each process loads the model
itself, once, on first use.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass

import regex

from pipeline.multilingual.language_id import _load_model
from pipeline.resources import shipped

# The shipped demo model and its metadata (.json beside it), under pipeline/resources.
SHIPPED_MODEL = "models/wikipedia_fasttext.ftz"
LABEL_PREFIX = "__label__"
# A run of letters, marks and digits is a word; every other visible character is a token of its own.
_TOKEN = regex.compile(r"[\p{L}\p{M}\p{N}]+|[^\p{L}\p{M}\p{N}\s]")
_DIGIT = regex.compile(r"\p{Nd}")


@dataclass(frozen=True)
class FastTextClassifierConfig:
    """Options of FastTextClassifier, with the reason for each default beside it."""

    # fastText supervised model file; "" = the shipped demo model (WikiText-2 vs crawl pages, English).
    model_path: str = ""
    # Label whose probability is the score: the shipped model's labels are "wiki" (positive) and "cc".
    positive_label: str = "wiki"
    # Characters of the prepared line the model reads (0 = all); use the model's training value (its .json says).
    # 5,000 is the whole of 83% of the sample's pages and an article's lead and first sections; held-out AUC of
    # the demo model is the same, within its noise, at 2,000, 10,000 or all, and cost grows with length.
    max_chars: int = 5_000


class FastTextClassifier:
    """Scores batches of documents with a fastText classifier; holds only its config (picklable to workers)."""

    def __init__(self, config: FastTextClassifierConfig = FastTextClassifierConfig()) -> None:
        if config.max_chars < 0:
            raise ValueError(f"max_chars must be >= 0, not {config.max_chars}")
        self.config = config

    def prepare(self, text: str) -> str:
        """The text as one line of lower-case tokens, at most ``max_chars`` long, cut at a token boundary.

        fastText splits on whitespace only, so punctuation is split off ("word," and "word ," become one token
        and a comma is a feature), and case and digits are folded ("1987" -> "0000") so that a few hundred
        training documents do not spread over spellings. The raw text is sliced at twice the cap first, so a
        5 MB page is not tokenised whole."""
        cap = self.config.max_chars
        if cap and len(text) > 2 * cap:
            text = text[: 2 * cap]
        line = " ".join(_TOKEN.findall(_DIGIT.sub("0", text.lower())))
        if cap and len(line) > cap:
            cut = line.rfind(" ", 0, cap + 1)
            line = line[: cut if cut > 0 else cap]
        return line

    def score(self, texts: Sequence[str]) -> list[float]:
        """Probability of the positive label for each text, from one batched model call; a text with no tokens
        scores 0 without asking the model."""
        lines = [self.prepare(text) for text in texts]
        batch = [line for line in lines if line]
        scores = iter(positive_probabilities(self._model(), batch, self.config.positive_label))
        return [next(scores) if line else 0.0 for line in lines]

    def _model(self):
        return _classifier_model(self.config.model_path, self.config.positive_label)


def positive_probabilities(model, lines: Sequence[str], positive_label: str) -> list[float]:
    """Probability of ``positive_label`` for each prepared line, from one ``predict`` call (k=2: both labels of a
    binary model); the training job evaluates its model with this too."""
    if not lines:
        return []
    target = LABEL_PREFIX + positive_label
    labels, probabilities = model.predict(list(lines), k=2)
    # softmax scores of a quantised model can come out at 1.00007
    return [min(next((float(p) for label, p in zip(ls, ps, strict=True) if label == target), 0.0), 1.0)
            for ls, ps in zip(labels, probabilities, strict=True)]


@functools.cache
def _classifier_model(path: str, positive_label: str):
    """The model at ``path`` ("" = the shipped one), loaded once per process, checked to have the positive label,
    which would otherwise score every document 0."""
    if path:
        model = _load_model(path)
    else:
        with importlib.resources.as_file(shipped(SHIPPED_MODEL)) as local:  # fastText reads files, not streams
            model = _load_model(str(local))
    if LABEL_PREFIX + positive_label not in model.get_labels():
        known = ", ".join(label.removeprefix(LABEL_PREFIX) for label in model.get_labels())
        raise ValueError(f"{path} has no label {positive_label!r} (its labels: {known})")
    return model
