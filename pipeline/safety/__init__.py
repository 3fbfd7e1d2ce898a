"""Llama 3 §3.1.1 "PII and safety filtering": domain and URL block lists, banned URL words, and PII detection with
the removal of PII-heavy sites."""
