"""Dates as Arabic outlets print them: month names of every region, Arabic-Indic digits, 12-hour clocks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from akhbar.config import CONFIG_DIR, _read_yaml
from akhbar.normalize import normalize


@dataclass(frozen=True)
class DateFinder:
    """Compiled patterns for Arabic dates in text."""

    named: re.Pattern[str]
    numeric: re.Pattern[str]
    months: dict[str, int]
    pm: frozenset[str]
    am: frozenset[str]
    published_cues: tuple[str, ...]
    modified_cues: tuple[str, ...]
    line_words: frozenset[str]
    timezones: dict[str, str]


def _norm(text: str) -> str:
    """Normalised text used for date matching (digits to ASCII, letter forms unified)."""
    return normalize(text)


@lru_cache(maxsize=2)
def load_finder(path: Path = CONFIG_DIR / "dates.yaml") -> DateFinder:
    """Compile the month names and cue words of config/dates.yaml."""
    data = _read_yaml(path)
    months: dict[str, int] = {}
    for number, names in data["months"].items():
        for name in names:
            months[_norm(name)] = int(number)
    alternatives = "|".join(re.escape(m) for m in sorted(months, key=len, reverse=True))
    clock = (
        r"(?:\s*[-–|,]?\s*(?:(?:علي\s+)?الساعه\s*|at\s*)?"
        r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?::\d{2})?(?:\s*(?P<ampm>[^\W\d_]+))?)?"
    )
    named = re.compile(
        rf"(?<!\d)(?P<d>\d{{1,2}})\s+(?P<m>{alternatives})(?:\s*/\s*(?:{alternatives}))?\s*,?\s*(?P<y>(?:19|20)\d\d)\b{clock}"
    )
    numeric = re.compile(rf"(?<!\d)(?P<a>\d{{1,4}})[/.-](?P<b>\d{{1,2}})[/.-](?P<c>\d{{1,4}})(?!\d){clock}")
    return DateFinder(
        named=named,
        numeric=numeric,
        months=months,
        pm=frozenset(_norm(w).lower() for w in data.get("pm", [])),
        am=frozenset(_norm(w).lower() for w in data.get("am", [])),
        published_cues=tuple(_norm(c) for c in data.get("published_cues", [])),
        modified_cues=tuple(_norm(c) for c in data.get("modified_cues", [])),
        line_words=frozenset(_norm(w).lower() for w in data.get("date_line_words", [])),
        timezones={str(k).upper(): str(v) for k, v in (data.get("country_timezones") or {}).items()},
    )


def _build(year: int, month: int, day: int, match: re.Match[str], finder: DateFinder) -> datetime | None:
    """A datetime from matched parts, or None when they do not make a date."""
    hour = minute = 0
    if match.group("h") is not None:
        hour, minute = int(match.group("h")), int(match.group("mi"))
        marker = (match.group("ampm") or "").lower()
        if marker in finder.pm and hour < 12:
            hour += 12
        elif marker in finder.am and hour == 12:
            hour = 0
    try:
        return datetime(year, month, day, hour, minute)
    except ValueError:
        return None


def find_dates(text: str, finder: DateFinder | None = None) -> list[tuple[int, datetime]]:
    """Every date found in text with its position in the normalised text, in order."""
    finder = finder or load_finder()
    norm = _norm(text)
    found: list[tuple[int, datetime]] = []
    taken: list[tuple[int, int]] = []
    for match in finder.named.finditer(norm):
        parsed = _build(int(match.group("y")), finder.months[match.group("m")], int(match.group("d")), match, finder)
        if parsed:
            found.append((match.start(), parsed))
            taken.append(match.span())
    for match in finder.numeric.finditer(norm):
        if any(s <= match.start() < e for s, e in taken):
            continue
        a, b, c = int(match.group("a")), int(match.group("b")), int(match.group("c"))
        if len(match.group("a")) == 4:  # 2026/11/18
            year, month, day = a, b, c
        elif len(match.group("c")) == 4:  # 18/11/2026: day first, as Arab outlets write it
            year, month, day = c, b, a
        else:
            continue
        parsed = _build(year, month, day, match, finder)
        if parsed:
            found.append((match.start(), parsed))
    return sorted(found, key=lambda pair: pair[0])


def parse_date(text: str, finder: DateFinder | None = None) -> datetime | None:
    """The first date in text (naive: pages rarely state the time zone next to a printed date)."""
    dates = find_dates(text, finder)
    return dates[0][1] if dates else None


def strip_dates(norm: str, finder: DateFinder | None = None) -> str:
    """Normalised text with every date (and its clock) taken out."""
    finder = finder or load_finder()
    return " ".join(finder.numeric.sub(" ", finder.named.sub(" ", norm)).split())


def date_only_line(text: str, finder: DateFinder | None = None) -> bool:
    """True when a short line is nothing but a date (and weekday, clock, cue words)."""
    finder = finder or load_finder()
    norm = _norm(text)
    if len(norm.split()) > 12:
        return False
    rest = finder.numeric.sub(" ", finder.named.sub(" ", norm))
    if rest == norm:
        return False
    return all(word.lower() in finder.line_words for word in re.findall(r"[^\W\d_]+", rest))


def localize(value: str | None, country: str | None, finder: DateFinder | None = None) -> str | None:
    """An ISO date without a zone read as local time in the outlet's country; others unchanged."""
    if not value or not country:
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    zone = (finder or load_finder()).timezones.get(country.upper())
    if parsed.tzinfo is not None or zone is None:
        return value
    return parsed.replace(tzinfo=ZoneInfo(zone)).isoformat()
