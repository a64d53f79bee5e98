"""Write the golden set: article pages in six outlet templates and their expected clean text and metadata.

Run `python tests/golden/build.py` to regenerate pages/ and expected/ (tests check they are up to date).
Pages are written as bytes in their declared encoding (three templates use windows-1256 pages). Every
visible string a template adds around the article is recorded as boilerplate, so the measurement can
tell content kept, boilerplate surviving and anything else that leaked.
"""

from __future__ import annotations

import html
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from prose import ARTICLES, COMMENTS, FOREIGN  # noqa: E402

WEEKDAYS = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
MONTHS = {
    "levant": ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول", "تشرين الثاني", "كانون الأول"],
    "egypt": ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
    "maghreb": ["جانفي", "فيفري", "مارس", "أفريل", "ماي", "جوان", "جويلية", "أوت", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
    "morocco": ["يناير", "فبراير", "مارس", "أبريل", "ماي", "يونيو", "يوليوز", "غشت", "شتنبر", "أكتوبر", "نونبر", "دجنبر"],
}
INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
E = html.escape


@dataclass
class Page:
    """One page under construction: its HTML parts and every boilerplate string it shows."""

    host: str
    article: dict[str, Any]
    others: list[dict[str, Any]]
    parts: list[str] = field(default_factory=list)
    boilerplate: list[str] = field(default_factory=list)

    def bp(self, text: str) -> str:
        """Record a visible non-article string and return it escaped."""
        if text not in self.boilerplate:
            self.boilerplate.append(text)
        return E(text)

    @property
    def url(self) -> str:
        return f"https://{self.host}/news/{self.article['slug']}.html"

    def body(self, between: dict[int, str] | None = None, h2: str = "h2") -> str:
        """The article body; between[i] is inserted after the i-th paragraph (1-based)."""
        out = []
        paras = 0
        for line in self.article["body"]:
            if line.startswith("## "):
                out.append(f"<{h2}>{E(line[3:])}</{h2}>")
                continue
            out.append(f"<p>{E(line)}</p>")
            paras += 1
            if between and paras in between:
                out.append(between[paras])
        return "\n".join(out)


def when(article: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(article["published"])


def text_date(dt: datetime, months: str, *, indic: bool = False, weekday: bool = True, clock12: bool = False) -> str:
    """A date as an outlet prints it: weekday, day, month name, year and time."""
    if clock12:
        hour = dt.hour % 12 or 12
        clock = f"{hour:02d}:{dt.minute:02d} {'م' if dt.hour >= 12 else 'ص'}"
    else:
        clock = f"{dt.hour:02d}:{dt.minute:02d}"
    day = f"{WEEKDAYS[dt.weekday()]}، " if weekday else ""
    text = f"{day}{dt.day} {MONTHS[months][dt.month - 1]} {dt.year} - {clock}"
    return text.translate(INDIC) if indic else text


def related(page: Page, n: int, start: int = 1) -> list[str]:
    """Titles of other articles of the same outlet, as related-article widgets show them."""
    titles = [a["title"] for a in page.others if a["title"] and a is not page.article]
    return [titles[(start + i) % len(titles)] for i in range(n)]


def wasat(page: Page) -> str:
    """A WordPress theme: comment form with neutral class names inside the article, share box, tags."""
    a = page.article
    pub = when(a)
    meta_tags = "".join(f'<meta property="article:tag" content="{E(t)}">' for t in a["tags"])
    modified = f'<meta property="article:modified_time" content="{a["modified"]}">' if a["modified"] else ""
    authors_links = " و".join(f'<a rel="author" href="/author/{i}">{E(n)}</a>' for i, n in enumerate(a["authors"]))
    byline = page.bp("بواسطة " + " و".join(a["authors"]))
    house = page.bp("انضم إلى أكثر من خمسين ألف قارئ يتابعون الوسط يومياً")
    related_title = related(page, 1)[0]
    most = related(page, 2, start=2)
    comments = COMMENTS.get(a["slug"], [])
    if comments:
        heading = page.bp(f"التعليقات ({len(comments)})")
        listing = "".join(
            f'<div class="c-item"><b>{page.bp(who)}</b> <span>{page.bp(when_)}</span><p>{page.bp(text)}</p></div>'
            for who, when_, text in comments
        )
    else:
        heading, listing = page.bp("التعليقات"), f'<p class="c-none">{page.bp("لا توجد تعليقات بعد.")}</p>'

    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="UTF-8">
<title>{E(a['title'])} &#8211; الوسط</title>
<link rel="canonical" href="{page.url}">
<meta name="description" content="{E(a['description'])}">
<meta property="og:type" content="article"><meta property="og:title" content="{E(a['title'])}">
<meta property="og:site_name" content="الوسط"><meta property="og:image" content="https://{page.host}/wp-content/uploads/{a['slug']}.jpg">
<meta property="article:published_time" content="{a['published']}">{modified}
<meta property="article:section" content="{E(a['section'])}">{meta_tags}
<meta name="author" content="{E('، '.join(a['authors']))}">
</head><body class="post-template-default single">
<header class="site-header"><div class="site-branding">{page.bp('الوسط')}</div>
<nav class="main-navigation"><ul><li><a href="/">{page.bp('الرئيسية')}</a></li><li><a href="/iraq">{page.bp('العراق')}</a></li><li><a href="/economy">{page.bp('اقتصاد')}</a></li></ul></nav></header>
<div id="primary" class="content-area"><main id="main" class="site-main">
<article class="post type-post status-publish format-standard hentry">
<header class="entry-header"><span class="cat-links"><a href="/category/x" rel="category tag">{page.bp(a['section'])}</a></span>
<h1 class="entry-title">{E(a['title'])}</h1>
<div class="entry-meta"><span class="byline">{byline.split(' ', 1)[0]} {authors_links}</span> <time class="entry-date published" datetime="{a['published']}">{page.bp(text_date(pub, 'egypt', weekday=False))}</time></div></header>
<div class="entry-content">
{page.body({2: f'<div class="x-box"><p>{house}</p></div>'})}
<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block"><h3 class="sd-title">{page.bp('شارك هذا الخبر:')}</h3>
<ul><li><a href="#fb">{page.bp('فيسبوك')}</a></li><li><a href="#tw">{page.bp('تويتر')}</a></li><li><a href="#wa">{page.bp('واتساب')}</a></li></ul></div></div>
</div>
<footer class="entry-footer"><span class="tags-links">{page.bp('الوسوم:')} {'، '.join(f'<a href="/tag/{i}" rel="tag">{page.bp(t)}</a>' for i, t in enumerate(a['tags']))}</span></footer>
<div class="c-box"><h3 class="c-title">{heading}</h3>{listing}
<div class="c-respond"><h3>{page.bp('أضف تعليقاً')}</h3>
<p class="c-notes">{page.bp('لن يتم نشر عنوان بريدك الإلكتروني. الحقول الإلزامية مشار إليها بـ *')}</p>
<form action="/wp-comments-post.php" method="post"><p><label for="c">{page.bp('التعليق')}</label><textarea id="c" name="comment"></textarea></p>
<p><label for="n">{page.bp('الاسم *')}</label><input id="n" name="author"></p><p><label for="e">{page.bp('البريد الإلكتروني *')}</label><input id="e" name="email"></p>
<p><input type="submit" value="إرسال التعليق"></p></form></div></div>
<nav class="post-navigation"><div class="nav-previous"><span>{page.bp('المقال السابق')}</span> <a href="/news/prev.html">{page.bp(related_title)}</a></div></nav>
</article></main></div>
<aside id="secondary" class="widget-area"><section class="widget"><h2 class="widget-title">{page.bp('الأكثر قراءة')}</h2>
<ul>{''.join(f'<li><a href="/n/{i}">{page.bp(t)}</a></li>' for i, t in enumerate(most))}</ul></section>
<section class="widget"><p>{page.bp('اشترك في نشرتنا البريدية ليصلك ملخص أخبار اليوم')}</p></section></aside>
<footer class="site-footer"><p>{page.bp('جميع الحقوق محفوظة © 2026 الوسط')}</p></footer>
</body></html>"""


def rafidain_update(pub: datetime) -> datetime:
    """The «آخر تحديث» stamp the Iraqi CMS prints: 35 minutes after publication."""
    return pub + timedelta(minutes=35)


def rafidain(page: Page) -> str:
    """An Iraqi CMS in windows-1256: date only in the text (Iraqi month names), «كتب:» byline, read-also box."""
    a = page.article
    pub = when(a)
    byline = f'<span class="by">{page.bp("كتب: " + a["authors"][0])}</span> ' if a["authors"] else ""
    box = (
        f'<div class="box-2"><p><b>{page.bp("اقرأ أيضاً:")}</b></p><ul>'
        + "".join(f'<li><a href="/news/r{i}.html">{page.bp(t)}</a></li>' for i, t in enumerate(related(page, 2)))
        + "</ul></div>"
    )
    updated = rafidain_update(pub)
    most = related(page, 2, start=3)
    return f"""<html lang="ar"><head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">
<title>{E(a['title'])} - الرافدين نيوز</title>
<meta name="description" content="{E(a['description'])}">
<link rel="canonical" href="{page.url}">
</head><body>
<div class="top"><a href="/">{page.bp('الرئيسية')}</a> | <a href="/s/1">{page.bp('سياسة')}</a> | <a href="/s/2">{page.bp('أمن')}</a> | <a href="/s/3">{page.bp('اقتصاد')}</a></div>
<div class="wrap"><div class="col8">
<div class="n-head"><h1>{E(a['title'])}</h1>
<div class="n-info">{byline}<span class="dt">{page.bp(text_date(pub, 'levant'))}</span></div></div>
<div class="n-body">
{page.body({1: box})}
<p>{page.bp('للإعلان في الرافدين نيوز يرجى الاتصال بقسم التسويق')}</p>
<p>{page.bp('المصدر: وكالة الأنباء العراقية')}</p>
<p>{page.bp(f'آخر تحديث: {updated:%d/%m/%Y - %H:%M}')}</p>
<div class="sh"><span>{page.bp('شارك هذا الخبر')}</span> <a href="#f">{page.bp('فيسبوك')}</a> <a href="#t">{page.bp('تويتر')}</a></div>
</div></div>
<div class="col4"><h4>{page.bp('الأكثر قراءة')}</h4><ul>{''.join(f'<li><a href="/m/{i}">{page.bp(t)}</a></li>' for i, t in enumerate(most))}</ul>
<h4>{page.bp('آخر الأخبار')}</h4><ul><li><a href="/l/1">{page.bp(related(page, 1, start=4)[0])}</a></li></ul></div></div>
<div class="foot">{page.bp('جميع الحقوق محفوظة لـ الرافدين نيوز © 2026')}</div>
</body></html>"""


def sham(page: Page) -> str:
    """A Levantine portal: headline repeated in the body, captioned photo with agency credit, emoji follow prompt."""
    a = page.article
    pub = when(a)
    byline = f'<div class="wr">{page.bp("بقلم: " + a["authors"][0])}</div>' if a["authors"] else ""
    agency = "أ ف ب" if len(a["slug"]) % 2 else "رويترز"
    figure = (
        f'<figure class="im"><img src="/img/{a["slug"]}-2.jpg" alt="">'
        f'<figcaption>{page.bp(f"صورة من موقع الحدث (صورة: {agency})")}</figcaption></figure>'
    )
    most = related(page, 2, start=1)
    comments = COMMENTS.get(a["slug"], [])
    talk = ""
    if comments:  # a readers' comment block inside the article container, with neutral class names
        talk = f'<div class="k1"><h4>{page.bp(f"تعليقات القراء ({len(comments)})")}</h4>' + "".join(
            f'<div class="k2"><span>{page.bp(who)}</span> <small>{page.bp(when_)}</small><p>{page.bp(text)}</p></div>'
            for who, when_, text in comments
        ) + f'<p>{page.bp("أضف تعليقك")}</p></div>'
    return f"""<!DOCTYPE html>
<html lang="ar-SY" dir="rtl"><head><meta charset="utf-8">
<title>{E(a['title'])} | بوابة الشام</title>
<meta name="description" content="{E(a['description'])}">
<meta name="keywords" content="{E(','.join(a['tags']))}">
<meta property="og:title" content="{E(a['title'])}"><meta property="og:site_name" content="بوابة الشام">
<meta property="og:url" content="{page.url}"><meta property="og:image" content="https://{page.host}/img/{a['slug']}.jpg">
<meta property="article:section" content="{E(a['section'])}">
<link rel="canonical" href="{page.url}">
</head><body>
<div class="hdr"><a href="/">{page.bp('بوابة الشام')}</a><ul class="m"><li><a href="/syria">{page.bp('سوريا')}</a></li><li><a href="/lebanon">{page.bp('لبنان')}</a></li></ul></div>
<div class="main"><div class="post">
<h1 class="t">{E(a['title'])}</h1>{byline}
<time class="d">{page.bp(text_date(pub, 'levant', indic=True, weekday=False))}</time>
<div class="txt">
<p><strong>{page.bp(a['title'])}</strong></p>
{page.body({1: figure})}
<p>{page.bp('📢 تابعونا على تلغرام لمتابعة آخر الأخبار لحظة بلحظة')}</p>
<p>{page.bp('بوابة الشام منصة إخبارية مستقلة تغطي الشأن السوري منذ عام 2012')}</p>
{talk}</div></div>
<div class="side"><h3>{page.bp('الأكثر قراءة')}</h3>{''.join(f'<p><a href="/p/{i}">{page.bp(t)}</a></p>' for i, t in enumerate(most))}</div></div>
<div class="ft">{page.bp('© 2026 بوابة الشام. جميع الحقوق محفوظة.')}</div>
</body></html>"""


def nil(page: Page) -> str:
    """An Egyptian portal: related and watch-also blocks between paragraphs, Arabic-Indic 12-hour date line."""
    a = page.article
    pub = when(a)
    modified = f'<meta property="article:modified_time" content="{a["modified"]}">' if a["modified"] else ""
    rel = (
        f'<div class="rel"><h4>{page.bp("مواضيع ذات صلة")}</h4><ul>'
        + "".join(f'<li><a href="/n/{i}">{page.bp(t)}</a></li>' for i, t in enumerate(related(page, 2)))
        + "</ul></div>"
    )
    watch = f'<div class="w"><span>{page.bp("شاهد أيضاً")}</span><a href="/v/1">{page.bp("فيديو.. " + related(page, 1, start=3)[0])}</a></div>'
    tags = "".join(f'<a href="/tags/{i}" rel="tag">{page.bp(t)}</a> ' for i, t in enumerate(a["tags"]))
    return f"""<!DOCTYPE html>
<html lang="ar-EG" dir="rtl"><head><meta charset="utf-8">
<title>{E(a['title'])} - النيل اليوم</title>
<meta name="description" content="{E(a['description'])}">
<meta property="og:title" content="{E(a['title'])}"><meta property="og:site_name" content="النيل اليوم">
<meta property="og:image" content="https://{page.host}/media/{a['slug']}.jpg"><meta name="twitter:image" content="https://{page.host}/media/{a['slug']}.jpg">
<meta property="article:published_time" content="{a['published']}">{modified}
<meta property="article:section" content="{E(a['section'])}">
<link rel="canonical" href="{page.url}">
</head><body>
<div class="nav"><a href="/">{page.bp('الرئيسية')}</a> <a href="/sec/1">{page.bp('أخبار مصر')}</a> <a href="/sec/2">{page.bp('رياضة')}</a></div>
<div class="article-page"><div class="a1">
<h1>{E(a['title'])}</h1>
<div class="a2"><span>{page.bp('كتب: ' + a['authors'][0])}</span> <span>{page.bp(text_date(pub, 'egypt', indic=True, clock12=True))}</span></div>
<div class="a3">
{page.body({1: rel, 2: watch}, h2='h3')}
<div class="a4"><span>{page.bp('الكلمات الدالة:')}</span> {tags}</div>
<p>{page.bp('تابع أخبار النيل اليوم عبر جوجل نيوز')}</p>
<p>{page.bp('النيل اليوم .. بوابتك لأخبار مصر والعالم على مدار الساعة')}</p>
</div></div>
<div class="a5"><h4>{page.bp('الأكثر قراءة')}</h4><ul><li><a href="/m/1">{page.bp(related(page, 1, start=2)[0])}</a></li></ul></div></div>
<div class="f">{page.bp('جميع الحقوق محفوظة © النيل اليوم 2026')}</div>
</body></html>"""


def khaleej(page: Page) -> str:
    """A Gulf wire portal: JSON-LD metadata, agency source box, inline «اقرأ/ي أيضًا», update stamp."""
    a = page.article
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": a["title"],
        "datePublished": a["published"], "image": [f"https://{page.host}/photos/{a['slug']}.jpg"],
        "author": [{"@type": "Person", "name": n} for n in a["authors"]],
        "publisher": {"@type": "Organization", "name": "الخليج اليوم"},
        "articleSection": a["section"], "keywords": a["tags"], "description": a["description"],
        "mainEntityOfPage": page.url,
    }
    if a["modified"]:
        ld["dateModified"] = a["modified"]
    inline = f'<p><strong>{page.bp("اقرأ/ي أيضًا:")}</strong> <a href="/r/1">{page.bp(related(page, 1)[0])}</a></p>'
    stamp = ""
    if a["modified"]:
        changed = datetime.fromisoformat(a["modified"])
        stamp = f"<p>{page.bp(f'آخر تحديث: {changed:%d/%m/%Y %H:%M} GMT')}</p>"
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{E(a['title'])} | الخليج اليوم</title>
<meta name="description" content="{E(a['description'])}">
<meta property="og:url" content="{page.url}">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head><body>
<header><div class="brand">{page.bp('الخليج اليوم')}</div><div class="menu"><a href="/">{page.bp('الرئيسية')}</a> <a href="/gulf">{page.bp('الخليج')}</a></div></header>
<section class="s1"><div class="s2">
<h1>{E(a['title'])}</h1>
<div class="s3">
{page.body({1: inline})}
<div class="k9"><h5>{page.bp('عن مصدر الخبر')}</h5><p>{page.bp('وكالة أنباء الخليج')}</p><p>وكالة أنباء الخليج</p>
<p><a href="https://wire.example/{a['slug']}">{page.bp('يمكنك قراءة الخبر ايضا من المصدر من هنا')}</a></p></div>
{stamp}
<p>{page.bp('الخليج اليوم.. الخبر كما هو')}</p>
</div></div></section>
<footer>{page.bp('جميع الحقوق محفوظة © الخليج اليوم 2026')}</footer>
</body></html>"""


MAGHREB_MONTHS = {"morocco-train": "morocco", "libya-elections-talks": "maghreb"}


def maghreb(page: Page) -> str:
    """A Maghreb portal in windows-1256: Maghreb month names, «نشر في», neutral related block, site-name titles."""
    a = page.article
    pub = when(a)
    months = MAGHREB_MONTHS.get(a["slug"], "maghreb")
    stamp = f"نشر في {pub.day} {MONTHS[months][pub.month - 1]} {pub.year} على الساعة {pub:%H:%M}"
    title_tag = f"{E(a['title'])} | المغرب العربي اليوم" if a["title"] else "المغرب العربي اليوم"
    og_title = E(a["title"]) if a["title"] else "المغرب العربي اليوم"
    h1 = f"<h1>{E(a['title'])}</h1>" if a["title"] else ""
    byline = f'<span class="au">{page.bp("إعداد: " + a["authors"][0])}</span> ' if a["authors"] else ""
    desc = f'<meta name="description" content="{E(a["description"])}">' if a["description"] else ""
    keywords = f'<meta name="keywords" content="{E("، ".join(a["tags"]))}">' if a["tags"] else ""
    rel = (
        f'<div class="d7"><p>{page.bp("مواضيع متعلقة")}</p>'
        + "".join(f'<p><a href="/a/{i}">{page.bp(t)}</a></p>' for i, t in enumerate(related(page, 2)))
        + "</div>"
    )
    return f"""<html lang="ar"><head>
<meta charset="windows-1256">
<title>{title_tag}</title>{desc}{keywords}
<meta property="og:title" content="{og_title}"><meta property="og:image" content="/uploads/{a['slug']}.jpg">
<meta property="article:section" content="{E(a['section'])}">
<link rel="canonical" href="{page.url}">
</head><body>
<div class="bar"><a href="/">{page.bp('المغرب العربي اليوم')}</a> <a href="/c/1">{page.bp('سياسة')}</a> <a href="/c/2">{page.bp('اقتصاد')}</a></div>
<div class="cnt"><div class="b1">{h1}
<div class="b2">{byline}<span class="tm">{page.bp(stamp)}</span></div>
<div class="b3">
{page.body({1: rel})}
<p>{page.bp('ساهم في دعم الصحافة المستقلة في المغرب العربي')}</p>
<p><a href="#fb">{page.bp('شارك على فيسبوك')}</a></p>
</div></div></div>
<div class="b9">{page.bp('© المغرب العربي اليوم 2026')}</div>
</body></html>"""


def watan(page: Page) -> str:
    """An old table-based CMS: windows-1256 bytes with NO charset declared, no h1, «site :: headline» title,
    numeric «بتاريخ» date, plain-text related titles between paragraphs, print/send-to-friend tools."""
    a = page.article
    pub = when(a)
    stamp = f"بتاريخ {pub:%Y/%m/%d} - {pub:%H:%M}" if len(a["slug"]) % 2 else f"بتاريخ {pub:%d/%m/%Y} الساعة {pub:%H:%M}"
    byline = f"<tr><td class=\"f2\">{page.bp('بقلم: ' + a['authors'][0])}</td></tr>" if a["authors"] else ""
    repeated = "«" + a["title"].replace("ا", "ــا", 1) + "»"
    rel = (
        f'<p><b>{page.bp("أخبار ذات صلة")}</b></p>'
        + "".join(f"<p>{page.bp(t)}</p>" for t in related(page, 2))
    )
    return f"""<html><head>
<title>الوطن العربي :: {E(a['title'])}</title>
</head><body bgcolor="#ffffff">
<table width="100%"><tr><td><a href="/"><img src="/logo.gif" alt="الوطن العربي"></a></td><td>{page.bp('الوطن العربي')}</td></tr></table>
<table width="760"><tr><td class="f1"><font size="5"><b>{E(a['title'])}</b></font></td></tr>
{byline}<tr><td class="f3">{page.bp(stamp)}</td></tr>
<tr><td class="f4">
<p>{page.bp(repeated)}</p>
{page.body({1: rel})}
<p>{page.bp('طباعة')} | {page.bp('أرسل لصديق')} | {page.bp('حجم الخط')}</p>
</td></tr></table>
<table><tr><td>{page.bp('جميع الحقوق محفوظة للوطن العربي 2002 - 2026')}</td></tr></table>
</body></html>"""


@dataclass(frozen=True)
class Outlet:
    """A golden-set outlet: its host, template, encoding and the metadata its pages state."""

    host: str
    template: Callable[[Page], str]
    encoding: str
    sitename: str
    image: Callable[[Page], str]
    tags: bool
    categories: bool
    tz_in_page: bool


OUTLETS = {
    "wasat": Outlet("alwasat.example", wasat, "utf-8", "الوسط", lambda p: f"https://{p.host}/wp-content/uploads/{p.article['slug']}.jpg", True, True, True),
    "rafidain": Outlet("alrafidain-news.example", rafidain, "windows-1256", "الرافدين نيوز", lambda p: "", False, False, False),
    "sham": Outlet("bawabat-alsham.example", sham, "utf-8", "بوابة الشام", lambda p: f"https://{p.host}/img/{p.article['slug']}.jpg", True, True, False),
    "nil": Outlet("alnil-today.example", nil, "utf-8", "النيل اليوم", lambda p: f"https://{p.host}/media/{p.article['slug']}.jpg", True, True, True),
    "khaleej": Outlet("khaleej-today.example", khaleej, "utf-8", "الخليج اليوم", lambda p: f"https://{p.host}/photos/{p.article['slug']}.jpg", True, True, True),
    "watan": Outlet("alwatan-alarabi.example", watan, "windows-1256", "الوطن العربي", lambda p: "", False, False, False),
    "maghreb": Outlet("maghreb-today.example", maghreb, "windows-1256", "المغرب العربي اليوم", lambda p: f"https://{p.host}/uploads/{p.article['slug']}.jpg", True, True, False),
}
# The run's reference date: dates after it are absurd and must be left empty.
REFERENCE = "2026-11-21T12:00:00+00:00"


def content_lines(article: dict[str, Any]) -> list[str]:
    return [line[3:] if line.startswith("## ") else line for line in article["body"]]


def build_page(name: str, outlet: Outlet, article: dict[str, Any], others: list[dict[str, Any]]) -> tuple[bytes, dict[str, Any]]:
    """One page's bytes and its expected result."""
    page = Page(outlet.host, article, others)
    markup = outlet.template(page)
    if article["title"]:
        page.bp(article["title"])
    stated = datetime.fromisoformat(article["published"])
    future = (stated if stated.tzinfo else stated.replace(tzinfo=UTC)) > datetime.fromisoformat(REFERENCE)
    published = None if future else article["published"]
    expected = {
        "name": name,
        "url": page.url,
        "host": outlet.host,
        "template": outlet.template.__name__,
        "encoding": outlet.encoding,
        "reference": REFERENCE,
        "title": article["title"],
        "published": published,
        "published_has_offset": outlet.tz_in_page,
        "modified": rafidain_update(stated).isoformat() if outlet.template is rafidain else article["modified"],
        "authors": article["authors"],
        "sitename": outlet.sitename,
        "canonical_url": "" if outlet.template is watan else page.url,
        "image": outlet.image(page),
        "categories": [article["section"]] if outlet.categories else [],
        "tags": article["tags"] if outlet.tags else [],
        "description": article["description"],
        "language_declared": "" if outlet.template is watan else "ar",
        "content": content_lines(article),
        "boilerplate": [b for b in page.boilerplate if b not in content_lines(article)],
    }
    return markup.encode(outlet.encoding), expected


def build_foreign(item: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """A Persian or Urdu page about the same events, in a plain news template."""
    table = str.maketrans(item.get("replace", {}))
    title = item["title"].translate(table)
    body = [line.translate(table) for line in item["body"]]
    lang_attr = f' lang="{item["declared"]}"' if item["declared"] else ""
    url = f"https://foreign-news.example/{item['slug']}.html"
    paras = "\n".join(f"<p>{E(line)}</p>" for line in body)
    markup = f"""<!DOCTYPE html><html{lang_attr} dir="rtl"><head><meta charset="utf-8"><title>{E(title)}</title>
<meta property="og:title" content="{E(title)}"><meta property="article:published_time" content="2026-11-16T13:10:00+03:30"></head>
<body><article><h1>{E(title)}</h1>{paras}</article></body></html>"""
    return markup.encode("utf-8"), {"name": item["slug"], "url": url, "lang": item["lang"], "language_declared": item["declared"], "title": title, "content": body}


def main(root: Path = HERE) -> None:
    """Write pages/, expected/ and foreign/ under root."""
    pages_dir, expected_dir, foreign_dir = root / "pages", root / "expected", root / "foreign"
    for d in (pages_dir, expected_dir, foreign_dir):
        d.mkdir(parents=True, exist_ok=True)
        for old in d.iterdir():
            old.unlink()
    for key, outlet in OUTLETS.items():
        articles = ARTICLES[key]
        for i, article in enumerate(articles, 1):
            name = f"{key}-{i}"
            data, expected = build_page(name, outlet, article, articles)
            (pages_dir / f"{name}.html").write_bytes(data)
            (expected_dir / f"{name}.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for item in FOREIGN:
        data, expected = build_foreign(item)
        (foreign_dir / f"{item['slug']}.html").write_bytes(data)
        (foreign_dir / f"{item['slug']}.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
