"""Read a sample of a run's output: kept or rejected documents by stage, reason, language or signal range.

    python -m pipeline.inspect OUT --reason dirty_words --language en -n 5
    python -m pipeline.inspect OUT --kept --language de --signal 'gopher_top_2gram_char_frac>0.1'
    python -m pipeline.inspect s3://bucket/curated --stage heuristics --signal 'language_score<0.8' --seed 3

The output is Parquet (``documents/language=<l>/``, ``rejected/``), so the filters are pushed down to pyarrow:
whole language folders and row groups whose statistics cannot match are skipped. A first pass reads only the ids
of the matching rows (and the filter columns, in the scan) and keeps the ``n`` with the smallest hash of (seed, id),
a sample that is the same for the same seed and does not depend on file order; a second pass reads the full rows
of just the row groups that hold them. So a sample of a crawl's output costs one scan of its id column, not of its
text.
"""

from __future__ import annotations

import argparse
import heapq
import os
import re
import sys
import textwrap
from collections.abc import Sequence

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import xxhash

from pipeline.signal_charts import LANGUAGE_SCORE, SCORES, excerpt, reason_signals
from pipeline.spark.outputs import DOCUMENTS, REJECTED
from pipeline.spark.workdir import fsspec_url

_CONDITION = re.compile(r"^\s*([\w.]+)\s*(<=|>=|==|=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_OPERATORS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
              ">=": lambda a, b: a >= b, "=": lambda a, b: a == b, "==": lambda a, b: a == b}


class InspectError(Exception):
    """A request this output cannot answer (not an output folder, an unknown signal); exit status 2."""


def _filesystem(output: str) -> tuple[pa.fs.FileSystem, str]:
    """pyarrow's own filesystem for a local folder, fsspec's (s3://, gs://, hdfs://, ...) through pyarrow else."""
    if "://" not in output or output.startswith("file://"):
        return pa.fs.LocalFileSystem(), output.removeprefix("file://").rstrip("/")
    fs, path = fsspec.core.url_to_fs(fsspec_url(output))
    return pa.fs.PyFileSystem(pa.fs.FSSpecHandler(fs)), path.rstrip("/")


def open_output(output: str, kinds: Sequence[str]) -> dict[str, ds.Dataset]:
    """The datasets of ``kinds`` (documents, rejected) that the folder has; InspectError when it has none."""
    filesystem, root = _filesystem(output)
    found = {}
    for kind in kinds:
        folder = f"{root}/{kind}"
        if filesystem.get_file_info(folder).type != pa.fs.FileType.Directory:
            continue
        partitioning = ds.HivePartitioning.discover(infer_dictionary=True) if kind == DOCUMENTS else None
        found[kind] = ds.dataset(folder, format="parquet", filesystem=filesystem, partitioning=partitioning)
    if not found:
        raise InspectError(f"{output} is not the output folder of a curation run: it has no "
                           f"{' or '.join(f'{kind}/' for kind in kinds)} folder")
    return found


def _column(dataset: ds.Dataset, name: str) -> pc.Expression:
    """The field a condition's name means: a column (language_score), a score (scores.<name>), else a signal."""
    schema = dataset.schema
    if name == LANGUAGE_SCORE:
        return pc.field(name)
    struct, field = ("scores", name[len(SCORES):]) if name.startswith(SCORES) else ("signals", name)
    kind = schema.field(struct).type
    known = [f.name for f in kind] if pa.types.is_struct(kind) else []
    if field not in known:
        raise InspectError(f"unknown {struct[:-1]} {field!r}; this output has: {', '.join(known) or 'none'}")
    return pc.field(struct, field)


def parse_condition(text: str) -> tuple[str, str, float]:
    """``'name>0.3'`` as (name, operator, value)."""
    match = _CONDITION.match(text)
    if not match:
        raise InspectError(f"--signal {text!r}: expected NAME OP VALUE with OP one of < <= > >= =, e.g. "
                           "'dirty_word_rate>0.01', 'language_score<0.8', 'scores.wikipedia_fasttext>=0.5'")
    return match.group(1), match.group(2), float(match.group(3))


def row_filter(dataset: ds.Dataset, args: argparse.Namespace) -> pc.Expression | None:
    """The arguments as one pyarrow expression over ``dataset``'s columns."""
    terms = []
    if args.stage:
        terms.append(pc.field("stage") == args.stage)
    if args.reason:
        terms.append(pc.field("reason") == args.reason)
    if args.language:
        terms.append(pc.field("language") == args.language)
    for name, operator, value in map(parse_condition, args.signal):
        terms.append(_OPERATORS[operator](_column(dataset, name), value))
    expression = None
    for term in terms:
        expression = term if expression is None else expression & term
    return expression


def sample(datasets: dict[str, ds.Dataset], args: argparse.Namespace) -> tuple[int, list[tuple[str, dict]]]:
    """(rows matching, the ``args.n`` of them with the smallest hash of (seed, id), as (kind, row))."""
    matching, heap, order = 0, [], 0  # heap of (-hash, id, order, kind, row-group fragment): the n smallest hashes
    for kind, dataset in datasets.items():
        expression = row_filter(dataset, args)
        for fragment in dataset.get_fragments(filter=expression):
            for group in fragment.split_by_row_group(filter=expression, schema=dataset.schema):
                ids = group.to_table(schema=dataset.schema, columns=["id"], filter=expression).column("id")
                matching += len(ids)
                for id_ in ids.to_pylist():
                    key = xxhash.xxh64_intdigest(id_.encode(), seed=args.seed)
                    order += 1
                    if len(heap) < args.n:
                        heapq.heappush(heap, (-key, id_, order, kind, group))
                    elif -heap[0][0] > key:
                        heapq.heapreplace(heap, (-key, id_, order, kind, group))
    chosen: dict[int, list] = {}  # the row groups to read again, with their chosen ids
    for entry in heap:
        chosen.setdefault(id(entry[4]), []).append(entry)
    rows = {}
    for entries in chosen.values():
        kind, group = entries[0][3], entries[0][4]
        wanted = pc.field("id").isin([entry[1] for entry in entries])
        for row in group.to_table(schema=datasets[kind].schema, filter=wanted).to_pylist():
            rows[row["id"]] = (kind, row)
    ranked = sorted(heap, key=lambda entry: -entry[0])
    return matching, [rows[entry[1]] for entry in ranked if entry[1] in rows]


def _present(values: dict | None) -> dict[str, float]:
    return {name: value for name, value in (values or {}).items() if value is not None}


def format_document(kind: str, row: dict, number: str, chars: int, extra_signals: Sequence[str] = ()) -> str:
    """One document as text: where it comes from, its verdict, the signals that explain it, its text wrapped."""
    verdict = f"rejected: {row['stage']} / {row['reason']}" if kind == REJECTED else "kept"
    lines = [f"── {number} {verdict} " + "─" * max(0, 60 - len(number) - len(verdict)),
             f"id        {row['id']}", f"url       {row['url']}"]
    if row.get("language"):
        score = row.get(LANGUAGE_SCORE)
        lines.append(f"language  {row['language']}" + (f" ({score:.2f})" if score is not None else ""))
    if row.get("detail"):
        lines.append(f"detail    {row['detail']}")
    signals = _present(row.get("signals"))
    names = reason_signals(row.get("reason"), list(signals))
    names += [name for name in dict.fromkeys(extra_signals) if name in signals and name not in names]
    if names:
        lines.append("signals   " + " · ".join(f"{name} {signals[name]:.4g}" for name in names))
    scores = _present(row.get("scores"))
    if scores:
        lines.append("scores    " + " · ".join(f"{name} {value:.3f}" for name, value in scores.items()))
    text = row.get("text")
    if text:
        lines.append(f"text      {len(text):,} characters")
        for line in excerpt(text, chars).splitlines():
            lines.append(textwrap.fill(line, 100, initial_indent="    ", subsequent_indent="    ") or "")
    elif kind == REJECTED:
        lines.append("text      none (dropped before extraction, or the run kept no rejected text)")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipeline.inspect", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", metavar="OUT", help="the output folder of a run (local path or fsspec URL)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--kept", action="store_true", help="only kept documents (documents/)")
    which.add_argument("--rejected", action="store_true", help="only rejected records (rejected/)")
    parser.add_argument("--stage", help="the stage that dropped it (implies --rejected)")
    parser.add_argument("--reason", help="the drop reason, e.g. dirty_words (implies --rejected)")
    parser.add_argument("--language", help="lid.176 language code, e.g. en")
    parser.add_argument("--signal", action="append", default=[], metavar="COND",
                        help="a signal, score (scores.NAME) or language_score condition such as "
                             "'dirty_word_rate>0.01'; repeat for a range")
    parser.add_argument("-n", type=int, default=5, help="documents to print (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="another seed, another sample (default 0)")
    parser.add_argument("--chars", type=int, default=600, help="characters of text to print per document")
    args = parser.parse_args(argv)
    if args.kept and (args.stage or args.reason):
        parser.error("--stage and --reason select rejected records; they cannot go with --kept")
    if args.n < 1:
        parser.error("-n must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rejected_only = args.rejected or args.stage or args.reason
    kinds = [DOCUMENTS] if args.kept else [REJECTED] if rejected_only else [DOCUMENTS, REJECTED]
    try:
        matching, rows = sample(open_output(args.output, kinds), args)
    except InspectError as exc:
        print(f"inspect: {exc}", file=sys.stderr)
        return 2
    extra = [parse_condition(condition)[0] for condition in args.signal]
    try:
        print(f"{len(rows)} of {matching:,} matching document(s) (seed {args.seed})")
        for i, (kind, row) in enumerate(rows, 1):
            print()
            print(format_document(kind, row, f"{i}/{len(rows)}", args.chars, extra))
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
