"""Language: langdetect (seeded) on the cleaned body, declared and detected both kept; Persian and Urdu never pass as Arabic."""

from __future__ import annotations

import json

import pytest

from akhbar.extract import extract_article
from akhbar.fetch import decode_body
from akhbar.language import detect, is_kept, script_language
from conftest import GOLDEN

FOREIGN = sorted((GOLDEN / "foreign").glob("*.json"))


@pytest.mark.parametrize("path", FOREIGN, ids=lambda p: p.stem)
def test_persian_and_urdu_pages_are_not_arabic(path) -> None:
    expected = json.loads(path.read_text(encoding="utf-8"))
    html, _ = decode_body((GOLDEN / "foreign" / f"{path.stem}.html").read_bytes(), "text/html")
    article = extract_article(html, expected["url"])
    result = detect(article.text)
    assert result.lang == expected["lang"]
    assert not is_kept(result)
    assert article.declared_language == expected["language_declared"]


def test_urdu_page_declared_arabic_is_detected_as_urdu() -> None:
    expected = json.loads((GOLDEN / "foreign" / "hadr-ur.json").read_text(encoding="utf-8"))
    assert expected["language_declared"] == "ar"
    assert detect("\n".join(expected["content"])).lang == "ur"


def test_persian_quoting_arabic_is_not_arabic() -> None:
    # langdetect alone calls this Arabic: the quotation outweighs the Persian around it.
    text = (
        "وزیر خارجه عراق گفت: «إن القوات الأمريكية ستبقى في قاعدة عين الأسد حتى نهاية العام المقبل وفق الاتفاق "
        "الموقع بين البلدين». او افزود که این موضوع در دیدار با هیئت آمریکایی بررسی شد."
    )
    assert detect(text).lang == "fa"


@pytest.mark.parametrize(
    "title",
    ["اعزام ۵۶۰ نیروی آمریکایی دیگر به پایگاه قیاره در جنوب موصل", "امریکا موصل کے جنوب میں قیارہ اڈے پر مزید 560 فوجی بھیجے گا"],
)
def test_short_foreign_titles_are_not_arabic(title: str) -> None:
    assert detect(title).lang in ("fa", "ur")


def test_iraqi_arabic_with_borrowed_letters_stays_arabic() -> None:
    text = (
        "قال الشيخ گاطع الچلبي إن العشائر في قضاء الزبير تدعم جهود الحكومة المحلية في إعادة إعمار المدارس "
        "والمستشفيات، مؤكداً أن أبناء المنطقة ينتظرون تنفيذ المشاريع المعلنة منذ سنوات طويلة دون أن يتحقق منها شيء يذكر."
    )
    assert script_language(text) is None
    assert detect(text).lang == "ar"


def test_detection_is_deterministic() -> None:
    text = "عاجل: انفجار في بغداد"
    assert len({detect(text) for _ in range(5)}) == 1


def test_pipeline_records_persian_and_urdu_pages_with_both_languages(settings, store, httpserver, tmp_path) -> None:
    import yaml

    from akhbar import pipeline
    from akhbar.urls import url_id
    from conftest import make_ctx

    items = []
    names = [p.stem for p in FOREIGN]
    for name in names:
        httpserver.expect_request(f"/{name}.html").respond_with_data((GOLDEN / "foreign" / f"{name}.html").read_bytes(), content_type="text/html; charset=utf-8")
    httpserver.expect_request("/ar.html").respond_with_data((GOLDEN / "pages" / "rafidain-1.html").read_bytes(), content_type="text/html")
    for name in [*names, "ar"]:
        items.append(f"<item><title>{name}</title><link>{httpserver.url_for(f'/{name}.html')}</link></item>")
    rss = f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>{"".join(items)}</channel></rss>'
    httpserver.expect_request("/feed.xml").respond_with_data(rss.encode(), content_type="application/rss+xml")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"allow_private_networks": True, "feeds": [{"name": "mixed", "url": httpserver.url_for("/feed.xml"), "country": "IQ"}]}), encoding="utf-8")
    counts = pipeline.run_once(settings, make_ctx(settings), feeds)
    assert counts["non_arabic"] == len(names) and counts["indexed"] == 1
    store.refresh("rejects")
    hits = store.es.search(index=store.alias("rejects"), query={"term": {"kind": "language"}}, size=10)["hits"]["hits"]
    got = {h["_source"]["url"].rsplit("/", 1)[-1]: (h["_source"]["language"], h["_source"].get("language_declared")) for h in hits}
    for path in FOREIGN:
        expected = json.loads(path.read_text(encoding="utf-8"))
        assert got[f"{path.stem}.html"] == (expected["lang"], expected["language_declared"] or None)
    article = store.get("articles", url_id(httpserver.url_for("/ar.html")))
    assert article["language"]["detected"] == "ar" and article["language"]["declared"] == "ar"
    assert article["published"] == "2026-11-17T08:15:00+03:00", "printed Baghdad time, read in the feed country's zone"
    assert article["modified"] == "2026-11-17T08:50:00+03:00"
    assert article["authors"] == ["علي حسين الجبوري"] and article["sitename"] == "الرافدين نيوز"
