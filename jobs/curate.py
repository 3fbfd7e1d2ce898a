"""Curate WARC files into clean text (Llama 3 §3.1.1 web-data curation) on Spark.

    spark-submit jobs/curate.py                       # local mode, the shipped sample_data shards -> ./out
    spark-submit --master spark://host:7077 jobs/curate.py --input 's3a://bucket/crawl/*.warc.gz' --output s3a://bucket/out
    spark-submit jobs/curate.py --input warc.paths.gz --io.input-prefix https://data.commoncrawl.org/

Every threshold is an option (below) or a key of a TOML file given with --config.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.cli import add_job_arguments, load_job_config


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="spark-submit jobs/curate.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--input", dest="cfg::io::input", metavar="PATHS",
                        help="WARC files: comma-separated globs, directories or list files such as warc.paths.gz "
                             "(local, hdfs://, s3a://, ...); same as --io.input (default: sample_data/shards)")
    parser.add_argument("--output", dest="cfg::io::output", metavar="DIR",
                        help="output directory; same as --io.output (default: out). Running the same command "
                             "again after a crash resumes the run there")
    parser.add_argument("--overwrite", dest="cfg::io::overwrite", action="store_const", const="true",
                        help="start over in an output directory that already holds a (finished or unfinished) run; "
                             "same as --io.overwrite true")
    add_job_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    config = load_job_config(args, "curate")

    from pipeline.spark.curate import RunConflict, run_curation
    from pipeline.spark.session import build_spark

    spark = build_spark(master=args.master, log_level=args.log_level)
    try:
        stats = run_curation(spark, config)
    except (FileNotFoundError, RunConflict) as exc:
        print(f"curate: {exc}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    return 0 if stats.balanced else 1


if __name__ == "__main__":
    sys.exit(main())
