"""Extraction with real trafilatura and the boilerplate rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from akhbar.extract import ExtractError, clean_lines, extract_article, load_boilerplate

PARAS = [
    "أعلنت وزارة الدفاع الأمريكية يوم الأحد أنها سترسل خمسمئة وستين جنديا إضافيا إلى العراق للمساعدة في التحضير لمعركة استعادة مدينة الموصل من قبضة تنظيم الدولة الإسلامية، في خطوة تعكس تصاعد الانخراط العسكري الأمريكي في البلاد.",
    "وقال مسؤولون في البنتاغون إن معظم القوات الجديدة ستتمركز في قاعدة القيارة الجوية جنوب الموصل، حيث ستعمل على تقديم الدعم اللوجستي والاستشاري للقوات العراقية التي تستعد للتقدم نحو المدينة خلال الأسابيع المقبلة.",
    "وأضاف المسؤولون أن القرار جاء بعد مشاورات مطولة مع الحكومة العراقية في بغداد، وأن الجنود لن يشاركوا في القتال المباشر، بل سيقدمون المشورة والتدريب وينسقون الضربات الجوية للتحالف الدولي ضد مواقع التنظيم.",
]
TITLE = "واشنطن ترسل 560 جنديا إضافيا إلى العراق"


def page(body_inner: str) -> str:
    return f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{TITLE} | الوسط</title>
<meta property="og:title" content="{TITLE}"><meta name="author" content="أحمد الكبيسي">
<meta property="article:published_time" content="2026-11-18T09:30:00+03:00">
<meta property="og:site_name" content="الوسط"></head><body>
<header><nav><a href="/">الرئيسية</a> <a href="/iraq">العراق</a> <a href="/world">العالم</a></nav></header>
<main><article><h1>{TITLE}</h1>{body_inner}</article></main>
<aside><h3>الأكثر قراءة</h3><ul><li><a href="/1">خبر أول عن الطقس في بغداد</a></li><li><a href="/2">خبر ثان عن الاقتصاد</a></li></ul></aside>
<footer>جميع الحقوق محفوظة © 2026 الوسط</footer></body></html>"""


def test_neutral_container_boilerplate_removed() -> None:
    inner = (
        f"<p>{TITLE}</p><p>{PARAS[0]}</p>"
        '<div class="box-2"><p>اقرأ أيضاً:</p><ul><li><a href="/x">مقتل ثلاثة جنود في هجوم شمال بغداد</a></li>'
        '<li><a href="/y">البرلمان يناقش الموازنة</a></li></ul></div>'
        f"<p>{PARAS[1]}</p><p>{PARAS[2]}</p>"
        '<div class="c1"><p>المصدر: وكالة الأنباء العراقية</p><p>آخر تحديث: 18 تشرين الثاني 2026</p>'
        "<p>شارك هذا الخبر</p><h3>التعليقات</h3><p>أضف تعليقـك</p>"
        "<p>لن يتم نشر عنوان بريدك الإلكتروني. الحقول الإلزامية مشار إليها بـ *</p></div>"
    )
    article = extract_article(page(inner), "http://outlet.example/a", reference=datetime(2026, 11, 21, tzinfo=UTC))
    for para in PARAS:
        assert para in article.text
    for junk in ("اقرأ أيضاً", "مقتل ثلاثة جنود", "المصدر:", "آخر تحديث", "شارك هذا الخبر", "التعليقات", "أضف تعليق", "بريدك الإلكتروني"):
        assert junk not in article.text, junk
    assert article.text.splitlines()[0] == PARAS[0], "the repeated headline stays out of the body"
    assert article.title == TITLE
    assert article.authors == ["أحمد الكبيسي"]
    assert article.published and article.published.startswith("2026-11-18")


def test_future_date_left_empty() -> None:
    html = page(f"<p>{PARAS[0]}</p><p>{PARAS[1]}</p>").replace("2026-11-18T09:30", "2027-05-01T09:30")
    article = extract_article(html, "http://outlet.example/a", reference=datetime(2026, 11, 21, tzinfo=UTC))
    assert article.published is None


def test_page_without_article_text_is_an_error() -> None:
    with pytest.raises(ExtractError):
        extract_article("<html><body><nav>x</nav></body></html>", "http://outlet.example/empty")


def test_rules_remove_lines_not_words_inside_paragraphs() -> None:
    rules = load_boilerplate()
    paragraph = "وقال المصدر العسكري إن التعليقات التي صدرت عن المسؤولين لا تعكس الموقف الرسمي للحكومة، مضيفا أن شارك هذا الخبر عبارة تظهر في الإعلانات"
    kept, removed = clean_lines(paragraph, "", rules)
    assert kept == [paragraph] and removed == []


@pytest.mark.parametrize(
    "line",
    ["أضف تعليقاً", "اضف تعليق", "أَضِفْ تعليقـك", "التعليقات (3)", "المصدر : رويترز", "آخر تحديث: ١٨/١١/٢٠٢٦", "تابعونا على تلغرام", "شارك هذا الخبر:"],
)
def test_spelling_variants_of_boilerplate_caught(line: str) -> None:
    kept, removed = clean_lines(f"{line}\n{PARAS[0]}", "", load_boilerplate())
    assert kept == [PARAS[0]] and removed == [line]


def test_source_word_as_subject_is_kept() -> None:
    line = "المصدر أكد أن الاجتماع سيعقد غدا"
    kept, _ = clean_lines(line, "", load_boilerplate())
    assert kept == [line]


def test_related_block_ends_at_next_paragraph() -> None:
    text = "\n".join(["مواضيع ذات صلة", "- عنوان خبر قديم", "عنوان آخر قصير", PARAS[1]])
    kept, removed = clean_lines(text, "", load_boilerplate())
    assert kept == [PARAS[1]] and len(removed) == 3


@pytest.mark.parametrize(
    "line",
    [
        "التعليقات", "أضف تعليقاً", "اضف تعليق", "أضف تعليقـك", "لن يتم نشر عنوان بريدك الإلكتروني", "الحقول الإلزامية مشار إليها بـ *",
        "اقرأ أيضاً", "اقرأ أيضا :", "اقرأ/ي أيضًا:", "إقرأ أيضاً", "مواضيع ذات صلة", "شاهد أيضاً", "المصدر: وكالة الأنباء العراقية",
        "المصدر : رويترز", "يمكنك قراءة الخبر ايضا من المصدر من هنا", "عن مصدر الخبر", "آخر تحديث: 18/11/2026",
        "شارك هذا الخبر", "تابعونا على فيسبوك", "📢 تابعونا على تلغرام لمتابعة آخر الأخبار لحظة بلحظة",
        "👈 تابعونا على تويتر", "جنود أتراك قرب الحدود (أ ف ب)", "آليات عسكرية على طريق حلب (رويترز)",
        "📩 اشترك في نشرتنا اليومية", "احصل على أهم الأخبار في بريدك كل صباح",
        "بقلم: ريم الخطيب", "طباعة | أرسل لصديق | حجم الخط", "فيسبوك", "المقال التالي", "كتب: محمد عبد الحميد الأربعاء، ١٨ نوفمبر ٢٠٢٦ - ٠٧:٣٠ م", "الثلاثاء، 17 تشرين الثاني 2026 - 08:15",
    ],
)
def test_issue_boilerplate_lines_removed(line: str) -> None:
    kept, removed = clean_lines(f"{PARAS[0]}\n{line}\n{PARAS[1]}", "", load_boilerplate())
    assert kept == [PARAS[0], PARAS[1]] and removed == [line]


def test_dateline_with_agency_is_kept() -> None:
    line = "بغداد (رويترز) - قال مسؤول إن الاجتماع تأجل إلى الأسبوع المقبل."
    kept, _ = clean_lines(line, "", load_boilerplate())
    assert kept == [line]


def test_learned_lines_removed_whole_never_inside_paragraphs() -> None:
    from akhbar.extract import line_key

    widget = "انضم إلى أكثر من خمسين ألف قارئ يتابعون الوسط يومياً"
    paragraph = f"{PARAS[1]} {widget}"
    kept, removed = clean_lines(f"{paragraph}\n{widget}", "", load_boilerplate(), frozenset({line_key(widget)}))
    assert kept == [paragraph] and removed == [widget]


def test_site_name_line_removed() -> None:
    kept, removed = clean_lines(f"الخليج اليوم\n{PARAS[0]}\nالخليج اليوم السبت 21 تشرين الثاني 2026", "", load_boilerplate(), sitenames=("الخليج اليوم",))
    assert kept == [PARAS[0]] and removed == ["الخليج اليوم", "الخليج اليوم السبت 21 تشرين الثاني 2026"]


def test_dropped_subheading_recovered_between_paragraphs() -> None:
    from trafilatura.utils import load_html

    from akhbar.extract import recover_headings

    tree = load_html(f"<html><body><div><p>{PARAS[0]}</p><h2>مهمة محددة</h2><p>{PARAS[1]}</p><h3>عنوان معزول</h3></div></body></html>")
    assert recover_headings(tree, f"{PARAS[0]}\n{PARAS[1]}").splitlines() == [PARAS[0], "مهمة محددة", PARAS[1]]


def test_tool_words_inside_a_sentence_are_kept() -> None:
    line = "طباعة الكتب المدرسية تتأخر هذا العام بسبب نقص الورق"
    kept, _ = clean_lines(line, "", load_boilerplate())
    assert kept == [line]


@pytest.mark.parametrize(
    "line",
    ["التعليقات الرسمية على القرار جاءت متأخرة", "اشترك في الهجوم عشرات المسلحين من التنظيم", "انضم اللاعب إلى النادي الأهلي قادماً من الزمالك", "شاهد عيان قال إن الانفجار وقع قرب السوق", "المصدر الأمني قال إن التحقيق مستمر", "تابع الوزير جولته في المحافظة"],
)
def test_content_lines_that_start_like_boilerplate_are_kept(line: str) -> None:
    kept, removed = clean_lines(f"{line}\n{PARAS[0]}", "", load_boilerplate())
    assert kept == [line, PARAS[0]] and removed == []


def test_cli_extract_shows_clean_text_and_metadata() -> None:
    import json

    from click.testing import CliRunner

    from akhbar.cli import main
    from conftest import GOLDEN

    result = CliRunner().invoke(main, ["extract", str(GOLDEN / "pages" / "rafidain-1.html"), "--reference", "2026-11-21T12:00:00+00:00", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["encoding"] == "windows-1256" and data["language"]["detected"] == "ar"
    assert data["title"] == "الجيش العراقي يطلق عملية لتفتيش صحراء الحضر غربي نينوى"
    assert data["published"] == "2026-11-17T08:15:00" and data["authors"] == ["علي حسين الجبوري"]
    assert "المصدر: وكالة الأنباء العراقية" in data["removed_lines"]


def test_readers_comments_after_the_article_removed() -> None:
    comments = ["تعليقات القراء (2)", "أبو محمد منذ ساعتين", "الأسعار صارت خيالية والناس ما عادت تقدر تشتري شيء.", "الله يعين الناس على هالغلاء", "الاسم", "إرسال"]
    kept, removed = clean_lines("\n".join([*PARAS, *comments]), "", load_boilerplate())
    assert kept == PARAS and removed == comments


def test_comment_heading_before_most_of_the_text_takes_nothing_with_it() -> None:
    kept, removed = clean_lines("\n".join([PARAS[0], "التعليقات", PARAS[1], PARAS[2]]), "", load_boilerplate())
    assert kept == PARAS and removed == ["التعليقات"]


def test_related_block_stops_at_a_subheading_of_the_article() -> None:
    inner = (
        f"<p>{PARAS[0]}</p><div class=\"r\"><p>اقرأ أيضاً:</p><p><a href=\"/x\">البرلمان يناقش الموازنة</a></p></div>"
        f"<h2>مهمة محددة بالتدريب</h2><p>{PARAS[1]}</p><p>{PARAS[2]}</p>"
    )
    article = extract_article(page(inner), "http://outlet.example/a", reference=datetime(2026, 11, 21, tzinfo=UTC))
    assert article.text.splitlines() == [PARAS[0], "مهمة محددة بالتدريب", PARAS[1], PARAS[2]]


def test_unreadable_page_metadata_falls_back_to_trafilaturas(monkeypatch: pytest.MonkeyPatch) -> None:
    from akhbar import extract

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("odd metadata")

    monkeypatch.setattr(extract, "page_metadata", broken)
    article = extract_article(page(f"<p>{PARAS[0]}</p><p>{PARAS[1]}</p>"), "http://outlet.example/a", reference=datetime(2026, 11, 21, tzinfo=UTC))
    assert PARAS[0] in article.text and article.title
    assert article.published and article.published.startswith("2026-11-18")
