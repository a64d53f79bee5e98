"""Elasticsearch: the client behind a small interface, templates and aliases, bulk writes, search."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import streaming_bulk

from akhbar.config import CONFIG_DIR, Settings
from akhbar.normalize import search_form

log = logging.getLogger(__name__)

KINDS = ("articles", "rejects", "alerts", "feeds", "robots")


class IndexError_(RuntimeError):
    """Elasticsearch refused or could not take a write; the message says how many documents were not written."""


@dataclass
class BulkResult:
    """Outcome of one bulk write, item by item."""

    written: int = 0
    already_present: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)


def client_from_settings(settings: Settings) -> Elasticsearch:
    """An Elasticsearch client for AKHBAR_ES_URL with its API key or user and password."""
    kwargs: dict[str, Any] = {"request_timeout": 30, "retry_on_timeout": True, "max_retries": 3}
    if settings.es_api_key:
        kwargs["api_key"] = settings.es_api_key
    elif settings.es_user:
        kwargs["basic_auth"] = (settings.es_user, settings.es_password or "")
    if settings.es_ca_certs:
        kwargs["ca_certs"] = settings.es_ca_certs
    return Elasticsearch(settings.es_url, **kwargs)


def alias(prefix: str, kind: str) -> str:
    """Alias name of an index kind under the prefix."""
    return f"{prefix}-{kind}"


def _template_body(kind: str) -> dict[str, Any]:
    """Settings and mappings of an index kind, from config/index/KIND.json."""
    return json.loads((CONFIG_DIR / "index" / f"{kind}.json").read_text(encoding="utf-8"))


class Store:
    """The project's view of Elasticsearch: every read and write the pipeline makes goes through here."""

    def __init__(self, client: Elasticsearch, prefix: str, bulk: dict[str, Any] | None = None) -> None:
        self.es = client
        self.prefix = prefix
        bulk = bulk or {}
        self.chunk_docs = int(bulk.get("bulk_chunk_docs", 500))
        self.chunk_bytes = int(bulk.get("bulk_chunk_bytes", 10 * 1024 * 1024))
        self.max_retries = int(bulk.get("bulk_max_retries", 5))
        self._ready = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """A store for the configured cluster and prefix."""
        return cls(client_from_settings(settings), settings.index_prefix, settings.tunables.get("index", {}))

    def alias(self, kind: str) -> str:
        """Alias of an index kind under this store's prefix."""
        return alias(self.prefix, kind)

    def ensure(self) -> None:
        """Create templates, first indices and aliases if absent (idempotent, before the first write)."""
        if self._ready:
            return
        for kind in KINDS:
            name = self.alias(kind)
            body = _template_body(kind)
            self.es.indices.put_index_template(
                name=name,
                index_patterns=[f"{name}-*"],
                template={"settings": body["settings"], "mappings": body["mappings"]},
                priority=200,
                meta={"managed_by": "akhbar"},
            )
            if not self.es.indices.exists_alias(name=name):
                try:
                    self.es.indices.create(index=f"{name}-000001", aliases={name: {"is_write_index": True}})
                except ApiError as exc:
                    if exc.meta.status != 400 or "resource_already_exists" not in str(exc):
                        raise
            # Fields added since the index was created reach it too; an incompatible change fails loudly.
            self.es.indices.put_mapping(index=name, properties=body["mappings"]["properties"])
        self._ready = True

    def existing_ids(self, kind: str, ids: Iterable[str]) -> set[str]:
        """Those of ids that are already stored in an index kind."""
        ids = list(dict.fromkeys(ids))
        found: set[str] = set()
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            resp = self.es.search(
                index=self.alias(kind),
                query={"ids": {"values": chunk}},
                size=len(chunk),
                source=False,
            )
            found.update(hit["_id"] for hit in resp["hits"]["hits"])
        return found

    def copied_urls(self, canonical_urls: Iterable[str]) -> set[str]:
        """Those canonical URLs already recorded as copies on an indexed article."""
        wanted = list(dict.fromkeys(canonical_urls))
        found: set[str] = set()
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            resp = self.es.search(
                index=self.alias("articles"),
                query={"terms": {"copies.canonical_url": chunk}},
                size=len(chunk),
                source=["copies.canonical_url"],
            )
            for hit in resp["hits"]["hits"]:
                found.update(c.get("canonical_url") for c in hit["_source"].get("copies", []))
        return found & set(wanted)

    def get_many(self, kind: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Sources of those ids that exist in an index kind, by id."""
        ids = list(dict.fromkeys(ids))
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 1000):
            try:
                resp = self.es.mget(index=self.alias(kind), ids=ids[start : start + 1000])
            except NotFoundError:
                return {}
            out.update({d["_id"]: d["_source"] for d in resp["docs"] if d.get("found")})
        return out

    def values_present(self, kind: str, field: str, values: Iterable[str]) -> set[str]:
        """Those of values that some document of an index kind has in a keyword field."""
        wanted = list(dict.fromkeys(values))
        found: set[str] = set()
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            resp = self.es.search(
                index=self.alias(kind),
                query={"terms": {field: chunk}},
                size=0,
                aggs={"present": {"terms": {"field": field, "include": chunk, "size": len(chunk)}}},
            )
            found.update(b["key"] for b in resp["aggregations"]["present"]["buckets"])
        return found

    def ids_with_hash(self, hashes: Iterable[str]) -> dict[str, str]:
        """Map content hashes already indexed to the id of the article that has them."""
        hashes = list(dict.fromkeys(hashes))
        out: dict[str, str] = {}
        for start in range(0, len(hashes), 1000):
            chunk = hashes[start : start + 1000]
            resp = self.es.search(
                index=self.alias("articles"),
                query={"terms": {"content_hash": chunk}},
                size=len(chunk),
                source=["content_hash"],
                sort=["_doc"],
            )
            for hit in resp["hits"]["hits"]:
                out.setdefault(hit["_source"]["content_hash"], hit["_id"])
        return out

    def _actions(self, kind: str, docs: Iterable[tuple[str, dict[str, Any]]], op: str) -> Iterator[dict[str, Any]]:
        """Bulk actions for (id, source) pairs."""
        index = self.alias(kind)
        for doc_id, source in docs:
            if op == "update":
                yield {"_op_type": "update", "_index": index, "_id": doc_id, "doc": source, "doc_as_upsert": True}
            else:
                yield {"_op_type": op, "_index": index, "_id": doc_id, "_source": source}

    def write(self, kind: str, docs: Iterable[tuple[str, dict[str, Any]]], op: str = "create") -> BulkResult:
        """Write documents with deterministic ids; 'create' treats an existing id as done. Every item is checked."""
        self.ensure()
        result = BulkResult()
        sources: dict[str, dict[str, Any]] = {}

        def remember(pairs: Iterable[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, dict[str, Any]]]:
            for doc_id, source in pairs:
                sources[doc_id] = source
                yield doc_id, source

        for ok, item in streaming_bulk(
            self.es,
            self._actions(kind, remember(docs), op),
            chunk_size=self.chunk_docs,
            max_chunk_bytes=self.chunk_bytes,
            max_retries=self.max_retries,
            initial_backoff=1,
            max_backoff=30,
            raise_on_error=False,
            raise_on_exception=True,
        ):
            info = next(iter(item.values()))
            if ok:
                result.written += 1
            elif info.get("status") == 409 and op == "create":
                result.already_present += 1
            else:
                error = info.get("error", {})
                reason = error.get("reason", str(error)) if isinstance(error, dict) else str(error)
                result.failed.append({"id": info.get("_id"), "status": info.get("status"), "reason": reason, "source": sources.get(info.get("_id"), {})})
            sources.pop(info.get("_id"), None)
        return result

    def refresh(self, kind: str) -> None:
        """Make recent writes to an index kind searchable."""
        self.es.indices.refresh(index=self.alias(kind))

    def count(self, kind: str, query: dict[str, Any] | None = None) -> int:
        """Number of documents of a kind (optionally matching a query)."""
        try:
            return int(self.es.count(index=self.alias(kind), query=query or {"match_all": {}})["count"])
        except NotFoundError:
            return 0

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        """One document's source, or None."""
        try:
            return self.es.get(index=self.alias(kind), id=doc_id)["_source"]
        except NotFoundError:
            return None

    def search_articles(self, query: str, size: int = 10) -> list[dict[str, Any]]:
        """Search articles with the project's Arabic normalisation and light stemming."""
        terms = search_form(query)
        if not terms:
            return []
        resp = self.es.search(
            index=self.alias("articles"),
            query={
                "multi_match": {
                    "query": terms,
                    "fields": ["title_search^3", "text_search"],
                    "operator": "and",
                }
            },
            size=size,
            source=["title", "outlet", "url", "published", "troops", "place_names"],
            highlight={"fields": {"text": {"fragment_size": 160, "number_of_fragments": 1}}},
        )
        return [{"id": h["_id"], "score": h["_score"], **h["_source"]} for h in resp["hits"]["hits"]]

    def delete_all(self) -> None:
        """Remove every index and template under this prefix (tests and `akhbar es reset`)."""
        for kind in KINDS:
            name = self.alias(kind)
            try:
                indices = list(self.es.indices.get(index=f"{name}-*", expand_wildcards="all").keys())
            except NotFoundError:
                indices = []
            if indices:
                self.es.indices.delete(index=",".join(indices))
            try:
                self.es.indices.delete_index_template(name=name)
            except NotFoundError:
                pass
        self._ready = False


__all__ = ["BulkResult", "ConflictError", "IndexError_", "Store", "TransportError", "alias", "client_from_settings"]
