"""Field extraction: places, organisations and troop numbers, from a gazetteer kept as data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from akhbar.config import CONFIG_DIR, _read_yaml
from akhbar.normalize import normalize

_PROCLITIC = r"(?:^|(?<=\s))(?:[وفبلك]?(?:ال)?)"
_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:[,.]\d{3})+|\d+)(?![\d])")


@dataclass(frozen=True)
class Gazetteer:
    """Compiled gazetteer patterns."""

    places: tuple[tuple[re.Pattern[str], dict[str, Any]], ...]
    organisations: tuple[tuple[re.Pattern[str], str], ...]
    troops: re.Pattern[str]


def _alternation(names: list[str]) -> str:
    """A regex alternation of normalised names, longest first, with the article made optional."""
    forms: set[str] = set()
    for name in names:
        norm = normalize(name, strip_punct=True)
        forms.add(re.escape(norm[2:] if norm.startswith("ال") and len(norm) > 4 else norm))
    return "|".join(sorted(forms, key=len, reverse=True))


@lru_cache(maxsize=2)
def load_gazetteer(path: Path = CONFIG_DIR / "gazetteer.yaml") -> Gazetteer:
    """Compile the gazetteer once per process."""
    data = _read_yaml(path)
    places = []
    for entry in data.get("places", []):
        pattern = re.compile(_PROCLITIC + f"(?:{_alternation([entry['name'], *entry.get('variants', [])])})(?=\\s|$)")
        lat, lon = entry["loc"]
        places.append((pattern, {"name": entry["name"], "type": entry["type"], "country_code": entry["cc"], "location": {"lat": lat, "lon": lon}}))
    orgs = []
    for entry in data.get("organisations", []):
        pattern = re.compile(_PROCLITIC + f"(?:{_alternation([entry['name'], *entry.get('variants', [])])})(?=\\s|$)")
        orgs.append((pattern, entry["name"]))
    nouns = "|".join(sorted({re.escape(normalize(n)) for n in data.get("troop_nouns", [])}, key=len, reverse=True))
    troops = re.compile(_NUMBER.pattern + r"\s+(?:(?:من|الف|آلاف|ألف)\s+)?(?:" + nouns + r")(?=\s|$)")
    return Gazetteer(tuple(places), tuple(orgs), troops)


def extract_fields(text: str, title: str = "", gazetteer: Gazetteer | None = None) -> dict[str, Any]:
    """Places, organisations and troop numbers mentioned in an article."""
    gaz = gazetteer or load_gazetteer()
    norm = normalize(f"{title}\n{text}", strip_punct=False)
    flat = normalize(norm, strip_punct=True)
    places = [info for pattern, info in gaz.places if pattern.search(flat)]
    orgs = sorted({name for pattern, name in gaz.organisations if pattern.search(flat)})
    troops = sorted({int(re.sub(r"[,.]", "", m.group(1))) for m in gaz.troops.finditer(normalize(norm).replace(",", ""))})
    return {
        "places": places,
        "place_names": [p["name"] for p in places],
        "locations": [p["location"] for p in places],
        "organisations": orgs,
        "troops": troops,
    }
