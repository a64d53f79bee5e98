"""One Arabic normaliser shared by cleaning, dedup, fields and search."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Harakat, Quranic marks, superscript alef and the like: removed.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u08d3-\u08ff]")
_TATWEEL = "\u0640"
# Zero-width and bidirectional controls (RLM, LRM, ALM, ZWNJ, ZWJ, BOM, embeddings, isolates): invisible, removed.
_INVISIBLE = re.compile("[\u200b-\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff\u00ad]")
_CHAR_MAP = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
        "ى": "ي", "ی": "ي", "ې": "ي",
        "ؤ": "و", "ئ": "ي",
        "ک": "ك", "ڪ": "ك", "ڤ": "ف", "ڨ": "ق",
        "،": ",", "؛": ";", "؟": "?", "٪": "%", "٫": ".", "٬": ",", "۔": ".", "٭": "*", "؍": "/", "﴿": "(", "﴾": ")",  # ornate parentheses as Arabic text uses them (right one opens)
        "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'",
        "–": "-", "—": "-", "ـ": "",
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)
_TA_MARBUTA = str.maketrans({"ة": "ه"})
_CHAR_MAP_TM = {**_CHAR_MAP, **_TA_MARBUTA}
_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u066e-\u06d3\u06fa-\u06ff]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def normalize(text: str, *, ta_marbuta: bool = True, strip_punct: bool = False) -> str:
    """Return text in canonical Arabic form: NFKC, no diacritics or tatweel, unified letters and digits."""
    if len(text) <= _CACHED_LEN:
        return _normalize_short(text, ta_marbuta, strip_punct)
    return _normalize(text, ta_marbuta, strip_punct)


# Page chrome and boilerplate lines recur across the pages of an outlet: short texts are remembered.
_CACHED_LEN = 400


@lru_cache(maxsize=1 << 16)
def _normalize_short(text: str, ta_marbuta: bool, strip_punct: bool) -> str:
    """normalize() of a short text, memoised."""
    return _normalize(text, ta_marbuta, strip_punct)


def _normalize(text: str, ta_marbuta: bool, strip_punct: bool) -> str:
    """The normalisation itself."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _DIACRITICS.sub("", text).replace(_TATWEEL, "")
    text = text.translate(_CHAR_MAP_TM if ta_marbuta else _CHAR_MAP)
    if strip_punct:
        text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def arabic_ratio(text: str) -> float:
    """Share of letters in text that are Arabic-script letters (0.0 when there are no letters)."""
    letters = _LETTER.findall(text)
    if not letters:
        return 0.0
    return sum(1 for ch in letters if _ARABIC_LETTER.match(ch)) / len(letters)


def tokens(text: str) -> list[str]:
    """Normalised word tokens, punctuation dropped."""
    return normalize(text, strip_punct=True).lower().split()


# Light stemming for the search fields: the same on every cluster, with or without analysis-common.
_PREFIXES = ("وبال", "فبال", "وكال", "وال", "بال", "كال", "فال", "ولل", "ال", "لل")
# Spelling variants of one word unified before stemming (أميركي/أمريكي).
_VARIANTS = (("اميرك", "امريك"),)
_SUFFIXES = ("يين", "يا", "يون", "ات", "ون", "ين", "ان", "ها", "هم", "هن", "كم", "نا", "يه", "ه", "ي")
_STOPWORDS = frozenset(
    normalize(w)
    for w in (
        "في من إلى على عن مع أن إن كان كانت قد لقد هذا هذه ذلك تلك التي الذي الذين ثم أو أم لا ما لم لن "
        "وقد وفي ومن كما حيث بعد قبل عند بين حتى إذ إذا أي كل غير عبر خلال نحو و ف ب ل ك"
    ).split()
)


def stem(token: str) -> str:
    """Light Arabic stem: strip one definite-article or conjunction prefix and one common suffix."""
    if not token or not _ARABIC_LETTER.match(token[0]):
        return token
    for prefix in _PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 2:
            token = token[len(prefix):]
            break
    else:
        if token[0] in "وفب" and len(token) >= 5:
            token = token[1:]
    for variant, canonical in _VARIANTS:
        if token.startswith(variant):
            token = canonical + token[len(variant):]
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


def search_form(text: str) -> str:
    """Text as stored in and queried against the *_search fields: normalised, stop words dropped, stemmed."""
    return " ".join(stem(t) for t in tokens(text) if t not in _STOPWORDS)
