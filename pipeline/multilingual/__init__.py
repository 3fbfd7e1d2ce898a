"""Llama 3 §3.1.1 "Multilingual data": fastText language identification into 176 languages, and words segmented
per script (the unit every per-language heuristic counts)."""
