"""The signals a run's report charts and ``pipeline.inspect`` prints: each one's range, its stage, its thresholds
as the config sets them, and which signals explain each drop reason.

One place for this knowledge, so that the report's histograms, their threshold marks and the inspect command's
"signals that matter for this reason" agree with each other and with the filters' configs. No Spark and no
plotting here: the report data (:mod:`pipeline.spark.report_data`) and the command both import it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from pipeline.config import CurateConfig, shipped_defaults
from pipeline.quality.scoring import DOMAINS, named_values

LANGUAGE_SCORE = "language_score"  # a column, not a signal; charted like one
SCORES = "scores."  # prefix of a classifier score's chart name (``scores.wikipedia_fasttext``)


@dataclass(frozen=True)
class SignalChart:
    """One histogram: ``bins`` equal bins over [low, high]; values outside go to an under/overflow count."""

    name: str
    title: str
    stage: str
    low: float = 0.0
    high: float = 1.0
    bins: int = 100


def signal_charts(config: CurateConfig) -> list[SignalChart]:
    """The fixed charts (the n-gram sizes come from the config); classifier scores are added from the data, since
    which classifiers ran shows only there (:func:`score_chart`)."""
    rep = config.repetition
    charts = [SignalChart("gopher_dup_line_frac", "Gopher: duplicate lines (share of lines)", "heuristics"),
              SignalChart("gopher_dup_line_char_frac", "Gopher: duplicate lines (share of characters)", "heuristics"),
              SignalChart("gopher_dup_para_frac", "Gopher: duplicate paragraphs (share)", "heuristics"),
              SignalChart("gopher_dup_para_char_frac", "Gopher: duplicate paragraphs (characters)", "heuristics")]
    charts += [SignalChart(f"gopher_top_{n}gram_char_frac", f"Gopher: top {n}-gram (characters)", "heuristics")
               for n in rep.top_ngram_sizes]
    charts += [SignalChart(f"gopher_dup_{n}gram_char_frac", f"Gopher: repeated {n}-grams (characters)", "heuristics")
               for n in rep.dup_ngram_sizes]
    return charts + [
        SignalChart("repeated_content_removed_fraction", "Repeated-content lines removed (share of characters)",
                    "heuristics"),
        # 0.002 a bin: the dirty-page and explicit-page rates (1%, 1.2%) fall on bin edges
        SignalChart("dirty_word_rate", "Dirty-word rate (listed words per word)", "heuristics", 0.0, 0.05, 25),
        SignalChart("token_kl_excess", "Token-distribution KL excess (nats over the length fit)", "token_kl",
                    -2.0, 4.0, 60),
        SignalChart(LANGUAGE_SCORE, "Language-ID score (lid.176 probability)", "language_id"),
    ]


def score_chart(name: str) -> SignalChart:
    """The chart of classifier ``name``'s score (a probability)."""
    return SignalChart(SCORES + name, f"Quality score: {name}", "quality")


def thresholds(config: CurateConfig) -> dict[str, list[tuple[float, str]]]:
    """{chart name: [(value, what crossing it means)]} as ``config`` sets them (the global values; see
    :func:`threshold_overrides` for languages and domains). The token-KL fence is not here: it is computed per
    language from the data, unless ``token_kl.max_excess`` fixes it."""
    rep, dirty, kl = config.repetition, config.dirty_words, config.token_kl
    limits: dict[str, list[tuple[float, str]]] = {}
    if rep.enabled:
        for name, value in (("gopher_dup_line_frac", rep.max_dup_line_frac),
                            ("gopher_dup_line_char_frac", rep.max_dup_line_char_frac),
                            ("gopher_dup_para_frac", rep.max_dup_para_frac),
                            ("gopher_dup_para_char_frac", rep.max_dup_para_char_frac)):
            limits[name] = [(value, "dropped above")]
        for kind, sizes, values in (("top", rep.top_ngram_sizes, rep.max_top_ngram_char_frac),
                                    ("dup", rep.dup_ngram_sizes, rep.max_dup_ngram_char_frac)):
            for n, value in zip(sizes, values, strict=False):
                limits[f"gopher_{kind}_{n}gram_char_frac"] = [(value, "dropped above")]
    if config.repeated_lines.enabled:
        limits["repeated_content_removed_fraction"] = [(config.repeated_lines.max_removed_fraction, "dropped above")]
    if dirty.enabled:
        limits["dirty_word_rate"] = [
            (dirty.max_rate, f"dirty page (site evidence) from here, with {dirty.min_count}+ words, "
                             f"{dirty.min_distinct}+ different"),
            (dirty.page_min_rate, f"explicit page dropped from here, with {dirty.page_min_count}+ words, "
                                  f"{dirty.page_min_distinct}+ different")]
    if kl.enabled and kl.max_excess > 0:
        limits["token_kl_excess"] = [(kl.max_excess, "dropped above")]
    if config.language_id.enabled:
        limits[LANGUAGE_SCORE] = [(config.language_id.threshold, "low confidence below")]
    for name, minimum in named_values(config.quality.min_scores, float).items():
        limits[SCORES + name] = [(minimum, "dropped below")]
    for domain in DOMAINS:
        limits.setdefault(SCORES + domain, []).append((config.quality.domain_threshold, f"{domain} page from here"))
    return limits


def _values(limits: list[tuple[float, str]]) -> str:
    return ", ".join(f"{value:g}" for value, _ in limits) or "off"


def threshold_overrides(config: CurateConfig) -> dict[str, list[str]]:
    """{chart name: ["th: 0.2", "code pages: 0.55", ...]}: where a language or a domain (the shipped defaults and
    the config's tables) judges a signal against another value than the global one."""
    base = thresholds(config)
    found: dict[str, list[str]] = {}
    for kind, label in (("languages", "{}"), ("domains", "{} pages")):
        names = sorted(set(shipped_defaults(kind)) | set(getattr(config, kind)))
        for name in names:
            local = thresholds(config.for_language(name) if kind == "languages" else config.for_language(None, name))
            for chart in sorted(set(base) | set(local)):
                if local.get(chart, []) != base.get(chart, []):
                    found.setdefault(chart, []).append(f"{label.format(name)}: {_values(local.get(chart, []))}")
    for language, value in named_values(config.language_id.language_thresholds, float).items():
        found.setdefault(LANGUAGE_SCORE, []).append(f"{language}: {value:g}")
    return found


# The signals that explain each drop reason (fnmatch patterns over signal names; language_score is a column,
# which the report and the inspect command show for every document).
REASON_SIGNALS = {
    "low_language_confidence": ("language_runner_up_score",),
    "pii_heavy_domain": ("pii_count", "pii_per_1k_words", "pii_dense"),
    "empty_after_line_dedup": ("line_dedup_removed_*",),
    "too_short_after_line_dedup": ("line_dedup_removed_*", "tokens"),
    "adult_site": ("dirty_word_*", "dirty_page"),
    "dirty_words": ("dirty_word_*",),
    "mostly_repeated_content": ("repeated_content_removed_*",),
    "dup_line_fraction": ("gopher_dup_line_*",),
    "dup_paragraph_fraction": ("gopher_dup_para_*",),
    "top_ngram_fraction": ("gopher_top_*gram_char_frac",),
    "dup_ngram_fraction": ("gopher_dup_*gram_char_frac",),
    "token_kl_outlier": ("token_kl", "token_kl_excess", "tokens"),
}


def reason_signals(reason: str | None, names: list[str]) -> list[str]:
    """Those of ``names`` (signal names a row has) that explain ``reason``, in the order of ``names``; for a kept
    document (reason None) its token count."""
    patterns = REASON_SIGNALS.get(reason, ()) if reason else ("tokens",)
    return [name for name in names if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]


def excerpt(text: str | None, chars: int = 300) -> str:
    """The start of ``text``, about ``chars`` long, cut at a space, blank-line runs squeezed: what the report and
    the inspect command show of a document."""
    if not text:
        return ""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    squeezed = "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1]))
    if len(squeezed) <= chars:
        return squeezed
    cut = squeezed[:chars]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:space] if space > chars // 2 else cut).rstrip() + " …"
