#!/usr/bin/env python3
"""Build the Akhbar near-copy / story-grouping evaluation set.

Reads the hand-written articles next to this script

    base/bNN.txt        original articles (headline on line 1, paragraphs split by a blank line)
    events/eNN_x.txt    one event written independently by three "outlets" (x = a, b, c)
    followups/f_bNN.txt a later follow-up of base/bNN.txt that repeats its first paragraph

and writes

    pairs.jsonl    {"id", "a", "b", "label", "kind"}  label 1 = near-copy, 0 = not a copy
    stories.jsonl  {"doc", "story", "text"}           for story-grouping evaluation

Deterministic: stdlib only, one random.Random(42), files read in sorted order.
Run with Python 3.11:  python tests/data/nearcopy/build.py
"""

from __future__ import annotations

import collections
import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 42
POSITIVES_PER_DOC = 2          # near-copies made from every base article and event version
N_SAME_TEMPLATE = 20           # negative pairs: two base articles in the same outlet wrapper
N_SAME_TOPIC = 25              # negative pairs: two base articles on the same broad topic

# Broad topic of every base article (used for same_topic negatives and appended paragraphs).
TOPIC_RANGES = {
    "military": ["b01", "b02", "b03", "b04", "b05", "b06", "b07", "b45"],
    "elections": ["b08", "b09", "b10", "b11"],
    "economy": ["b12", "b13", "b14", "b15", "b16"],
    "oil": ["b17", "b18", "b19", "b20"],
    "health": ["b21", "b22", "b23", "b24"],
    "sport": ["b25", "b26", "b27", "b28"],
    "culture": ["b29", "b30", "b31", "b32"],
    "weather": ["b33", "b34", "b35", "b36"],
    "courts": ["b37", "b38", "b39", "b40"],
    "diplomacy": ["b41", "b42", "b43", "b44"],
}
EVENT_TOPICS = {
    "e01": "military", "e02": "military", "e03": "military", "e04": "military",
    "e05": "military", "e06": "military", "e07": "military", "e08": "oil",
    "e09": "weather", "e10": "economy", "e11": "elections", "e12": "health",
    "e13": "sport", "e14": "courts", "e15": "weather", "e16": "diplomacy",
}
# Base articles added to stories.jsonl as singleton stories. Chosen as confusers: each shares
# a place, actor or subject with at least one event (US troops in Iraq, oil, Oman weather, ...).
STORY_SINGLETONS = ["b01", "b05", "b06", "b12", "b17", "b22", "b25", "b34", "b44", "b45"]

# --------------------------------------------------------------------------------------------
# Pools used by the transformations
# --------------------------------------------------------------------------------------------

HEADLINE_PREFIXES = ["عاجل | ", "عاجل: ", "بالفيديو.. ", "شاهد: ", "تفاصيل: ", "محدث: ",
                     "خاص: ", "بالصور.. "]
HEADLINE_SUFFIXES = [" (تفاصيل)", " - صور", " .. تعرف على التفاصيل", " (فيديو)",
                     " - تحديث", " | التفاصيل الكاملة"]
HEADLINE_TRAILING_STOP = {"في", "من", "إلى", "الى", "على", "علي", "عن", "مع", "بعد", "قبل",
                          "و", "أن", "إن", "التي", "الذي", "بين", "خلال", "حول", "عند", "لدى"}

APPENDED = {
    "military": [
        "ويشهد العراق وسوريا منذ سنوات حضوراً عسكرياً أجنبياً واسعاً في إطار الحرب على تنظيم داعش.",
        "وتتزايد في المنطقة الدعوات إلى انسحاب القوات الأجنبية، في حين تتمسك الحكومات بالتعاون الأمني.",
        "ولم يتسن التحقق بشكل مستقل من أعداد القوات أو مواقع انتشارها.",
    ],
    "elections": [
        "ويتابع المراقبون الدوليون سير العملية الانتخابية عن كثب في ظل أجواء سياسية متوترة.",
        "وتعد المشاركة الانتخابية مؤشراً مهماً على ثقة المواطنين بالمؤسسات السياسية.",
    ],
    "economy": [
        "ويعاني اقتصاد المنطقة من ضغوط متزايدة بفعل ارتفاع أسعار الفائدة العالمية وتقلب أسعار الصرف.",
        "ويترقب المستثمرون مزيداً من البيانات الاقتصادية خلال الأسابيع المقبلة.",
    ],
    "oil": [
        "ويمثل النفط المصدر الرئيسي للإيرادات العامة في عدد كبير من الدول العربية.",
        "وتتأثر أسعار الخام بقرارات تحالف أوبك بلس وبمستوى الطلب في الصين والولايات المتحدة.",
    ],
    "health": [
        "وتحذر منظمة الصحة العالمية من تراجع التمويل المخصص للخدمات الصحية في مناطق النزاع.",
        "ويمكن للمواطنين الاستفسار عبر الخط الساخن المخصص لهذا الغرض على مدار الساعة.",
    ],
    "sport": [
        "ويحظى الفريق بقاعدة جماهيرية واسعة في المنطقة العربية.",
        "وتنقل المباريات مباشرة عبر عدد من القنوات الرياضية العربية.",
    ],
    "culture": [
        "ويعد هذا الحدث من أبرز المواعيد الثقافية في العالم العربي.",
        "ويسعى المنظمون إلى استقطاب جمهور أوسع من الشباب عبر برامج رقمية موازية.",
    ],
    "weather": [
        "ويربط خبراء المناخ تزايد الظواهر الجوية المتطرفة في المنطقة بالتغير المناخي.",
        "ودعت السلطات إلى متابعة النشرات الجوية الرسمية وعدم الالتفات إلى الشائعات.",
    ],
    "courts": [
        "ويحق للمتهمين الطعن على الأحكام وفق ما ينص عليه القانون.",
        "وتشهد المنطقة في السنوات الأخيرة ملاحقات قضائية متزايدة في قضايا الفساد والمال العام.",
    ],
    "diplomacy": [
        "وتشهد المنطقة حراكاً دبلوماسياً مكثفاً في ظل التطورات الإقليمية المتسارعة.",
        "ويأتي ذلك في إطار سلسلة من اللقاءات الثنائية ومتعددة الأطراف خلال الأشهر الأخيرة.",
    ],
}
APPENDED_GENERIC = [
    "ويأتي ذلك في وقت تشهد فيه المنطقة توترات متصاعدة على أكثر من صعيد.",
    "وسنوافيكم بالمزيد من التفاصيل فور ورودها.",
    "ولم يصدر حتى الآن تعليق رسمي من الأطراف الأخرى المعنية.",
]

SOURCE_LINES = ["المصدر: رويترز", "(أ ف ب)", "المصدر: وكالة الأنباء الفرنسية", "(رويترز)",
                "المصدر: وكالات", "المصدر: د ب أ", "(الأناضول)", "المصدر: وكالة الأنباء الألمانية",
                "(وام)", "المصدر: سبوتنيك", "المصدر: الجزيرة نت + وكالات"]
SOURCE_DATELINES = ["(رويترز) - ", "(أ ف ب) - ", "وكالات - ", "(الأناضول) - ", "(د ب أ) - "]

AR_MONTHS = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس",
             "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"]
SECTIONS = {
    "military": "أخبار عربية", "elections": "سياسة", "economy": "اقتصاد", "oil": "طاقة",
    "health": "صحة", "sport": "رياضة", "culture": "ثقافة وفنون", "weather": "منوعات",
    "courts": "حوادث وقضايا", "diplomacy": "سياسة",
}
# Each outlet: how its wrapper looks. {..} fields are filled per wrapper.
OUTLETS = [
    {"name": "شبكة الرافدين الإخبارية", "digits": "latin", "joiner": "\n",
     "top": ["الرئيسية » {section}", "آخر تحديث: {time} - {date}"],
     "bottom": ["اقرأ أيضاً: {rel1}", "اقرأ أيضاً: {rel2}", "شارك هذا الخبر",
                "تابعونا على تلغرام", "جميع الحقوق محفوظة © {year} شبكة الرافدين الإخبارية"]},
    {"name": "بوابة النيل", "digits": "arabic", "joiner": "\n\n",
     "top": ["{section}", "نشر في {date} الساعة {time}"],
     "bottom": ["اقرأ أيضاً", "{rel1}", "{rel2}", "{rel3}",
                "لمتابعة آخر الأخبار اشترك في نشرتنا البريدية", "© بوابة النيل {year}"]},
    {"name": "المغرب اليوم", "digits": "latin", "joiner": "\n",
     "top": ["المغرب اليوم - {section}", "{date}"],
     "bottom": ["شارك المقال: فيسبوك | تويتر | واتساب", "مواضيع ذات صلة:", "{rel1}",
                "{rel2}", "جميع الحقوق محفوظة لموقع المغرب اليوم"]},
    {"name": "الخليج برس", "digits": "latin", "joiner": "\n\n",
     "top": ["آخر تحديث: {date} | {time}", "حجم الخط: أ أ أ"],
     "bottom": ["تابعونا على تلغرام وواتساب لمتابعة الأخبار العاجلة", "اقرأ أيضاً: {rel1}",
                "الكلمات الدالة: {section}", "الخليج برس © {year}"]},
    {"name": "صدى الشام", "digits": "arabic", "joiner": "\n",
     "top": ["صدى الشام - خاص", "{date} - {time}"],
     "bottom": ["اقرأ أيضاً: {rel1}", "اقرأ أيضاً: {rel2}",
                "الآراء الواردة في التعليقات لا تعبر عن رأي الموقع",
                "جميع الحقوق محفوظة © صدى الشام {year}"]},
    {"name": "وكالة الأخبار المستقلة", "digits": "latin", "joiner": "\n\n",
     "top": ["الرئيسية / {section}", "بواسطة: المحرر - {date}"],
     "bottom": ["شارك هذا الخبر", "أضف تعليقاً", "الأكثر قراءة: {rel1}",
                "الأكثر قراءة: {rel2}", "© {year} وكالة الأخبار المستقلة. جميع الحقوق محفوظة"]},
    {"name": "اليمن الآن", "digits": "latin", "joiner": "\n",
     "top": ["{section} | اليمن الآن", "آخر تحديث: {time}"],
     "bottom": ["تابعونا على تلغرام", "اقرأ أيضاً: {rel1}", "جميع الحقوق محفوظة لـ اليمن الآن"]},
    {"name": "نبض تونس", "digits": "latin", "joiner": "\n\n",
     "top": ["نبض تونس", "{date}"],
     "bottom": ["اقرأ أيضاً: {rel1}", "اقرأ أيضاً: {rel2}", "اقرأ أيضاً: {rel3}",
                "تابعوا صفحتنا على فيسبوك", "جميع الحقوق محفوظة {year}"]},
]

# --------------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------------

WORD_RE = re.compile("[\u0621-\u063A\u0640-\u0655\u0670]+")
DIACRITICS_RE = re.compile("[\u064B-\u0652\u0670]")
FATHA, DAMMA, KASRA, SUKUN, SHADDA = "\u064E", "\u064F", "\u0650", "\u0652", "\u0651"
TATWEEL = "\u0640"
# Letters that do not join to the following letter: a tatweel may not follow them.
NON_JOINING = set("اأإآدذرزوؤءةى")
AR_LETTER = set(chr(c) for c in range(0x0621, 0x064B)) - {TATWEEL}
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def read_doc(path: Path) -> dict:
    text = path.read_text(encoding="utf-8").strip()
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    return {"name": path.stem, "head": blocks[0], "paras": blocks[1:]}


def render(doc: dict) -> str:
    parts = []
    if doc.get("top"):
        parts.append(doc["top"])
    parts.append(doc["head"])
    parts.extend(doc["paras"])
    if doc.get("bottom"):
        parts.append(doc["bottom"])
    return "\n\n".join(parts)


def copy_doc(doc: dict) -> dict:
    return {"name": doc["name"], "head": doc["head"], "paras": list(doc["paras"]),
            "top": doc.get("top", ""), "bottom": doc.get("bottom", "")}


def map_words(text: str, fn) -> str:
    return WORD_RE.sub(lambda m: fn(m.group(0)), text)


def map_body(doc: dict, fn) -> None:
    """Apply a str->str function to the headline and every paragraph."""
    doc["head"] = fn(doc["head"])
    doc["paras"] = [fn(p) for p in doc["paras"]]


# --------------------------------------------------------------------------------------------
# Character-level edits (applied to headline + paragraphs)
# --------------------------------------------------------------------------------------------

def spelling(doc: dict, rng: random.Random) -> None:
    """One to three orthographic habits of a copying outlet."""

    def amriki(t: str) -> str:                       # أمريكي <-> أميركي
        if "أمريك" in t or "امريك" in t:
            return t.replace("أمريك", "أميرك").replace("امريك", "اميرك")
        return t.replace("أميرك", "أمريك").replace("اميرك", "امريك")

    def almania(t: str) -> str:                      # ألمانيا <-> المانيا
        if "ألمان" in t:
            return t.replace("ألمان", "المان")
        return re.sub(r"(?<![\u0621-\u064A])المانيا", "ألمانيا", t)

    frac_hamza = rng.choice([1.0, 1.0, 0.6, 0.3])

    def hamza(t: str) -> str:                        # أ/إ -> ا (word initial, also after ال/و/ف/ب)
        def w(word: str) -> str:
            m = re.match(r"^(ال|وال|و|ف|ب|بال|لل)?([أإ])", word)
            if m and rng.random() < frac_hamza:
                return word[: m.start(2)] + "ا" + word[m.end(2):]
            return word
        return map_words(t, w)

    direction_ya = rng.choice(["ى>ي", "ي>ى"])
    frac_ya = rng.choice([1.0, 0.7])

    def ya(t: str) -> str:                           # final ى <-> ي
        src, dst = direction_ya.split(">")

        def w(word: str) -> str:
            base = DIACRITICS_RE.sub("", word)
            if len(base) >= 2 and base.endswith(src) and rng.random() < frac_ya:
                i = word.rfind(src)
                return word[:i] + dst + word[i + 1:]
            return word
        return map_words(t, w)

    frac_ta = rng.choice([0.2, 0.35, 0.5])

    def ta(t: str) -> str:                           # final ة -> ه, occasionally
        def w(word: str) -> str:
            if word.endswith("ة") and rng.random() < frac_ta:
                return word[:-1] + "ه"
            return word
        return map_words(t, w)

    ops = [amriki, almania, hamza, ya, ta]
    weights = [3, 2, 3, 3, 1]
    body = render({"head": doc["head"], "paras": doc["paras"]})
    applicable = [(o, w) for o, w in zip(ops, weights) if o(body) != body]
    if not applicable:
        return
    k = min(len(applicable), rng.choice([1, 1, 2, 3]))
    chosen = []
    pool = list(applicable)
    for _ in range(k):
        total = sum(w for _, w in pool)
        r = rng.uniform(0, total)
        acc = 0.0
        for i, (o, w) in enumerate(pool):
            acc += w
            if r <= acc:
                chosen.append(o)
                pool.pop(i)
                break
    for op in chosen:
        map_body(doc, op)


def punctuation(doc: dict, rng: random.Random) -> None:
    """Arabic comma/semicolon/question mark <-> Latin ones."""
    body = render({"head": doc["head"], "paras": doc["paras"]})
    if any(c in body for c in "،؛؟"):
        table = {"،": ",", "؛": ";", "؟": "?"}
    else:
        table = {",": "،", ";": "؛", "?": "؟"}
    frac = rng.choice([1.0, 1.0, 0.5])

    def fn(t: str) -> str:
        return "".join(table[c] if c in table and rng.random() < frac else c for c in t)
    map_body(doc, fn)


def quotes(doc: dict, rng: random.Random) -> None:
    """«...» <-> "..." or “...”."""
    style = rng.choice(['""', "“”"])

    def fn(t: str) -> str:
        if "«" in t or "»" in t:
            return t.replace("«", style[0]).replace("»", style[1])
        t = re.sub(r'"([^"\n]*)"', r"«\1»", t)
        return t.replace("“", "«").replace("”", "»")
    map_body(doc, fn)


def diacritics_add(doc: dict, rng: random.Random) -> None:
    """Vocalise ~5% of the words (at least two)."""
    body_words = len(WORD_RE.findall(render({"head": doc["head"], "paras": doc["paras"]})))
    rate = max(0.05, 2.0 / max(body_words, 1))
    marks = [FATHA, DAMMA, KASRA, SUKUN, SHADDA + FATHA, FATHA, KASRA]

    # A long vowel after a consonant fixes the short vowel it carries.
    before_long = {"ا": [FATHA, SHADDA + FATHA], "ى": [FATHA], "ي": [KASRA, SHADDA + KASRA],
                   "و": [DAMMA, SHADDA + DAMMA]}

    def w(word: str) -> str:
        if len(word) < 3 or rng.random() >= rate or DIACRITICS_RE.search(word):
            return word
        start = 2 if word.startswith("ال") else 0       # leave the article bare
        for prefix in ("وال", "بال", "فال", "كال", "لل"):
            if word.startswith(prefix):
                start = len(prefix)
        positions = [i for i in range(start, len(word) - 1)
                     if word[i] in AR_LETTER and word[i] not in "اآىةء"]
        if not positions:
            return word
        out = list(word)
        for i in sorted(rng.sample(positions, min(len(positions), rng.choice([1, 1, 2]))),
                        reverse=True):
            nxt = word[i + 1]
            out.insert(i + 1, rng.choice(before_long.get(nxt, marks)))
        return "".join(out)
    map_body(doc, lambda t: map_words(t, w))


def diacritics_strip(doc: dict, rng: random.Random) -> None:
    map_body(doc, lambda t: DIACRITICS_RE.sub("", t))


def tatweel(doc: dict, rng: random.Random) -> None:
    """Stretch a few words with kashida (ـ); headlines are stretched more often."""
    n_target = rng.randint(2, 5)
    slots = [("head", None)] + [("para", i) for i in range(len(doc["paras"]))]
    for _ in range(n_target):
        where, idx = slots[0] if rng.random() < 0.35 else rng.choice(slots)
        text = doc["head"] if where == "head" else doc["paras"][idx]
        words = [m for m in WORD_RE.finditer(text) if len(m.group(0)) >= 4]
        if not words:
            continue
        m = rng.choice(words)
        word = m.group(0)
        cands = [i for i in range(len(word) - 1)
                 if word[i] in AR_LETTER and word[i] not in NON_JOINING
                 and word[i + 1] in AR_LETTER and word[i + 1] != "ء"
                 and not (word[i] == "ل" and word[i + 1] in "اأإآ")]   # keep lam-alef
        if not cands:
            continue
        i = rng.choice(cands)
        new = word[: i + 1] + TATWEEL * rng.choice([1, 1, 2, 3]) + word[i + 1:]
        text = text[: m.start()] + new + text[m.end():]
        if where == "head":
            doc["head"] = text
        else:
            doc["paras"][idx] = text


# --------------------------------------------------------------------------------------------
# Structural edits
# --------------------------------------------------------------------------------------------

def lead_headline(lead: str, rng: random.Random) -> str:
    """A headline made from the lead sentence, as many copying sites do."""
    segs = [s.strip() for s in lead.split("،")]
    kept = [segs[0]] + [s for s in segs[1:] if len(s.split()) > 3]
    words = " ".join(kept).split()
    n = rng.randint(8, 12)
    words = words[:n]
    while words and (words[-1] in HEADLINE_TRAILING_STOP or len(words[-1]) <= 1):
        words.pop()
    return " ".join(words).rstrip("،,.:؛;")


def headline(doc: dict, rng: random.Random) -> None:
    r = rng.random()
    if r < 0.45:
        new = lead_headline(doc["paras"][0], rng)
        if rng.random() < 0.3:
            new = rng.choice(HEADLINE_PREFIXES) + new
    elif r < 0.75:
        new = rng.choice(HEADLINE_PREFIXES) + doc["head"]
    else:
        new = doc["head"] + rng.choice(HEADLINE_SUFFIXES)
    doc["head"] = new


def drop_paragraph(doc: dict, rng: random.Random) -> None:
    if len(doc["paras"]) < 3:
        return
    i = rng.randint(1, len(doc["paras"]) - 2)
    del doc["paras"][i]


def truncate(doc: dict, rng: random.Random) -> None:
    n = len(doc["paras"])
    lo = -(-6 * n // 10)                      # ceil(0.6 n)
    hi = max(lo, min(n - 1, (8 * n) // 10))   # floor(0.8 n), at most n - 1
    keep = min(max(round(n * rng.uniform(0.6, 0.8)), lo), hi)
    doc["paras"] = doc["paras"][:keep]


def append_paragraph(doc: dict, rng: random.Random) -> None:
    pool = APPENDED.get(doc["topic"], []) + APPENDED_GENERIC
    doc["paras"].append(rng.choice(pool))


# --------------------------------------------------------------------------------------------
# Wrappers: source lines and outlet boilerplate
# --------------------------------------------------------------------------------------------

def add_source(doc: dict, rng: random.Random, avoid: str | None = None) -> str:
    """Add a source line (end) or a dateline (start of lead). Returns what was used."""
    if rng.random() < 0.7:
        choices = [s for s in SOURCE_LINES if s != avoid]
        s = rng.choice(choices)
        doc["paras"].append(s)
    else:
        choices = [s for s in SOURCE_DATELINES if s != avoid]
        s = rng.choice(choices)
        doc["paras"][0] = s + doc["paras"][0]
    return s


def make_wrapper(rng: random.Random, outlet: dict, topic: str, related: list[str]) -> tuple[str, str]:
    day, month, year = rng.randint(1, 28), rng.choice(AR_MONTHS), rng.choice([2023, 2024])
    hh, mm = rng.randint(0, 23), rng.randint(0, 59)
    date = f"{day} {month} {year}"
    time = f"{hh:02d}:{mm:02d}"
    yr = str(year)
    if outlet["digits"] == "arabic":
        date, time, yr = (date.translate(ARABIC_DIGITS), time.translate(ARABIC_DIGITS),
                          yr.translate(ARABIC_DIGITS))
    rel = rng.sample(related, 3)
    fields = {"section": SECTIONS[topic], "date": date, "time": time, "year": yr,
              "rel1": rel[0], "rel2": rel[1], "rel3": rel[2]}
    top = outlet["joiner"].join(line.format(**fields) for line in outlet["top"])
    bottom = outlet["joiner"].join(line.format(**fields) for line in outlet["bottom"])
    return top, bottom


# --------------------------------------------------------------------------------------------
# Pair construction
# --------------------------------------------------------------------------------------------

CHAR_EDITS = {"spelling": spelling, "punctuation": punctuation, "quotes": quotes,
              "diacritics_add": diacritics_add, "diacritics_strip": diacritics_strip,
              "tatweel": tatweel}
STRUCT_EDITS = {"headline": headline, "drop_paragraph": drop_paragraph,
                "truncate": truncate, "append_paragraph": append_paragraph}
WRAP_EDITS = ["source_line", "boilerplate"]
# Order in which selected edits are applied (and named in `kind`).
EDIT_ORDER = ["headline", "drop_paragraph", "truncate", "append_paragraph",
              "spelling", "punctuation", "quotes", "diacritics_add", "diacritics_strip",
              "tatweel", "source_line", "boilerplate"]
EDIT_WEIGHTS = {"spelling": 3, "punctuation": 2, "quotes": 1, "diacritics_add": 1,
                "diacritics_strip": 1, "tatweel": 1, "headline": 2, "drop_paragraph": 2,
                "truncate": 2, "append_paragraph": 2, "source_line": 2, "boilerplate": 3}
EXCLUSIVE = [{"drop_paragraph", "truncate"}, {"diacritics_add", "diacritics_strip"}]


def applicable_edits(doc: dict) -> list[str]:
    body = render({"head": doc["head"], "paras": doc["paras"]})
    out = []
    for e in EDIT_ORDER:
        if e == "quotes" and not any(c in body for c in '«»"“”'):
            continue
        if e == "diacritics_strip" and not DIACRITICS_RE.search(body):
            continue
        if e == "drop_paragraph" and len(doc["paras"]) < 3:
            continue
        if e == "truncate" and len(doc["paras"]) < 3:
            continue
        out.append(e)
    return out


def pick_edits(rng: random.Random, avail: list[str]) -> list[str]:
    k = rng.choice([1, 2, 2, 3, 3])
    chosen: list[str] = []
    pool = list(avail)
    while pool and len(chosen) < k:
        total = sum(EDIT_WEIGHTS[e] for e in pool)
        r = rng.uniform(0, total)
        acc = 0.0
        for e in pool:
            acc += EDIT_WEIGHTS[e]
            if r <= acc:
                break
        chosen.append(e)
        pool.remove(e)
        for group in EXCLUSIVE:
            if e in group:
                pool = [p for p in pool if p not in group]
    return [e for e in EDIT_ORDER if e in chosen]


def make_positive(doc: dict, rng: random.Random, related: list[str]) -> tuple[str, str, str]:
    """Return (a, b, kind): a is the original (possibly with its own source line/boilerplate)."""
    for _attempt in range(20):
        edits = pick_edits(rng, applicable_edits(doc))
        a_doc, b_doc = copy_doc(doc), copy_doc(doc)
        a_doc["topic"] = b_doc["topic"] = doc["topic"]
        applied = []
        for e in edits:
            before = render(b_doc)
            if e in STRUCT_EDITS:
                STRUCT_EDITS[e](b_doc, rng)
            elif e in CHAR_EDITS:
                CHAR_EDITS[e](b_doc, rng)
            elif e == "source_line":
                used = None
                if rng.random() < 0.5:          # A carries a different source line
                    used = add_source(a_doc, rng)
                add_source(b_doc, rng, avoid=used)
            elif e == "boilerplate":
                outlets = rng.sample(OUTLETS, 2)
                if rng.random() < 0.5:          # A sits in another outlet's boilerplate
                    a_doc["top"], a_doc["bottom"] = make_wrapper(rng, outlets[0], doc["topic"], related)
                b_doc["top"], b_doc["bottom"] = make_wrapper(rng, outlets[1], doc["topic"], related)
            if render(b_doc) != before or e in WRAP_EDITS:
                applied.append(e)
        a, b = render(a_doc), render(b_doc)
        if applied and a != b:
            return a, b, "+".join(applied)
    raise RuntimeError(f"could not make a positive from {doc['name']}")


def maybe_swap(rng: random.Random, a: str, b: str) -> tuple[str, str]:
    return (b, a) if rng.random() < 0.5 else (a, b)


def main() -> int:
    rng = random.Random(SEED)
    topic_of = {b: t for t, names in TOPIC_RANGES.items() for b in names}

    base = {p.stem: read_doc(p) for p in sorted((HERE / "base").glob("b*.txt"))}
    events = {p.stem: read_doc(p) for p in sorted((HERE / "events").glob("e*_*.txt"))}
    follow = {p.stem: read_doc(p) for p in sorted((HERE / "followups").glob("f_b*.txt"))}
    for name, d in base.items():
        if name not in topic_of:
            raise SystemExit(f"base/{name}.txt has no topic in TOPIC_RANGES")
        d["topic"] = topic_of[name]
    for name, d in events.items():
        d["topic"] = EVENT_TOPICS[name.split("_")[0]]
    # Headlines of all articles: the "related links" an outlet prints under an article.
    all_heads = [d["head"] for d in base.values()] + [d["head"] for d in events.values()]

    pairs: list[dict] = []

    def add(a: str, b: str, label: int, kind: str) -> None:
        pairs.append({"a": a, "b": b, "label": label, "kind": kind})

    # ---- positives: near-copies of every base article and every event version
    for name, d in list(base.items()) + list(events.items()):
        related = [h for h in all_heads if h != d["head"]]
        seen = set()
        for _ in range(POSITIVES_PER_DOC):
            for _retry in range(10):
                a, b, kind = make_positive(d, rng, related)
                if (a, b) not in seen:
                    break
            seen.add((a, b))
            add(*maybe_swap(rng, a, b), 1, kind)

    # ---- negatives (a): same event, independent wording
    by_event = collections.defaultdict(list)
    for name in sorted(events):
        by_event[name.split("_")[0]].append(name)
    for ev, names in sorted(by_event.items()):
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                a, b = render(events[names[i]]), render(events[names[j]])
                add(*maybe_swap(rng, a, b), 0, "same_event")

    # ---- negatives (c): an article and its later follow-up (shared verbatim first paragraph)
    for fname, f in sorted(follow.items()):
        bname = fname[len("f_"):]
        b = base[bname]
        add(render(b), render(f), 0, "followup")
        # the same follow-up as published on a site, with that site's boilerplate
        fw = copy_doc(f)
        related = [h for h in all_heads if h not in (b["head"], f["head"])]
        fw["top"], fw["bottom"] = make_wrapper(rng, rng.choice(OUTLETS), b["topic"], related)
        add(*maybe_swap(rng, render(b), render(fw)), 0, "followup")

    # ---- negatives (b): same outlet template around two different stories
    names = sorted(base)
    used_pairs = set()
    while sum(1 for p in pairs if p["kind"] == "same_template") < N_SAME_TEMPLATE:
        x, y = sorted(rng.sample(names, 2))
        if (x, y) in used_pairs:
            continue
        used_pairs.add((x, y))
        outlet = rng.choice(OUTLETS)
        related = [h for h in all_heads if h not in (base[x]["head"], base[y]["head"])]
        top, bottom = make_wrapper(rng, outlet, base[x]["topic"], related)
        dx, dy = copy_doc(base[x]), copy_doc(base[y])
        dx["top"] = dy["top"] = top
        dx["bottom"] = dy["bottom"] = bottom
        add(*maybe_swap(rng, render(dx), render(dy)), 0, "same_template")

    # ---- negatives (d): different stories on the same broad topic
    cands = [(x, y) for t, ns in sorted(TOPIC_RANGES.items())
             for i, x in enumerate(ns) for y in ns[i + 1:] if x in base and y in base]
    cands = [c for c in cands if c not in used_pairs]
    for x, y in rng.sample(cands, N_SAME_TOPIC):
        add(*maybe_swap(rng, render(base[x]), render(base[y])), 0, "same_topic")

    # ---- checks, ids, output
    for p in pairs:
        if p["a"] == p["b"]:
            raise SystemExit(f"identical texts in a {p['kind']} pair")
    rng.shuffle(pairs)
    out = HERE / "pairs.jsonl"
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        for i, p in enumerate(pairs, 1):
            rec = {"id": f"p{i:04d}", "a": p["a"], "b": p["b"], "label": p["label"],
                   "kind": p["kind"]}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

    stories = []
    for name in sorted(events):
        stories.append({"doc": name, "story": name.split("_")[0], "text": render(events[name])})
    for name in STORY_SINGLETONS:
        stories.append({"doc": name, "story": name, "text": render(base[name])})
    with (HERE / "stories.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        for s in stories:
            fh.write(json.dumps(s, ensure_ascii=False) + "\n")

    # ---- report
    by_label = collections.Counter(p["label"] for p in pairs)
    print(f"pairs.jsonl: {len(pairs)} pairs  (label 1: {by_label[1]}, label 0: {by_label[0]})")
    neg = collections.Counter(p["kind"] for p in pairs if p["label"] == 0)
    print("negatives by kind:")
    for k, v in sorted(neg.items()):
        print(f"  {k:<16} {v}")
    pos_combo = collections.Counter(p["kind"] for p in pairs if p["label"] == 1)
    pos_edit = collections.Counter(e for p in pairs if p["label"] == 1 for e in p["kind"].split("+"))
    print("positives by single edit (a pair counts once per edit it contains):")
    for k in EDIT_ORDER:
        print(f"  {k:<18} {pos_edit[k]}")
    print(f"positives: {len(pos_combo)} distinct edit combinations; by number of edits: "
          + ", ".join(f"{n}: {c}" for n, c in sorted(collections.Counter(
              len(p['kind'].split('+')) for p in pairs if p['label'] == 1).items())))
    print("positives by kind (edit combination):")
    for k, v in sorted(pos_combo.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {k:<50} {v}")
    print(f"stories.jsonl: {len(stories)} documents in "
          f"{len(set(s['story'] for s in stories))} stories")
    return 0


if __name__ == "__main__":
    sys.exit(main())
