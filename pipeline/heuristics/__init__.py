"""Llama 3 §3.1.1 "Heuristic filtering": lines of repeated content (duplicated n-gram coverage), Gopher's
repetition filters, dirty-word counting (adult sites), and token-distribution KL divergence."""
