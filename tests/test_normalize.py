"""The shared Arabic normaliser and search form."""

from __future__ import annotations

import pytest

from akhbar.normalize import arabic_ratio, normalize, search_form


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("الْمَوْصِلِ", "الموصل"),
        ("أميـــركي", "اميركي"),
        ("إرسال", "ارسال"),
        ("آلاف", "الاف"),
        ("مستشفى", "مستشفي"),
        ("مدينة", "مدينه"),
        ("٥٦٠ جنديًا", "560 جنديا"),
        ("۱۲۳", "123"),
        ("قال، «نعم»؛ لماذا؟", 'قال, "نعم"; لماذا?'),
        ("ﻣﻮﺻﻞ", "موصل"),  # presentation forms, by NFKC
        ("\u200fالموصل\u200e", "الموصل"),  # bidi marks
        ("ڤيتنام", "فيتنام"),
        ("٢٠٪ و٣٫٥", "20% و3.5"),
        ("﴿الآية﴾", "(الايه)"),
        ("إِنَّ الأُمَّةَ", "ان الامه"),
        ("ٱلرحمن", "الرحمن"),
        ("مؤتمر", "موتمر"),
        ("رئيس", "رييس"),
    ],
)
def test_normalize_unifies_variants(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_can_keep_ta_marbuta() -> None:
    assert normalize("مدينة", ta_marbuta=False) == "مدينة"


def test_strip_punct_drops_punctuation() -> None:
    assert normalize("قال: «نعم»، ثم مضى.", strip_punct=True) == "قال نعم ثم مضي"


@pytest.mark.parametrize("variant", ["موصل", "الموصل", "الْمَوْصِل", "بالموصل", "وبالموصل"])
def test_search_form_finds_mosul_in_all_forms(variant: str) -> None:
    assert search_form(variant) == search_form("الموصل")


def test_search_form_unifies_spelling_variants() -> None:
    assert search_form("أمريكي") == search_form("أميركي") == search_form("الأمريكيين")
    assert search_form("إرسال") == search_form("ارسال")


def test_search_form_drops_stop_words() -> None:
    assert search_form("في الموصل") == search_form("الموصل")


def test_arabic_ratio() -> None:
    assert arabic_ratio("مرحبا") == 1.0
    assert arabic_ratio("hello") == 0.0
    assert arabic_ratio("12 34") == 0.0
    assert 0.4 < arabic_ratio("hello مرحبا") < 0.6
