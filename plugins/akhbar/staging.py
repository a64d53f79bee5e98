"""Stage batches: gzip JSON Lines under a base path (a local directory, or object storage in a cluster)."""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from upath import UPath

_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]+")


def base_path(url: str) -> UPath:
    """The staging root for a URL or a local path (anything fsspec can open: file://, s3://, gs://…)."""
    if "://" not in url:
        Path(url).mkdir(parents=True, exist_ok=True)
        return UPath(Path(url).resolve())
    return UPath(url)


def safe_name(run_id: str) -> str:
    """A run id made safe as one path segment."""
    return _UNSAFE.sub("_", run_id).strip("_") or "run"


def write_jsonl(path: UPath, records: Iterable[dict[str, Any]]) -> int:
    """Write records as gzip JSON Lines atomically enough for a retry (whole file per call); return the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    count = 0
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=1) as gz:  # staging favours speed over size
        for record in records:
            gz.write(json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
            count += 1
    path.write_bytes(buf.getvalue())
    return count


def read_jsonl(path: UPath | str) -> Iterator[dict[str, Any]]:
    """Read records written by write_jsonl."""
    path = path if isinstance(path, UPath) else UPath(path)
    with gzip.open(io.BytesIO(path.read_bytes()), "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def write_json(path: UPath, obj: Any) -> None:
    """Write a small JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8")


def read_json(path: UPath) -> Any:
    """Read a small JSON document."""
    return json.loads(path.read_text(encoding="utf-8"))
