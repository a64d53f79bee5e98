"""Kibana saved objects: they parse, their references resolve, every field they use is in the mapping; the import call.

No Kibana runs here: the import is checked against a real loopback HTTP server standing in for Kibana's API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from akhbar.index import KINDS, template_body
from akhbar.kibana import KIBANA_DIR, KibanaError, import_objects, load_objects

ROOT = Path(__file__).resolve().parents[1]
KQL_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*(?::|<=|>=|<|>)")
SEARCH_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"


def mapped_fields(kind: str) -> set[str]:
    """Every field path of a kind, sub-fields included (what Kibana lists for its data view)."""
    out: set[str] = set()

    def walk(props: dict[str, Any], prefix: str) -> None:
        for name, spec in props.items():
            out.add(prefix + name)
            walk(spec.get("properties", {}), f"{prefix}{name}.")
            out.update(f"{prefix}{name}.{sub}" for sub in spec.get("fields", {}))

    walk(template_body(kind)["mappings"]["properties"], "")
    return out


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return load_objects()


def by_id(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["type"], o["id"]): o for o in objects}


def kind_of_view(view: dict[str, Any]) -> str:
    title = view["attributes"]["title"]
    kind = title.removeprefix("akhbar-")
    assert kind in KINDS, f"data view {view['id']} points at {title}, not a kind's alias"
    return kind


def fields_used(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """(reference name or '' for the object's own data view, field) pairs an object uses."""
    attrs = obj["attributes"]
    used: list[tuple[str, str]] = []
    if obj["type"] == "index-pattern":
        used += [("", attrs["timeFieldName"])] + [("", f) for f in json.loads(attrs["fieldAttrs"])]
    elif obj["type"] == "search":
        source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
        used += [(SEARCH_REF, f) for f in attrs["columns"]] + [(SEARCH_REF, f) for f, _ in attrs["sort"]]
        used += [(SEARCH_REF, f) for f in KQL_FIELD.findall(source["query"]["query"])]
    elif obj["type"] == "lens":
        for layer_id, layer in attrs["state"]["datasourceStates"]["formBased"]["layers"].items():
            ref = f"indexpattern-datasource-layer-{layer_id}"
            for column in layer["columns"].values():
                if column.get("sourceField") and column["sourceField"] != "___records___":
                    used.append((ref, column["sourceField"]))
                if column.get("params", {}).get("sortField"):
                    used.append((ref, column["params"]["sortField"]))
            used += [(ref, f) for f in KQL_FIELD.findall(attrs["state"]["query"]["query"])]
    elif obj["type"] == "map":
        for layer in json.loads(attrs["layerListJSON"]):
            src = layer["sourceDescriptor"]
            if "indexPatternRefName" in src:
                ref = src["indexPatternRefName"]
                used += [(ref, src["geoField"])] + [(ref, f) for f in src.get("tooltipProperties", [])]
                used += [(ref, src["sortField"])] if src.get("sortField") else []
    return used


def test_every_line_parses_with_unique_ids(objects: list[dict[str, Any]]) -> None:
    lines = [line for line in (KIBANA_DIR / "akhbar.ndjson").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) == len(objects) >= 12
    assert len(by_id(objects)) == len(objects)
    for obj in objects:
        assert {"id", "type", "attributes", "references"} <= set(obj), obj.get("id")
        for key in ("panelsJSON", "optionsJSON", "layerListJSON", "mapStateJSON", "uiStateJSON", "fieldAttrs"):
            if key in obj["attributes"]:
                json.loads(obj["attributes"][key])
        meta = obj["attributes"].get("kibanaSavedObjectMeta")
        if meta:
            json.loads(meta["searchSourceJSON"])


def test_what_the_issue_asks_for_is_there(objects: list[dict[str, Any]]) -> None:
    views = [o for o in objects if o["type"] == "index-pattern"]
    articles = next(v for v in views if v["attributes"]["title"] == "akhbar-articles")
    assert articles["attributes"]["timeFieldName"] == "published"
    assert "text_search" in json.loads(articles["attributes"]["fieldAttrs"])  # the Arabic search field, offered with a label
    titles = {o["attributes"]["title"] for o in objects if o["type"] == "search"}
    assert {"Deployment announcements", "Latest by outlet", "Syndicated copies"} <= titles
    (dashboard,) = [o for o in objects if o["type"] == "dashboard"]
    panels = {(r["type"], by_id(objects)[(r["type"], r["id"])]["attributes"]["title"]) for r in dashboard["references"]}
    assert panels == {("lens", "Articles over time by outlet"), ("map", "Places in the news"), ("search", "Deployment alerts"), ("lens", "Most-carried stories")}


def test_references_resolve(objects: list[dict[str, Any]]) -> None:
    known = by_id(objects)
    for obj in objects:
        names = {r["name"] for r in obj["references"]}
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in known, f"{obj['id']} refers to missing {ref['type']} {ref['id']}"
        attrs = obj["attributes"]
        if obj["type"] == "dashboard":
            for panel in json.loads(attrs["panelsJSON"]):
                assert f"{panel['panelIndex']}:{panel['panelRefName']}" in names, panel
        if obj["type"] == "search":
            assert json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])["indexRefName"] in names
        if obj["type"] == "lens":
            for layer_id in attrs["state"]["datasourceStates"]["formBased"]["layers"]:
                assert f"indexpattern-datasource-layer-{layer_id}" in names
        if obj["type"] == "map":
            for layer in json.loads(attrs["layerListJSON"]):
                ref = layer["sourceDescriptor"].get("indexPatternRefName")
                assert ref is None or ref in names


def test_every_field_used_exists_in_the_mapping(objects: list[dict[str, Any]]) -> None:
    known = by_id(objects)
    checked = 0
    for obj in objects:
        refs = {r["name"]: known[(r["type"], r["id"])] for r in obj["references"] if r["type"] == "index-pattern"}
        for ref, field in fields_used(obj):
            view = obj if ref == "" else refs[ref]
            kind = kind_of_view(view)
            assert field in mapped_fields(kind), f"{obj['type']} {obj['id']} uses {field}, which {kind} does not map"
            checked += 1
    assert checked >= 40


def test_geo_and_time_fields_have_the_right_types(objects: list[dict[str, Any]]) -> None:
    props = template_body("articles")["mappings"]["properties"]
    assert props["locations"]["type"] == "geo_point" and props["published"]["type"] == "date"
    for view in (o for o in objects if o["type"] == "index-pattern"):
        kind = kind_of_view(view)
        field = view["attributes"]["timeFieldName"]
        assert template_body(kind)["mappings"]["properties"][field]["type"] == "date", (kind, field)


def test_file_is_what_the_generator_writes() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import kibana_objects
    finally:
        sys.path.pop(0)
    assert (KIBANA_DIR / "akhbar.ndjson").read_text(encoding="utf-8") == kibana_objects.render()


def test_objects_move_to_another_prefix() -> None:
    moved = load_objects("newsroom")
    titles = {o["attributes"]["title"] for o in moved if o["type"] == "index-pattern"}
    assert titles == {"newsroom-articles", "newsroom-alerts", "newsroom-deadletters"}
    ids = {o["id"] for o in moved}
    assert all(i.startswith("newsroom-") for i in ids)
    assert all(r["id"] in ids for o in moved for r in o["references"])


def test_import_posts_ndjson_to_the_saved_objects_api(httpserver: HTTPServer) -> None:
    seen: dict[str, Any] = {}

    def kibana(request: Request) -> Response:
        seen["xsrf"] = request.headers.get("kbn-xsrf")
        seen["auth"] = request.headers.get("Authorization")
        seen["args"] = dict(request.args)
        upload = request.files["file"]
        seen["filename"] = upload.filename
        seen["objects"] = [json.loads(line) for line in upload.read().decode("utf-8").splitlines() if line.strip()]
        return Response(json.dumps({"success": True, "successCount": len(seen["objects"])}), content_type="application/json")

    httpserver.expect_request("/s/analysts/api/saved_objects/_import", method="POST").respond_with_handler(kibana)
    objects = load_objects("newsroom")
    result = import_objects(httpserver.url_for("/"), objects, space="analysts", api_key="a2V5")
    assert result["successCount"] == len(objects)
    assert seen["xsrf"] and seen["auth"] == "ApiKey a2V5" and seen["args"] == {"overwrite": "true"}
    assert seen["filename"].endswith(".ndjson") and seen["objects"] == objects


def test_import_reports_what_kibana_refused(httpserver: HTTPServer) -> None:
    refusal = {"success": False, "successCount": 11, "errors": [{"id": "akhbar-map-places", "type": "map", "error": {"type": "missing_references"}}]}
    httpserver.expect_request("/api/saved_objects/_import", method="POST").respond_with_json(refusal)
    with pytest.raises(KibanaError, match="akhbar-map-places: missing_references"):
        import_objects(httpserver.url_for("/"), load_objects(), user="elastic", password="pw")


def test_cli_import_fails_in_one_line_when_kibana_is_unreachable(tmp_path: Path) -> None:
    env = {**os.environ, "KIBANA_URL": "http://127.0.0.1:9"}
    proc = subprocess.run([sys.executable, "-m", "akhbar.cli", "kibana", "import"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1 and proc.stderr.startswith("akhbar: Kibana unreachable") and proc.stdout == ""
