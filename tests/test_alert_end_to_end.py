"""End to end: three outlets' feeds carry one announcement (two independently written reports and a
near-copy of one of them); one full cycle delivers exactly one alert, listing all three sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from akhbar import pipeline
from akhbar.config import Settings
from akhbar.index import Store
from conftest import make_ctx

REPORT_A = [
    "أعلن وزير الدفاع الأمريكي، اليوم السبت، إرسال 560 جنديا إضافيا إلى قاعدة القيارة الجوية جنوب الموصل لدعم القوات العراقية في ملاحقة خلايا تنظيم داعش.",
    "وقال الوزير في مؤتمر صحفي إن القوات الإضافية تضم مهندسين وخبراء في الإمداد وعناصر حماية، وإنها ستصل خلال أسابيع.",
    "وأضاف أن القرار جاء بطلب من الحكومة العراقية وبالتنسيق مع قيادة العمليات المشتركة، مؤكدا أن مهمة القوات استشارية وتدريبية.",
    "ويرفع القرار عدد الجنود الأمريكيين في العراق إلى أكثر من خمسة آلاف، بحسب تقديرات وزارة الدفاع.",
]
# Written independently: other wording, Arabic-Indic digits, another order of facts.
REPORT_B = [
    "البنتاغون يعزز وجوده في نينوى: واشنطن ترسل ٥٦٠ عسكرياً إلى قاعدة القيارة.",
    "قررت الإدارة الأمريكية نشر ٥٦٠ عسكرياً إضافياً في قاعدة القيارة جنوبي مدينة الموصل، في خطوة قالت إنها تهدف إلى دعم العمليات العراقية ضد فلول داعش.",
    "وأوضح متحدث باسم وزارة الدفاع الأمريكية أن الجنود سيتولون مهام الإسناد الهندسي واللوجستي، ولن يشاركوا في القتال المباشر.",
    "ورحبت قيادة العمليات المشتركة العراقية بالخطوة، مشيرة إلى أن التنسيق مع التحالف الدولي مستمر.",
]
# A near-copy of A: the outlet rewrote the first line, cut the last paragraph and added its own closing.
REPORT_C = [
    "أعلن وزير الدفاع الأمريكي السبت إرسال 560 جنديا إضافيا إلى قاعدة القيارة الجوية جنوب الموصل لدعم القوات العراقية في ملاحقة خلايا تنظيم داعش.",
    *REPORT_A[1:3],
    "ويأتي ذلك وسط تصاعد هجمات الخلايا النائمة في المناطق الصحراوية غرب نينوى.",
]
OUTLETS = [
    ("wasat", "الوسط", "واشنطن ترسل 560 جنديا إضافيا إلى قاعدة القيارة", REPORT_A, "2026-11-21T09:40:00+03:00"),
    ("rafidain", "الرافدين", "البنتاغون يعزز وجوده في نينوى بـ٥٦٠ عسكرياً", REPORT_B, "2026-11-21T10:05:00+03:00"),
    ("sham", "بوابة الشام", "560 جنديا أمريكيا إضافيا إلى قاعدة القيارة", REPORT_C, "2026-11-21T11:20:00+03:00"),
]


def page(title: str, paragraphs: list[str], published: str, outlet: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{title} - {outlet}</title>'
        f'<meta property="og:title" content="{title}"><meta property="article:published_time" content="{published}">'
        f'</head><body><nav><a href="/">الرئيسية</a></nav><article><h1>{title}</h1>{body}</article>'
        f"<footer>جميع الحقوق محفوظة © {outlet}</footer></body></html>"
    )


def feed(name: str, outlet: str, title: str, link: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{outlet}</title><link>{link.rsplit('/', 2)[0]}/</link><description>{outlet}</description><language>ar</language>"
        f"<item><title>{title}</title><link>{link}</link><pubDate>Sat, 21 Nov 2026 07:00:00 +0000</pubDate></item>"
        "</channel></rss>"
    )


def test_three_outlets_one_announcement_one_alert_with_three_sources(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path, monkeypatch) -> None:
    received: list[dict[str, Any]] = []

    def hook(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        return Response("ok", status=200)

    httpserver.expect_request("/alerts", method="POST").respond_with_handler(hook)
    monkeypatch.setenv("AIRFLOW_CONN_AKHBAR_ALERTS_WEBHOOK", json.dumps({"conn_type": "http", "host": httpserver.url_for("/alerts")}))
    feeds = []
    for name, outlet, title, paragraphs, published in OUTLETS:
        link = httpserver.url_for(f"/{name}/news/1.html")
        httpserver.expect_request(f"/{name}/news/1.html").respond_with_data(page(title, paragraphs, published, outlet), content_type="text/html; charset=utf-8")
        httpserver.expect_request(f"/{name}/feed.xml").respond_with_data(feed(name, outlet, title, link), content_type="application/rss+xml")
        feeds.append({"name": name, "outlet": outlet, "url": httpserver.url_for(f"/{name}/feed.xml")})
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump({"allow_private_networks": True, "feeds": feeds}, allow_unicode=True), encoding="utf-8")

    counts = pipeline.run_once(settings, make_ctx(settings, "run-1"), path)
    assert counts["extracted"] == 3 and counts["errors"] == 0
    assert counts["alerts"] == 1 and counts["alerts_delivered"] == 1
    assert len(received) == 1
    alert = received[0]
    assert {s["outlet"] for s in alert["sources"]} == {"الوسط", "الرافدين", "بوابة الشام"}
    assert alert["kind"] == "deploy" and alert["actor"] == "الولايات المتحدة"
    assert alert["destination"] == "قاعدة القيارة" and alert["size"] == 560 and alert["force_type"] == "combat_troops"
    assert alert["status"] == "announced" and alert["source_count"] == 3

    store.refresh("alerts")
    [(alert_id, stored)] = store.find("alerts", {"match_all": {}})
    assert alert_id == alert["id"] and stored["delivery"]["state"] == "delivered" and len(stored["sources"]) == 3

    counts = pipeline.run_once(settings, make_ctx(settings, "run-2"), path)  # the next cycle sends nothing
    assert counts["alerts"] == 0 and counts["alerts_delivered"] == 0 and len(received) == 1
