"""Per-stage statistics: documents and bytes in and out, drop reasons, wall time.

Built from a handful of aggregated rows ``(stage, reason, records, payload_bytes, text_bytes)`` where ``stage`` is
the stage that rejected the records, or None for the records kept; so the numbers always balance:
records read = kept + rejected.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field


@dataclass
class StageStats:
    stage: str
    docs_in: int = 0
    docs_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


@dataclass
class RunStats:
    stages: list[StageStats]
    records_read: int
    kept: int
    rejected: int
    input_files: int
    # damaged records and unreadable regions of the input (their rows are in rejected/ as stage "read")
    input_problems: list[dict] = field(default_factory=list)
    # the readers' accounting summed over the input files: record headers seen, damage rows, records recovered
    # after damage, bytes skipped, files with damage
    input_read: dict[str, int] = field(default_factory=dict)
    # per language: documents labelled, rejected per later stage, kept, and tokens kept
    languages: dict[str, dict] = field(default_factory=dict)
    # wall seconds of each phase of the job (of the attempt that finished it, when the run was resumed)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    # versions of the project, its main libraries and the model files the run used
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.records_read == self.kept + self.rejected

    def to_dict(self) -> dict:
        return {**asdict(self), "balanced": self.balanced}

    @classmethod
    def from_dict(cls, values: dict) -> RunStats:
        """The statistics as ``to_dict`` wrote them (stats.json)."""
        fields = {k: v for k, v in values.items() if k != "balanced"}
        return cls(**{**fields, "stages": [StageStats(**stage) for stage in fields["stages"]]})


def build_stats(
    rows: Iterable[tuple],
    stage_order: Sequence[str],
    text_stages: Sequence[str] = ("extract",),
    trim_stages: Sequence[str] = ("line_dedup",),
    input_files: int = 0,
    input_problems: list[dict] | None = None,
) -> RunStats:
    """Per-stage figures from aggregated rows ``(stage, reason, records, payload_bytes, text_bytes, *trimmed)``.

    Stages in ``text_stages`` output text bytes (not payload bytes); ``trimmed`` holds, per stage of
    ``trim_stages`` in that order, the text bytes it removed from documents without rejecting them (line dedup and
    the repeated-content filter shorten documents; PII redaction changes their length)."""
    rejected = {s: Counter() for s in stage_order}
    rejected_payload, rejected_text = Counter(), Counter()
    kept = kept_payload = kept_text = 0
    trimmed = Counter()
    for stage, reason, records, payload_bytes, text_bytes, *rest in rows:
        for trim_stage, removed in zip(trim_stages, rest, strict=False):
            trimmed[trim_stage] += removed or 0
        if stage is None:
            kept += records
            kept_payload += payload_bytes or 0
            kept_text += text_bytes or 0
            continue
        if stage not in rejected:
            raise ValueError(f"unknown stage {stage!r} (known: {', '.join(stage_order)})")
        rejected[stage][reason] += records
        rejected_payload[stage] += payload_bytes or 0
        rejected_text[stage] += text_bytes or 0
    docs = kept + sum(sum(c.values()) for c in rejected.values())
    size = kept_payload + sum(rejected_payload.values())
    stages, text_mode = [], False
    for i, name in enumerate(stage_order):
        entry = StageStats(name, docs_in=docs, bytes_in=size, rejected=dict(rejected[name].most_common()))
        docs -= sum(rejected[name].values())
        if name in text_stages:  # bytes are counted as extracted text from here on
            size = kept_text + sum(rejected_text[later] for later in stage_order[i + 1:])
            size += sum(trimmed[later] for later in stage_order[i + 1:])
            text_mode = True
        else:
            size -= rejected_text[name] if text_mode else rejected_payload[name]
            size -= trimmed[name]
        entry.docs_out, entry.bytes_out = docs, size
        stages.append(entry)
    total = stages[0].docs_in if stages else kept
    return RunStats(stages, records_read=total, kept=kept, rejected=total - kept,
                    input_files=input_files, input_problems=input_problems or [])


def language_table(rows: Iterable[tuple[str | None, str | None, int, float]]) -> dict[str, dict]:
    """``{language: {"labelled", "kept", "tokens", "rejected": {stage: n}}}`` from aggregated
    ``(language, stage, documents, tokens)`` rows of the documents that reached language ID."""
    table: dict[str, dict] = {}
    for language, stage, documents, tokens in rows:
        entry = table.setdefault(language or "none", {"labelled": 0, "kept": 0, "tokens": 0, "rejected": {}})
        entry["labelled"] += documents
        if stage is None:
            entry["kept"] += documents
            entry["tokens"] += int(tokens or 0)
        else:
            entry["rejected"][stage] = entry["rejected"].get(stage, 0) + documents
    return dict(sorted(table.items(), key=lambda item: -item[1]["kept"]))


def format_summary(stats: RunStats, top_reasons: int = 8, top_languages: int = 25) -> str:
    """The table printed at the end of a run."""
    lines = [f"{'stage':<13} {'docs in':>11} {'docs out':>11} {'MB in':>9} {'MB out':>9}", "-" * 56]
    for s in stats.stages:
        lines.append(f"{s.stage:<13} {s.docs_in:>11,} {s.docs_out:>11,} {s.bytes_in / 1e6:>9.2f} "
                     f"{s.bytes_out / 1e6:>9.2f}")
    lines.append("-" * 56)
    status = "balanced" if stats.balanced else "NOT BALANCED"
    lines.append(f"records read {stats.records_read:,} = kept {stats.kept:,} + rejected {stats.rejected:,} "
                 f"({status}); input files {stats.input_files:,}")
    if stats.phase_seconds:
        lines.append("seconds per phase: " + ", ".join(f"{phase} {seconds:.1f}"
                                                       for phase, seconds in stats.phase_seconds.items()))
    reasons = Counter()
    for s in stats.stages:
        for reason, n in s.rejected.items():
            reasons[(s.stage, reason)] += n
    if reasons:
        lines.append("top drop reasons:")
        for (stage, reason), n in reasons.most_common(top_reasons):
            lines.append(f"  {n:>10,}  {stage}/{reason}")
    if stats.languages:
        stages = sorted({stage for entry in stats.languages.values() for stage in entry["rejected"]})
        lines.append(f"documents per language ({len(stats.languages)} languages; tokens: words, segmented per "
                     "script):")
        lines.append(f"  {'language':<9} {'labelled':>9} " + " ".join(f"{'-' + s:>14}" for s in stages)
                     + f" {'kept':>8} {'tokens':>12}")
        for language, entry in list(stats.languages.items())[:top_languages]:
            dropped = " ".join(f"{entry['rejected'].get(s, 0):>14,}" for s in stages)
            lines.append(f"  {language:<9} {entry['labelled']:>9,} {dropped} {entry['kept']:>8,} "
                         f"{entry['tokens']:>12,}")
        if len(stats.languages) > top_languages:
            lines.append(f"  ... {len(stats.languages) - top_languages} more in stats.json")
    read = stats.input_read
    if read.get("damaged"):
        lines.append(f"input damage: {read['damaged']:,} damaged record(s) or region(s) in {read['damaged_files']:,} "
                     f"file(s), {read['bytes_skipped']:,} bytes skipped, {read['recovered']:,} records read after "
                     "damage; each damaged part is a rejected row (stage read):")
        for problem in stats.input_problems[:10]:
            lines.append(f"  {problem['source_file']}: {problem['detail']}")
    return "\n".join(lines)
