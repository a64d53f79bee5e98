"""Explicit mappings, and the full-cluster template variant checked against Elasticsearch's documented analysis set."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from akhbar import pipeline
from akhbar.config import CONFIG_DIR, Settings
from akhbar.index import KINDS, Store, load_full_analysis, template_body
from akhbar.samples import SAMPLES_DIR
from akhbar.urls import url_id

# Elasticsearch 8.19 reference, "Text analysis" (https://www.elastic.co/guide/en/elasticsearch/reference/8.19/analysis.html):
# the built-in analyzers (analysis-analyzers.html, analysis-lang-analyzer.html), tokenizers (analysis-tokenizers.html),
# token filters (analysis-tokenfilters.html, analysis-normalization-tokenfilter.html), the stemmer filter's languages
# (analysis-stemmer-tokenfilter.html) and the stop filter's predefined lists (analysis-stop-tokenfilter.html).
DOCUMENTED_ANALYZERS = {
    "standard", "simple", "whitespace", "stop", "keyword", "pattern", "fingerprint",
    "arabic", "armenian", "basque", "bengali", "brazilian", "bulgarian", "catalan", "cjk", "czech", "danish", "dutch",
    "english", "estonian", "finnish", "french", "galician", "german", "greek", "hindi", "hungarian", "indonesian", "irish",
    "italian", "latvian", "lithuanian", "norwegian", "persian", "portuguese", "romanian", "russian", "serbian", "sorani",
    "spanish", "swedish", "turkish", "thai",
}
DOCUMENTED_TOKENIZERS = {
    "standard", "letter", "lowercase", "whitespace", "uax_url_email", "classic", "thai", "ngram", "edge_ngram", "keyword",
    "pattern", "simple_pattern", "simple_pattern_split", "char_group", "path_hierarchy",
}
DOCUMENTED_TOKEN_FILTERS = {
    "apostrophe", "asciifolding", "cjk_bigram", "cjk_width", "classic", "common_grams", "condition", "decimal_digit",
    "delimited_payload", "dictionary_decompounder", "edge_ngram", "elision", "fingerprint", "flatten_graph", "hunspell",
    "hyphenation_decompounder", "keep_types", "keep", "keyword_marker", "keyword_repeat", "kstem", "length", "limit",
    "lowercase", "min_hash", "multiplexer", "ngram", "pattern_capture", "pattern_replace", "phonetic", "porter_stem",
    "predicate_token_filter", "remove_duplicates", "reverse", "shingle", "snowball", "stemmer", "stemmer_override", "stop",
    "synonym", "synonym_graph", "trim", "truncate", "unique", "uppercase", "word_delimiter", "word_delimiter_graph",
    # normalization token filters
    "arabic_normalization", "german_normalization", "hindi_normalization", "indic_normalization", "sorani_normalization",
    "persian_normalization", "scandinavian_normalization", "scandinavian_folding", "serbian_normalization",
}
DOCUMENTED_STEMMER_LANGUAGES = {"arabic", "armenian", "basque", "bengali", "english", "light_english", "french", "german", "persian", "russian", "sorani"}
DOCUMENTED_STOPWORD_LISTS = {"_none_", "_arabic_", "_english_", "_persian_", "_french_", "_german_", "_sorani_"}
CORE_ANALYZERS = {"standard", "simple", "whitespace", "stop", "keyword"}  # what the local node (no analysis-common) has


def fields(properties: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every field of a mapping by dotted path, sub-fields (title.keyword) included."""
    out: dict[str, dict[str, Any]] = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        out[path] = spec
        out.update(fields(spec.get("properties", {}), f"{path}."))
        out.update({f"{path}.{sub}": s for sub, s in spec.get("fields", {}).items()})
    return out


def analyzers_used(body: dict[str, Any]) -> set[str]:
    return {spec[key] for spec in fields(body["mappings"]["properties"]).values() for key in ("analyzer", "search_analyzer") if key in spec}


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_is_explicit_and_drift_fails(kind: str) -> None:
    body = template_body(kind)
    assert body["mappings"]["dynamic"] == "strict"
    for path, spec in fields(body["mappings"]["properties"]).items():
        assert "type" in spec or "properties" in spec, f"{kind}.{path} has neither a type nor properties"


@pytest.mark.parametrize("kind", KINDS)
def test_full_variant_has_the_same_fields_as_the_portable_one(kind: str) -> None:
    portable = fields(template_body(kind, "portable")["mappings"]["properties"])
    full = fields(template_body(kind, "full")["mappings"]["properties"])
    assert portable.keys() == full.keys()
    for path in portable:
        strip = lambda spec: {k: v for k, v in spec.items() if k not in ("analyzer", "search_analyzer", "fields", "properties")}  # noqa: E731
        assert strip(portable[path]) == strip(full[path]), path


@pytest.mark.parametrize("kind", KINDS)
def test_portable_variant_uses_only_what_the_local_node_has(kind: str) -> None:
    body = template_body(kind, "portable")
    assert "analysis" not in body["settings"]
    assert analyzers_used(body) <= CORE_ANALYZERS


def test_full_variant_names_only_documented_analysis_components() -> None:
    analysis = load_full_analysis()["settings"]["analysis"]
    custom_filters = analysis.get("filter", {})
    for name, spec in custom_filters.items():
        assert spec["type"] in DOCUMENTED_TOKEN_FILTERS, name
        if spec["type"] == "stemmer":
            assert spec["language"] in DOCUMENTED_STEMMER_LANGUAGES, name
        if spec["type"] == "stop" and isinstance(spec.get("stopwords"), str):
            assert spec["stopwords"] in DOCUMENTED_STOPWORD_LISTS, name
    for name, spec in analysis.get("analyzer", {}).items():
        assert spec["type"] == "custom" and spec["tokenizer"] in DOCUMENTED_TOKENIZERS, name
        for flt in spec["filter"]:
            assert flt in custom_filters or flt in DOCUMENTED_TOKEN_FILTERS, (name, flt)
    used = set()
    for kind in KINDS:
        body = template_body(kind, "full")
        defined = set(body["settings"].get("analysis", {}).get("analyzer", {}))
        for analyzer in analyzers_used(body):
            assert analyzer in defined or analyzer in DOCUMENTED_ANALYZERS, (kind, analyzer)
        used |= analyzers_used(body)
    assert "akhbar_arabic" in used


def test_full_variant_is_the_arabic_chain_the_issue_asks_for() -> None:
    analysis = load_full_analysis()["settings"]["analysis"]
    chain = analysis["analyzer"]["akhbar_arabic"]["filter"]
    resolved = [analysis["filter"].get(f, {"type": f}) for f in chain]
    assert {"type": "arabic_normalization"} in resolved and {"type": "decimal_digit"} in resolved
    assert {"type": "stemmer", "language": "arabic"} in resolved
    assert {"type": "stop", "stopwords": "_arabic_"} in resolved
    full_articles = fields(template_body("articles", "full")["mappings"]["properties"])
    assert all(full_articles[f]["analyzer"] == "akhbar_arabic" for f in ("title", "text", "description"))
    assert full_articles["text_search"]["analyzer"] == "whitespace"  # the project's own forms stay on both


def test_every_field_an_article_has_is_mapped() -> None:
    manifest_page = "wasat-1.html"
    html = (SAMPLES_DIR / "pages" / manifest_page).read_text(encoding="utf-8")
    url = f"http://127.0.0.1:8765/pages/{manifest_page}"
    page = {"id": url_id(url), "url": url, "canonical_url": url, "final_url": url, "html": html, "feed": "wasat", "outlet": "الوسط", "published": "2026-11-20T08:00:00+00:00"}
    settings = Settings.from_env()
    ctx = pipeline.make_context(settings, "mapping-check", datetime(2026, 11, 21, 12, tzinfo=UTC))
    doc, reject = pipeline.build_article(page, ctx, settings)
    assert reject is None and doc is not None
    mapped = fields(template_body("articles")["mappings"]["properties"])

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict) and not (path in mapped and mapped[path].get("type") == "geo_point"):
            for key, sub in value.items():
                walk(sub, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for item in value:
                walk(item, path)
        elif path and path != "id":
            assert path in mapped, f"article field {path} is not in config/index/articles.json"

    walk(doc, "")


def test_index_json_files_are_all_kinds() -> None:
    on_disk = {p.stem for p in (CONFIG_DIR / "index").glob("*.json")} - {"analysis-full"}
    assert on_disk == set(KINDS)
    assert set(load_full_analysis()["fields"]) <= set(KINDS)


def test_local_node_takes_every_portable_template(store: Store) -> None:
    for kind in KINDS:
        mapping = store.es.indices.get_mapping(index=store.alias(kind))
        (only,) = mapping.values()
        assert fields(only["mappings"]["properties"]).keys() == fields(template_body(kind)["mappings"]["properties"]).keys(), kind
        assert only["mappings"]["dynamic"] == "strict"
