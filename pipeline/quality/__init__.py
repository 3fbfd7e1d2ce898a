"""Llama 3 §3.1.1 "Model-based quality filtering" and "Code and reasoning data": the fastText "referenced by
Wikipedia" classifier and transformer classifiers trained on LLM judgements, as scores on every document."""
