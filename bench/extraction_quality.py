"""Extraction quality on the golden set: the project against plain trafilatura, side by side.

    python bench/extraction_quality.py [--golden tests/golden] [--details]

Columns: plain `trafilatura.extract(include_comments=False, with_metadata=True)`; the project with its
fixed rules only («cold»: an outlet seen for the first time); the project with the lines learned from
the other pages of the same host («warm», leave-one-out: what the pipeline does once it has seen an
outlet). Each column runs in its own fresh process, warmed up on one page outside the set (plain
trafilatura's first date search loads every dateparser locale, 2-4 s once per process), and
extracts every page once, as the pipeline does: trafilatura and htmldate cache per document, so
repeating a page would time the cache. Times are wall-clock on a machine that may be shared.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from akhbar.extract import load_boilerplate  # noqa: E402
from akhbar.learned import LearnRules  # noqa: E402
from akhbar.quality import GoldenPage, PageScore, Result, Summary, learned_leave_one_out, load_golden, run_plain, run_project, score  # noqa: E402

RUNNERS = ("plain trafilatura", "akhbar (cold)", "akhbar (warm)")
WARM_UP = (
    '<html lang="ar"><head><meta charset="utf-8"><title>تجربة</title></head><body><article><h1>تجربة</h1>'
    "<p>نشر في 12 جويلية 2025 على الساعة 14:05</p>"
    + "<p>جملة تجريبية لتحميل البيانات قبل القياس، وهي لا تنتمي إلى المجموعة الذهبية ولا تدخل في النتائج.</p>" * 4
    + "</article></body></html>"
)


def _run(runner: str, page: GoldenPage, learned: frozenset[str]) -> Result:
    if runner == "plain trafilatura":
        return run_plain(page)
    return run_project(page, learned if runner == "akhbar (warm)" else frozenset())


def measure(runner: str, golden: Path, learned: dict[str, frozenset[str]]) -> list[tuple[str, PageScore, Result]]:
    """One column: every page extracted once, in a fresh process."""
    pages = load_golden(golden)
    warm = GoldenPage("warm-up", WARM_UP, "utf-8", {**pages[0].expected, "url": "https://warm-up.example/a.html"})
    _run(runner, warm, frozenset())
    out = []
    for page in pages:
        result = _run(runner, page, learned.get(page.name, frozenset()))
        out.append((page.name, score(page, result), result))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--golden", type=Path, default=ROOT / "tests" / "golden")
    parser.add_argument("--details", action="store_true", help="print every surviving boilerplate line, lost line and wrong field")
    args = parser.parse_args()
    pages = load_golden(args.golden)
    by_name = {p.name: p for p in pages}
    learned = learned_leave_one_out(pages, LearnRules(), load_boilerplate())
    columns = {}
    for runner in RUNNERS:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            columns[runner] = pool.submit(measure, runner, args.golden, learned).result()
    summaries = {name: Summary() for name in RUNNERS}
    per_template: dict[str, dict[str, list[int]]] = {name: {} for name in RUNNERS}
    details: list[str] = []
    for name, rows in columns.items():
        for page_name, s, result in rows:
            page = by_name[page_name]
            summaries[name].add(page, s)
            cell = per_template[name].setdefault(page.expected["template"], [0, 0, 0])
            cell[0] += len(s.boilerplate_surviving)
            cell[1] += len(s.content_lost)
            cell[2] += 1
            if args.details:
                details += [f"{name:18} {page_name:11} boilerplate  {line}" for line in s.boilerplate_surviving]
                details += [f"{name:18} {page_name:11} lost         {line[:70]}" for line in s.content_lost]
                details += [f"{name:18} {page_name:11} unlisted     {line[:70]}" for line in s.unlisted_lines]
                if not s.title_ok:
                    details.append(f"{name:18} {page_name:11} title        {result.title!r} != {page.expected['title']!r}")
                if not s.date_ok:
                    details.append(f"{name:18} {page_name:11} date         {result.published!r} != {page.expected['published']!r}")
                if not s.authors_ok:
                    details.append(f"{name:18} {page_name:11} authors      {result.authors!r} != {page.expected['authors']!r}")
    templates = sorted({p.expected["template"] for p in pages})
    encodings = sorted({p.encoding for p in pages})
    print(f"golden set: {len(pages)} pages, {len(templates)} templates ({', '.join(templates)}), encodings {', '.join(encodings)}")
    rows = [
        ("boilerplate lines surviving", lambda s: f"{s.boilerplate_surviving}"),
        ("pages with boilerplate left", lambda s: f"{s.pages_with_boilerplate}/{s.pages}"),
        ("other non-article lines", lambda s: f"{s.unlisted_lines}"),
        ("content lines lost", lambda s: f"{s.content_lost}/{s.content_total}"),
        ("content lines kept", lambda s: f"{100 * s.content_kept_share:.2f}%"),
        ("title right (pages stating one)", lambda s: f"{s.titles_right}/{s.titles_stated}"),
        ("date right (pages stating one)", lambda s: f"{s.dates_right}/{s.dates_stated}"),
        ("authors right (all pages)", lambda s: f"{s.authors_right}/{s.pages}"),
        ("ms per page (median)", lambda s: f"{statistics.median(s.ms):.1f}"),
        ("ms per page (mean)", lambda s: f"{statistics.mean(s.ms):.1f}"),
        ("ms per page (max)", lambda s: f"{max(s.ms):.1f}"),
    ]
    width = max(len(r[0]) for r in rows) + 22
    print(f"{'':{width}}  " + "  ".join(f"{n:>18}" for n in RUNNERS))
    for label, fmt in rows:
        print(f"{label:{width}}  " + "  ".join(f"{fmt(summaries[n]):>18}" for n in RUNNERS))
    print(f"{'per template: boilerplate left / lines lost':{width}}")
    for template in templates:
        cells = [per_template[n][template] for n in RUNNERS]
        print(f"{f'  {template} ({cells[0][2]} pages)':{width}}  " + "  ".join(f"{f'{c[0]} / {c[1]}':>18}" for c in cells))
    if details:
        print()
        print("\n".join(details))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
