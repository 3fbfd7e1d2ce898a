"""The command-line side of the config: one ``--section.field`` option per field of
:class:`pipeline.config.CurateConfig` (its default and the comment above it as help), the options every job has,
and the same for the classifier jobs' own dataclasses."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing

from pipeline.config import CurateConfig, coerce


def add_config_arguments(parser: argparse.ArgumentParser, sections: tuple[str, ...] | None = None) -> None:
    """One ``--section.field`` option per config field (of ``sections``, default all), with its default and the
    comment beside it as help."""
    defaults = CurateConfig()
    for section_field in dataclasses.fields(CurateConfig):
        if section_field.name in ("languages", "domains") or (sections is not None
                                                               and section_field.name not in sections):
            continue
        section = getattr(defaults, section_field.name)
        group = parser.add_argument_group(f"[{section_field.name}] ({type(section).__name__})")
        comments = _field_comments(type(section))
        for f in dataclasses.fields(section):
            default = getattr(section, f.name)
            shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
            group.add_argument(
                f"--{section_field.name}.{f.name}".replace("_", "-"),
                dest=f"cfg::{section_field.name}::{f.name}",
                default=None,
                metavar="VALUE",
                help=f"{comments.get(f.name, '')} (default: {shown})".strip().replace("%", "%%"),
            )


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """One ``--field-name`` option per field of the config dataclass ``cls``, with its default and the comment above
    it as help (the options of the classifier jobs); read back with :func:`dataclass_from_arguments`."""
    group = parser.add_argument_group(cls.__name__)
    comments = _field_comments(cls)
    for f in dataclasses.fields(cls):
        shown = ",".join(map(str, f.default)) if isinstance(f.default, tuple) else f.default
        group.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, default=None, metavar="VALUE",
                           help=f"{comments.get(f.name, '')} (default: {shown})".strip().replace("%", "%%"))


def dataclass_from_arguments(cls: type, args: argparse.Namespace):
    """``cls`` with the options of :func:`add_dataclass_arguments` that were given, converted to the field types;
    a bad value raises ValueError naming the option."""
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: coerce(value, hints[f.name], f"--{f.name.replace('_', '-')}")
                  for f in dataclasses.fields(cls) if (value := getattr(args, f.name, None)) is not None})


def add_job_arguments(parser: argparse.ArgumentParser, sections: tuple[str, ...] | None = None) -> None:
    """The options every job entry point has: --config, --master, --log-level, and the config fields."""
    parser.add_argument("--config", metavar="TOML", help="TOML file with [section] tables overriding the defaults")
    parser.add_argument("--master", help="Spark master when not run through spark-submit (default: local[*])")
    parser.add_argument("--log-level", default="WARN", help="Spark log level (default: WARN)")
    add_config_arguments(parser, sections)


def load_job_config(args: argparse.Namespace, prog: str) -> CurateConfig:
    """The job's config from its arguments; a bad value or file ends the program with a message and status 2."""
    try:
        return config_from_arguments(args, args.config)
    except (ValueError, OSError) as exc:
        print(f"{prog}: bad configuration: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def config_from_arguments(args: argparse.Namespace, config_file: str | None = None) -> CurateConfig:
    """The config file (if any) overridden by every ``--section.field`` given on the command line."""
    config = CurateConfig.from_toml(config_file) if config_file else CurateConfig()
    overrides: dict[str, dict[str, typing.Any]] = {}
    for dest, value in vars(args).items():
        if dest.startswith("cfg::") and value is not None:
            _, section, name = dest.split("::")
            overrides.setdefault(section, {})[name] = value
    return config.updated(overrides)


def _field_comments(cls) -> dict[str, str]:
    """The ``# comment`` lines written above each field in the dataclass source, used as --help text."""
    import inspect

    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        return {}
    comments, pending = {}, []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("# "))
        elif ":" in stripped and not stripped.startswith(("class ", "@", "def ", '"')):
            comments[stripped.split(":", 1)[0].strip()] = " ".join(pending)
            pending = []
        else:
            pending = []
    return comments
