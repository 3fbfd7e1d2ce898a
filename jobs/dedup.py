"""De-duplicate documents you already have: global MinHash near-duplicate removal (and, with --line-dedup, line
dedup), with the same code and config as the curation job (Llama 3 §3.1.1). A document is removed only for a kept
document whose shingle set it shares at --minhash.threshold or more (exact Jaccard of the candidate pairs).

    spark-submit jobs/dedup.py --input docs.jsonl --output dedup_out
    spark-submit jobs/dedup.py --input 'parquet_dir/*.parquet' --output out --line-dedup --minhash.group-by language

Input: JSONL or Parquet (by file extension, or --format) with columns ``id`` and ``text``, optionally ``url``,
``lang`` or ``language`` (read as ``language``) and ``fetch_time`` (the most recent document of a cluster is kept,
then the smallest id). Output (Parquet, or JSONL with --output-format jsonl): every input id with ``cluster_id``
(the smallest id among a kept document and the documents removed for it; its own id when nothing was removed for
it), ``kept``, ``kept_id`` (the kept document a removed one is a near duplicate of), ``reason``
(``minhash_duplicate``, or with --line-dedup ``empty_after_line_dedup``/``too_short_after_line_dedup``) and
``similarity`` (the exact Jaccard similarity to the kept document; the signatures' estimate for pairs whose
signatures agree in so many values, 126 of 128, that the check is skipped); with --line-dedup also ``text`` after
line removal and ``lines_removed``.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.cli import add_job_arguments, load_job_config


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="spark-submit jobs/dedup.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, help="JSONL or Parquet files (globs, comma-separated)")
    parser.add_argument("--output", required=True, help="output directory")
    parser.add_argument("--format", choices=("jsonl", "parquet"), help="input format (default: from the extension)")
    parser.add_argument("--output-format", choices=("jsonl", "parquet"), default="parquet")
    parser.add_argument("--line-dedup", action="store_true", help="also remove lines seen in >6 documents per bucket")
    parser.add_argument("--checkpoint-dir", help="directory of Spark's reliable checkpoints, on storage every "
                                                 "executor reaches (default: spark.checkpoint.dir; in local mode a "
                                                 "temporary directory)")
    add_job_arguments(parser, sections=("minhash", "line_dedup", "spark"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    config = load_job_config(args, "dedup")

    from pipeline.spark.dedup_job import InputError, run_dedup
    from pipeline.spark.session import build_spark

    spark = build_spark("llama3-dedup", master=args.master, log_level=args.log_level)
    if args.checkpoint_dir:
        spark.sparkContext.setCheckpointDir(args.checkpoint_dir)
    try:
        summary = run_dedup(spark, args.input, args.output, config, input_format=args.format,
                            output_format=args.output_format, line_dedup=args.line_dedup)
    except InputError as exc:
        print(f"dedup: {exc}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
