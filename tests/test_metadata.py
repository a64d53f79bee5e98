"""Metadata: bylines, outlet names, absurd values left empty, URLs made absolute."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from akhbar.extract import extract_article
from akhbar.metadata import clean_author, load_rules

BODY = "".join(
    f"<p>{p}</p>"
    for p in (
        "أعلن مجلس الوزراء في جلسته الاعتيادية اليوم الموافقة على مشروع قانون الموازنة العامة للسنة المقبلة بعد مناقشات استمرت عدة أسابيع بين الوزارات المعنية.",
        "وقال المتحدث باسم الحكومة إن المشروع سيحال إلى البرلمان خلال الأيام المقبلة لمناقشته والتصويت عليه قبل نهاية الفصل التشريعي الحالي.",
    )
)
REF = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("كتب علي حسين الجبوري", ["علي حسين الجبوري"]),
        ("كتب: علي حسين الجبوري", ["علي حسين الجبوري"]),
        ("بقلم: ريم الخطيب", ["ريم الخطيب"]),
        ("بقلـم ريم الخطيب", ["ريم الخطيب"]),
        ("إعداد: كريم بن علي", ["كريم بن علي"]),
        ("نادية الساعدي ومصطفى الربيعي", ["نادية الساعدي", "مصطفى الربيعي"]),
        ("نادية الساعدي، مصطفى الربيعي", ["نادية الساعدي", "مصطفى الربيعي"]),
        ("عبد الله وهبي", ["عبد الله وهبي"]),
        ("كتب: كريم بن علي - الأربعاء، 18 نوفمبر 2026", ["كريم بن علي"]),
        ("https://example.org/author/12", []),
        ("editor@example.org", []),
        ("قال المتحدث باسم الحكومة إن المشروع سيحال إلى البرلمان", []),
        ("الوسط", []),
    ],
)
def test_clean_author(raw: str, expected: list[str]) -> None:
    assert clean_author(raw, load_rules(), sitename="الوسط") == expected


def page(head: str, body: str = "") -> str:
    return f'<html lang="ar"><head><meta charset="utf-8">{head}</head><body>{body}<article>{BODY}</article></body></html>'


def test_title_that_is_the_site_name_is_left_empty() -> None:
    html = page('<title>المغرب العربي اليوم</title><meta property="og:title" content="المغرب العربي اليوم">', '<a href="/">المغرب العربي اليوم</a>')
    article = extract_article(html, "https://maghreb.example/a.html", reference=REF)
    assert article.title == ""
    assert article.sitename == "المغرب العربي اليوم"


def test_site_name_from_title_suffix_and_relative_image() -> None:
    html = page('<title>الحكومة تقر الموازنة - الرافدين نيوز</title><meta property="og:image" content="/img/a.jpg">', "<h1>الحكومة تقر الموازنة</h1>")
    article = extract_article(html, "https://rafidain.example/news/a.html", reference=REF)
    assert article.title == "الحكومة تقر الموازنة"
    assert article.sitename == "الرافدين نيوز"
    assert article.image == "https://rafidain.example/img/a.jpg"


def test_future_dates_and_impossible_modified_left_empty() -> None:
    html = page(
        '<meta property="article:published_time" content="2026-11-20T10:00:00+03:00">'
        '<meta property="article:modified_time" content="2026-11-19T10:00:00+03:00">'
    )
    article = extract_article(html, "https://x.example/a", reference=REF)
    assert article.published == "2026-11-20T10:00:00+03:00"
    assert article.modified is None, "a modification before publication is absurd"
    html = page('<meta property="article:published_time" content="2031-01-01T10:00:00Z">')
    assert extract_article(html, "https://x.example/a", reference=REF).published is None


def test_json_ld_authors_keywords_and_image() -> None:
    ld = (
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"NewsArticle",'
        '"headline":"الموازنة","datePublished":"2026-11-19T06:30:00Z","author":[{"@type":"Person","name":"فاطمة الشامسي"},'
        '{"@type":"Person","name":"خالد المنصوري"}],"keywords":"الموازنة، البرلمان","articleSection":["اقتصاد"],'
        '"image":{"@type":"ImageObject","url":"https://x.example/i.jpg"}}]}</script>'
    )
    article = extract_article(page(ld), "https://x.example/a", reference=REF)
    assert article.authors == ["فاطمة الشامسي", "خالد المنصوري"]
    assert article.tags == ["الموازنة", "البرلمان"]
    assert article.categories == ["اقتصاد"]
    assert article.image == "https://x.example/i.jpg"
    assert article.published == "2026-11-19T06:30:00+00:00"


def test_byline_in_the_page_gives_the_author_and_leaves_the_text() -> None:
    html = page("<title>خبر</title>", "")
    html = html.replace("<article>", "<article><p>كتب: محمد عبد الحميد الأربعاء، ١٨ نوفمبر ٢٠٢٦ - ٠٧:٣٠ م</p>")
    article = extract_article(html, "https://x.example/a", reference=REF)
    assert article.authors == ["محمد عبد الحميد"]
    assert "محمد عبد الحميد" not in article.text
    assert article.published == "2026-11-18T19:30:00"


def test_tags_with_numbers_kept_urls_dropped() -> None:
    html = page('<meta property="article:tag" content="كأس العالم 2026"><meta property="article:tag" content="2026">'
                '<meta property="article:tag" content="https://x.example/tag/1">')
    assert extract_article(html, "https://x.example/a", reference=REF).tags == ["كأس العالم 2026", "2026"]
