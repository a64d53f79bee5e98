"""Article metadata from the page: what trafilatura finds, completed from page metadata and Arabic text.

Dates come from JSON-LD and meta tags first, then htmldate (through trafilatura), then dates printed in
the page in Arabic (dates.py). Authors come from metadata or the byline («كتب: …»), with byline words
stripped. Values that are absurd (a future date, a title that is the outlet name, an author that is a
sentence or a URL) are left empty rather than guessed.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from akhbar.config import CONFIG_DIR, _read_yaml
from akhbar.dates import DateFinder, find_dates, load_finder, strip_dates
from akhbar.normalize import normalize

log = logging.getLogger(__name__)

_ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "blogposting", "analysisnewsarticle", "webpage", "liveblogposting"}
_LIST_SPLIT = re.compile(r"\s*[;,،؛|]\s*")
_NAME_SPLIT = re.compile(r"\s*(?:[,،;؛/&]|\band\b)\s*")
_AND = re.compile(r"\s+و(?=\S)")
_NOT_A_NAME = re.compile(r"https?://|www\.|@|\d")
_URLISH = re.compile(r"https?://|www\.|@")
_DIGIT = re.compile(r"[0-9\u0660-\u0669\u06f0-\u06f9]")
_HOSTLIKE = re.compile(r"^[\w.-]+\.[a-z]{2,}$", re.IGNORECASE)
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head"}


@dataclass(frozen=True)
class MetaRules:
    """Compiled rules of config/metadata.yaml."""

    byline: re.Pattern[str]
    separators: tuple[str, ...]
    max_author_words: int
    max_byline_words: int
    max_sitename_words: int
    max_title_chars: int
    max_tag_chars: int
    earliest_year: int
    trailing_words: frozenset[str]


@lru_cache(maxsize=2)
def load_rules(path: Path = CONFIG_DIR / "metadata.yaml") -> MetaRules:
    """Load the metadata rules once per process."""
    data = _read_yaml(path)
    prefixes = sorted({normalize(p) for p in data["byline_prefixes"]}, key=len, reverse=True)
    byline = re.compile(rf"^(?:{'|'.join(re.escape(p) for p in prefixes)})(?:\s*:\s*|\s+)(?=\S)", re.IGNORECASE)
    return MetaRules(
        byline=byline,
        separators=tuple(data["title_separators"]),
        max_author_words=int(data["max_author_words"]),
        max_byline_words=int(data["max_byline_words"]),
        max_sitename_words=int(data["max_sitename_words"]),
        max_title_chars=int(data["max_title_chars"]),
        max_tag_chars=int(data["max_tag_chars"]),
        earliest_year=int(data["earliest_year"]),
        trailing_words=frozenset(normalize(w) for w in data.get("byline_trailing_words", [])),
    )


@dataclass
class Metadata:
    """Everything the page says about the article besides its text."""

    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None
    sitename: str = ""
    canonical_url: str = ""
    image: str = ""
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    description: str = ""
    declared_language: str = ""
    sitenames: list[str] = field(default_factory=list)


def _clean(value: Any) -> str:
    """A whitespace-collapsed string from any scalar."""
    return " ".join(str(value).split()) if value not in (None, "") else ""


def _same(a: str, b: str) -> bool:
    """Equal after normalisation and punctuation removal."""
    return bool(a) and normalize(a, strip_punct=True).lower() == normalize(b, strip_punct=True).lower()


class Page:
    """Parsed page with its meta tags, JSON-LD objects and text runs, read once."""

    def __init__(self, tree: HtmlElement, url: str) -> None:
        self.tree = tree
        self.url = url
        self.meta: dict[str, list[str]] = {}
        for el in tree.iter("meta"):
            key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "").strip().lower()
            content = _clean(el.get("content"))
            if key and content:
                self.meta.setdefault(key, []).append(content)
        self.ld = list(self._json_ld())

    def first_meta(self, *keys: str) -> str:
        """The first content of the first present meta key."""
        for key in keys:
            if self.meta.get(key):
                return self.meta[key][0]
        return ""

    def all_meta(self, *keys: str) -> list[str]:
        """All contents of the given meta keys."""
        return [v for key in keys for v in self.meta.get(key, [])]

    def _json_ld(self) -> Any:
        """Article-like JSON-LD objects (graphs flattened)."""
        for script in self.tree.iter("script"):
            if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
                continue
            try:
                data = json.loads(script.text)
            except ValueError:
                log.debug("unparsable JSON-LD on %s", self.url)
                continue
            stack = data if isinstance(data, list) else [data]
            while stack:
                obj = stack.pop(0)
                if not isinstance(obj, dict):
                    continue
                if isinstance(obj.get("@graph"), list):
                    stack.extend(obj["@graph"])
                kinds = obj.get("@type", [])
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(str(k).lower() in _ARTICLE_TYPES for k in kinds):
                    yield obj

    def ld_values(self, key: str) -> list[Any]:
        """Values of a JSON-LD key over the article objects (lists flattened)."""
        out: list[Any] = []
        for obj in self.ld:
            value = obj.get(key)
            if isinstance(value, list):
                out.extend(value)
            elif value not in (None, ""):
                out.append(value)
        return out

    def text_runs(self) -> list[tuple[str, str]]:
        """Visible text in document order, each run tagged 'time', 'after_h1' or 'before_h1'."""
        runs: list[tuple[str, str]] = []
        body = self.tree.find(".//body")
        root = body if body is not None else self.tree
        seen_h1 = False
        time_depth = 0
        skip_depth = 0
        for event, el in etree.iterwalk(root, events=("start", "end")):
            tag = el.tag if isinstance(el.tag, str) else ""
            if event == "start":
                if tag in _SKIP_TAGS:
                    skip_depth += 1
                if tag == "time":
                    time_depth += 1
                if el.text and not skip_depth:
                    runs.append((el.text, "time" if time_depth else ("after_h1" if seen_h1 else "before_h1")))
            else:
                if tag in _SKIP_TAGS:
                    skip_depth -= 1
                if tag == "time":
                    time_depth -= 1
                if tag == "h1":
                    seen_h1 = True
                if el.tail and not skip_depth:
                    runs.append((el.tail, "time" if time_depth else ("after_h1" if seen_h1 else "before_h1")))
        return [(" ".join(t.split()), ctx) for t, ctx in runs if t.strip()]

    def elements_text(self, xpath: str) -> list[str]:
        """Whitespace-collapsed text of the elements an XPath selects."""
        return [t for t in (_clean(el.text_content()) for el in self.tree.xpath(xpath)) if t]


def _parse_iso(value: str) -> datetime | None:
    """An ISO 8601 date/time (with Z, offsets like +0300, or a date only)."""
    value = value.strip()
    if not value:
        return None
    value = re.sub(r"Z$", "+00:00", value)
    value = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _sane(dt: datetime | None, reference: datetime | None, earliest_year: int) -> datetime | None:
    """The date, unless it is in the future of the reference or older than news can be."""
    if dt is None or dt.year < earliest_year:
        return None
    if reference is not None:
        ref = reference if reference.tzinfo else reference.replace(tzinfo=UTC)
        cmp = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        if cmp > ref:
            return None
    return dt


def _text_dates(page: Page, finder: DateFinder) -> tuple[datetime | None, datetime | None]:
    """(published, modified) printed in the page text in Arabic, chosen by cue words and position."""
    cued_pub: list[datetime] = []
    cued_mod: list[datetime] = []
    in_time: list[datetime] = []
    after_h1: list[datetime] = []
    anywhere: list[datetime] = []
    chars_after_h1 = 0
    for text, ctx in page.text_runs():
        norm = normalize(text)
        for pos, dt in find_dates(text, finder):
            before = norm[max(0, pos - 25):pos]
            if any(cue in before for cue in finder.modified_cues):
                cued_mod.append(dt)
                continue
            if any(cue in before for cue in finder.published_cues):
                cued_pub.append(dt)
            if ctx == "time":
                in_time.append(dt)
            if ctx == "after_h1" and chars_after_h1 < 1500:
                after_h1.append(dt)
            anywhere.append(dt)
        if ctx == "after_h1":
            chars_after_h1 += len(text)
    for group in (cued_pub, in_time, after_h1, anywhere):
        if group:
            return group[0], (cued_mod[0] if cued_mod else None)
    return None, (cued_mod[0] if cued_mod else None)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def find_published(page: Page, htmldate_value: str | None, reference: datetime | None, rules: MetaRules) -> tuple[str | None, str | None]:
    """(published, modified) as ISO strings, or None where absent or absurd."""
    finder = load_finder()
    stated_pub = [*page.ld_values("datePublished"), *page.all_meta("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate", "dc.date.issued", "date")]
    stated_mod = [*page.ld_values("dateModified"), *page.all_meta("article:modified_time", "og:updated_time", "datemodified", "dc.date.modified", "last-modified")]
    published = next((d for d in (_parse_iso(str(v)) for v in stated_pub) if d), None)
    modified = next((d for d in (_parse_iso(str(v)) for v in stated_mod) if d), None)
    text_pub = text_mod = None
    if published is None or modified is None:
        text_pub, text_mod = _text_dates(page, finder)
    if published is None:
        published = _parse_iso(htmldate_value or "") or text_pub
    modified = modified or text_mod
    published = _sane(published, reference, rules.earliest_year)
    modified = _sane(modified, reference, rules.earliest_year)
    if published and modified:
        a = published if published.tzinfo else published.replace(tzinfo=UTC)
        b = modified if modified.tzinfo else modified.replace(tzinfo=UTC)
        if b < a and (published.tzinfo is not None) == (modified.tzinfo is not None):
            modified = None
    return _iso(published), _iso(modified)


def clean_author(name: str, rules: MetaRules, sitename: str = "") -> list[str]:
    """Author names from one byline value: byline words stripped, split, absurd values dropped."""
    text = _clean(name).strip(" :-–—|")
    if _URLISH.search(text):
        return []
    # A byline often runs on into the date («كتب: فلان الأربعاء، ١٨ نوفمبر ٢٠٢٦»): cut at the first digit
    # and drop the weekday and cue words left before it.
    head = _DIGIT.split(text, maxsplit=1)[0]
    words = head.split()
    if head != text:
        while words and normalize(words[-1].strip("،,:-–|")) in rules.trailing_words:
            words.pop()
    text = " ".join(words).strip(" :-–—|،,")
    norm = normalize(text)
    match = rules.byline.match(norm)
    if match:
        # Strip the same number of words from the original text as the prefix has in normalised form.
        prefix_words = len(match.group(0).replace(":", " ").split())
        text = " ".join(text.replace(":", " : ", 1).split()[prefix_words:]).lstrip(": ").strip()
    names: list[str] = []
    for part in _NAME_SPLIT.split(text):
        pieces = _AND.split(part)
        if len(pieces) > 1 and all(len(p.split()) >= 2 for p in pieces):
            names.extend(pieces)
        else:
            names.append(part)
    out: list[str] = []
    for candidate in (n.strip(" .:-–—|") for n in names):
        if not candidate or _NOT_A_NAME.search(candidate) or len(candidate.split()) > rules.max_author_words:
            continue
        if sitename and _same(candidate, sitename):
            continue
        if candidate not in out:
            out.append(candidate)
    return out


def _byline_authors(page: Page, rules: MetaRules, sitename: str) -> list[str]:
    """Authors from a short byline element in the page («كتب: …», «بقلم …»)."""
    for text, _ctx in page.text_runs():
        norm = strip_dates(normalize(text))
        if len(norm.split()) > rules.max_byline_words:
            continue
        if rules.byline.match(norm):
            names = clean_author(text, rules, sitename)
            if names:
                return names
    return []


def _ld_names(values: list[Any]) -> list[str]:
    """Names from JSON-LD person/organisation values."""
    out = []
    for value in values:
        if isinstance(value, dict):
            value = value.get("name", "")
        if isinstance(value, str) and value.strip():
            out.append(value)
    return out


def _url(value: Any, base: str) -> str:
    """An absolute http(s) URL from a JSON-LD or meta value, or ''."""
    if isinstance(value, dict):
        value = value.get("url") or value.get("@id") or ""
    if not isinstance(value, str) or not value.strip():
        return ""
    absolute = urljoin(base, value.strip())
    return absolute if urlsplit(absolute).scheme in ("http", "https") and urlsplit(absolute).hostname else ""


def _sitenames(page: Page, doc_sitename: str, title_candidates: list[str], rules: MetaRules) -> list[str]:
    """Names the page gives its outlet, most explicit first."""
    names = [page.first_meta("og:site_name"), page.first_meta("application-name")]
    names += _ld_names([o.get("publisher") for o in page.ld if o.get("publisher")])
    title_el = page.tree.find(".//title")
    raw_title = _clean(title_el.text_content()) if title_el is not None else ""
    for sep in rules.separators:
        if sep in raw_title:
            head, _, tail = raw_title.rpartition(sep)
            first, _, rest = raw_title.partition(sep)
            if any(_same(head, t) for t in title_candidates):
                names.append(tail)
            elif any(_same(rest, t) for t in title_candidates):
                names.append(first)
    if doc_sitename and not _HOSTLIKE.match(doc_sitename):
        names.append(doc_sitename)
    origin = f"{urlsplit(page.url).scheme}://{urlsplit(page.url).netloc}"
    for link in page.tree.xpath("//a[@href]"):
        href = link.get("href", "").strip()
        if href in ("/", origin, origin + "/", "./"):
            text = _clean(link.text_content()) or _clean(" ".join(link.xpath(".//img/@alt")))
            if text:
                names.append(text)
                break
    out: list[str] = []
    for name in (_clean(n) for n in names):
        if name and len(name.split()) <= rules.max_sitename_words and not any(_same(name, o) for o in out):
            out.append(name)
    return out


def _split_values(values: list[Any], max_chars: int) -> list[str]:
    """Flat, de-duplicated list of category or tag strings."""
    out: list[str] = []
    for value in values:
        items = value if isinstance(value, list) else _LIST_SPLIT.split(str(value))
        for item in items:
            item = _clean(item)
            if item and len(item) <= max_chars and not _URLISH.search(item) and item not in out:
                out.append(item)
    return out


def _declared_language(page: Page) -> str:
    """Primary language subtag the page declares (html lang, Content-Language, og:locale)."""
    html_el = page.tree if page.tree.tag == "html" else page.tree.find(".//html")
    candidates = [html_el.get("lang") or html_el.get("xml:lang") or "" if html_el is not None else ""]
    candidates += [page.first_meta("content-language", "language", "og:locale")]
    for value in candidates:
        value = (value or "").strip().replace("_", "-")
        if value:
            return value.split("-")[0].split(",")[0].lower()
    return ""


def page_metadata(tree: HtmlElement, url: str, doc: Any, reference: datetime | None, rules: MetaRules | None = None) -> Metadata:
    """Complete and check the metadata of a page; doc is trafilatura's Document for it."""
    rules = rules or load_rules()
    page = Page(tree, url)
    h1 = page.elements_text("//h1")
    headline_candidates = [t for t in [_clean(doc.title), page.first_meta("og:title", "twitter:title"), *[_clean(v) for v in page.ld_values("headline")], *h1[:1]] if t]
    sitenames = _sitenames(page, _clean(doc.sitename), headline_candidates, rules)
    sitename = sitenames[0] if sitenames else ""
    title = ""
    for candidate in headline_candidates:
        for sep in rules.separators:  # a headline still carrying the outlet name, after or before it
            for name in sitenames:
                if candidate.endswith(sep + name):
                    candidate = candidate[: -len(sep + name)]
                if candidate.startswith(name + sep):
                    candidate = candidate[len(name + sep):]
        if candidate and len(candidate) <= rules.max_title_chars and not any(_same(candidate, n) for n in sitenames):
            title = candidate
            break
    authors: list[str] = []
    for source in (_ld_names(page.ld_values("author")), [doc.author] if doc.author else [], page.all_meta("author", "article:author", "dc.creator")):
        for value in source:
            authors += [name for name in clean_author(value, rules, sitename) if name not in authors]
        if authors:
            break
    if not authors:
        authors = _byline_authors(page, rules, sitename)
    published, modified = find_published(page, doc.date, reference, rules)
    canonical = ""
    for href in [*page.tree.xpath("//link[@rel='canonical']/@href"), page.first_meta("og:url"), *page.ld_values("mainEntityOfPage")]:
        canonical = _url(href, url)
        if canonical:
            break
    image = ""
    for src in [page.first_meta("og:image", "og:image:url", "og:image:secure_url"), page.first_meta("twitter:image", "twitter:image:src"), *page.ld_values("image"), *page.tree.xpath("//link[@rel='image_src']/@href"), doc.image]:
        image = _url(src, url)
        if image:
            break
    categories = _split_values([*(doc.categories or []), *page.all_meta("article:section"), *page.ld_values("articleSection")], rules.max_tag_chars)
    tag_links = [_clean(a.text_content()) for a in page.tree.xpath("//a[@rel]") if "tag" in a.get("rel", "").split() and "category" not in a.get("rel", "").split()]
    tags = _split_values([*(doc.tags or []), *page.all_meta("article:tag"), *page.ld_values("keywords"), *tag_links], rules.max_tag_chars)
    description = ""
    for value in [doc.description, page.first_meta("description", "og:description", "twitter:description"), *page.ld_values("description")]:
        value = _clean(value)
        if value and not any(_same(value, n) for n in sitenames):
            description = value
            break
    return Metadata(
        title=title, authors=authors, published=published, modified=modified, sitename=sitename,
        canonical_url=canonical, image=image, categories=categories, tags=tags, description=description,
        declared_language=_declared_language(page), sitenames=sitenames,
    )
