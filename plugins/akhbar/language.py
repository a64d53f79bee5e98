"""Language identification with langdetect, made deterministic, guarded against Persian and Urdu passing as Arabic."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from langdetect import DetectorFactory, LangDetectException, detect_langs

from akhbar.config import CONFIG_DIR, _read_yaml
from akhbar.normalize import arabic_ratio

log = logging.getLogger(__name__)

_ARABIC_SCRIPT_LETTER = re.compile("[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff]")
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class LanguageResult:
    """Detected language, its probability and the share of Arabic-script letters."""

    lang: str
    prob: float
    arabic_ratio: float


@dataclass(frozen=True)
class ScriptRules:
    """Letters and words that tell Persian and Urdu from Arabic (config/language.yaml)."""

    persian_letters: frozenset[str]
    urdu_letters: frozenset[str]
    min_foreign_letter_share: float
    min_urdu_letter_share: float
    persian_words: frozenset[str]
    urdu_words: frozenset[str]
    min_foreign_word_share: float


@lru_cache(maxsize=2)
def load_script_rules(path: Path = CONFIG_DIR / "language.yaml") -> ScriptRules:
    """Load the Persian/Urdu guard rules once per process."""
    data = _read_yaml(path)
    return ScriptRules(
        persian_letters=frozenset(data["persian_letters"]),
        urdu_letters=frozenset(data["urdu_letters"]),
        min_foreign_letter_share=float(data["min_foreign_letter_share"]),
        min_urdu_letter_share=float(data["min_urdu_letter_share"]),
        persian_words=frozenset(w.replace("ی", "ي").replace("ک", "ك") for w in data["persian_words"]) | frozenset(data["persian_words"]),
        urdu_words=frozenset(data["urdu_words"]),
        min_foreign_word_share=float(data["min_foreign_word_share"]),
    )


def script_language(text: str, rules: ScriptRules | None = None) -> str | None:
    """'fa' or 'ur' when the text's letters or function words are not Arabic's, else None."""
    rules = rules or load_script_rules()
    letters = _ARABIC_SCRIPT_LETTER.findall(text)
    if not letters:
        return None
    urdu = sum(1 for ch in letters if ch in rules.urdu_letters) / len(letters)
    foreign = sum(1 for ch in letters if ch in rules.persian_letters or ch in rules.urdu_letters) / len(letters)
    words = _WORD.findall(text)
    urdu_words = sum(1 for w in words if w in rules.urdu_words) / max(len(words), 1)
    persian_words = sum(1 for w in words if w in rules.persian_words) / max(len(words), 1)
    if urdu >= rules.min_urdu_letter_share and (foreign >= rules.min_foreign_letter_share or urdu_words >= rules.min_foreign_word_share):
        return "ur"
    if foreign >= rules.min_foreign_letter_share or persian_words >= rules.min_foreign_word_share:
        return "ur" if urdu_words > persian_words else "fa"
    return None


def detect(text: str, *, sample_chars: int = 3000, seed: int = 0) -> LanguageResult:
    """Detect the language of text from a bounded sample; 'und' when undecidable."""
    DetectorFactory.seed = seed
    sample = text[:sample_chars]
    ratio = arabic_ratio(sample)
    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return LanguageResult("und", 0.0, ratio)
    lang, prob = best.lang, round(best.prob, 4)
    if lang == "ar":
        other = script_language(sample)
        if other is not None:
            log.debug("langdetect said ar but the letters and words are %s", other)
            lang, prob = other, 0.0
    return LanguageResult(lang, prob, ratio)


def is_kept(result: LanguageResult, keep: tuple[str, ...] = ("ar",)) -> bool:
    """True when the article's language is one the pipeline keeps."""
    return result.lang in keep
