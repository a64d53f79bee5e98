"""Scoring extraction against the golden set: content lines kept, boilerplate surviving, metadata right.

Used by bench/extraction_quality.py (the side-by-side comparison with plain trafilatura) and by the
tests that pin the goals. A golden page is an HTML file (bytes in its own encoding) under
tests/golden/pages/ with its expectation in tests/golden/expected/<name>.json.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import trafilatura

from akhbar.extract import Boilerplate, ExtractError, candidate_lines, extract_article, line_key, load_boilerplate, trafilatura_doc
from akhbar.fetch import decode_body
from akhbar.learned import LearnRules, Sighting, learn


@dataclass(frozen=True)
class GoldenPage:
    """One golden page: decoded HTML and what a perfect extraction gives."""

    name: str
    html: str
    encoding: str
    expected: dict[str, Any]

    @property
    def url(self) -> str:
        return self.expected["url"]

    @property
    def host(self) -> str:
        return self.expected["host"]

    @property
    def reference(self) -> datetime:
        return datetime.fromisoformat(self.expected["reference"])


def load_golden(root: Path) -> list[GoldenPage]:
    """The golden pages under root (pages/*.html with expected/*.json), decoded as the fetcher would."""
    out = []
    for path in sorted((root / "expected").glob("*.json")):
        expected = json.loads(path.read_text(encoding="utf-8"))
        html, encoding = decode_body((root / "pages" / f"{expected['name']}.html").read_bytes(), "text/html")
        out.append(GoldenPage(expected["name"], html, encoding, expected))
    return out


@dataclass
class Result:
    """What one extractor produced for one page."""

    text: str
    title: str = ""
    published: str | None = None
    authors: list[str] = field(default_factory=list)
    ms: float = 0.0
    error: str = ""


@dataclass
class PageScore:
    """The comparison of one result with the page's expectation."""

    name: str
    content_total: int
    content_lost: list[str]
    boilerplate_surviving: list[str]
    unlisted_lines: list[str]
    title_ok: bool
    date_ok: bool
    authors_ok: bool
    ms: float


def _word_pattern(key: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\S){re.escape(key)}(?!\S)")


def score(page: GoldenPage, result: Result) -> PageScore:
    """Line-level comparison: every output line must be article content; listed boilerplate must be gone."""
    exp = page.expected
    content_keys = [line_key(c) for c in exp["content"]]
    bp_keys = sorted({line_key(b) for b in exp["boilerplate"]} - {""}, key=len, reverse=True)
    found_content: set[str] = set()
    surviving: list[str] = []
    unlisted: list[str] = []
    for raw in result.text.splitlines():
        key = line_key(raw)
        if not key:
            continue
        rest = key
        for ck in content_keys:
            if ck and ck in rest:
                found_content.add(ck)
                rest = rest.replace(ck, " ")
        rest = " ".join(rest.split())
        if not rest:
            continue
        matched = False
        for bk in bp_keys:
            pattern = _word_pattern(bk)
            if pattern.search(rest):
                if bk not in surviving:
                    surviving.append(bk)
                rest = " ".join(pattern.sub(" ", rest).split())
                matched = True
        if rest.strip(" :,;.-|\"'") and not (matched and len(rest.split()) <= 1):
            unlisted.append(raw.strip())
    lost = [c for c, ck in zip(exp["content"], content_keys) if ck not in found_content]
    title_ok = (result.title or "").strip() == exp["title"]
    if exp["published"]:
        date_ok = bool(result.published) and result.published[:10] == exp["published"][:10]
    else:
        date_ok = not result.published
    authors_ok = list(result.authors) == list(exp["authors"])
    return PageScore(page.name, len(exp["content"]), lost, surviving, unlisted, title_ok, date_ok, authors_ok, result.ms)


def run_plain(page: GoldenPage) -> Result:
    """Plain trafilatura: extract(include_comments=False) with its metadata, as JSON."""
    start = time.perf_counter()
    raw = trafilatura.extract(page.html, url=page.url, include_comments=False, with_metadata=True, output_format="json")
    ms = (time.perf_counter() - start) * 1000
    if not raw:
        return Result("", ms=ms, error="no text")
    data = json.loads(raw)
    authors = [a.strip() for a in re.split(r"[;,]", data.get("author") or "") if a.strip()]
    return Result(data.get("text") or "", data.get("title") or "", data.get("date"), authors, ms)


def learned_leave_one_out(pages: list[GoldenPage], rules: LearnRules, boiler: Boilerplate) -> dict[str, frozenset[str]]:
    """Per page, the lines learned from the OTHER pages of its host: the state after a host has been seen."""
    sightings: dict[str, Sighting] = {}
    for page in pages:
        try:
            doc = trafilatura_doc(page.html, page.url)
        except ExtractError:
            continue
        sightings[page.name] = Sighting(page.host, page.name, candidate_lines(doc.text or "", boiler))
    out: dict[str, frozenset[str]] = {}
    for page in pages:
        others = [s for name, s in sightings.items() if name != page.name and s.host == page.host]
        out[page.name] = learn(others, rules).get(page.host, frozenset())
    return out


def run_project(page: GoldenPage, learned: frozenset[str] = frozenset(), boiler: Boilerplate | None = None) -> Result:
    """The project's extraction (fixed rules plus the given learned lines of the host)."""
    start = time.perf_counter()
    try:
        article = extract_article(page.html, page.url, reference=page.reference, rules=boiler or load_boilerplate(), learned=learned)
    except ExtractError as exc:
        return Result("", ms=(time.perf_counter() - start) * 1000, error=str(exc))
    ms = (time.perf_counter() - start) * 1000
    return Result(article.text, article.title, article.published, article.authors, ms)


@dataclass
class Summary:
    """Totals of one extractor over the golden set."""

    pages: int = 0
    content_total: int = 0
    content_lost: int = 0
    boilerplate_surviving: int = 0
    pages_with_boilerplate: int = 0
    unlisted_lines: int = 0
    titles_stated: int = 0
    titles_right: int = 0
    dates_stated: int = 0
    dates_right: int = 0
    authors_right: int = 0
    ms: list[float] = field(default_factory=list)

    @property
    def content_kept_share(self) -> float:
        return 1 - self.content_lost / self.content_total if self.content_total else 1.0

    def add(self, page: GoldenPage, s: PageScore) -> None:
        self.pages += 1
        self.content_total += s.content_total
        self.content_lost += len(s.content_lost)
        self.boilerplate_surviving += len(s.boilerplate_surviving)
        self.pages_with_boilerplate += bool(s.boilerplate_surviving)
        self.unlisted_lines += len(s.unlisted_lines)
        if page.expected["title"]:
            self.titles_stated += 1
            self.titles_right += s.title_ok
        if page.expected["published"]:
            self.dates_stated += 1
            self.dates_right += s.date_ok
        self.authors_right += s.authors_ok
        self.ms.append(s.ms)


__all__ = ["GoldenPage", "PageScore", "Result", "Summary", "learned_leave_one_out", "load_golden", "run_plain", "run_project", "score"]
