"""Article extraction: trafilatura for the main text and metadata, then Arabic boilerplate removal."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.settings import Document
from trafilatura.utils import load_html

from akhbar.config import CONFIG_DIR, _read_yaml
from akhbar.dates import date_only_line, strip_dates
from akhbar.metadata import load_rules as load_meta_rules
from akhbar.metadata import Metadata, page_metadata
from akhbar.normalize import normalize

log = logging.getLogger(__name__)

_KEY_PUNCT = re.compile(r"[^\w\s:]", re.UNICODE)
_SPACES = re.compile(r"\s+")
_LIST_ITEM = re.compile(r"^\s*[-•*·]\s+")
_SENTENCE_END = re.compile(r"[.!?؟。]\s*$")
_MAX_HEADING_WORDS = 15
_TOOL_SEPARATORS = re.compile(r"\s*[|•·/\-–—]\s*")
_MAX_DATA_CELL_WORDS = 40


class ExtractError(Exception):
    """A page yielded no article text; the message is the recorded reason."""


@dataclass(frozen=True)
class Boilerplate:
    """Compiled boilerplate rules from config/boilerplate.yaml."""

    line_start: tuple[tuple[str, bool], ...]
    block_start: tuple[tuple[str, bool], ...]
    line_contains: tuple[str, ...]
    line_end: tuple[str, ...]
    line_exact: frozenset[str]
    comments_start: frozenset[str]
    max_line_words: int
    max_block_line_words: int


@dataclass
class Article:
    """The extracted article with its metadata."""

    text: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None
    description: str = ""
    sitename: str = ""
    canonical_url: str = ""
    image: str = ""
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    declared_language: str = ""
    removed_lines: list[str] = field(default_factory=list)


def line_key(text: str) -> str:
    """Matching key of a line: normalised, punctuation dropped except colons, no space before colons."""
    key = _KEY_PUNCT.sub(" ", normalize(text))
    key = _SPACES.sub(" ", key).replace(" :", ":").strip()
    return key


def _phrase(raw: str) -> tuple[str, bool]:
    """A phrase's key and whether it requires a colon after it."""
    needs_colon = raw.strip().endswith(":")
    return line_key(raw.strip().rstrip(":")), needs_colon


@lru_cache(maxsize=4)
def load_boilerplate(path: Path = CONFIG_DIR / "boilerplate.yaml") -> Boilerplate:
    """Load and normalise the boilerplate phrase lists once per process."""
    data = _read_yaml(path)
    return Boilerplate(
        line_start=tuple(_phrase(p) for p in data.get("line_start", [])),
        block_start=tuple(_phrase(p) for p in data.get("block_start", [])),
        line_contains=tuple(k for k in (normalize(p) for p in data.get("line_contains", [])) if k),
        line_end=tuple(k for k in (line_key(p) for p in data.get("line_end", [])) if k),
        line_exact=frozenset(k for k in (line_key(p) for p in data.get("line_exact", [])) if k),
        comments_start=frozenset(k for k in (line_key(p) for p in data.get("comments_start", [])) if k),
        max_line_words=int(data.get("max_line_words", 25)),
        max_block_line_words=int(data.get("max_block_line_words", 16)),
    )


def _starts_with(key: str, phrases: tuple[tuple[str, bool], ...]) -> bool:
    """True when key is one of the phrases, or starts with one (followed by a colon where required)."""
    for phrase, needs_colon in phrases:
        if key == phrase:
            return True
        if key.startswith(phrase):
            rest = key[len(phrase):]
            if needs_colon:
                if rest.startswith(":"):
                    return True
            elif rest[:1] in (" ", ":"):
                return True
    return False


def _only_tools(line: str, rules: Boilerplate) -> bool:
    """A line made only of page-tool / share labels («طباعة | أرسل لصديق | حجم الخط»)."""
    parts = [_without_counts(line_key(p)) for p in _TOOL_SEPARATORS.split(line)]
    parts = [p for p in parts if p]
    return bool(parts) and all(p in rules.line_exact for p in parts)


def _without_counts(key: str) -> str:
    """A line key with its bare numbers dropped («التعليقات 3» → «التعليقات»)."""
    return " ".join(w for w in key.split() if not w.isdigit())


def _comments_start(lines: list[str], rules: Boilerplate) -> int | None:
    """Index of a readers' comment heading after most of the text and followed by no article-length line, or None."""
    total = sum(len(line) for line in lines)
    before = 0
    for i, line in enumerate(lines):
        if i and _without_counts(line_key(line)) in rules.comments_start and before > total / 2:
            if all(len(rest.split()) <= rules.max_line_words for rest in lines[i + 1:]):
                return i
            return None
        before += len(line)
    return None


def _site_and_date(line: str, site_keys: set[str]) -> bool:
    """A header line made of the outlet's name and a date («الأنباء السبت 21 تشرين الثاني 2026»)."""
    key = line_key(line)
    for site in site_keys:
        if site and key.startswith(site + " ") and date_only_line(line_key(key[len(site):])):
            return True
    return False


def _is_byline(line: str) -> bool:
    """A short «كتب: …» / «بقلم …» line, possibly with the date after it: metadata, not article text."""
    meta = load_meta_rules()
    norm = strip_dates(normalize(line))
    return len(norm.split()) <= meta.max_byline_words and bool(meta.byline.match(norm))


def recover_headings(tree: Any, text: str) -> str:
    """Put back subheadings the extractor dropped between two consecutive extracted paragraphs."""
    lines = [line for line in text.splitlines() if line.strip()]
    position = {line_key(line): i for i, line in enumerate(lines)}
    inserts: dict[int, str] = {}
    for heading in tree.xpath("//h2|//h3|//h4|//h5|//h6"):
        label = " ".join(heading.text_content().split())
        if not label or len(label.split()) > _MAX_HEADING_WORDS or line_key(label) in position:
            continue
        before, after = heading.getprevious(), heading.getnext()
        if before is None or after is None:
            continue
        i, j = position.get(line_key(before.text_content())), position.get(line_key(after.text_content()))
        if i is not None and j == i + 1:
            inserts[j] = label
    if not inserts:
        return text
    out = []
    for i, line in enumerate(lines):
        if i in inserts:
            out.append(inserts[i])
        out.append(line)
    return "\n".join(out)


def heading_keys(tree: Any) -> frozenset[str]:
    """Keys of the page's subheadings that are not links: a related-articles block never runs through one."""
    return frozenset(
        line_key(h.text_content())
        for h in tree.xpath("//h2|//h3|//h4|//h5|//h6")
        if not h.xpath(".//a|ancestor::a") and h.text_content().strip()
    )


def clean_lines(
    text: str,
    title: str,
    rules: Boilerplate,
    learned: frozenset[str] = frozenset(),
    sitenames: tuple[str, ...] = (),
    headings: frozenset[str] = frozenset(),
) -> tuple[list[str], list[str]]:
    """Split text into lines and drop boilerplate lines and blocks (and lines learned for the host); return (kept, removed)."""
    title_key = line_key(title) if title else ""
    site_keys = {line_key(name) for name in sitenames if name}
    kept: list[str] = []
    removed: list[str] = []
    in_block = False
    lines = [raw for raw in text.splitlines() if raw.strip()]
    tail = _comments_start([raw.strip() for raw in lines], rules)
    if tail is not None:
        removed_tail = [raw.strip() for raw in lines[tail:]]
        lines = lines[:tail]
    else:
        removed_tail = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        key = line_key(_LIST_ITEM.sub("", line))
        words = len(key.split())
        if in_block:
            short = words <= rules.max_block_line_words and not _SENTENCE_END.search(line)
            if (_LIST_ITEM.match(line) or short) and key not in headings:
                removed.append(line)
                continue
            in_block = False
        if words <= rules.max_block_line_words and _starts_with(key, rules.block_start):
            in_block = True
            removed.append(line)
            continue
        is_boiler = (
            (title_key and key.replace(":", "") == title_key.replace(":", ""))
            or (words <= rules.max_line_words and _starts_with(key, rules.line_start))
            or (words <= rules.max_line_words and any(p in normalize(line) for p in rules.line_contains))
            or (words <= rules.max_line_words and any(key.endswith(p) and key != p for p in rules.line_end))
            or (words <= rules.max_line_words and key in learned)
            or key in site_keys
            or _site_and_date(line, site_keys)
            or _only_tools(line, rules)
            or _is_byline(line)
            or date_only_line(line)
        )
        if is_boiler:
            removed.append(line)
        else:
            kept.append(line)
    return kept, removed + removed_tail


def unwrap_layout_tables(tree: Any) -> int:
    """Turn tables used for page layout (cells holding paragraphs or long text) into divs; return how many.

    trafilatura renders a table row as one line, which would fuse a whole article held in a cell of an
    old table-based CMS into a single line; data tables (short cells) are left alone.
    """
    count = 0
    for table in tree.xpath("//table"):
        cells = table.xpath("./tr/td|./tr/th|./tbody/tr/td|./thead/tr/th|./tbody/tr/th")
        layout = any(
            cell.xpath(".//p|.//div|.//table|.//h1|.//h2|.//h3|.//ul|.//ol|.//br")
            or len(cell.text_content().split()) > _MAX_DATA_CELL_WORDS
            for cell in cells
        )
        if layout:
            for el in [table, *table.xpath("./tbody|./thead|./tfoot|.//tr"), *cells]:
                if el.getparent() is not None or el is table:
                    el.tag = "div"
            count += 1
    return count


def valid_date(value: str | None, reference: datetime | None) -> str | None:
    """Keep a date only when it parses and is not after the reference time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if reference is not None:
        ref = reference if reference.tzinfo else reference.replace(tzinfo=UTC)
        if (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)) > ref:
            return None
    return parsed.isoformat()


def trafilatura_doc(html: str, url: str) -> Document:
    """trafilatura's main text and metadata of a page (comments excluded), or ExtractError."""
    tree = load_html(html)
    if tree is None:
        raise ExtractError("page is not parsable HTML")
    unwrap_layout_tables(tree)
    # Recall first (short subheadings survive), precision from the Arabic rules and learned lines after.
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        favor_recall=True,
        include_comments=False,
        include_tables=True,
        with_metadata=True,
        date_extraction_params={"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"},
    )
    if doc is None or not isinstance(doc, Document) or not (doc.text or "").strip():
        raise ExtractError("no article text found")
    return doc


def candidate_lines(text: str, rules: Boilerplate | None = None) -> dict[str, str]:
    """The short lines of a page's raw text by key: what per-host learning counts across pages."""
    rules = rules or load_boilerplate()
    lines: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        key = line_key(_LIST_ITEM.sub("", line))
        if key and len(key.split()) <= rules.max_line_words:
            lines.setdefault(key, line)
    return lines


@dataclass(frozen=True)
class ParsedPage:
    """What a page's HTML yields before cleaning: trafilatura's text with subheadings put back, metadata, headings."""

    text: str
    raw_text: str
    meta: Metadata
    headings: frozenset[str]
    doc_title: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for staging between passes and processes)."""
        return {"text": self.text, "raw_text": self.raw_text, "meta": asdict(self.meta), "headings": sorted(self.headings), "doc_title": self.doc_title}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParsedPage:
        """The inverse of to_dict."""
        return cls(data["text"], data["raw_text"], Metadata(**data["meta"]), frozenset(data["headings"]), data.get("doc_title", ""))


def parse_page(html: str, url: str, *, reference: datetime | None = None) -> ParsedPage:
    """Everything extraction needs from a page's HTML (one trafilatura run, one metadata read), or ExtractError."""
    doc = trafilatura_doc(html, url)
    tree = load_html(html)
    if tree is None:
        raise ExtractError("page is not parsable HTML")
    try:
        meta = page_metadata(tree, url, doc, reference)
    except Exception:  # noqa: BLE001 - odd metadata must not cost the article its text
        log.warning("page metadata unreadable on %s; keeping trafilatura's", url, exc_info=True)
        meta = Metadata(title=(doc.title or "").strip(), sitename=(doc.sitename or "").strip(), published=valid_date(doc.date, reference))
    return ParsedPage(recover_headings(tree, doc.text or ""), doc.text or "", meta, heading_keys(tree), doc.title or "")


def finish_article(parsed: ParsedPage, *, rules: Boilerplate | None = None, min_chars: int = 80, learned: frozenset[str] = frozenset()) -> Article:
    """Clean a parsed page into the article (fixed rules, then the host's learned lines), or raise ExtractError."""
    rules = rules or load_boilerplate()
    meta = parsed.meta
    kept, removed = clean_lines(parsed.text, meta.title or parsed.doc_title, rules, learned, tuple(meta.sitenames), parsed.headings)
    if not kept:
        raise ExtractError("only boilerplate left after cleaning")
    if sum(len(line) for line in kept) < min_chars:
        raise ExtractError(f"article text too short ({sum(len(line) for line in kept)} characters, minimum {min_chars})")
    return Article(
        text="\n".join(kept),
        title=meta.title,
        authors=meta.authors,
        published=meta.published,
        modified=meta.modified,
        description=meta.description,
        sitename=meta.sitename,
        canonical_url=meta.canonical_url,
        image=meta.image,
        categories=meta.categories,
        tags=meta.tags,
        declared_language=meta.declared_language,
        removed_lines=removed,
    )


def extract_article(
    html: str,
    url: str,
    *,
    reference: datetime | None = None,
    rules: Boilerplate | None = None,
    min_chars: int = 80,
    learned: frozenset[str] = frozenset(),
) -> Article:
    """Extract the article from an HTML page, or raise ExtractError; learned holds the host's learned boilerplate keys."""
    return finish_article(parse_page(html, url, reference=reference), rules=rules, min_chars=min_chars, learned=learned)
