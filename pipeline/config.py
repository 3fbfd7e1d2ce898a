"""The one configuration object of the curation job, with the paper's defaults.

:class:`CurateConfig` is made of one section per stage; each section is defined beside the code it configures
(its defaults and their reasons are there). Every field can be overridden from a TOML file (a ``[section]`` table
per section) and from the command line as ``--section.field VALUE``; tuples are given comma-separated.

Thresholds of the document filters can differ per language, the way FineWeb-2 keeps one small config per language:
``pipeline/resources/languages/<lang>.toml`` ships the project's per-language defaults (``[section]`` tables,
only the fields that differ), and a TOML config file overrides them with ``[languages.<lang>.<section>]`` tables.
Pages the code and reasoning classifiers flag have their own thresholds the same way (``resources/domains/<domain>
.toml``, ``[domains.<domain>.<section>]``), applied after the language's. :meth:`CurateConfig.for_language` gives
the config a document of that language (and domain) is filtered with.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.dedup.url_dedup import UrlDedupConfig
from pipeline.extraction.html import ExtractionConfig
from pipeline.registry import PER_LANGUAGE_SECTIONS, step_sections
from pipeline.resources import shipped
from pipeline.safety.url_safety import SafetyConfig
from pipeline.warc.screening import RecordConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


# Relative to the working directory: `spark-submit jobs/curate.py` is run from the repository root.
SAMPLE_INPUT = "sample_data/shards/*.warc.gz"


@dataclass(frozen=True)
class IoConfig:
    # WARC inputs: globs, directories, or list files (``*.paths``/``*.paths.gz``, one path per line, as Common
    # Crawl's warc.paths); comma-separated. Local paths or fsspec URLs (s3://, s3a://, hdfs://, gs://, https://).
    input: str = SAMPLE_INPUT
    # Prefix joined to relative entries of a list file (Common Crawl: s3://commoncrawl/ or https://data.commoncrawl.org/).
    input_prefix: str = ""
    # Output directory: documents/ (Parquet), rejected/ (Parquet), stats.json; _work/ while the run is unfinished.
    output: str = "out"
    # Also write every rejected record with its stage and reason.
    write_rejected: bool = True
    # Keep the text of rejected documents (from extraction on) in rejected/, so drops can be read; false for a
    # smaller output (their signals and verdicts stay).
    rejected_text: bool = True
    # Start over in an output directory that holds a finished or half-finished run (else: resume or refuse).
    overwrite: bool = False
    # Keep _work/ (every pass's per-unit files) after the run finishes; by default it is deleted then.
    keep_work: bool = False


@dataclass(frozen=True)
class SparkConfig:
    # Records per unit of work (the records of one file that survived URL dedup, consecutive): a task of the
    # extract, filter and judge passes does one unit, and a crash loses at most the units in flight. 500 pages
    # take a core ~15 s to extract; a Common Crawl file (~40k records, ~17k HTML pages) makes ~35 units. Each unit
    # seeks to its first record (per-record gzip members make that possible).
    records_per_unit: int = 500
    # Rows per Arrow batch handed between Python and the JVM (bounds worker memory).
    rows_per_batch: int = 256
    # Output Parquet files per dataset (0: one per task).
    output_files: int = 0
    # Seconds between the progress lines of a long pass (records done of total, rate, time left).
    progress_seconds: float = 15.0


class _Sections:
    """The behaviour of :class:`CurateConfig`; its fields (one per section) are listed below it."""

    @classmethod
    def from_toml(cls, path: str | Path) -> CurateConfig:
        with open(path, "rb") as fh:
            return cls().updated(tomllib.load(fh))

    def updated(self, overrides: dict[str, dict[str, typing.Any]]) -> CurateConfig:
        """A copy with ``{section: {field: value}}`` applied; unknown names raise ValueError."""
        sections: dict[str, typing.Any] = {}
        for name, values in overrides.items():
            if name in ("languages", "domains"):
                sections[name] = _merged_tables(getattr(self, name), values, name)
                continue
            section = getattr(self, name, None)
            if not dataclasses.is_dataclass(section):
                raise ValueError(f"unknown config section [{name}]; known: {', '.join(_section_names())}")
            hints = typing.get_type_hints(type(section))
            known = {f.name for f in dataclasses.fields(section)}
            unknown = set(values) - known
            if unknown:
                raise ValueError(f"unknown key(s) {sorted(unknown)} in [{name}]; known: {sorted(known)}")
            sections[name] = dataclasses.replace(
                section, **{k: coerce(v, hints[k], f"{name}.{k}") for k, v in values.items()}
            )
        return dataclasses.replace(self, **sections)

    def for_language(self, language: str | None, domain: str | None = None) -> CurateConfig:
        """The config for documents of ``language`` (and of ``domain``: "code", "reasoning" or None): the shipped
        defaults of that language, then the ``[languages.<lang>]`` tables of the config file, then the same two for
        the domain, over the global sections."""
        config = self
        for kind, name in (("languages", language), ("domains", domain)):
            overrides = _merged_tables(shipped_defaults(kind), getattr(self, kind), kind).get(name or "", {})
            config = config.updated(overrides) if overrides else config
        return config


# The sections: reading, safety, URL dedup and extraction (the record-level stages), then one per registered step
# (pipeline/registry.py, in pass order), the Spark knobs, and the per-language and per-domain tables.
_CORE_SECTIONS = {"io": IoConfig, "record": RecordConfig, "safety": SafetyConfig, "url_dedup": UrlDedupConfig,
                  "extraction": ExtractionConfig}
CurateConfig = dataclasses.make_dataclass(
    "CurateConfig",
    [(name, cls, field(default_factory=cls))
     for name, cls in {**_CORE_SECTIONS, **step_sections(), "spark": SparkConfig}.items()]
    + [
        # {language: {section: {field: value}}} from [languages.<lang>.<section>] tables, over the shipped defaults.
        ("languages", dict, field(default_factory=dict)),
        # {domain: {section: {field: value}}} from [domains.<domain>.<section>] tables (domains: code, reasoning).
        ("domains", dict, field(default_factory=dict)),
    ],
    bases=(_Sections,), frozen=True,
    namespace={"__doc__": "Every setting of the job, one section per stage or step, with the paper's defaults."},
)
CurateConfig.__module__ = __name__  # for pickling to Spark workers


def to_toml(config: CurateConfig, header: str = "") -> str:
    """``config`` as a TOML file that :meth:`CurateConfig.from_toml` reads back to an equal config (``header``: a
    comment put first)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]

    def value(item) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, (tuple, list)):
            return "[" + ", ".join(value(v) for v in item) + "]"
        if isinstance(item, float):
            return repr(item)
        if isinstance(item, int):
            return str(item)
        return json.dumps(item, ensure_ascii=False)  # a TOML basic string: JSON's escapes are TOML's

    def table(name: str, values: dict) -> None:
        lines.extend(["", f"[{name}]", *(f"{key} = {value(item)}" for key, item in values.items())])

    for section in dataclasses.fields(config):
        if section.name in ("languages", "domains"):
            for name, tables in getattr(config, section.name).items():
                for inner, values in tables.items():
                    table(f"{section.name}.{json.dumps(name)}.{inner}", values)
        else:
            table(section.name, dataclasses.asdict(getattr(config, section.name)))
    return "\n".join(lines).lstrip("\n") + "\n"


@functools.cache
def shipped_defaults(kind: str) -> dict[str, dict[str, dict[str, typing.Any]]]:
    """{name: {section: {field: value}}} from pipeline/resources/<kind>/*.toml (kind: languages or domains)."""
    defaults = {}
    folder = shipped(kind)
    for entry in sorted(folder.iterdir() if folder.is_dir() else (), key=lambda entry: entry.name):
        if entry.name.endswith(".toml"):
            name = entry.name[: -len(".toml")]
            defaults[name] = _checked_tables(kind, name, tomllib.loads(entry.read_text(encoding="utf-8")))
    return defaults


def _checked_tables(kind: str, name: str, tables: dict) -> dict:
    unknown = set(tables) - set(PER_LANGUAGE_SECTIONS)
    if unknown:
        raise ValueError(f"[{kind}.{name}]: section(s) {sorted(unknown)} cannot be set per language or domain; "
                         f"these can: {', '.join(PER_LANGUAGE_SECTIONS)}")
    return tables


def _merged_tables(base: dict, overrides: dict, kind: str) -> dict:
    """``overrides`` ({name: {section: {field: value}}}) applied over ``base``, field by field."""
    merged = {name: {section: dict(values) for section, values in tables.items()} for name, tables in base.items()}
    for name, tables in overrides.items():
        if not isinstance(tables, dict):
            raise ValueError(f"[{kind}.{name}] must be a table of [section] tables")
        for section, values in _checked_tables(kind, name, tables).items():
            merged.setdefault(name, {}).setdefault(section, {}).update(values)
    return merged


class LanguageConfigs:
    """``config.for_language`` resolved once per language and domain (in each Spark worker: it pickles with its
    config)."""

    def __init__(self, config: CurateConfig):
        self.config = config
        self._resolved: dict[tuple[str, str | None], CurateConfig] = {}

    def __call__(self, language: str | None, domain: str | None = None) -> CurateConfig:
        key = (language or "", domain)
        if key not in self._resolved:
            self._resolved[key] = self.config.for_language(*key)
        return self._resolved[key]


def _section_names() -> list[str]:
    return [f.name for f in dataclasses.fields(CurateConfig) if f.name not in ("languages", "domains")]


def coerce(value, hint, name: str):
    """Convert a TOML or command-line value to the field's declared type."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, *_rest) = typing.get_args(hint)
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(coerce(v.strip() if isinstance(v, str) else v, item_type, name) for v in items if v != "")
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("", "none", "null")):
            return None
        return coerce(value, args[0], name)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{name}: expected true/false, got {value!r}")
    try:
        return hint(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: cannot read {value!r} as {hint.__name__}") from exc
