"""Llama 3 §3.1.1 "De-duplication": URL-level (the most recent fetch of each URL), document-level (global
MinHash) and line-level (lines in more than 6 documents of a bucket, as ccNet)."""
