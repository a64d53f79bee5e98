"""Language identification with langdetect, made deterministic."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from langdetect import DetectorFactory, LangDetectException, detect_langs

from akhbar.normalize import arabic_ratio

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LanguageResult:
    """Detected language, its probability and the share of Arabic-script letters."""

    lang: str
    prob: float
    arabic_ratio: float


def detect(text: str, *, sample_chars: int = 3000, seed: int = 0) -> LanguageResult:
    """Detect the language of text from a bounded sample; 'und' when undecidable."""
    DetectorFactory.seed = seed
    sample = text[:sample_chars]
    ratio = arabic_ratio(sample)
    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return LanguageResult("und", 0.0, ratio)
    return LanguageResult(best.lang, round(best.prob, 4), ratio)


def is_kept(result: LanguageResult, keep: tuple[str, ...] = ("ar",)) -> bool:
    """True when the article's language is one the pipeline keeps."""
    return result.lang in keep
