"""Article extraction: trafilatura for the main text and metadata, then Arabic boilerplate removal."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.settings import Document

from akhbar.config import CONFIG_DIR, _read_yaml
from akhbar.normalize import normalize

log = logging.getLogger(__name__)

_KEY_PUNCT = re.compile(r"[^\w\s:]", re.UNICODE)
_SPACES = re.compile(r"\s+")
_LIST_ITEM = re.compile(r"^\s*[-•*·]\s+")
_SENTENCE_END = re.compile(r"[.!?؟。]\s*$")


class ExtractError(Exception):
    """A page yielded no article text; the message is the recorded reason."""


@dataclass(frozen=True)
class Boilerplate:
    """Compiled boilerplate rules from config/boilerplate.yaml."""

    line_start: tuple[tuple[str, bool], ...]
    block_start: tuple[tuple[str, bool], ...]
    line_contains: tuple[str, ...]
    max_line_words: int
    max_block_line_words: int


@dataclass
class Article:
    """The extracted article with its metadata."""

    text: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: str | None = None
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


def clean_lines(text: str, title: str, rules: Boilerplate) -> tuple[list[str], list[str]]:
    """Split text into lines and drop boilerplate lines and blocks; return (kept, removed)."""
    title_key = line_key(title) if title else ""
    kept: list[str] = []
    removed: list[str] = []
    in_block = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        key = line_key(_LIST_ITEM.sub("", line))
        words = len(key.split())
        if in_block:
            short = words <= rules.max_block_line_words and not _SENTENCE_END.search(line)
            if _LIST_ITEM.match(line) or short:
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
        )
        if is_boiler:
            removed.append(line)
        else:
            kept.append(line)
    return kept, removed


def valid_date(value: str | None, reference: datetime | None) -> str | None:
    """Keep a date only when it parses and is not after the reference time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if reference is not None:
        ref = reference if parsed.tzinfo is None or reference.tzinfo else reference.replace(tzinfo=parsed.tzinfo)
        if parsed.tzinfo is None and ref.tzinfo is not None:
            ref = ref.replace(tzinfo=None)
        if parsed > ref:
            return None
    return parsed.isoformat()


def _split_list(value: Any) -> list[str]:
    """trafilatura gives lists or ';'/','-joined strings: return a clean list."""
    if not value:
        return []
    items = value if isinstance(value, list) else re.split(r"[;,،]", str(value))
    return [s.strip() for s in items if s and s.strip()]


def extract_article(
    html: str, url: str, *, reference: datetime | None = None, rules: Boilerplate | None = None, min_chars: int = 80
) -> Article:
    """Extract the article from an HTML page, or raise ExtractError."""
    rules = rules or load_boilerplate()
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        include_comments=False,
        include_tables=True,
        with_metadata=True,
        date_extraction_params={"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"},
    )
    if doc is None or not isinstance(doc, Document) or not (doc.text or "").strip():
        raise ExtractError("no article text found")
    title = (doc.title or "").strip()
    sitename = (doc.sitename or "").strip()
    if title and sitename and line_key(title) == line_key(sitename):
        title = ""
    kept, removed = clean_lines(doc.text or "", title, rules)
    if not kept:
        raise ExtractError("only boilerplate left after cleaning")
    if sum(len(line) for line in kept) < min_chars:
        raise ExtractError(f"article text too short ({sum(len(line) for line in kept)} characters, minimum {min_chars})")
    return Article(
        text="\n".join(kept),
        title=title,
        authors=_split_list(doc.author),
        published=valid_date(doc.date, reference),
        description=(doc.description or "").strip(),
        sitename=sitename,
        canonical_url=(doc.url or "").strip(),
        image=(doc.image or "").strip(),
        categories=_split_list(doc.categories),
        tags=_split_list(doc.tags),
        declared_language=(doc.language or "").strip(),
        removed_lines=removed,
    )
