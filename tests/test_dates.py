"""Dates printed by Arabic outlets: every region's month names, Arabic-Indic digits, 12-hour clocks."""

from __future__ import annotations

from datetime import datetime

import pytest

from akhbar.dates import date_only_line, localize, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("الثلاثاء، 17 تشرين الثاني 2026 - 08:15", datetime(2026, 11, 17, 8, 15)),
        ("١٤ كانون الثاني ٢٠٢٦", datetime(2026, 1, 14)),
        ("٣ تموز ٢٠٢٦ | ١٤:٢٠", datetime(2026, 7, 3, 14, 20)),
        ("5 آب 2026", datetime(2026, 8, 5)),
        ("5 اب 2026", datetime(2026, 8, 5)),
        ("21 أيار 2026", datetime(2026, 5, 21)),
        ("الأربعاء، ١٨ نوفمبر ٢٠٢٦ - ٠٧:٣٠ م", datetime(2026, 11, 18, 19, 30)),
        ("18 نوفمبر 2026 12:10 ص", datetime(2026, 11, 18, 0, 10)),
        ("نشر في 12 جويلية 2026 على الساعة 14:05", datetime(2026, 7, 12, 14, 5)),
        ("21 أوت 2026", datetime(2026, 8, 21)),
        ("30 يوليوز 2026", datetime(2026, 7, 30)),
        ("11 تشرين الثاني/نوفمبر 2026", datetime(2026, 11, 11)),
        ("آخر تحديث: 17/11/2026 - 08:35", datetime(2026, 11, 17, 8, 35)),
        ("2026/11/18", datetime(2026, 11, 18)),
        ("۱۸ آبان", None),
        ("31 شباط 2026", None),
        ("عام 2026", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("line", "is_stamp"),
    [
        ("الثلاثاء، 17 تشرين الثاني 2026 - 08:15", True),
        ("نشر في 12 جويلية 2026 على الساعة 14:05", True),
        ("19/11/2026 09:00 GMT", True),
        ("وفي 12 يونيو 2026 انفجرت سيارة مفخخة", False),
        ("اجتماع القمة", False),
    ],
)
def test_date_only_line(line: str, is_stamp: bool) -> None:
    assert date_only_line(line) is is_stamp


def test_printed_dates_are_local_time_of_the_outlet_country() -> None:
    assert localize("2026-11-17T08:15:00", "IQ") == "2026-11-17T08:15:00+03:00"
    assert localize("2026-07-12T14:05:00", "DZ") == "2026-07-12T14:05:00+01:00"
    assert localize("2026-11-17T08:15:00+02:00", "IQ") == "2026-11-17T08:15:00+02:00"
    assert localize("2026-11-17T08:15:00", "INT") == "2026-11-17T08:15:00"
    assert localize(None, "IQ") is None
