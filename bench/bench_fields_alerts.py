"""Milliseconds per page for field extraction plus deployment detection (the extract stage's share).

Pages: the bundled Arabic sample pages (config/samples), extracted once with the pipeline's own
extractor (not timed), plus the three end-to-end test reports joined into a long article. Each page is
processed `--rounds` times after a warm-up (patterns compiled); the median and p95 per page are printed.

Usage: python bench/bench_fields_alerts.py [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import yaml

from akhbar.alerts import detect_deployment, load_rules
from akhbar.extract import extract_article, load_boilerplate
from akhbar.fields import extract_fields, load_gazetteer
from akhbar.samples import SAMPLES_DIR


def pages() -> list[tuple[str, str]]:
    """(title, text) of every Arabic sample page, extracted the way the pipeline does."""
    manifest = yaml.safe_load((SAMPLES_DIR / "manifest.yaml").read_text(encoding="utf-8"))
    out = []
    for entry in manifest["pages"]:
        if entry["lang"] != "ar":
            continue
        raw = (SAMPLES_DIR / "pages" / entry["file"]).read_bytes()
        html = raw.decode(entry.get("encoding", "utf-8")).replace("{{BASE}}", "http://127.0.0.1:8765")
        article = extract_article(html, f"http://127.0.0.1:8765/pages/{entry['file']}", rules=load_boilerplate())
        out.append((article.title, article.text))
    return out


def main() -> None:
    """Time fields + detection per page and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    gaz, rules = load_gazetteer(), load_rules()
    docs = pages()
    long_text = "\n".join(text for _, text in docs)
    docs.append(("مقال طويل", long_text))
    for title, text in docs:  # warm-up
        detect_deployment(title, text, extract_fields(text, title, gaz), rules, gaz)
    timings: list[float] = []
    for _ in range(args.rounds):
        for title, text in docs:
            start = time.perf_counter()
            fields = extract_fields(text, title, gaz)
            detect_deployment(title, text, fields, rules, gaz)
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    result = {
        "pages": len(docs),
        "rounds": args.rounds,
        "mean_chars_per_page": round(statistics.mean(len(t) for _, t in docs)),
        "median_ms_per_page": round(statistics.median(timings), 2),
        "p95_ms_per_page": round(timings[int(0.95 * (len(timings) - 1))], 2),
        "max_ms_per_page": round(timings[-1], 2),
        "longest_page_chars": max(len(t) for _, t in docs),
    }
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
