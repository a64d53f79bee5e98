"""Write docker/kibana/akhbar.ndjson: the Kibana saved objects (data views, saved searches, visualisations, dashboard).

Run `python scripts/kibana_objects.py` after changing them; tests/test_kibana.py checks the file is what this writes.
Ids and index patterns use the default prefix `akhbar`; `akhbar kibana import` rewrites them for another prefix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "docker" / "kibana" / "akhbar.ndjson"
CORE = "8.8.0"
ARTICLES, ALERTS, DEAD = "akhbar-articles-view", "akhbar-alerts-view", "akhbar-deadletters-view"
SEARCH_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"


def j(value: Any) -> str:
    """Kibana keeps nested state as JSON strings."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def data_view(view_id: str, pattern: str, name: str, time_field: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "id": view_id, "type": "index-pattern", "coreMigrationVersion": CORE, "typeMigrationVersion": "8.0.0", "references": [],
        "attributes": {
            "title": pattern, "name": name, "timeFieldName": time_field, "allowNoIndex": True,
            "fieldAttrs": j({f: {"customLabel": label} for f, label in labels.items()}), "fieldFormatMap": "{}", "runtimeFieldMap": "{}",
            "sourceFilters": "[]", "fields": "[]",
        },
    }


def saved_search(search_id: str, title: str, description: str, view: str, query: str, columns: list[str], sort: list[list[str]]) -> dict[str, Any]:
    return {
        "id": search_id, "type": "search", "coreMigrationVersion": CORE, "typeMigrationVersion": "10.5.0",
        "references": [{"name": SEARCH_REF, "type": "index-pattern", "id": view}],
        "attributes": {
            "title": title, "description": description, "columns": columns, "sort": sort, "grid": {}, "hideChart": False,
            "isTextBasedQuery": False, "timeRestore": False,
            "kibanaSavedObjectMeta": {"searchSourceJSON": j({"query": {"query": query, "language": "kuery"}, "filter": [], "indexRefName": SEARCH_REF})},
        },
    }


def lens(lens_id: str, title: str, view: str, layer: str, columns: dict[str, Any], order: list[str], vis_type: str, visualization: dict[str, Any], query: str = "") -> dict[str, Any]:
    return {
        "id": lens_id, "type": "lens", "coreMigrationVersion": CORE, "typeMigrationVersion": "8.9.0",
        "references": [{"type": "index-pattern", "id": view, "name": f"indexpattern-datasource-layer-{layer}"}],
        "attributes": {
            "title": title, "description": "", "visualizationType": vis_type,
            "state": {
                "datasourceStates": {"formBased": {"layers": {layer: {"columns": columns, "columnOrder": order, "incompleteColumns": {}}}}},
                "visualization": visualization, "query": {"query": query, "language": "kuery"}, "filters": [],
                "internalReferences": [], "adHocDataViews": {},
            },
        },
    }


def objects() -> list[dict[str, Any]]:
    views = [
        data_view(ARTICLES, "akhbar-articles", "Akhbar articles", "published", {
            "title_search": "Title, Arabic search form (normalised, light-stemmed)",
            "text_search": "Text, Arabic search form (normalised, light-stemmed)",
            "copy_count": "Carried by (other outlets)",
            "locations": "Places (coordinates)",
        }),
        data_view(ALERTS, "akhbar-alerts", "Akhbar deployment alerts", "created", {"sources.outlet": "Carried by"}),
        data_view(DEAD, "akhbar-deadletters", "Akhbar dead letters", "at", {"reason": "Why Elasticsearch refused it"}),
    ]
    searches = [
        saved_search("akhbar-search-deployments", "Deployment announcements", "Articles announcing a military deployment, newest first.",
                     ARTICLES, "deployment.is_deployment : true",
                     ["outlet", "title", "deployment.actor", "deployment.destination", "deployment.size", "place_names"], [["published", "desc"]]),
        saved_search("akhbar-search-latest-by-outlet", "Latest by outlet", "Every outlet's articles, newest first within each outlet.",
                     ARTICLES, "", ["outlet", "title", "place_names", "copy_count"], [["outlet", "asc"], ["published", "desc"]]),
        saved_search("akhbar-search-syndicated", "Syndicated copies", "Articles other outlets carried too, the most carried first.",
                     ARTICLES, "copy_count > 0", ["title", "outlet", "copy_count", "copies.outlet", "copies.url"], [["copy_count", "desc"], ["published", "desc"]]),
        saved_search("akhbar-search-alerts", "Deployment alerts", "One row per announced deployment, with every outlet that carried it.",
                     ALERTS, "", ["title", "kind", "actor", "destination", "size", "sources.outlet", "delivery.state"], [["created", "desc"]]),
        saved_search("akhbar-search-deadletters", "Dead letters", "Documents Elasticsearch refused, with the reason and the source.",
                     DEAD, "", ["target_kind", "doc_id", "status", "error_type", "reason", "run_id"], [["at", "desc"]]),
    ]
    over_time = lens(
        "akhbar-lens-articles-over-time", "Articles over time by outlet", ARTICLES, "layer1",
        {
            "time": {"label": "published", "dataType": "date", "operationType": "date_histogram", "sourceField": "published", "isBucketed": True,
                     "scale": "interval", "params": {"interval": "auto", "includeEmptyRows": True, "dropPartials": False}},
            "outlet": {"label": "Outlet", "customLabel": True, "dataType": "string", "operationType": "terms", "sourceField": "outlet", "isBucketed": True,
                       "scale": "ordinal", "params": {"size": 10, "orderBy": {"type": "column", "columnId": "count"}, "orderDirection": "desc",
                                                      "otherBucket": True, "missingBucket": False, "parentFormat": {"id": "terms"}}},
            "count": {"label": "Articles", "customLabel": True, "dataType": "number", "operationType": "count", "sourceField": "___records___",
                      "isBucketed": False, "scale": "ratio", "params": {"emptyAsNull": True}},
        },
        ["outlet", "time", "count"], "lnsXY",
        {"preferredSeriesType": "bar_stacked", "legend": {"isVisible": True, "position": "right"}, "valueLabels": "hide",
         "layers": [{"layerId": "layer1", "layerType": "data", "seriesType": "bar_stacked", "xAccessor": "time", "splitAccessor": "outlet", "accessors": ["count"]}]},
    )
    most_carried = lens(
        "akhbar-lens-most-carried", "Most-carried stories", ARTICLES, "layer1",
        {
            "story": {"label": "Story", "customLabel": True, "dataType": "string", "operationType": "terms", "sourceField": "title.keyword", "isBucketed": True,
                      "scale": "ordinal", "params": {"size": 20, "orderBy": {"type": "column", "columnId": "carried"}, "orderDirection": "desc",
                                                     "otherBucket": False, "missingBucket": False}},
            "first": {"label": "First outlet", "customLabel": True, "dataType": "string", "operationType": "last_value", "sourceField": "outlet",
                      "isBucketed": False, "scale": "ordinal", "params": {"sortField": "published"}},
            "carried": {"label": "Other outlets carrying it", "customLabel": True, "dataType": "number", "operationType": "max", "sourceField": "copy_count",
                        "isBucketed": False, "scale": "ratio", "params": {"emptyAsNull": True}},
        },
        ["story", "first", "carried"], "lnsDatatable",
        {"layerId": "layer1", "layerType": "data", "columns": [{"columnId": "story"}, {"columnId": "first"}, {"columnId": "carried"}]},
        query="copy_count > 0",
    )
    places_map = {
        "id": "akhbar-map-places", "type": "map", "coreMigrationVersion": CORE, "typeMigrationVersion": "8.4.0",
        "references": [{"name": "layer_1_source_index_pattern", "type": "index-pattern", "id": ARTICLES}],
        "attributes": {
            "title": "Places in the news", "description": "Places named in articles (gazetteer coordinates), clustered.",
            "layerListJSON": j([
                {"id": "basemap", "type": "EMS_VECTOR_TILE", "label": None, "visible": True, "alpha": 1,
                 "sourceDescriptor": {"type": "EMS_TMS", "isAutoSelect": True, "lightModeDefault": "road_map_desaturated"}, "style": {"type": "EMS_VECTOR_TILE"}},
                {"id": "places", "type": "GEOJSON_VECTOR", "label": "Places in articles", "visible": True, "alpha": 0.8,
                 "sourceDescriptor": {"id": "places-source", "type": "ES_SEARCH", "indexPatternRefName": "layer_1_source_index_pattern",
                                      "geoField": "locations", "scalingType": "CLUSTERS", "tooltipProperties": ["title", "outlet", "place_names", "published"],
                                      "sortField": "published", "sortOrder": "desc", "topHitsSplitField": "", "filterByMapBounds": True},
                 "style": {"type": "VECTOR", "properties": {}, "isTimeAware": True}},
            ]),
            "mapStateJSON": j({"zoom": 4, "center": {"lon": 40, "lat": 29}, "timeFilters": {"from": "now-30d", "to": "now"},
                               "refreshConfig": {"isPaused": True, "interval": 0}, "query": {"query": "", "language": "kuery"}, "filters": []}),
            "uiStateJSON": j({"isLayerTOCOpen": True, "openTOCDetails": []}),
        },
    }
    panels = [
        ("p1", "lens", over_time["id"], {"x": 0, "y": 0, "w": 24, "h": 15}),
        ("p2", "map", places_map["id"], {"x": 24, "y": 0, "w": 24, "h": 15}),
        ("p3", "search", "akhbar-search-alerts", {"x": 0, "y": 15, "w": 24, "h": 15}),
        ("p4", "lens", most_carried["id"], {"x": 24, "y": 15, "w": 24, "h": 15}),
    ]
    dashboard = {
        "id": "akhbar-dashboard", "type": "dashboard", "coreMigrationVersion": CORE, "typeMigrationVersion": "10.2.0",
        "references": [{"name": f"{p}:panel_{p}", "type": kind, "id": oid} for p, kind, oid, _ in panels],
        "attributes": {
            "title": "Akhbar: Arabic news", "description": "Articles over time by outlet, places in the news, deployment alerts, the most-carried stories.",
            "panelsJSON": j([{"type": kind, "gridData": {**grid, "i": p}, "panelIndex": p, "embeddableConfig": {"enhancements": {}}, "panelRefName": f"panel_{p}"}
                             for p, kind, _, grid in panels]),
            "optionsJSON": j({"useMargins": True, "syncColors": False, "syncCursor": True, "syncTooltips": False, "hidePanelTitles": False}),
            "timeRestore": True, "timeFrom": "now-7d", "timeTo": "now", "refreshInterval": {"pause": False, "value": 600000},
            "kibanaSavedObjectMeta": {"searchSourceJSON": j({"query": {"query": "", "language": "kuery"}, "filter": []})},
        },
    }
    return [*views, *searches, over_time, most_carried, places_map, dashboard]


def render() -> str:
    """The NDJSON text: one object per line, in dependency order."""
    return "".join(json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n" for obj in objects())


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT} ({len(objects())} objects)")
