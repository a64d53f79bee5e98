"""Elasticsearch: the client behind a small interface, templates, aliases and rollover, bulk writes, search."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any

import yaml
from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError
from elasticsearch import ConnectionError as ESConnectionError
from elasticsearch import ConnectionTimeout
from elasticsearch.helpers import streaming_bulk

from akhbar.config import CONFIG_DIR, ConfigError, Settings
from akhbar.normalize import search_form

log = logging.getLogger(__name__)

# An index kind is config/index/KIND.json plus an entry here.
KINDS = ("articles", "rejects", "alerts", "deadletters", "boilerplate", "feeds", "robots")
DEAD_LETTERS = "deadletters"
INDEX_DIR = CONFIG_DIR / "index"
MAX_CHUNK_DOCS = 500
MAX_CHUNK_BYTES = 10 * 1024 * 1024
ROLLOVER_CONDITIONS = frozenset({
    "max_age", "max_docs", "max_size", "max_primary_shard_size", "max_primary_shard_docs",
    "min_age", "min_docs", "min_size", "min_primary_shard_size", "min_primary_shard_docs",
})
LIFECYCLE_MODES = ("auto", "ilm", "manual")
ANALYSIS_VARIANTS = ("auto", "portable", "full")
# Statuses worth resending a whole bulk request for (a proxy or load balancer in front of the cluster).
RETRY_STATUSES = frozenset({502, 503, 504})
_DURATION = re.compile(r"^(\d+)(d|h|m|s)$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


class WriteFailed(RuntimeError):
    """A bulk write gave up after its retries; the message says how many documents were not sent."""


class IndexError_(RuntimeError):
    """Elasticsearch refused or could not take a write; the message says how many documents were not written."""


@dataclass
class BulkResult:
    """Outcome of one bulk write, item by item."""

    written: int = 0
    already_present: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    dead_lettered: int = 0


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
    return json.loads((INDEX_DIR / f"{kind}.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_full_analysis() -> dict[str, Any]:
    """The full-cluster analysis overlay (config/index/analysis-full.json)."""
    return json.loads((INDEX_DIR / "analysis-full.json").read_text(encoding="utf-8"))


def _field(properties: dict[str, Any], dotted: str) -> dict[str, Any]:
    """The mapping of a dotted field path, through object properties."""
    node: dict[str, Any] = {"properties": properties}
    for part in dotted.split("."):
        try:
            node = node["properties"][part]
        except KeyError as exc:
            raise ConfigError(f"analysis-full.json names {dotted!r}, which is not in the mapping") from exc
    return node


def template_body(kind: str, variant: str = "portable") -> dict[str, Any]:
    """Settings and mappings of a kind in the portable variant, or the full-cluster one with Arabic analysis."""
    body = copy.deepcopy(_template_body(kind))
    overlay = load_full_analysis()
    fields = overlay["fields"].get(kind, {})
    if variant == "full" and fields:
        body["settings"] = {**body["settings"], **copy.deepcopy(overlay["settings"])}
        for dotted, params in fields.items():
            _field(body["mappings"]["properties"], dotted).update(params)
    elif variant not in ("portable", "full"):
        raise ConfigError(f"unknown analysis variant {variant!r}")
    body["mappings"]["_meta"] = {"akhbar": {"kind": kind, "analysis": variant if fields else "portable"}}
    return body


def parse_duration(text: str) -> timedelta:
    """An Elasticsearch-style duration such as 30d, 12h, 90m or 45s."""
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ConfigError(f"duration {text!r}: expected a number followed by d, h, m or s")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass(frozen=True)
class Lifecycle:
    """Rollover conditions and retention per kind, from config/index/lifecycle.yaml."""

    mode: str = "auto"
    default: Mapping[str, Any] = field(default_factory=dict)
    kinds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def conditions(self, kind: str) -> dict[str, Any]:
        """Rollover conditions of a kind."""
        return dict(self.kinds.get(kind, {}).get("rollover", self.default.get("rollover") or {}))

    def delete_after(self, kind: str) -> str | None:
        """How long a rolled-over index of a kind is kept, or None for ever."""
        entry = self.kinds.get(kind, {})
        return entry["delete_after"] if "delete_after" in entry else self.default.get("delete_after")

    def policy(self, kind: str) -> dict[str, Any]:
        """The ILM policy of a kind: rollover in the hot phase, deletion after retention if any."""
        phases: dict[str, Any] = {"hot": {"min_age": "0ms", "actions": {"rollover": self.conditions(kind)}}}
        if self.delete_after(kind):
            phases["delete"] = {"min_age": self.delete_after(kind), "actions": {"delete": {}}}
        return {"phases": phases, "_meta": {"managed_by": "akhbar", "kind": kind}}


def load_lifecycle(data: Mapping[str, Any] | None = None) -> Lifecycle:
    """Parse and validate the lifecycle configuration (config/index/lifecycle.yaml unless given)."""
    if data is None:
        data = yaml.safe_load((INDEX_DIR / "lifecycle.yaml").read_text(encoding="utf-8")) or {}
    mode = data.get("mode", "auto")
    if mode not in LIFECYCLE_MODES:
        raise ConfigError(f"lifecycle mode {mode!r}: expected one of {', '.join(LIFECYCLE_MODES)}")
    default = dict(data.get("default") or {})
    kinds = {k: dict(v or {}) for k, v in (data.get("kinds") or {}).items()}
    for name, entry in [("default", default), *kinds.items()]:
        conditions = entry.get("rollover") or {}
        unknown = set(conditions) - ROLLOVER_CONDITIONS
        if unknown:
            raise ConfigError(f"lifecycle {name}: unknown rollover condition(s) {sorted(unknown)}")
        if not any(c.startswith("max_") for c in conditions) and name == "default":
            raise ConfigError("lifecycle default: at least one max_* rollover condition is needed")
        if entry.get("delete_after"):
            parse_duration(entry["delete_after"])
    return Lifecycle(mode=mode, default=default, kinds=kinds)


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of at most size items."""
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def dead_letter_id(kind: str, doc_id: str, op: str) -> str:
    """Deterministic id of a dead letter: the target kind, document id and operation."""
    return hashlib.sha1(f"{kind}|{op}|{doc_id}".encode()).hexdigest()


class Store:
    """The project's view of Elasticsearch: every read and write the pipeline makes goes through here."""

    def __init__(self, client: Elasticsearch, prefix: str, bulk: dict[str, Any] | None = None, lifecycle: Lifecycle | None = None) -> None:
        self.es = client
        self.prefix = prefix
        bulk = bulk or {}
        self.chunk_docs = int(bulk.get("bulk_chunk_docs", MAX_CHUNK_DOCS))
        self.chunk_bytes = int(bulk.get("bulk_chunk_bytes", MAX_CHUNK_BYTES))
        if not 0 < self.chunk_docs <= MAX_CHUNK_DOCS or not 0 < self.chunk_bytes <= MAX_CHUNK_BYTES:
            raise ConfigError(f"bulk chunks must be 1..{MAX_CHUNK_DOCS} documents and 1..{MAX_CHUNK_BYTES} bytes")
        self.max_retries = int(bulk.get("bulk_max_retries", 5))
        self.initial_backoff = float(bulk.get("bulk_initial_backoff_s", 1))
        self.max_backoff = float(bulk.get("bulk_max_backoff_s", 30))
        self.analysis = str(bulk.get("analysis", "auto"))
        if self.analysis not in ANALYSIS_VARIANTS:
            raise ConfigError(f"index.analysis {self.analysis!r}: expected one of {', '.join(ANALYSIS_VARIANTS)}")
        self.lifecycle = lifecycle or load_lifecycle()
        self._ready = False
        self._caps: dict[str, bool] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """A store for the configured cluster and prefix."""
        return cls(client_from_settings(settings), settings.index_prefix, settings.tunables.get("index", {}))

    def alias(self, kind: str) -> str:
        """Alias of an index kind under this store's prefix."""
        return alias(self.prefix, kind)

    # ------------------------------------------------------------------ cluster capabilities

    def capabilities(self) -> dict[str, bool]:
        """Whether every node has Elasticsearch's Arabic analysis (analysis-common) and ILM (asked once)."""
        if self._caps is None:
            resp = self.es.nodes.info(metric="plugins", filter_path="nodes.*.modules.name")
            per_node = [{m["name"] for m in node.get("modules", [])} for node in resp.get("nodes", {}).values()]
            has = lambda module: bool(per_node) and all(module in mods for mods in per_node)  # noqa: E731
            self._caps = {"arabic_analysis": has("analysis-common"), "ilm": has("x-pack-ilm")}
        return self._caps

    def analysis_variant(self) -> str:
        """The template variant new indices get: 'full' with Arabic analysis, or 'portable'."""
        if self.analysis == "auto":
            return "full" if self.capabilities()["arabic_analysis"] else "portable"
        if self.analysis == "full" and not self.capabilities()["arabic_analysis"]:
            raise IndexError_("index.analysis is 'full' but this cluster lacks arabic_normalization/arabic_stem/decimal_digit (analysis-common)")
        return self.analysis

    def uses_ilm(self) -> bool:
        """Whether rollover is left to ILM (mode ilm, or auto on a cluster that has it)."""
        if self.lifecycle.mode == "manual":
            return False
        has = self.capabilities()["ilm"]
        if self.lifecycle.mode == "ilm" and not has:
            raise IndexError_("lifecycle mode is 'ilm' but this cluster has no ILM; use mode auto or manual")
        return has

    # ------------------------------------------------------------------ templates, aliases, rollover

    def index_template(self, kind: str, variant: str | None = None, ilm: bool | None = None) -> dict[str, Any]:
        """The composable index template of a kind, as put by ensure()."""
        name = self.alias(kind)
        body = template_body(kind, variant or self.analysis_variant())
        settings = dict(body["settings"])
        if self.uses_ilm() if ilm is None else ilm:
            settings["index.lifecycle.name"] = name
            settings["index.lifecycle.rollover_alias"] = name
        return {
            "index_patterns": [f"{name}-*"],
            "template": {"settings": settings, "mappings": body["mappings"]},
            "priority": 200,
            "_meta": {"managed_by": "akhbar", "kind": kind},
        }

    def ensure(self) -> None:
        """Create templates, policies, first indices and aliases if absent, sync mappings, roll over when due."""
        if self._ready:
            return
        ilm = self.uses_ilm()
        for kind in KINDS:
            name = self.alias(kind)
            if ilm:
                self.es.ilm.put_lifecycle(name=name, policy=self.lifecycle.policy(kind))
            tpl = self.index_template(kind, ilm=ilm)
            self.es.indices.put_index_template(
                name=name, index_patterns=tpl["index_patterns"], template=tpl["template"], priority=tpl["priority"], meta=tpl["_meta"],
            )
            if not self.es.indices.exists_alias(name=name):
                try:
                    self.es.indices.create(index=f"{name}-000001", aliases={name: {"is_write_index": True}})
                except ApiError as exc:
                    if exc.meta.status != 400 or "resource_already_exists" not in str(exc):
                        raise
            self._sync_mappings(kind)
            if not ilm:
                self.rollover(kind)
        self._ready = True

    def _sync_mappings(self, kind: str) -> None:
        """Fields added since an index was created reach every index of the kind; an incompatible change fails loudly."""
        by_variant: dict[str, list[str]] = {}
        for index, mapping in self.es.indices.get_mapping(index=self.alias(kind)).items():
            meta = mapping.get("mappings", {}).get("_meta", {}).get("akhbar", {})
            by_variant.setdefault(meta.get("analysis", "portable"), []).append(index)
        for variant, indices in sorted(by_variant.items()):
            self.es.indices.put_mapping(index=",".join(sorted(indices)), properties=template_body(kind, variant)["mappings"]["properties"])

    def indices(self, kind: str) -> tuple[list[str], str | None]:
        """The concrete indices behind a kind's alias (oldest first) and its write index."""
        name = self.alias(kind)
        try:
            resp = self.es.indices.get_alias(name=name)
        except NotFoundError:
            return [], None
        names = sorted(resp)
        writers = [i for i in names if resp[i]["aliases"][name].get("is_write_index")]
        return names, writers[0] if writers else (names[0] if len(names) == 1 else None)

    def rollover(self, kind: str, force: bool = False) -> dict[str, Any]:
        """Roll the kind's write alias over to a new index when a configured condition is met (or always, with force)."""
        name = self.alias(kind)
        conditions = {} if force else self.lifecycle.conditions(kind)
        if not force and not conditions:
            return {"rolled_over": False, "old_index": None, "new_index": None, "conditions": {}}
        try:
            resp = dict(self.es.indices.rollover(alias=name, conditions=conditions or None))
        except ApiError as exc:
            if exc.meta.status == 400 and "resource_already_exists" in str(exc):
                log.info("rollover of %s: done concurrently by another writer", name)
                return {"rolled_over": False, "old_index": None, "new_index": None, "conditions": {}}
            raise
        if resp.get("rolled_over"):
            log.info("rolled %s over from %s to %s (%s)", name, resp.get("old_index"), resp.get("new_index"), resp.get("conditions"))
            # The old index takes no more creates; make all it holds visible to id and hash lookups now.
            self.es.indices.refresh(index=resp["old_index"])
        return resp

    def prune(self, kind: str, now: datetime) -> list[str]:
        """Delete rolled-over indices of a kind older than its delete_after (manual lifecycle); return their names."""
        keep_for = self.lifecycle.delete_after(kind)
        if not keep_for or self.uses_ilm():
            return []
        name = self.alias(kind)
        indices, write_index = self.indices(kind)
        older = [i for i in indices if i != write_index]
        if not older:
            return []
        cutoff = now - parse_duration(keep_for)
        state = self.es.cluster.state(metric="metadata", index=",".join(older), filter_path="metadata.indices.*.rollover_info")
        doomed = []
        for index, info in state.get("metadata", {}).get("indices", {}).items():
            rolled = info.get("rollover_info", {}).get(name, {}).get("time")
            if rolled is not None and datetime.fromtimestamp(int(rolled) / 1000, tz=cutoff.tzinfo) < cutoff:
                doomed.append(index)
        if doomed:
            self.es.indices.delete(index=",".join(sorted(doomed)))
            log.info("deleted %s (rolled over before %s)", sorted(doomed), cutoff.isoformat())
        return sorted(doomed)

    def locate(self, kind: str, ids: Iterable[str], indices: list[str] | None = None, with_source: bool = True) -> dict[str, tuple[str, dict[str, Any]]]:
        """Where each of ids is stored (concrete index, source), searching every index of the kind in real time."""
        ids = list(dict.fromkeys(ids))
        if indices is None:
            indices = self.indices(kind)[0]
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        if not ids or not indices:
            return found
        per_request = max(1, 10000 // len(indices))
        for chunk in _batched(ids, per_request):
            docs = [{"_index": index, "_id": doc_id} for index in indices for doc_id in chunk]
            resp = self.es.mget(docs=docs, source=with_source)
            for doc in resp["docs"]:
                if doc.get("found"):
                    found.setdefault(doc["_id"], (doc["_index"], doc.get("_source", {})))
        return found

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

    def feed_dates(self, ids: Iterable[str]) -> dict[str, str | None]:
        """Feed dates of the indexed articles among ids (None where the feed gave no date)."""
        ids = list(dict.fromkeys(ids))
        out: dict[str, str | None] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            resp = self.es.search(index=self.alias("articles"), query={"ids": {"values": chunk}}, size=len(chunk), source=["feed_published"])
            out.update({h["_id"]: h["_source"].get("feed_published") for h in resp["hits"]["hits"]})
        return out

    def get_many(self, kind: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Sources of those ids stored in an index kind, by id."""
        return {doc_id: source for doc_id, (_index, source) in self.locate(kind, ids).items()}

    def delete_where(self, kind: str, query: dict[str, Any], batch: int = 1000) -> int:
        """Delete the documents of a kind matching a query; return how many went.

        Search then bulk-delete by id: _delete_by_query needs the reindex module, which not every
        cluster (the local integ-test node among them) has.
        """
        deleted = 0
        while True:
            hits = self.es.search(index=self.alias(kind), query=query, size=batch, source=False, sort=["_doc"])["hits"]["hits"]
            if not hits:
                return deleted
            actions = ({"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]} for h in hits)
            round_deleted = sum(ok for ok, _item in streaming_bulk(self.es, actions, raise_on_error=False, chunk_size=self.chunk_docs))
            deleted += round_deleted
            self.refresh(kind)
            if len(hits) < batch or not round_deleted:
                return deleted

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

    def _msearch(self, kind: str, queries: list[tuple[str, dict[str, Any]]], size: int, source: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Run one query per key in a multi-search; return hits (id plus source) per key."""
        out: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in queries}
        for start in range(0, len(queries), 200):
            chunk = queries[start : start + 200]
            body: list[dict[str, Any]] = []
            for _key, query in chunk:
                body += [{"index": self.alias(kind)}, {"query": query, "size": size, "_source": source}]
            resp = self.es.msearch(searches=body)
            for (key, _query), result in zip(chunk, resp["responses"], strict=True):
                if "error" in result:
                    raise RuntimeError(f"candidate search failed: {result['error']}")
                out[key] = [{"id": h["_id"], **h["_source"]} for h in result["hits"]["hits"]]
        return out

    def copy_candidates(self, articles: Iterable[dict[str, Any]], size: int = 20) -> dict[str, list[dict[str, Any]]]:
        """Indexed articles sharing each article's content hash or one of its LSH band keys."""
        queries = [
            (
                a["id"],
                {"bool": {"should": [{"term": {"content_hash": a["content_hash"]}}, {"terms": {"lsh": a.get("lsh", [])}}], "minimum_should_match": 1}},
            )
            for a in articles
        ]
        return self._msearch("articles", queries, size, ["content_hash", "minhash", "published", "first_seen", "story_id"])

    def story_candidates(self, articles: Iterable[dict[str, Any]], window_hours: int, size: int = 20) -> dict[str, list[dict[str, Any]]]:
        """Indexed articles near each article in time that share its numbers, places or organisations."""
        queries = []
        for a in articles:
            when = a.get("published") or a.get("first_seen")
            should = [
                {"terms": {"story_numbers": a.get("story_numbers", [])}},
                {"terms": {"place_names": a.get("place_names", [])}},
                {"terms": {"organisations": a.get("organisations", [])}},
            ]
            query: dict[str, Any] = {"bool": {"should": should, "minimum_should_match": 1, "must_not": [{"ids": {"values": [a["id"]]}}]}}
            if when:
                query["bool"]["filter"] = [{"range": {"published": {"gte": f"{when}||-{window_hours}h", "lte": f"{when}||+{window_hours}h"}}}]
            queries.append((a["id"], query))
        source = ["story_id", "published", "first_seen", "story_terms", "story_numbers", "place_names", "organisations"]
        return self._msearch("articles", queries, size, source)

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

    def write(
        self, kind: str, docs: Iterable[tuple[str, dict[str, Any]]], op: str = "create", context: Mapping[str, Any] | None = None,
    ) -> BulkResult:
        """Write documents with deterministic ids, every item checked; failed items go to the dead letters.

        'create' treats an id already present in any index of the kind as done; 'index' and 'update' reach
        the concrete index that holds the document, or the write index for a new one. context (run_id,
        stage, at) is recorded on dead letters.
        """
        if op not in ("create", "index", "update"):
            raise ValueError(f"unknown bulk operation {op!r}")
        self.ensure()
        result = BulkResult()
        groups = _batched(docs, self.chunk_docs)
        for group in groups:
            try:
                self._write_group(kind, group, op, result)
            except (ESConnectionError, ConnectionTimeout, ApiError) as exc:
                unsent = len(group) + sum(len(g) for g in groups)
                raise WriteFailed(
                    f"{self.alias(kind)}: Elasticsearch still failing after {self.max_retries} retries "
                    f"({type(exc).__name__}: {getattr(exc, 'message', exc)}); {unsent} document(s) not sent, "
                    f"{result.written} written; rerun the task to send them"
                ) from exc
        if result.failed and kind != DEAD_LETTERS:
            self._dead_letter(kind, op, result, context or {})
        return result

    def _write_group(self, kind: str, group: list[tuple[str, dict[str, Any]]], op: str, result: BulkResult) -> None:
        """Write up to one chunk of documents, resending the whole chunk with backoff on connection errors."""
        name = self.alias(kind)
        indices, write_index = self.indices(kind)
        older = [i for i in indices if i != write_index]
        holders = {doc_id: where[0] for doc_id, where in self.locate(kind, (d for d, _ in group), older, with_source=False).items()} if older else {}
        actions: list[dict[str, Any]] = []
        sources: dict[str, dict[str, Any]] = {}
        for doc_id, source in group:
            if op == "create" and doc_id in holders:
                result.already_present += 1
                continue
            sources[doc_id] = source
            index = holders.get(doc_id, name)
            if op == "update":
                actions.append({"_op_type": "update", "_index": index, "_id": doc_id, "doc": source, "doc_as_upsert": True})
            else:
                actions.append({"_op_type": op, "_index": index, "_id": doc_id, "_source": source})
        if not actions:
            return
        outcomes = self._bulk_with_retries(actions)
        for ok, item in outcomes:
            info = next(iter(item.values()))
            if ok:
                result.written += 1
            elif info.get("status") == 409 and op == "create":
                result.already_present += 1
            else:
                error = info.get("error", {})
                reason = error.get("reason", str(error)) if isinstance(error, dict) else str(error)
                result.failed.append({
                    "id": info.get("_id"), "index": info.get("_index"), "status": info.get("status"),
                    "type": error.get("type") if isinstance(error, dict) else None, "reason": reason,
                    "source": sources.get(info.get("_id"), {}),
                })

    def _bulk_with_retries(self, actions: list[dict[str, Any]]) -> list[tuple[bool, dict[str, Any]]]:
        """streaming_bulk over the actions (bounded chunks, 429s retried with backoff), whole again on connection errors.

        Resending is safe because every operation is idempotent: creates of documents that made it the first
        time come back as 409 (already present), index and update write the same content again.
        """
        for attempt in range(self.max_retries + 1):
            try:
                return list(streaming_bulk(
                    self.es, actions,
                    chunk_size=self.chunk_docs, max_chunk_bytes=self.chunk_bytes,
                    max_retries=self.max_retries, initial_backoff=self.initial_backoff, max_backoff=self.max_backoff,
                    raise_on_error=False, raise_on_exception=True,
                ))
            except (ESConnectionError, ConnectionTimeout, ApiError) as exc:
                status = getattr(getattr(exc, "meta", None), "status", None)
                if isinstance(exc, ApiError) and status not in RETRY_STATUSES or attempt == self.max_retries:
                    raise
                delay = min(self.max_backoff, self.initial_backoff * 2**attempt)
                log.warning("bulk write failed (%s); retrying %d action(s) in %.1fs", type(exc).__name__, len(actions), delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _dead_letter(self, kind: str, op: str, result: BulkResult, context: Mapping[str, Any]) -> None:
        """Record every failed item of a write, with its reason and source, in the dead-letter index."""
        extra = {k: v for k, v in context.items() if k in ("run_id", "stage", "at") and v is not None}
        letters = [
            (dead_letter_id(kind, str(f["id"]), op), {
                "target_kind": kind, "target_index": f.get("index"), "doc_id": f["id"], "op": op, "status": f.get("status"),
                "error_type": f.get("type"), "reason": f.get("reason"), "source": f.get("source") or {}, **extra,
            })
            for f in result.failed
        ]
        written = self.write(DEAD_LETTERS, letters, op="index")
        result.dead_lettered = written.written
        for failure in written.failed:
            log.error("dead letter for %s %s not written either: %s", kind, failure.get("id"), failure.get("reason"))
        log.warning("%d %s write(s) failed and went to %s", written.written, kind, self.alias(DEAD_LETTERS))

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
        """One document's source from whichever index of the kind holds it (real time), or None."""
        found = self.locate(kind, [doc_id])
        return found[doc_id][1] if doc_id in found else None

    def get_versioned(self, kind: str, doc_id: str) -> tuple[dict[str, Any], int, int] | None:
        """One document's source with its sequence number and primary term (for conditional updates), or None."""
        try:
            resp = self.es.get(index=self.alias(kind), id=doc_id)
        except NotFoundError:
            return None
        return resp["_source"], int(resp["_seq_no"]), int(resp["_primary_term"])

    def update_if(self, kind: str, doc_id: str, partial: dict[str, Any], seq_no: int, primary_term: int) -> tuple[int, int] | None:
        """Partial update only if the document is unchanged since it was read; None when someone else changed it."""
        try:
            resp = self.es.update(index=self.alias(kind), id=doc_id, doc=partial, if_seq_no=seq_no, if_primary_term=primary_term)
        except ConflictError:
            return None
        return int(resp["_seq_no"]), int(resp["_primary_term"])

    def find(self, kind: str, query: dict[str, Any], size: int = 100, sort: list[Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Documents of a kind matching a query, as (id, source) pairs."""
        resp = self.es.search(index=self.alias(kind), query=query, size=size, sort=sort or ["_doc"])
        return [(hit["_id"], hit["_source"]) for hit in resp["hits"]["hits"]]

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
        """Remove every index, template and policy under this prefix (tests and `akhbar es reset`)."""
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
            if self.capabilities()["ilm"]:
                try:
                    self.es.ilm.delete_lifecycle(name=name)
                except NotFoundError:
                    pass
        self._ready = False


__all__ = [
    "KINDS", "BulkResult", "ConflictError", "IndexError_", "Lifecycle", "Store", "TransportError", "alias", "client_from_settings",
    "load_lifecycle", "template_body",
]
