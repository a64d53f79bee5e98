"""Deployment-announcement detection and alert records, one per announcement."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from akhbar.config import CONFIG_DIR, _read_yaml
from akhbar.fields import extract_fields
from akhbar.normalize import normalize

_SPECIFICITY = {"base": 0, "city": 1, "governorate": 2, "country": 3}
_SENTENCES = re.compile(r"(?<=[.!?؟])\s+|\n+")


@dataclass(frozen=True)
class Rules:
    """Compiled deployment rules."""

    verbs: tuple[tuple[str, re.Pattern[str]], ...]
    force: re.Pattern[str]
    negation: re.Pattern[str]
    background: re.Pattern[str]
    domestic: re.Pattern[str]
    sport: re.Pattern[str]
    actors: tuple[tuple[str, re.Pattern[str]], ...]
    alert_kinds: frozenset[str]


@dataclass(frozen=True)
class Deployment:
    """A detected deployment announcement."""

    is_deployment: bool
    kind: str = ""
    actor: str = ""
    destination: str = ""
    size: int | None = None
    evidence: str = ""
    confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the index."""
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}


def _words(phrases: list[str]) -> re.Pattern[str]:
    """A pattern matching any normalised phrase as whole words (proclitics و ف ب ل allowed)."""
    alts = sorted({re.escape(normalize(p, strip_punct=True)) for p in phrases}, key=len, reverse=True)
    return re.compile(r"(?:^|\s)[وفبل]?(?:" + "|".join(alts) + r")(?=\s|$)")


@lru_cache(maxsize=2)
def load_rules(path: Path = CONFIG_DIR / "deployment.yaml") -> Rules:
    """Compile the deployment rules once per process."""
    data = _read_yaml(path)
    return Rules(
        verbs=tuple((kind, _words(words)) for kind, words in data["verbs"].items()),
        force=_words(data["force_nouns"]),
        negation=_words(data["negations"]),
        background=_words(data["background"]),
        domestic=_words(data["domestic"]),
        sport=_words(data["sport"]),
        actors=tuple((name, _words(words)) for name, words in data["actors"].items()),
        alert_kinds=frozenset(k for k, on in data.get("alert_kinds", {}).items() if on),
    )


def detect_deployment(title: str, text: str, fields: dict[str, Any], rules: Rules | None = None) -> Deployment:
    """Decide whether an article announces a deployment, from its first sentences that carry one."""
    rules = rules or load_rules()
    if title and rules.negation.search(normalize(title, strip_punct=True)):
        return Deployment(False)  # a denial in the headline governs the whole article
    sentences = [s.strip() for s in _SENTENCES.split(f"{title}\n{text}") if s.strip()]
    for position, sentence in enumerate(sentences[:8]):
        flat = normalize(sentence, strip_punct=True)
        if not rules.force.search(flat):
            continue
        kind = next((k for k, pattern in rules.verbs if pattern.search(flat)), "")
        if not kind:
            continue
        if rules.negation.search(flat) or rules.domestic.search(flat) or rules.sport.search(flat):
            continue
        if rules.background.search(flat[:20]):
            continue
        actor = next((name for name, pattern in rules.actors if pattern.search(flat)), "")
        here = extract_fields(sentence)["places"]
        destinations = [p["name"] for p in sorted(here, key=lambda p: _SPECIFICITY.get(p["type"], 9)) if p["name"] != actor]
        numbers = [int(n) for n in re.findall(r"\d+", normalize(sentence).replace(",", ""))]
        size = next((n for n in numbers if n in fields.get("troops", [])), None)
        confidence = 0.5 + 0.15 * bool(actor) + 0.15 * bool(destinations) + 0.15 * bool(size) - 0.05 * min(position, 3)
        return Deployment(True, kind, actor, destinations[0] if destinations else "", size, sentence, round(confidence, 2))
    return Deployment(False)


def alert_key(dep: Deployment) -> str:
    """Deterministic id of the alert for an announcement: what, who, where and how many."""
    basis = "|".join([dep.kind, dep.actor, dep.destination, str(dep.size or "")])
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()


def should_alert(dep: Deployment, rules: Rules | None = None) -> bool:
    """True for a deployment whose kind is switched on for alerts."""
    rules = rules or load_rules()
    return dep.is_deployment and dep.kind in rules.alert_kinds
