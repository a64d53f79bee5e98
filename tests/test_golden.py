"""The golden set pins the extraction goals: no boilerplate, every content line, title and date right.

The project is measured as the pipeline runs once it has seen an outlet: fixed rules plus the lines
learned from the other pages of the same host (leave-one-out). bench/extraction_quality.py prints the
same numbers side by side with plain trafilatura.
"""

from __future__ import annotations

import filecmp
import importlib.util
import sys
from datetime import datetime
from pathlib import Path

import pytest

from akhbar.extract import extract_article, line_key, load_boilerplate
from akhbar.language import detect
from akhbar.learned import LearnRules
from akhbar.quality import Summary, learned_leave_one_out, load_golden, run_project, score
from conftest import GOLDEN

PAGES = load_golden(GOLDEN)
BY_NAME = {p.name: p for p in PAGES}


@pytest.fixture(scope="module")
def learned() -> dict[str, frozenset[str]]:
    return learned_leave_one_out(PAGES, LearnRules(), load_boilerplate())


def test_golden_set_shape() -> None:
    assert len(PAGES) >= 30
    assert len({p.expected["template"] for p in PAGES}) >= 6
    assert sum(p.encoding == "windows-1256" for p in PAGES) >= 5
    assert all("\ufffd" not in p.html for p in PAGES)
    for page in PAGES:
        declared = "windows-1256" if page.expected["encoding"] == "windows-1256" else "utf-8"
        assert page.encoding == declared, page.name


def test_golden_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("golden_build", GOLDEN / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["golden_build"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop("golden_build", None)
    module.main(tmp_path)
    for sub in ("pages", "expected", "foreign"):
        cmp = filecmp.dircmp(tmp_path / sub, GOLDEN / sub)
        assert not (cmp.left_only or cmp.right_only or cmp.diff_files), (sub, cmp.left_only, cmp.right_only, cmp.diff_files)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_page_clean_text(name: str, learned: dict[str, frozenset[str]]) -> None:
    page = BY_NAME[name]
    s = score(page, run_project(page, learned[name]))
    assert s.boilerplate_surviving == [], s.boilerplate_surviving
    assert s.unlisted_lines == []
    assert s.content_lost == []


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_page_metadata(name: str, learned: dict[str, frozenset[str]]) -> None:
    page = BY_NAME[name]
    exp = page.expected
    article = extract_article(page.html, page.url, reference=page.reference, learned=learned[name])
    assert article.title == exp["title"]
    if exp["published"]:
        assert article.published is not None
        assert article.published[:16] == exp["published"][:16]
        if exp["published_has_offset"]:
            assert datetime.fromisoformat(article.published) == datetime.fromisoformat(exp["published"])
    else:
        assert article.published is None, "a missing or future date is left empty"
    if exp["modified"]:
        assert article.modified and article.modified[:16] == exp["modified"][:16]
    else:
        assert article.modified is None
    assert article.authors == exp["authors"]
    assert article.sitename == exp["sitename"]
    assert article.canonical_url == exp["canonical_url"]
    assert article.image == exp["image"]
    assert article.categories == exp["categories"]
    assert article.tags == exp["tags"]
    assert article.description == exp["description"]
    assert article.declared_language == exp["language_declared"]
    assert detect(article.text).lang == "ar"


def test_goals_over_the_whole_set(learned: dict[str, frozenset[str]]) -> None:
    total = Summary()
    for page in PAGES:
        total.add(page, score(page, run_project(page, learned[page.name])))
    assert total.boilerplate_surviving == 0
    assert total.content_kept_share >= 0.995
    assert total.titles_right == total.titles_stated == sum(bool(p.expected["title"]) for p in PAGES)
    assert total.dates_right == total.dates_stated


def test_fixed_rules_leave_only_what_learning_is_for(learned: dict[str, frozenset[str]]) -> None:
    """Without learning (an outlet seen for the first time), only the outlet's own recurring lines survive."""
    for page in PAGES:
        s = score(page, run_project(page, frozenset()))
        assert s.content_lost == []
        assert set(s.boilerplate_surviving) <= learned[page.name], (page.name, s.boilerplate_surviving)


def test_learning_never_takes_content(learned: dict[str, frozenset[str]]) -> None:
    for page in PAGES:
        content = {line_key(c) for c in page.expected["content"]}
        assert not (learned[page.name] & content), page.name
