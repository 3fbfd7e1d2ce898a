"""The Spark layer: the curation job's durable phases, its per-unit passes, the Spark aggregations of the global
decisions, the output writers and the statistics. Everything a step decides lives in the plain-Python packages."""
