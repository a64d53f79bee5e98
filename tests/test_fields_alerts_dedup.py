"""Fields, deployment detection and exact-copy grouping (pure functions)."""

from __future__ import annotations

from akhbar.alerts import alert_key, detect_deployment, should_alert
from akhbar.dedup import content_hash
from akhbar.fields import extract_fields


def test_places_orgs_and_troops() -> None:
    text = "أعلن وزير الدفاع الأميركي إرسال ٥٦٠ جنديًا إضافيًا إلى قاعدة القيارة جنوب الموصل لقتال داعش، وقال إن 1,200 عسكري موجودون في العراق."
    fields = extract_fields(text)
    assert {"الموصل", "قاعدة القيارة", "العراق"} <= set(fields["place_names"])
    mosul = next(p for p in fields["places"] if p["name"] == "الموصل")
    assert mosul["country_code"] == "IQ" and abs(mosul["location"]["lat"] - 36.34) < 0.01
    assert "تنظيم الدولة الإسلامية" in fields["organisations"]
    assert fields["troops"] == [560, 1200]


def test_isis_spellings_are_one_entity() -> None:
    for text in ("هجوم لداعش في الأنبار", "هجوم لتنظيم الدولة الإسلامية في الأنبار"):
        assert extract_fields(text)["organisations"] == ["تنظيم الدولة الإسلامية"]


def test_deployment_detected_with_actor_destination_size() -> None:
    text = "أعلن وزير الدفاع الأمريكي إرسال 560 جنديا إضافيا إلى قاعدة القيارة جنوب الموصل."
    dep = detect_deployment("", text, extract_fields(text))
    assert dep.is_deployment and dep.kind == "deploy"
    assert dep.actor == "الولايات المتحدة" and dep.destination == "قاعدة القيارة" and dep.size == 560
    assert dep.evidence == text and dep.confidence >= 0.9
    assert should_alert(dep)


def test_non_deployments() -> None:
    for text in (
        "نفت وزارة الدفاع التركية إرسال قوات إلى الموصل.",
        "نشرت الشرطة 300 عنصر في شوارع بغداد لتأمين الاحتفالات.",
        "وكان البنتاغون قد أعلن إرسال 200 جندي إلى العراق.",
        "أعلن النادي تعزيز صفوفه بثلاثة لاعبين جدد قبل مباراة الدوري.",
    ):
        assert not detect_deployment("", text, extract_fields(text)).is_deployment, text


def test_alert_key_is_deterministic() -> None:
    text = "أعلن البنتاغون إرسال 560 جنديا إلى العراق."
    a = detect_deployment("", text, extract_fields(text))
    b = detect_deployment("", text, extract_fields(text))
    assert alert_key(a) == alert_key(b)


def test_content_hash_ignores_spelling_and_punctuation_variants() -> None:
    assert content_hash("قال الرئيس الأمريكي، إن «القوات» ستصل.") == content_hash("قال الرئيس الامريكي , إن \"القوات\" ستصل")
