"""Reading crawl files: WARC records (resynchronising after damage), their HTTP bodies (decoded under a size cap),
the record-level screening (complete, successful HTML responses only) and URLs, and the list of input files."""
