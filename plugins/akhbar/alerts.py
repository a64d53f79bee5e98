"""Deployment-announcement detection (rules from config/deployment.yaml) and alert keys, one per story."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any

from akhbar.config import CONFIG_DIR, _read_yaml
from akhbar.fields import _SPECIFICITY, Gazetteer, Mention, Text, _longest_first, _number_word, _unit_at, find_actors, find_places, find_quantities, load_gazetteer
from akhbar.normalize import normalize

_SENTENCES = re.compile(r"(?<=[.!?؟])\s+|\n+")
_FORCE_CATEGORIES = {"personnel": "combat_troops", "aircraft": "aircraft", "ships": "ships", "air_defence": "air_defence", "vehicles": "combat_troops"}


@dataclass(frozen=True)
class Rules:
    """Compiled deployment rules."""

    verbs: tuple[tuple[str, re.Pattern[str]], ...]
    receiving: re.Pattern[str]
    return_verbs: re.Pattern[str]
    redeploy_nouns: re.Pattern[str]
    person_subjects: re.Pattern[str]
    adjective_triggers: re.Pattern[str]
    civilian: re.Pattern[str]
    onward: re.Pattern[str]
    needs_origin: re.Pattern[str]
    force_types: tuple[tuple[str, re.Pattern[str]], ...]
    negation: re.Pattern[str]
    not_a_decision: re.Pattern[str]
    conditions: re.Pattern[str]
    refuted: re.Pattern[str]
    publish_objects: re.Pattern[str]
    domestic_exceptions: re.Pattern[str]
    background: re.Pattern[str]
    presence: re.Pattern[str]
    past_year: re.Pattern[str]
    planned: re.Pattern[str]
    begun: re.Pattern[str]
    domestic: re.Pattern[str]
    domestic_purposes: re.Pattern[str]
    sport: re.Pattern[str]
    figurative: re.Pattern[str]
    other_news: re.Pattern[str]
    arms_transfer: re.Pattern[str]
    arms_transfer_exceptions: re.Pattern[str]
    origin_nouns: frozenset[str]
    prepositions: frozenset[str]
    to_prepositions: tuple[str, ...]
    from_prepositions: tuple[str, ...]
    direction_words: frozenset[str]
    purpose: re.Pattern[str]
    presence_nouns: re.Pattern[str]
    securing: re.Pattern[str]
    frontier: re.Pattern[str]
    arrival_verbs: re.Pattern[str]
    departure_verbs: re.Pattern[str]
    origin_words: frozenset[str]
    partitives: re.Pattern[str]
    alert_kinds: frozenset[str]
    max_sentences: int
    window: int
    scope: int


@dataclass(frozen=True)
class Deployment:
    """What an article says about a deployment; is_deployment only for an announcement (now or planned)."""

    is_deployment: bool
    kind: str = ""
    actor: str = ""
    destination: str = ""
    destination_country: str = ""
    size: int | None = None
    size_unit: str = ""
    share: float | None = None
    force_type: str = ""
    status: str = ""
    evidence: str = ""
    confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the index."""
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}


def _words(phrases: list[str], suffixes: bool = False, article: bool = False, his: bool = False) -> re.Pattern[str]:
    """A pattern matching any normalised phrase as whole words (proclitics و ف ب ل allowed, the article and
    pronoun suffixes if asked; ه only with `his`)."""
    alts = sorted({r"\s+".join(map(re.escape, normalize(p, strip_punct=True).split())) for p in phrases}, key=len, reverse=True)
    # ه only where asked: عسكري+ه is the adjective عسكرية, not "his soldiers"; تقرير+ه is "its report"
    tail = (r"(?:هما|ها|هم|ه)?" if his else r"(?:هما|ها|هم)?") if suffixes else ""
    head = r"(?:[بلك]?ال|لل|[بلك])?" if article else r"(?:[بلك]|لل)?"
    return re.compile(r"(?:^|(?<=\s))[وف]?" + head + r"(?:" + "|".join(alts) + r")" + tail + r"(?=\s|$)")


@lru_cache(maxsize=2)
def load_rules(path: Path = CONFIG_DIR / "deployment.yaml") -> Rules:
    """Compile the deployment rules once per process."""
    data = _read_yaml(path)
    return Rules(
        verbs=tuple((kind, _words(words, suffixes=True)) for kind, words in data["verbs"].items()) + (("deploy", _words(data["receiving"])),),
        receiving=_words(data["receiving"]),
        return_verbs=_words(data["return_verbs"]),
        redeploy_nouns=_words(data["redeploy_nouns"], article=True),
        person_subjects=_words(data["person_subjects"], article=True),
        adjective_triggers=_words(data["adjective_triggers"]),
        civilian=_words(data["civilian"], article=True),
        onward=_words(data["onward"], suffixes=True),
        needs_origin=_words(data["needs_origin"], suffixes=True),
        force_types=tuple((kind, _words(words, suffixes=True, article=True)) for kind, words in data["force_types"].items()),
        negation=_words(data["negations"]),
        not_a_decision=_words(data["not_a_decision"]),
        conditions=_words(data["conditions"]),
        refuted=_words(data["refuted"]),
        publish_objects=_words(data["publish_objects"], suffixes=True, his=True),
        domestic_exceptions=_words(data["domestic_exceptions"]),
        background=_words(data["background"]),
        presence=_words(data["presence"]),
        past_year=re.compile(r"(?:^|(?<=\s))(?P<before>\S+\s+)?(?:[وف]?(?:في|منذ|خلال)\s+)?(?:[وفل]?عام|سنه)\s+(?:19|20)\d\d(?=\s|$)"),
        planned=_words(data["planned"]),
        begun=_words(data["begun"]),
        domestic=_words(data["domestic"]),
        domestic_purposes=_words(data["domestic_purposes"]),
        sport=_words(data["sport"]),
        figurative=_words(data["figurative"]),
        other_news=_words(data["other_news"]),
        arms_transfer=_words(data["arms_transfer"], article=True),
        arms_transfer_exceptions=_words(data["arms_transfer_exceptions"]),
        origin_nouns=frozenset(normalize(p, strip_punct=True) for p in data["origin_nouns"]),
        prepositions=frozenset(normalize(p, strip_punct=True) for p in data["destination_prepositions"]),
        to_prepositions=tuple(normalize(p, strip_punct=True) for p in data["to_prepositions"]),
        from_prepositions=tuple(normalize(p, strip_punct=True) for p in data["from_prepositions"]),
        direction_words=frozenset(normalize(p, strip_punct=True) for p in data["direction_words"]),
        purpose=_words(data["purpose"]),
        presence_nouns=_words(data["presence_nouns"]),
        securing=_words(data["securing"]),
        frontier=_words(data["frontier"], article=True),
        arrival_verbs=_words(data["arrival_verbs"], suffixes=True),
        departure_verbs=_words(data["departure_verbs"], suffixes=True),
        origin_words=frozenset(normalize(p, strip_punct=True) for p in data["origin_words"]),
        partitives=_words(data["partitives"]),
        alert_kinds=frozenset(k for k, on in data.get("alert_kinds", {}).items() if on),
        max_sentences=int(data.get("max_sentences", 8)),
        window=int(data.get("window", 7)),
        scope=int(data.get("scope", 4)),
    )


def _token_index(text: Text, pos: int) -> int:
    """Index of the token that contains or follows a character position."""
    for i, (start, end, _) in enumerate(text.tokens):
        if end > pos:
            return i
    return len(text.tokens)


def _triggers(text: Text, rules: Rules) -> list[Mention]:
    """Trigger-verb mentions (value: kind), the longest phrase winning ("إعادة نشر" over "نشر")."""
    return _longest_first([Mention(m.start(), m.end(), kind) for kind, pattern in rules.verbs for m in pattern.finditer(text.flat)])


def _forces(text: Text, rules: Rules, gaz: Gazetteer) -> list[Mention]:
    """Force-noun mentions (value: force type): the rules' force nouns and every unit noun of a counted quantity."""
    found = [Mention(m.start(), m.end(), kind) for kind, pattern in rules.force_types for m in pattern.finditer(text.flat)]
    found += [Mention(m.start, m.end, "combat_troops") for m in find_actors(text, gaz) if m.value in gaz.actor_organisations]
    words = [t[2] for t in text.tokens]
    for i, token in enumerate(text.tokens):
        unit = _unit_at(words, i, gaz.quantities)
        if unit and unit[0] == 1 and words[i].endswith("يه") and _unit_at(words[:i] + [words[i][:-1]], i, gaz.quantities):
            continue  # "عسكرية" is the adjective, not عسكري + ه ("his soldier")
        if unit and unit[1] in _FORCE_CATEGORIES:
            end = text.tokens[i + unit[0] - 1][1]
            found.append(Mention(token[0], end, _FORCE_CATEGORIES[unit[1]]))
    return _longest_first(found)


def _preposition_before(text: Text, mention: Mention, rules: Rules) -> str:
    """The destination preposition governing a place ("إلى", "من", or ب/ل attached), looking past one
    direction word ("إلى ريف حلب", "من شمال سوريا"); '' when there is none."""
    i = _token_index(text, mention.start)
    if mention.pre.strip() in rules.prepositions:
        return mention.pre.strip()  # an exact name's own preposition ("من مالي")
    attached = mention.pre.lstrip("و")[:1]
    if attached in ("ب", "ل"):
        return attached
    for back in (1, 2):
        if i - back < 0:
            break
        word = text.tokens[i - back][2]
        bare = word[1:] if word[:1] == "و" and len(word) > 2 else word
        if bare in rules.prepositions:
            return bare
        if back == 1 and (bare in rules.direction_words or bare in rules.origin_nouns or (bare[:1] in "بل" and (bare[1:] in rules.direction_words or bare[1:] in rules.origin_nouns))):
            if bare[:1] in "بل" and (bare[1:] in rules.direction_words or bare[1:] in rules.origin_nouns):
                return bare[0]
            continue
        break
    return ""


def _after_origin_word(text: Text, place: Mention, rules: Rules) -> bool:
    """True for a place named as where forces come from or are stationed ("قادمة من الأردن", "المتمركزة في قاعدة بعشيقة")."""
    i = _token_index(text, place.start)
    for back in (1, 2, 3):
        if i - back < 0:
            return False
        word = text.tokens[i - back][2]
        if word in rules.origin_words or (word[:1] == "و" and word[1:] in rules.origin_words):
            return True
        if word in rules.to_prepositions[:5]:
            return False
    return False


def _destination(text: Text, places: list[Mention], actor: str, trigger_end: int, kind: str, rules: Rules, arrival: bool = False,
                 departure: bool = False) -> Mention | None:
    """Where the forces go (or, for a withdrawal, leave): a place marked by a preposition, the kind's
    preferred prepositions first, then after the trigger, then the most specific. An arrival verb's object
    ("تصل قاعدة التنف") counts as marked by إلى; a place forces come from is never where they go."""
    order = rules.from_prepositions if kind == "withdraw" else rules.to_prepositions
    after = _token_index(text, trigger_end)
    # a departure verb's object, unless a place where the forces are was named before the verb ("المرابطة في تشاد")
    left = None if any(p.start < trigger_end and _preposition_before(text, p, rules) for p in places) else next(
        (p for p in places if p.start >= trigger_end and not _preposition_before(text, p, rules)), None)
    candidates = []
    for place in places:
        if place.value.name == actor:
            continue
        if kind != "withdraw" and _after_origin_word(text, place, rules):
            continue
        prep = _preposition_before(text, place, rules)
        rank = order.index(prep) if prep in order else (len(order) if prep else len(order) + 1)
        if arrival and not prep and _token_index(text, place.start) == after:
            rank = 0
        if departure and not prep and place == left:
            rank = 0  # the place left is the verb's object, after its subject ("غادرت آخر دفعة من القوات الإسبانية قاعدة بسماية")
        candidates.append(((rank, place.start < trigger_end, _SPECIFICITY.get(place.value.type, 9), place.start), place))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def _has_origin(text: Text, places: list[Mention], trigger_end: int, rules: Rules) -> bool:
    """True when forces are said to move from somewhere: a place after من, or a place named between the
    verb and the place after إلى ("قواتها المتمركزة في قطر إلى قاعدة الظفرة")."""
    marks = [(p, _preposition_before(text, p, rules)) for p in places if p.start >= trigger_end]
    if any(mark == "من" for _, mark in marks):
        return True
    # a place the gazetteer lacks, named by its kind: "من قاعدة الشدادي إلى ..."
    words = [t[2] for t in text.tokens]
    start = _token_index(text, trigger_end)
    for i in range(start, len(words) - 1):
        if words[i] in ("من", "ومن") and words[i + 1] in rules.origin_nouns and any(w in ("الي", "نحو") for w in words[i + 2:]):
            return True
        # stationed somewhere and moved on: "قواته المتمركزة في قاعدة بعشيقة إلى مواقع جديدة"
        if words[i] in rules.origin_words and (words[i + 1] in ("في", "من") or words[i + 1][:1] == "ب") and any(w in ("الي", "نحو") for w in words[i + 2:]):
            return True
    targets = [p.start for p, mark in marks if mark in rules.to_prepositions[:4]]
    return bool(targets) and any(p.start < max(targets) and mark not in rules.to_prepositions[:4] for p, mark in marks)


def _outside_names(text: Text, actors: list[Mention], places: list[Mention], gaz: Gazetteer) -> tuple[list[Mention], list[Mention]]:
    """Drop places named inside an organisation's name ("قوات سوريا الديمقراطية" is not Syria), and the
    actor read from the same words."""
    orgs = [(m.start, m.end) for m in gaz.organisations.find(text.flat)]
    inside = [p for p in places if any(a <= p.start and p.end < b for a, b in orgs)]
    spans = {(p.start, p.end) for p in inside}
    return [a for a in actors if (a.start, a.end) not in spans], [p for p in places if p not in inside]


def _onward(text: Text, places: list[Mention], actor: str, trigger_end: int, rules: Rules, home: str = "") -> bool:
    """True when forces leaving one place are sent on to another that is not home, with a word of onward
    movement before it ("غادرت ... المتوسط متجهة إلى المحيط الهندي", "إخلاء قاعدتها ... ونقل معداتها إلى اللاذقية"),
    or straight from a place to another abroad ("ستنسحب من قاعدة عين الأسد إلى أربيل")."""
    origin = False
    for place in places:
        if place.start <= trigger_end or place.value.name == actor:
            continue
        mark = _preposition_before(text, place, rules)
        if mark == "من":
            origin = True
        elif mark in rules.to_prepositions[:5] and (rules.onward.search(text.flat[trigger_end: place.start]) or (
                mark in ("الي", "إلى") and origin and (not home or place.value.country_code != home))):  # "باتجاه": heading that way, maybe home
            return True
    return False


def _actor(text: Text, actors: list[Mention], trigger_start: int, rules: Rules, forces: list[Mention] = (), places: list[Mention] = ()) -> str:
    """The sending state: named before the trigger (the subject), else as an adjective of the force;
    never a state named as where forces go, nor one named after a purpose phrase ("لدعم القوات العراقية"),
    nor a place given as a dateline ("البحرين: وصول كتيبة ..."; a speaker such as "البنتاغون:" may send)."""
    purpose = rules.purpose.search(text.flat)
    datelines = {p.start for p in places if _PREFIX.match(text.display, p.end)}
    # after a preposition a place is where forces go or come from; a ministry or alliance is still a speaker or
    # sender ("مسؤول في البنتاغون", "350 مستشارا من حلف الناتو")
    spots = [(p.start, p.end) for p in places]
    usable = [m for m in actors if m.start not in datelines and not (_preposition_before(text, m, rules) and any(a <= m.start < b for a, b in spots)) and not (purpose and m.start >= purpose.start() and m.start > trigger_start)]
    # a nationality right after a force noun that follows the verb names the sender ("انسحاب الكتيبة الإيطالية")
    adjective = [m for m in usable if m.start > trigger_start and any(f.start > trigger_start and not text.flat.startswith("ل", f.start)
                                                                       and 0 <= _token_index(text, m.start) - _token_index(text, f.end - 1) <= 2 for f in forces)]
    if adjective:
        return str(adjective[0].value)
    before = [m for m in usable if m.start < trigger_start and not _PREFIX.match(text.display, m.end)]
    # a reporting clause names the source; the clause after «أن/إن» names the sender ("أفاد المرصد السوري بأن القوات الروسية أخلت")
    clause = max((m.end() for m in _REPORTED.finditer(text.flat, 0, trigger_start)), default=0)
    if any(m.start >= clause for m in before):
        before = [m for m in before if m.start >= clause]
    if not before and any(m.start > trigger_start for m in usable):
        usable = [m for m in usable if m.start > trigger_start]
    chosen = before[0] if before else (usable[0] if usable else None)
    return str(chosen.value) if chosen else ""


def _merge_return(text: Text, triggers: list[Mention], rules: Rules) -> list[Mention]:
    """"أعادت روسيا انتشار/تموضع ...": a return verb up to five words before a deployment noun is a redeployment (the
    subject may stand between: "أعادت القيادة الأمريكية في أفريقيا تمركز")."""
    merged: list[Mention] = []
    skip = False
    for i, t in enumerate(triggers):
        if skip:
            skip = False
            continue
        nxt = triggers[i + 1] if i + 1 < len(triggers) else None
        if (t.value == "withdraw" and nxt and rules.return_verbs.fullmatch(text.flat[t.start: t.end].strip())
                and _token_index(text, nxt.start) - _token_index(text, t.start) <= 6
                and (nxt.value == "redeploy" or rules.redeploy_nouns.fullmatch(text.flat[nxt.start: nxt.end].strip()))):
            merged.append(Mention(t.start, nxt.end, "redeploy"))
            skip = True
            continue
        merged.append(t)
    return merged


_CLAUSE = re.compile(r"[,،;؛:.]")
_REPORTED = re.compile(r"(?:^|(?<=\s))(?:[وف]?ب?[اإأ]ن|لان|[اإأ]نه|[اإأ]نها)(?=\s)")
_ASIDE = re.compile(r"\([^()]{1,60}\)")
_PREFIX = re.compile(r"\s*:")


def _governed(text: Text, trigger: Mention, pattern: re.Pattern[str], scope: int) -> bool:
    """True when a phrase of the pattern stands within `scope` words before the trigger in the same clause
    (no comma or colon in between), or is the trigger's own phrase."""
    first = text.tokens[max(_token_index(text, trigger.start) - scope, 0)][0] if text.tokens else 0
    breaks = [m.end() for m in _CLAUSE.finditer(text.display, first, trigger.start)]
    return bool(pattern.search(text.flat[max([first, *breaks]): trigger.end]))


def _conditional(text: Text, trigger: Mention, rules: Rules) -> bool:
    """True when a condition follows the trigger in its clause ("سترسل سفنا إذا طلب منها ذلك")."""
    stop = next((m.start() for m in _CLAUSE.finditer(text.display, trigger.end)), len(text.flat))
    return bool(rules.conditions.search(text.flat[trigger.end: stop]))


def _civilian(text: Text, force: Mention, rules: Rules) -> bool:
    """True for a vessel or aircraft named as civilian right after it ("سفينة المساعدات", "طائرات مدنية")."""
    i = _token_index(text, force.end)
    return i < len(text.tokens) and bool(rules.civilian.match(text.flat, text.tokens[i][0]))


def _person_subject(text: Text, trigger: Mention, rules: Rules) -> bool:
    """True when a person is what the verb moves ("عاد وزير الدفاع", "وصل الرئيس"): a visit, not a deployment."""
    i = _token_index(text, trigger.end)
    return i < len(text.tokens) and bool(rules.person_subjects.match(text.flat, text.tokens[i][0]))


def _person_arriving(text: Text, trigger: Mention, forces: list[Mention], rules: Rules) -> bool:
    """True when a person heads the clause of an arrival or departure verb ("وزير الدفاع البريطاني يصل إلى قبرص"):
    a visit, not a deployment (a force named in between is what arrives: "قائد الجيش: 300 جندي وصلوا")."""
    words = text.flat[trigger.start: trigger.end].strip()
    if not (rules.arrival_verbs.fullmatch(words) or rules.departure_verbs.fullmatch(words)):
        return False
    head = max([0, *(m.end() for m in _CLAUSE.finditer(text.display, 0, trigger.start))])
    first = _token_index(text, head)
    if first >= len(text.tokens) or _token_index(text, trigger.start) - first > 5:
        return False
    return bool(rules.person_subjects.match(text.flat, text.tokens[first][0])) and not any(head <= f.start < trigger.start for f in forces)


def _background(text: Text, trigger: Mention, rules: Rules) -> bool:
    """An earlier announcement recalled, or forces described as already there ("ينتشر ... منذ سنوات")."""
    flat = text.flat
    if rules.background.search(flat):
        return True
    words = flat[trigger.start: trigger.end].strip()
    if trigger.value == "deploy" and rules.presence.fullmatch(words) and not (rules.presence_nouns.fullmatch(words) and rules.planned.search(flat)):
        return True  # forces already there; a presence noun under a plan ("تقضي بتمركز لواء") is still to come
    for match in rules.past_year.finditer(flat):
        before = (match.group("before") or "").strip()
        if before not in ("بحلول", "حتي", "مطلع", "نهايه", "بدايه", "قبل") and not rules.planned.search(flat):
            return True
    return False


_FUTURE_VERB = re.compile(r"[وف]?س[يتنا]\S{2,}")


def _planned(text: Text, trigger: Mention, rules: Rules) -> bool:
    """Something to come: a future marker in the sentence, or the trigger verb itself in the future (سيـ، ستـ، سنـ);
    not when the move has begun ("بدأت القوات سحب … تمهيدا لتسليمها في أيلول المقبل")."""
    if _governed(text, trigger, rules.begun, 4):
        return False
    return bool(rules.planned.search(text.flat) or _FUTURE_VERB.fullmatch(text.flat[trigger.start: trigger.end].split()[0]))


def _headline_trigger(text: Text, gaz: Gazetteer) -> list[Mention]:
    """A verbless headline "4 آلاف جندي إلى الكويت": a counted force right before إلى and a place."""
    words = [t[2] for t in text.tokens]
    starts = {m.start for m in find_places(text, gaz)}
    nationalities = {m.start for m in find_actors(text, gaz)}
    for i in range(1, len(words) - 1):
        if words[i] != "الي" or text.tokens[i + 1][0] not in starts:
            continue
        u = i - 2 if i >= 2 and text.tokens[i - 1][0] in nationalities else i - 1  # "3 آلاف جندي إسباني إلى لاتفيا"
        unit = _unit_at(words, u, gaz.quantities)
        if unit and unit[1] == "personnel" and u >= 1 and _number_word(words[u - 1], gaz.quantities):
            return [Mention(text.tokens[i][0], text.tokens[i][1], "deploy")]
    return []


def _analyse(sentence: str, rules: Rules, gaz: Gazetteer) -> Deployment | None:
    """A deployment found in one sentence, or None."""
    text = Text.of(sentence)
    flat = text.flat
    triggers = _triggers(text, rules) or (_headline_trigger(text, gaz) if " الي " in f" {flat} " else [])
    if not triggers:
        return None
    forces = _forces(text, rules, gaz)
    if not forces:
        return None
    # "أعادت ... تموضع": a return-verb right before a redeploy noun is part of the redeployment
    triggers = _merge_return(text, triggers, rules)
    all_places = find_places(text, gaz) if triggers else []
    # a place of several words counts as one ("إلى قاعدة الأمير سلطان الجوية" is two words from the verb)
    inner = {start for start, _, _ in text.tokens for p in all_places if p.start < start < p.end}
    # nor do an aside in brackets or a quantifier phrase ("نقلت القيادة (أفريكوم) جزءا من طائراتها")
    asides = [(m.start(), m.end()) for m in _ASIDE.finditer(text.display)] + [(m.start(), m.end()) for m in rules.partitives.finditer(flat)]
    inner |= {start for start, _, _ in text.tokens if any(a <= start < b for a, b in asides)}
    position = list(accumulate(0 if start in inner else 1 for start, _, _ in text.tokens))
    background: Deployment | None = None
    for trigger in triggers:
        # measured from the trigger's nearer edge: a merged "أعادت القيادة … تمركز" reaches from its noun
        t_first = position[min(_token_index(text, trigger.start), len(position) - 1)]
        t_last = position[min(_token_index(text, trigger.end - 1), len(position) - 1)]
        near = [f for f in forces if max(t_first - (f_pos := position[min(_token_index(text, f.start), len(position) - 1)]), f_pos - t_last, 0) <= rules.window
                and not (f.start >= trigger.start and f.end <= trigger.end) and not _civilian(text, f, rules)]
        if not near:
            continue
        if rules.adjective_triggers.fullmatch(flat[trigger.start: trigger.end].strip()) and not any(
                0 <= _token_index(text, trigger.start) - _token_index(text, f.end - 1) <= 2 for f in forces if f.end <= trigger.start):
            continue  # "لعام إضافي": an adjective of something else
        if rules.negation.search(flat[: trigger.end]) or rules.refuted.search(flat):
            return None
        if rules.domestic.search(rules.domestic_exceptions.sub(" ", flat)) or rules.sport.search(flat) or rules.figurative.search(flat):
            return None
        if rules.other_news.search(flat) or (trigger.value == "deploy" and rules.arms_transfer.search(rules.arms_transfer_exceptions.sub(" ", flat))):
            return None
        if _person_subject(text, trigger, rules) or _person_arriving(text, trigger, forces, rules) or _governed(text, trigger, rules.not_a_decision, rules.scope):
            continue  # demanded, offered, imagined or judged by someone else: not a decision announced
        if _conditional(text, trigger, rules):
            continue
        after = _token_index(text, trigger.end)
        if after < len(text.tokens) and rules.publish_objects.match(flat, text.tokens[after][0]):
            continue  # "يسحب موظفيه", "نقل جثامين": what is moved is not a force
        first = min(near, key=lambda f: abs(f.start - trigger.start))
        if first.start > trigger.end and rules.publish_objects.search(flat[trigger.end: first.start]):
            continue
        status = "background" if _background(text, trigger, rules) else "planned" if _planned(text, trigger, rules) else "announced"
        force = min(near, key=lambda f: [k for k, _ in rules.force_types].index(f.value))
        actors, places = _outside_names(text, find_actors(text, gaz), all_places, gaz)
        if rules.receiving.fullmatch(flat[trigger.start: trigger.end].strip()) or rules.receiving.match(flat, trigger.start):
            # the host is the subject: it is the destination; the sender is named after the verb
            host = next((p for p in places if p.start < trigger.start), None)
            within = host or next((p for p in places if p.start >= trigger.end), None)  # "استقبلت قاعدة عريفجان في الكويت ..."
            actor = next((str(a.value) for a in actors if a.start > trigger.end and (within is None or (
                a.value != within.value.name and _home_code(str(a.value), gaz) != within.value.country_code))), "")
            gap = [t[2] for t in text.tokens[_token_index(text, trigger.end): _token_index(text, within.start)]] if within is not None else ["-"]
            subject = within if all(w in rules.origin_nouns for w in gap) and len(gap) <= 1 else None  # "استقبلت قاعدة عريفجان"
            destination = host or subject or _destination(text, places, actor, trigger.end, trigger.value, rules)
        else:
            actor = _actor(text, actors, trigger.start, rules, near, places)
            arrival = bool(rules.arrival_verbs.fullmatch(flat[trigger.start: trigger.end].strip()))
            departure = bool(rules.departure_verbs.fullmatch(flat[trigger.start: trigger.end].strip()))
            destination = _destination(text, places, actor, trigger.end, trigger.value, rules, arrival, departure)
        if _home_security(flat, actor, destination, rules, gaz) or _home_purpose(flat, actor, destination, rules, gaz):
            return None
        quantities = [q for q in find_quantities(text, gaz) if q["category"] != "share"]
        counted = next((q for q in quantities if q["category"] == "personnel" and q["value"]), None) or next((q for q in quantities if q["value"]), None)
        share = next((q["share"] for q in find_quantities(text, gaz) if q.get("share")), None)
        kind = trigger.value
        if kind == "redeploy" and rules.needs_origin.match(flat, trigger.start) and not _has_origin(text, places, trigger.end, rules):
            kind = "deploy"
        if kind == "deploy" and destination is not None and _moved_within(text, places, destination, actor, rules, gaz):
            kind = "redeploy"  # "وصول دفعة … من قاعدة حميميم" to Qamishli: forces already abroad moved within that country
        if kind == "withdraw" and _onward(text, places, actor, trigger.end, rules, _home_code(actor, gaz) if actor else ""):
            kind = "redeploy"  # "غادرت ... المتوسط متجهة إلى المحيط الهندي": moved, not brought home
            destination = _destination(text, places, actor, trigger.end, kind, rules)
        if not (actor or destination or counted or share):
            continue  # nobody, nowhere, no size: not an announcement an analyst can act on
        force_type = force.value
        if force_type == "combat_troops" and counted and counted["category"] != "personnel":
            force_type = _FORCE_CATEGORIES.get(counted["category"], force_type)
        confidence = 0.55 + 0.15 * bool(actor) + 0.15 * bool(destination) + 0.1 * bool(counted or share) + 0.05 * (status != "background")
        found = Deployment(
            is_deployment=status != "background",
            kind=kind,
            actor=actor,
            destination=destination.value.name if destination else "",
            destination_country=destination.value.country_code if destination else "",
            size=counted["value"] if counted else None,
            size_unit=counted["category"] if counted else "",
            share=share,
            force_type=force_type,
            status=status,
            evidence=" ".join(sentence.split()),
            confidence=round(min(confidence, 1.0), 2),
        )
        if found.is_deployment:
            return found
        # forces said to be there already ("قوات روسية تنتشر في مطار القامشلي") may be followed by what announces
        # them ("بعد وصول دفعة جديدة"): a later trigger may still announce; else the background mention stands
        background = background or found
    return background


def _moved_within(text: Text, places: list[Mention], destination: Mention, actor: str, rules: Rules, gaz: Gazetteer) -> bool:
    """True when forces come from a place after «من» in the same foreign country as where they go ("من قاعدة حميميم"
    to Qamishli): moved within a deployment, not sent (from home or a neighbour, "قادمة من الكويت", they are sent)."""
    code = destination.value.country_code
    if code in ("", "XX") or (actor and _home_code(actor, gaz) == code):
        return False
    return any(p is not destination and p.value.name != destination.value.name and p.value.country_code == code
               and p.value.type != "country" and _preposition_before(text, p, rules) == "من" for p in places)


def _home_code(actor: str, gaz: Gazetteer) -> str:
    """The country code of a state named as actor ('' for a coalition or an unknown name)."""
    return next((m.value.country_code for m in find_places(Text.of(actor), gaz) if m.value.name == actor and m.value.type == "country"), "")


def _home_purpose(flat: str, actor: str, destination: Mention | None, rules: Rules, gaz: Gazetteer) -> bool:
    """True for an internal-security purpose ("لمكافحة الإرهاب", "لحفظ الأمن") unless a sender is named and the forces
    go to a place outside its country (a coalition or alliance sends abroad wherever it sends)."""
    if not rules.domestic_purposes.search(flat):
        return False
    if not (actor and destination):
        return True
    home = _home_code(actor, gaz)
    return bool(home) and destination.value.country_code == home


def _home_security(flat: str, actor: str, destination: Mention | None, rules: Rules, gaz: Gazetteer) -> bool:
    """True when a state's own forces go somewhere in their own country, or nowhere named, to secure it, not
    to a border or a front ("الجيش العراقي ينشر قطعات في شوارع كربلاء لتأمين الزيارة"): internal security, like police."""
    if not (actor and rules.securing.search(flat)) or rules.frontier.search(flat):
        return False
    home = _home_code(actor, gaz)
    return bool(home) and (destination is None or destination.value.country_code == home)


def detect_deployment(title: str, text: str, fields: dict[str, Any] | None = None, rules: Rules | None = None, gazetteer: Gazetteer | None = None) -> Deployment:
    """Decide whether an article announces a deployment, from its title and first sentences.

    The first sentence that announces one wins; a background mention is kept only when nothing announces.
    A denial in the headline governs the whole article.
    """
    rules = rules or load_rules()
    gaz = gazetteer or load_gazetteer()
    if title and rules.negation.search(normalize(title, strip_punct=True)):
        return Deployment(False)
    sentences = [s.strip() for s in _SENTENCES.split(f"{title}\n{text}") if s.strip()]
    background: Deployment | None = None
    for position, sentence in enumerate(sentences[: rules.max_sentences]):
        found = _analyse(sentence, rules, gaz)
        if found is None:
            continue
        if found.is_deployment:
            penalty = 0.03 * min(position, 3)
            found = _completed(found, sentences[position + 1: position + 3], rules, gaz)
            return Deployment(**{**asdict(found), "confidence": round(max(found.confidence - penalty, 0.0), 2)})
        background = background or found
    return background or Deployment(False)


def _completed(found: Deployment, following: list[str], rules: Rules, gaz: Gazetteer) -> Deployment:
    """A headline rarely gives every detail: fill a missing size, actor or destination from the next
    sentences when they announce the same kind of deployment ("... بوصول 30 مستشارا ... إلى معسكر التاجي")."""
    if found.size is not None and found.actor and found.destination:
        return found
    for sentence in following:
        more = _analyse(sentence, rules, gaz)
        if more is None or not more.is_deployment or more.kind != found.kind:
            continue
        if found.actor and more.actor and found.actor != more.actor:
            continue
        if found.destination_country and more.destination_country and found.destination_country != more.destination_country:
            continue
        fill: dict[str, Any] = {"actor": found.actor or more.actor}
        if found.size is None and more.size is not None and more.size_unit == "personnel":  # the troop count only
            fill |= {"size": more.size, "size_unit": more.size_unit}
        if not found.destination and more.destination:
            fill |= {"destination": more.destination, "destination_country": more.destination_country}
        return Deployment(**{**asdict(found), **fill})
    return found


def alert_key(dep: Deployment, story_id: str | None = None, anchor: str = "") -> str:
    """Deterministic id of an alert: the story when known (issue 5's story_id), else the announcement.

    The announcement key is kind, actor and destination country, anchored to the first carrier's
    publication day, so independently written reports of one announcement share it while a similar
    announcement weeks later gets its own alert.
    """
    if story_id:
        return hashlib.sha1(f"story|{story_id}".encode()).hexdigest()
    basis = "|".join(["announcement", dep.kind, dep.actor, dep.destination_country or dep.destination, anchor])
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()


def sizes_compatible(a: int | None, b: int | None, tolerance: float = 0.2) -> bool:
    """True when two reported sizes may be the same announcement (either unknown, or within tolerance)."""
    if not a or not b:
        return True
    return abs(a - b) <= tolerance * max(a, b)


def should_alert(dep: Deployment, rules: Rules | None = None) -> bool:
    """True for an announced or planned deployment whose kind is switched on for alerts."""
    rules = rules or load_rules()
    return dep.is_deployment and dep.kind in rules.alert_kinds
