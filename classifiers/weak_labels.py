"""Labelled training sets for the shipped transformer classifiers, built from real data without an LLM.

Llama 3 (2024) §3.1.1 trains its quality classifier ("Model-based quality filtering") on Llama 2's judgements of
whether a document meets its quality bar and, in "Code and reasoning data", similar classifiers for web pages with
code interleaved with natural language and for math deduction and STEM reasoning. Such judgements come from
``classifiers/annotate.py`` where an LLM is at hand; none exist here, so the models shipped in
``pipeline/resources/models/`` learn stand-in labels from real data in ``../shared/data``:

* ``quality``: Wikipedia-like text against ordinary web pages, the reference-corpus classifier of GPT-3 and
  Llama 2 rather than the paper's judgements. Positives: the 120 Wikipedia articles of WikiText-2 (``valid.txt``,
  ``test.txt``, split into articles on `` = Title = `` lines and their tokenisation undone with
  ``classifiers.wikipedia_fasttext.detokenize_wikitext``), one example per section. Negatives: the documents of a
  curate run (``--documents``, e.g. ``out/documents`` of ``python jobs/curate.py``), the Common Crawl documents of
  dolma's tests, and the extracted evaluation pages below (Wikipedia's and copies of curate documents left out).
* ``code``: the 990 real pages of trafilatura's evaluation set, and any folders of real HTML pages given with
  ``--html`` (manuals, say), labelled by their HTML (``page_structure``), the example being the project's extracted
  text. Positive: code blocks (``<pre>``, multi-line ``<code>``) with enough lines, switching with prose paragraphs
  along the page, the code kept by extraction. Negative: no code block at all.
* ``reasoning``: the same pages; positive when the extracted text holds TeX spans (the extractor turns MathML,
  MathJax, KaTeX and TeX-renderer images into ``$...$``; MathJax pages may carry raw ``\\(...\\)``), negative
  without any math markup or math library. The evaluation pages hold one math page, so positives also come from
  WikiText sections dense in mathematical and scientific terms (``STEM_TERMS``; WikiText sections without any are
  negatives, so the Wikipedia register alone predicts nothing) and from the Clough-Stevenson short answers and
  Wikipedia source texts on the vector space model, Bayes' theorem and dynamic programming (tasks c, d, e).

Every example is in English (``--language``; lid.176 on extracted pages): the shipped encoder is English, and
examples in other languages would mostly teach the language, not the class. Pages and sections in between (some
code, a few terms) abstain: they are left out, as in weak supervision. Every example has ``id``, ``text``,
``label`` (1/0), ``source`` and ``group``: ``train_transformer`` holds out by a hash of the group, so the sections
of one article, or the answers copied from one source text, never straddle the split.

    python -m classifiers.weak_labels quality --documents out/documents --output quality.jsonl
    python -m classifiers.weak_labels code --html /usr/share/doc/nodejs/api --output code.jsonl
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from classifiers.train_transformer import read_jsonl
from classifiers.wikipedia_fasttext import detokenize_wikitext
from pipeline.cli import add_dataclass_arguments, dataclass_from_arguments
from pipeline.extraction.encoding import decode_html
from pipeline.extraction.html import _MATH_IMAGE, HtmlExtractor

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TASKS = ("quality", "code", "reasoning")


@dataclass(frozen=True)
class WeakLabelConfig:
    """Thresholds of the weak labels, with the reason for each default beside it."""

    # Non-blank code lines a code page needs: one or two one-line commands are a mention, not a code tutorial.
    min_code_lines: int = 10
    # Code blocks a code page needs: code interleaved with text comes in pieces, a single listing is a download page.
    min_code_blocks: int = 2
    # Prose paragraphs (<p> of min_paragraph_words words or more) a code page needs: explanation around the code.
    min_prose_paragraphs: int = 3
    # Words for a <p> to count as prose: shorter ones are captions, bylines and buttons.
    min_paragraph_words: int = 12
    # Changes between code and prose in page order (code, prose, code = 2): code and text interleaved.
    min_switches: int = 2
    # Share of a page's code lines its extracted text must keep: the example is the text, so the code must be in it.
    min_code_kept: float = 0.5
    # TeX spans in the extracted text a reasoning page needs: a lone $x$ is a mention, derivations have many.
    min_tex_spans: int = 5
    # STEM_TERMS per word a reasoning WikiText section needs: the top ~2% of WikiText sections (chemistry, filters).
    min_stem_density: float = 0.012
    # STEM_TERMS a reasoning section needs at the least, so that a short section with two such words does not count.
    min_stem_terms: int = 4
    # Words an example needs (WikiText section, extracted page): shorter ones are a heading and a line or two.
    min_words: int = 50
    # Language of the examples ("" = all; lid.176 on the extracted text): the shipped encoder is English.
    language: str = "en"
    # Pages taken from each --html folder (0 = all), chosen by a hash of the path, so no manual dominates.
    max_pages_per_folder: int = 60


# words of mathematical and scientific argument (not of topics: "energy", "pressure" also fill sports and weather)
STEM_TERMS = frozenset("""
equation equations theorem theorems formula formulas formulae proof proofs derivative derivatives integral integrals
matrix matrices vector vectors probability probabilities impedance frequency frequencies voltage capacitance
inductance capacitor inductor resistor coefficient coefficients proportional ratio calculate calculated calculation
molecule molecules atom atoms electron electrons reaction reactions reagent catalyst compound compounds acid acids
alkene alkyl oxidation ion ions algorithm variable variables parameter parameters wavelength orbit orbital radius
velocity acceleration exponential logarithm polynomial function functions mathematical mathematics
""".split())

_WORD = re.compile(r"[a-z]+")
_TEX_SPAN = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]{1,300})\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_TEX_CONTENT = re.compile(r"\\[A-Za-z]+|[\^_=<>+]|^\s*[A-Za-z]\s*$")
_MATH_LIBRARY = re.compile(r"mathjax|katex", re.IGNORECASE)
_NO_PROSE = ("pre", "code", "nav", "footer")


# --- HTML structure of a page


@dataclass(frozen=True)
class PageStructure:
    """What the code and reasoning labels read from a page's HTML."""

    code_blocks: int  # <pre> elements, and multi-line <code> elements outside <pre>
    code_lines: tuple[str, ...]  # their non-blank lines, stripped
    prose_paragraphs: int  # <p> elements of min_paragraph_words words or more, outside code, nav and footer
    switches: int  # changes between code blocks and prose paragraphs in page order
    math_markup: int  # MathML <math>, MathJax <script type="math/tex...">, KaTeX spans, TeX-renderer images
    math_library: bool  # the page mentions MathJax or KaTeX (scripts, styles): its TeX may be raw text


def page_structure(html: str, config: WeakLabelConfig = WeakLabelConfig()) -> PageStructure:
    """Code blocks, prose paragraphs and math markup of one page, in one pass over its elements."""
    try:
        root = lxml_html.document_fromstring(html)
    except (etree.ParserError, ValueError):  # empty or unparsable page: no structure
        return PageStructure(0, (), 0, 0, 0, False)
    sequence: list[str] = []  # "C" code block, "P" prose paragraph, in page order
    code_lines: list[str] = []
    math = 0
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        if tag == "pre" or tag == "code" and "\n" in element.text_content().strip():
            if next(element.iterancestors("pre", "code"), None) is None:
                lines = [line.strip() for line in element.text_content().splitlines() if line.strip()]
                code_lines += lines
                sequence.append("C")
        elif tag == "p" and next(element.iterancestors(*_NO_PROSE), None) is None:
            if len(element.text_content().split()) >= config.min_paragraph_words:
                sequence.append("P")
        elif (tag == "math" or tag == "script" and (element.get("type") or "").strip().startswith("math/tex")
              or tag == "span" and "katex" in (element.get("class") or "").split()
              or tag == "img" and _MATH_IMAGE.search(f"{element.get('src', '')} {element.get('class', '')}")):
            math += 1
    switches = sum(a != b for a, b in pairwise(sequence))
    return PageStructure(sequence.count("C"), tuple(code_lines), sequence.count("P"), switches, math,
                         bool(_MATH_LIBRARY.search(html)))


LabelFunction = Callable[[PageStructure, str, WeakLabelConfig], "int | None"]


def tex_spans(text: str) -> int:
    """``$...$``, ``$$...$$``, ``\\(...\\)`` and ``\\[...\\]`` spans whose content reads as TeX (a command, an
    operator, a lone variable), so that prices ("$5 and $10") do not count."""
    return sum(bool(_TEX_CONTENT.search(next(g for g in m.groups() if g is not None)))
               for m in _TEX_SPAN.finditer(text))


def code_label(structure: PageStructure, text: str, config: WeakLabelConfig = WeakLabelConfig()) -> int | None:
    """1: code interleaved with prose, kept in ``text``; 0: no code block; None: in between (abstain)."""
    if structure.code_blocks == 0:
        return 0
    kept = sum(line in text for line in structure.code_lines) / max(len(structure.code_lines), 1)
    if (structure.code_blocks >= config.min_code_blocks and len(structure.code_lines) >= config.min_code_lines
            and structure.prose_paragraphs >= config.min_prose_paragraphs
            and structure.switches >= config.min_switches and kept >= config.min_code_kept):
        return 1
    return None


def reasoning_label(structure: PageStructure, text: str, config: WeakLabelConfig = WeakLabelConfig()) -> int | None:
    """1: at least ``min_tex_spans`` TeX spans in ``text``; 0: no math markup, library or span; None: in between."""
    spans = tex_spans(text)
    if spans >= config.min_tex_spans:
        return 1
    if spans == 0 and structure.math_markup == 0 and not structure.math_library:
        return 0
    return None


# --- WikiText-2

_HEADING = re.compile(r"^ (=(?: =)?) [^=].* \1 $")  # " = Title = " (article), " = = Section = = "


def wikitext_sections(data: Path, config: WeakLabelConfig = WeakLabelConfig()) -> Iterator[dict]:
    """The level-2 sections of the WikiText-2 articles (the lead included) of at least ``min_words``
    words, as examples without a label: detokenised text, heading line first; ``stem_terms`` and ``words`` counted
    for the reasoning label. Articles are numbered (titles lose their ``<unk>`` words, so are not unique)."""
    for split in ("valid", "test"):
        lines = (data / "quality_text" / "wikitext2" / f"{split}.txt").read_text(encoding="utf-8").split("\n")
        # a heading stands between blank lines; a formula line such as " = 1 <unk> and <unk> C = " does not
        starts = [(i, len(m[1]) == 1) for i, line in enumerate(lines) if (m := _HEADING.match(line))
                  and not lines[i - 1].strip() and (i + 1 == len(lines) or not lines[i + 1].strip())]
        article = -1
        for (start, new_article), (end, _) in pairwise([*starts, (len(lines), False)]):
            article += new_article
            text = detokenize_wikitext("\n".join(lines[start:end]))
            words = _WORD.findall(text.lower())
            if len(words) >= config.min_words:
                yield {"id": f"wikitext2:{split}:{article}:{start}", "text": text, "source": "wikitext2",
                       "group": f"wikitext2:{split}:{article}",
                       "stem_terms": sum(word in STEM_TERMS for word in words), "words": len(words)}


# --- the three training sets


def quality_examples(data: Path, documents: str, config: WeakLabelConfig = WeakLabelConfig()) -> Iterator[dict]:
    """WikiText-2 sections (1) against the curate run's documents, dolma's Common Crawl documents and the extracted
    evaluation pages (0), in ``config.language``; Wikipedia pages and copies of a curate document are left out."""
    for section in wikitext_sections(data, config):
        yield _example(section, 1)
    import pyarrow.dataset as ds

    table = ds.dataset(documents, format="parquet", partitioning="hive").to_table(
        columns=["id", "url", "text"], filter=ds.field("language") == config.language)
    seen = set()
    for row in table.to_pylist():
        seen |= {row["url"], _opening(row["text"])}
        yield {"id": f"curate:{row['id']}", "text": row["text"], "label": 0, "source": "curate_documents",
               "group": f"curate:{row['id']}"}
    for path in sorted((data / "quality_text" / "cc_negative_dolma").glob("*.json*")):
        for document in read_jsonl(str(path)):
            yield {"id": f"dolma:{document['id']}", "text": document["text"], "label": 0,
                   "source": "cc_negative_dolma", "group": f"dolma:{document['id']}"}
    # the sample shards hold 180 of these pages, some copied to mirror hosts: one example each
    pages = ((page_id, source, payload, url) for page_id, source, payload, url in eval_pages(data)
             if url not in seen and "wikipedia.org/" not in (url or ""))
    for page in page_examples(pages, lambda structure, text, config: 0, config):
        if _opening(page["text"]) not in seen:
            yield page


def _opening(text: str) -> str:
    return " ".join(text.split())[:300]


def eval_pages(data: Path) -> Iterator[tuple[str, str, bytes, str | None]]:
    """``(id, source, page bytes, URL)`` of the 990 pages of trafilatura's evaluation set."""
    pages = data / "extraction_trafilatura_eval"
    urls = {name: item.get("url") for name, item in
            json.loads((pages / "expectations.json").read_text(encoding="utf-8")).items()}
    for path in sorted((pages / "html").glob("*.html.gz")):
        name = path.name.removesuffix(".gz")
        yield f"eval_page:{name}", "extraction_trafilatura_eval", gzip.decompress(path.read_bytes()), urls.get(name)


def html_pages(folder: str, limit: int) -> Iterator[tuple[str, str, bytes, str | None]]:
    """``(id, source, page bytes, None)`` of ``limit`` (0 = all) ``*.html`` files under ``folder``, the same ones
    on every run (those with the smallest hashes of their relative path), so one large manual cannot dominate."""
    root = Path(folder)
    paths = sorted(root.rglob("*.html"), key=lambda p: hashlib.sha1(str(p.relative_to(root)).encode()).digest())
    for path in paths[:limit or None]:
        yield f"html:{root.name}/{path.relative_to(root)}", f"html:{root.name}", path.read_bytes(), None


def page_examples(pages: Iterable[tuple[str, str, bytes, str | None]], label_of: LabelFunction,
                  config: WeakLabelConfig = WeakLabelConfig()) -> Iterator[dict]:
    """The pages in ``config.language`` with ``min_words`` words of extracted text that ``label_of`` (e.g.
    ``code_label``) does not abstain on, each with its extracted text; a text seen before is left out (manuals
    have dozens of identical "this page has moved" stubs)."""
    from pipeline.multilingual.language_id import LanguageIdentifier

    extractor, identifier = HtmlExtractor(), LanguageIdentifier()
    seen = set()
    for page_id, source, payload, url in pages:
        html, _charset = decode_html(payload)
        text = extractor.extract(html, url).text
        if not text or len(text.split()) < config.min_words or text in seen:
            continue
        seen.add(text)
        if config.language and identifier.predict([text])[0].language != config.language:
            continue
        label = label_of(page_structure(html, config), text, config)
        if label is not None:
            yield {"id": page_id, "text": text, "label": label, "source": source, "group": page_id}


def reasoning_examples(data: Path, config: WeakLabelConfig = WeakLabelConfig()) -> Iterator[dict]:
    """STEM-dense (1) and STEM-free (0) WikiText sections, and the Clough-Stevenson answers and sources on the
    vector space model, Bayes' theorem and dynamic programming (1); the pages come from ``page_examples``."""
    for section in wikitext_sections(data, config):
        terms = section["stem_terms"]
        if terms >= config.min_stem_terms and terms >= config.min_stem_density * section["words"]:
            yield _example(section, 1)
        elif terms == 0:
            yield _example(section, 0)
    sources = {}
    with open(data / "neardup_clough_stevenson" / "pairs.jsonl", encoding="utf-8") as fh:
        for line in fh:
            answer = json.loads(line)
            if answer["task"] not in ("c", "d", "e"):
                continue
            # answers revised from the source text are its near copies: one group with it
            group = f"clough:{answer['source'] if answer['is_derived'] else answer['doc']}"
            sources[answer["source"]] = answer["source_text"]
            yield {"id": f"clough:{answer['doc']}", "text": answer["text"], "label": 1, "source": "clough_stevenson",
                   "group": group}
    for name, text in sorted(sources.items()):
        yield {"id": f"clough:{name}", "text": text, "label": 1, "source": "clough_stevenson",
               "group": f"clough:{name}"}


def _example(section: dict, label: int) -> dict:
    return {key: section[key] for key in ("id", "text", "source", "group")} | {"label": label}


def examples(task: str, data: Path = SHARED_DATA, documents: str | None = None, html: Sequence[str] = (),
             config: WeakLabelConfig = WeakLabelConfig()) -> Iterator[dict]:
    """The labelled examples of ``task`` (one of ``TASKS``); ``html``: folders of further pages for code and
    reasoning, labelled like the evaluation pages."""
    if task == "quality":
        if not documents:
            raise ValueError("the quality set needs --documents: the documents/ of a curate run")
        return quality_examples(data, documents, config)
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    pages = itertools.chain(eval_pages(data), *(html_pages(folder, config.max_pages_per_folder) for folder in html))
    found = page_examples(pages, code_label if task == "code" else reasoning_label, config)
    return itertools.chain(found, reasoning_examples(data, config)) if task == "reasoning" else found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classifiers.weak_labels", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--output", required=True, help="JSONL file to write")
    parser.add_argument("--data", default=str(SHARED_DATA), help="the shared data folder (default: %(default)s)")
    parser.add_argument("--documents", help="quality: documents/ of a curate run (Parquet, partitioned by language)")
    parser.add_argument("--html", action="append", default=[], metavar="FOLDER",
                        help="code, reasoning: a folder of further real HTML pages (*.html, recursively); repeatable")
    add_dataclass_arguments(parser, WeakLabelConfig)
    args = parser.parse_args(argv)
    config = dataclass_from_arguments(WeakLabelConfig, args)
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # it logs every page it finds no text in
    counts: dict[str, list[int]] = {}
    with open(args.output, "w", encoding="utf-8") as out:
        for example in examples(args.task, Path(args.data), args.documents, args.html, config):
            out.write(json.dumps(example, ensure_ascii=False) + "\n")
            counts.setdefault(example["source"], [0, 0])[example["label"]] += 1
    for source, (negatives, positives) in counts.items():
        print(f"{source:40s} positives {positives:5d}  negatives {negatives:5d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
