"""Llama 3 §3.1.1 "Text extraction and cleaning": the HTML of a page decoded (charset) and its main text
extracted, with math, code and image alt text kept and no markdown markers."""
