"""Extraction quality on the golden set: the project against plain trafilatura, side by side.

    python bench/extraction_quality.py [--golden tests/golden] [--repeat 3] [--details]

Columns: plain `trafilatura.extract(include_comments=False, with_metadata=True)`; the project with its
fixed rules only (a host seen for the first time, «cold»); the project with the lines learned from the
other pages of the same host («warm», leave-one-out: what the pipeline does once it has seen a host).
Timing is the median over --repeat runs per page, single process; the machine may be shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from akhbar.extract import load_boilerplate  # noqa: E402
from akhbar.learned import LearnRules  # noqa: E402
from akhbar.quality import Summary, learned_leave_one_out, load_golden, run_plain, run_project, score  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--golden", type=Path, default=ROOT / "tests" / "golden")
    parser.add_argument("--repeat", type=int, default=3, help="runs per page for the timing (median)")
    parser.add_argument("--details", action="store_true", help="print every surviving boilerplate line and lost content line")
    args = parser.parse_args()
    pages = load_golden(args.golden)
    boiler = load_boilerplate()
    learned = learned_leave_one_out(pages, LearnRules(), boiler)
    runners = {
        "plain trafilatura": lambda p: run_plain(p),
        "akhbar (cold)": lambda p: run_project(p, frozenset(), boiler),
        "akhbar (warm)": lambda p: run_project(p, learned[p.name], boiler),
    }
    for run in runners.values():  # first calls load trafilatura's and langdetect's data: not part of a page's cost
        run(pages[0])
    summaries = {name: Summary() for name in runners}
    details: list[str] = []
    for page in pages:
        for name, run in runners.items():
            results = [run(page) for _ in range(max(args.repeat, 1))]
            result = results[0]
            result.ms = statistics.median(r.ms for r in results)
            s = score(page, result)
            summaries[name].add(page, s)
            if args.details:
                for line in s.boilerplate_surviving:
                    details.append(f"{name:18} {page.name:11} boilerplate  {line}")
                for line in s.content_lost:
                    details.append(f"{name:18} {page.name:11} lost         {line[:70]}")
                for line in s.unlisted_lines:
                    details.append(f"{name:18} {page.name:11} unlisted     {line[:70]}")
                if not s.title_ok:
                    details.append(f"{name:18} {page.name:11} title        {result.title!r} != {page.expected['title']!r}")
                if not s.date_ok:
                    details.append(f"{name:18} {page.name:11} date         {result.published!r} != {page.expected['published']!r}")
                if not s.authors_ok:
                    details.append(f"{name:18} {page.name:11} authors      {result.authors!r} != {page.expected['authors']!r}")
    templates = sorted({p.expected["template"] for p in pages})
    encodings = sorted({p.encoding for p in pages})
    print(f"golden set: {len(pages)} pages, {len(templates)} templates ({', '.join(templates)}), encodings {', '.join(encodings)}")
    names = list(runners)
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
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  " + "  ".join(f"{n:>18}" for n in names))
    for label, fmt in rows:
        print(f"{label:{width}}  " + "  ".join(f"{fmt(summaries[n]):>18}" for n in names))
    if details:
        print()
        print("\n".join(details))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
