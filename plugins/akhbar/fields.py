"""Field extraction: places, organisations, people with roles and quantities, from data in config/.

Matching runs on a "flat" view of the text whose characters line up one to one with a display view
(diacritics and tatweel removed), so every match can be reported as the words the article used.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from akhbar.config import CONFIG_DIR, ConfigError, _read_yaml
from akhbar.normalize import _CHAR_MAP, _DIACRITICS, _TA_MARBUTA, _TATWEEL, normalize

_COUNTRY_CODE = re.compile(r"[A-Z]{2}")

_PROCLITIC = r"(?:(?<=\s)|^)(?P<pre>[وفبلك]?(?:ال|لل)?)"
_END = r"(?=\s|$)"
# Punctuation becomes a space, one for one, except a digit-group or decimal mark between digits.
_PUNCT_SPACE = re.compile(r"[^\w\s.,]|(?<!\d)[.,]|[.,](?!\d)|_", re.UNICODE)
_TOKEN = re.compile(r"\S+")
_DIGITS = re.compile(r"^\d+(?:[.,]\d+)*$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_SUFFIXES = ("ها", "هم", "نا", "ه")
_SPECIFICITY = {"base": 0, "city": 1, "governorate": 2, "region": 3, "sea": 3, "country": 4}


@dataclass(frozen=True)
class Place:
    """A gazetteer place."""

    name: str
    type: str
    country_code: str
    lat: float
    lon: float

    def to_dict(self) -> dict[str, Any]:
        """The place as indexed."""
        return {"name": self.name, "type": self.type, "country_code": self.country_code, "location": {"lat": self.lat, "lon": self.lon}}


@dataclass(frozen=True)
class Quantities:
    """Compiled quantity vocabulary."""

    numbers: dict[str, int]
    multipliers: dict[str, int]
    duals: dict[str, int]
    teen: frozenset[str]
    fractions: dict[str, float]
    approximate: tuple[tuple[str, ...], ...]
    vague: dict[str, int]
    year_words: frozenset[str]
    units: dict[tuple[str, ...], str]
    dual_units: dict[tuple[str, ...], str]
    max_unit_len: int
    heads: frozenset[str]
    count_markers: tuple[tuple[str, ...], ...] = ()
    head_cache: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)  # word -> may start a unit


@dataclass(frozen=True)
class Gazetteer:
    """Compiled gazetteer and quantity patterns."""

    places: tuple[Lexicon, ...]
    actors: tuple[Lexicon, ...]
    organisations: Lexicon
    actor_organisations: frozenset[str]
    people: Lexicon
    roles: re.Pattern[str]
    ranks: re.Pattern[str]
    quantities: Quantities


@dataclass
class Mention:
    """A match in the flat text."""

    start: int
    end: int
    value: Any
    pre: str = ""


@dataclass
class Text:
    """An article's text in two aligned views: display (as written, minus diacritics) and flat (normalised)."""

    display: str
    flat: str
    tokens: list[tuple[int, int, str]] = field(default_factory=list)

    @classmethod
    def of(cls, text: str) -> Text:
        """Build both views; they have equal length, so spans carry over."""
        display = _DIACRITICS.sub("", unicodedata.normalize("NFKC", text)).replace(_TATWEEL, "")
        flat = display.translate(_CHAR_MAP).translate(_TA_MARBUTA)
        flat = _PUNCT_SPACE.sub(" ", flat)
        assert len(flat) == len(display)
        tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(flat)]
        return cls(display, flat, tokens)

    def show(self, start: int, end: int) -> str:
        """The display text of a span, whitespace collapsed."""
        return " ".join(self.display[start:end].split())


def _form(name: str) -> str:
    """A name in matching form: normalised, single spaces, the article dropped (the pattern allows it)."""
    norm = normalize(name, strip_punct=True)
    if norm.startswith("ال") and len(norm) > 4:
        norm = norm[2:]
    return norm


@dataclass(frozen=True)
class Lexicon:
    """Many names compiled into one pattern; a match's value is looked up by the matched form."""

    pattern: re.Pattern[str]
    values: dict[str, Any]

    def find(self, flat: str) -> list[Mention]:
        """Mentions in a flat text, leftmost-longest."""
        return [Mention(m.start(), m.end(), self.values[" ".join(m.group("name").split())], m.group("pre") or "") for m in self.pattern.finditer(flat)]


def _lexicon(entries: list[tuple[list[str], Any]], exact: bool = False, inflected: bool = False) -> Lexicon:
    """One pattern for every name of every entry, whole words, proclitics and article allowed in front
    (only a preposition when exact); inflected allows nisba endings (امريكيا, فرنسيين)."""
    values: dict[str, Any] = {}
    for names, value in entries:
        for name in names:
            if name and name.strip():
                values.setdefault(_form(name), value)
    if not values:
        return Lexicon(re.compile(r"(?!x)x(?P<pre>)(?P<name>)"), {})
    alts = "|".join(r"\s+".join(map(re.escape, form.split())) for form in sorted(values, key=len, reverse=True))
    tail = r"(?:ا|ين|ون|يين)?" if inflected else ""
    if exact:
        head = r"(?:(?<=\s)|^)(?P<pre>(?:(?:في|الي|من|جمهوريه)\s+|[بل]))"
    else:
        head = _PROCLITIC
    return Lexicon(re.compile(head + "(?P<name>" + alts + ")" + tail + _END), values)


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str]:
    """A pattern for any phrase as written (normalised), as whole words, with و/ف/ب/ل allowed in front."""
    alts = "|".join(sorted({r"\s+".join(map(re.escape, normalize(p, strip_punct=True).split())) for p in phrases}, key=len, reverse=True))
    return re.compile(r"(?:(?<=\s)|^)[وفبل]?(?:" + alts + ")" + _END)


def _load_quantities(path: Path) -> Quantities:
    """Compile config/quantities.yaml."""
    data = _read_yaml(path)
    key = lambda w: normalize(str(w), strip_punct=True)  # noqa: E731
    units: dict[tuple[str, ...], str] = {}
    dual_units: dict[tuple[str, ...], str] = {}
    for table, target in (("units", units), ("dual_units", dual_units)):
        for category, words in data[table].items():
            for word in words:
                target[tuple(key(word).split())] = category
                units[tuple(key(word).split())] = category
    return Quantities(
        numbers={key(k): int(v) for k, v in data["numbers"].items()},
        multipliers={key(k): int(v) for k, v in data["multipliers"].items()},
        duals={key(k): int(v) for k, v in data["duals"].items()},
        teen=frozenset(key(w) for w in data["teen_word"]),
        fractions={key(k): float(v) for k, v in data["fractions"].items()},
        approximate=tuple(sorted({tuple(key(p).split()) for p in data["approximate"]}, key=len, reverse=True)),
        vague={key(k): int(v) for k, v in data["vague"].items()},
        year_words=frozenset(key(w) for w in data["year_words"]),
        units=units,
        dual_units=dual_units,
        max_unit_len=max(len(u) for u in units),
        heads=frozenset(u[0] for u in units),
        count_markers=tuple(sorted({tuple(key(p).split()) for p in data.get("count_markers", [])}, key=len, reverse=True)),
    )


@lru_cache(maxsize=2)
def load_gazetteer(path: Path = CONFIG_DIR / "gazetteer.yaml", quantities: Path = CONFIG_DIR / "quantities.yaml") -> Gazetteer:
    """Compile the gazetteer and quantity vocabulary once per process."""
    data = _read_yaml(path)
    places: dict[bool, list[tuple[list[str], Place]]] = {False: [], True: []}
    actors: dict[bool, list[tuple[list[str], str]]] = {False: [], True: []}
    for entry in data.get("places", []):
        lat, lon = entry["loc"]
        if not isinstance(entry.get("cc"), str) or not _COUNTRY_CODE.fullmatch(entry["cc"]):
            raise ConfigError(f"{path}: place {entry.get('name')!r} needs a two-letter country code 'cc' (quote it: YAML reads NO as false), not {entry.get('cc')!r}")
        place = Place(entry["name"], entry["type"], entry["cc"], float(lat), float(lon))
        exact = bool(entry.get("exact"))
        places[exact].append(([entry["name"], *entry.get("variants", [])], place))
        if entry["type"] == "country":
            actors[exact].append(([entry["name"], *entry.get("variants", []), *entry.get("actor", [])], entry["name"]))
    organisations = data.get("organisations", [])
    actors[False] += [([e["name"], *e.get("variants", [])], e["name"]) for e in organisations if e.get("actor")]
    return Gazetteer(
        places=(_lexicon(places[False]), _lexicon(places[True], exact=True)),
        actors=(_lexicon(actors[False], inflected=True), _lexicon(actors[True], exact=True, inflected=True)),
        organisations=_lexicon([([e["name"], *e.get("variants", [])], e["name"]) for e in organisations]),
        actor_organisations=frozenset(e["name"] for e in organisations if e.get("actor")),
        people=_lexicon([([e["name"], *e.get("variants", [])], e["name"]) for e in data.get("people", [])]),
        roles=_phrase_pattern(data.get("roles", [])),
        ranks=_phrase_pattern(data.get("ranks", [])),
        quantities=_load_quantities(quantities),
    )


def _longest_first(mentions: list[Mention]) -> list[Mention]:
    """Non-overlapping mentions, longer ones winning, in text order."""
    kept: list[Mention] = []
    for m in sorted(mentions, key=lambda m: (m.start - m.end, m.start)):
        if all(m.end <= k.start or m.start >= k.end for k in kept):
            kept.append(m)
    return sorted(kept, key=lambda m: m.start)


def find_places(text: Text, gaz: Gazetteer) -> list[Mention]:
    """Place mentions (value: Place), longest match winning where names overlap."""
    found = [m for lexicon in gaz.places for m in lexicon.find(text.flat)]
    return _longest_first(found)


def find_actors(text: Text, gaz: Gazetteer) -> list[Mention]:
    """Mentions of a state as an actor (name, nisba adjective, capital); value: the state's canonical name."""
    found = [m for lexicon in gaz.actors for m in lexicon.find(text.flat)]
    return _longest_first(found)


def _role_before(text: Text, start: int, gaz: Gazetteer) -> str:
    """The role phrase right before a name ("وزير الدفاع الأميركي، آشتون كارتر"), or ''."""
    window = text.flat[max(0, start - 90):start]
    cut = max(window.rfind("."), window.rfind("\n"), window.rfind('"'))
    window = window[cut + 1:]
    offset = start - len(window)
    last = None
    for m in gaz.roles.finditer(window):
        last = m
    if last is None:
        return ""
    between = window[last.start():]
    if len(between.split()) > 7:
        return ""
    return text.show(offset + last.start(), start).strip(" ،,:-")


def _role_after(text: Text, end: int, gaz: Gazetteer) -> str:
    """The role phrase right after a name set off by a comma ("كارتر، وزير الدفاع"), or ''."""
    rest = text.display[end:end + 90]
    m = re.match(r"\s*[،,]\s*", rest)
    if not m:
        return ""
    tail_flat = text.flat[end + m.end():end + 90]
    role = gaz.roles.match(tail_flat)
    if not role:
        return ""
    stop = re.search(r"[،,.؛;:\n\"«»()]", rest[m.end():])
    phrase = rest[m.end(): m.end() + (stop.start() if stop else len(rest) - m.end())]
    return " ".join(phrase.split()[:7])


def find_people(text: Text, gaz: Gazetteer) -> list[dict[str, str]]:
    """Known people and people named after a military rank, each with the role the text gives."""
    mentions = gaz.people.find(text.flat)
    starts = [t[0] for t in text.tokens]
    for m in gaz.ranks.finditer(text.flat):
        first = bisect.bisect_left(starts, m.end())
        after = text.tokens[first:first + 2]
        if len(after) == 2 and all(re.fullmatch(r"[\u0621-\u064a]{2,}", t[2]) for t in after):
            mentions.append(Mention(after[0][0], after[1][1], None))
    people: dict[str, dict[str, str]] = {}
    for mention in sorted(mentions, key=lambda m: m.start):
        name = mention.value or text.show(mention.start, mention.end)
        role = _role_before(text, mention.start, gaz) or _role_after(text, mention.end, gaz)
        entry = people.setdefault(name, {"name": name})
        if role and "role" not in entry:
            entry["role"] = role
    return list(people.values())


@lru_cache(maxsize=65536)
def _bare(token: str) -> str:
    """A token without a leading conjunction/preposition and article (for unit lookup)."""
    for prefix in ("وبال", "فبال", "وال", "بال", "فال", "لل", "ال", "و", "ب", "ل", "ف"):
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            return token[len(prefix):]
    return token


def _may_head(word: str, q: Quantities) -> bool:
    """True when a word could start a unit phrase (the test every word of every text goes through, so memoised)."""
    known = q.head_cache.get(word)
    if known is None:
        head = _bare(word)
        known = word in q.heads or head in q.heads or any(head.endswith(x) and head[: -len(x)] in q.heads for x in _SUFFIXES)
        if len(q.head_cache) > 200_000:
            q.head_cache.clear()
        q.head_cache[word] = known
    return known


def _unit_at(words: list[str], i: int, q: Quantities, duals: bool = False) -> tuple[int, str] | None:
    """The longest unit phrase starting at word i: (length in words, category); only dual forms if duals."""
    table = q.dual_units if duals else q.units
    if not _may_head(words[i], q):
        return None
    for n in range(min(q.max_unit_len, len(words) - i), 0, -1):
        phrase = words[i:i + n]
        variants = [tuple(phrase)]
        head = [_bare(phrase[0])] + phrase[1:]
        variants.append(tuple(head))
        last = head[-1]
        for suffix in _SUFFIXES:
            if last.endswith(suffix) and len(last) - len(suffix) >= 3:
                variants.append(tuple(head[:-1] + [last[: -len(suffix)]]))
        for variant in variants:
            if variant in table:
                return n, table[variant]
    return None


def _number_word(word: str, q: Quantities) -> bool:
    """True when a word can be part of a spelled or written number (و, ب or ل allowed in front)."""
    if word[:1] in "وبل" and len(word) > 1 and _number_word(word[1:], q):
        return True
    return bool(_DIGITS.match(word)) or word in q.numbers or word in q.multipliers or word in q.duals or word in q.teen


def _digits_value(word: str) -> float:
    """Value of a digit token: 1,200 and 1.200 as thousands groups, 1.5 as a decimal."""
    if _THOUSANDS.match(word) or re.fullmatch(r"\d{1,3}(?:\.\d{3})+", word):
        return float(re.sub(r"[,.]", "", word))
    return float(word.replace(",", "."))


def parse_number(words: list[str], q: Quantities) -> int | None:
    """The value of a run of number words and digits ("ثلاثة آلاف وخمسمئة", "3 آلاف و500", "560")."""
    total, current, seen = 0.0, 0.0, False
    for raw in words:
        word = raw[1:] if raw[:1] in "وبل" and len(raw) > 1 and _number_word(raw[1:], q) else raw
        if _DIGITS.match(word):
            if current and not seen:
                total, current = 0.0, 0.0  # "بين 200 و300": a new number, not a sum
            current, seen = current + _digits_value(word), False
        elif word in q.duals:
            total += q.duals[word] + current * 0
            current, seen = 0.0, True
        elif word in q.multipliers:
            factor = q.multipliers[word]
            if factor < 1000:
                current = (current or 1) * factor
            else:
                total += (current or 1) * factor
                current = 0.0
            seen = True
        elif word in q.teen and 0 < current < 10:
            current += 10
        elif word in q.numbers:
            current += q.numbers[word]
            seen = True
        else:
            return None
    value = int(round(total + current))
    return value or None


def _approximate_before(words: list[str], i: int, q: Quantities) -> bool:
    """True when a phrase marking approximation ends right before word i."""
    for phrase in q.approximate:
        n = len(phrase)
        if i - n >= 0:
            got = words[i - n:i]
            if tuple(got) == phrase or tuple([_bare(got[0])] + got[1:]) == phrase or tuple([got[0][1:]] + got[1:]) == phrase:
                return True
    return False


def _marked_counts(text: Text, words: list[str], q: Quantities, covered: set[int]) -> list[dict[str, Any]]:
    """Counts with no unit after them, given as the size of a force named just before
    ("الجنود الفرنسيين، وعددهم نحو ألف وخمسمئة"): the unit is the one of that force."""
    out: list[dict[str, Any]] = []
    firsts = {m[0] for m in q.count_markers if m}
    for k in range(len(words)):
        if words[k] not in firsts:
            continue
        marker = next((m for m in q.count_markers if tuple(words[k:k + len(m)]) == m), None)
        if marker is None:
            continue
        start = k + len(marker)
        for phrase in q.approximate:
            if tuple(words[start:start + len(phrase)]) == phrase:
                start += len(phrase)
                break
        end = start
        while end < len(words) and end - start < 8 and _number_word(words[end], q) and end not in covered:
            end += 1
        value = parse_number(words[start:end], q) if end > start else None
        if value is None or (end < len(words) and _unit_at(words, end, q)):
            continue  # no count, or one with its own unit (already read)
        before = [u[1] for j in range(max(0, k - 8), k) if (u := _unit_at(words, j, q))]
        if not before:
            continue
        category = "personnel" if "personnel" in before else before[-1]
        out.append({"value": value, "category": category, "unit": "", "approximate": _approximate_before(words, start, q),
                    "text": text.show(text.tokens[start][0], text.tokens[end - 1][1])})
    return out


def find_quantities(text: Text, gaz: Gazetteer) -> list[dict[str, Any]]:
    """Counts with units (personnel, aircraft, ships, vehicles, air defence) and shares of a force."""
    q = gaz.quantities
    words = [t[2] for t in text.tokens]
    out: list[dict[str, Any]] = []
    covered: set[int] = set()
    used_until = -1
    for i in range(len(words)):
        if i <= used_until:
            continue
        unit = _unit_at(words, i, q)
        if unit is None:
            continue
        length, category = unit
        j = i - 1
        if j >= 0 and words[j] == "من":
            j -= 1
        start = j
        while start >= 0 and _number_word(words[start], q) and i - start <= 8:
            if _DIGITS.match(words[start]) and start + 1 <= j and _DIGITS.match(words[start + 1].removeprefix("و")):
                break
            if start > 0 and words[start - 1] in q.year_words and _DIGITS.match(words[start]):
                break
            start -= 1
        start += 1
        run = words[start:j + 1]
        value: int | None = None
        approximate = False
        if len(run) == 1 and run[0] in q.vague and j == i - 1:
            approximate = True  # "آلاف الجنود": thousands, no count (not 1000)
        elif run:
            value = parse_number(run, q)
        elif j >= 0 and words[j] in q.vague and j == i - 1 and words[i].startswith("ال"):
            start, approximate = j, True
        elif _unit_at(words, i, q, duals=True):
            value, start = 2, i
        if value is None and not approximate:
            continue
        approximate = approximate or _approximate_before(words, start, q)
        begin, end = text.tokens[start][0], text.tokens[i + length - 1][1]
        out.append({"value": value, "category": category, "unit": " ".join(words[i:i + length]), "approximate": approximate, "text": text.show(begin, end)})
        used_until = i + length - 1
        covered.update(range(start, used_until + 1))
    out += _marked_counts(text, words, q, covered)
    for i, word in enumerate(words):
        share = q.fractions.get(word) or q.fractions.get(_bare(word))
        if share is None:
            continue
        near = any(_unit_at(words, k, q) and _unit_at(words, k, q)[1] == "personnel" for k in range(i + 1, min(len(words), i + 4)))
        if not (near or _approximate_before(words, i, q)):
            continue
        context = any((u := _unit_at(words, k, q)) and u[1] == "personnel" for k in range(max(0, i - 8), min(len(words), i + 8)))
        out.append({"value": None, "share": share, "category": "personnel" if context else "share", "unit": "share", "approximate": _approximate_before(words, i, q),
                    "text": text.show(text.tokens[i][0], text.tokens[i][1])})
    return out


def extract_fields(text: str, title: str = "", gazetteer: Gazetteer | None = None) -> dict[str, Any]:
    """Places, organisations, people, quantities and troop numbers mentioned in an article."""
    gaz = gazetteer or load_gazetteer()
    doc = Text.of(f"{title}\n{text}")
    places: dict[str, Place] = {}
    for mention in find_places(doc, gaz):
        places.setdefault(mention.value.name, mention.value)
    orgs = sorted({m.value for m in gaz.organisations.find(doc.flat)})
    quantities = find_quantities(doc, gaz)
    by_category = lambda c: sorted({q["value"] for q in quantities if q["category"] == c and q["value"]})  # noqa: E731
    ordered = sorted(places.values(), key=lambda p: _SPECIFICITY.get(p.type, 9))
    return {
        "places": [p.to_dict() for p in ordered],
        "place_names": [p.name for p in ordered],
        "country_codes": sorted({p.country_code for p in ordered if p.country_code != "XX"}),
        "locations": [{"lat": p.lat, "lon": p.lon} for p in ordered],
        "organisations": orgs,
        "people": find_people(doc, gaz),
        "quantities": quantities,
        "troops": by_category("personnel"),
        "aircraft": by_category("aircraft"),
        "ships": by_category("ships"),
    }
