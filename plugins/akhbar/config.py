"""Settings from the environment and the feeds file, read once per process."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "config"
DEFAULT_ES_URL = "http://127.0.0.1:9200"


class ConfigError(ValueError):
    """A configuration file or variable is invalid."""


@dataclass(frozen=True)
class Feed:
    """One outlet's feed as declared in the feeds file."""

    name: str
    url: str
    outlet: str = ""
    country: str = ""


@dataclass(frozen=True)
class FeedsFile:
    """The parsed feeds file."""

    feeds: tuple[Feed, ...]
    allow_private_networks: Any = False  # bool, or a tuple of allowed ip networks
    path: Path | None = None


@dataclass(frozen=True)
class Settings:
    """Environment-driven settings; `from_env` is the only constructor callers need."""

    es_url: str = DEFAULT_ES_URL
    es_api_key: str | None = None
    es_user: str | None = None
    es_password: str | None = None
    es_ca_certs: str | None = None
    es_external: bool = False
    index_prefix: str = "akhbar"
    feeds_path: Path = CONFIG_DIR / "feeds.yaml"
    staging_url: str = ""
    tunables: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from AKHBAR_* variables."""
        env = dict(os.environ if env is None else env)
        prefix = env.get("AKHBAR_INDEX_PREFIX", "akhbar").strip()
        if not prefix or prefix != prefix.lower() or any(c in prefix for c in ' ,"*\\/<>|?#:'):
            raise ConfigError(f"AKHBAR_INDEX_PREFIX {prefix!r} is not a valid lower-case index name prefix")
        staging = env.get("AKHBAR_STAGING_URL") or str(ROOT / ".cache" / "staging")
        return cls(
            es_url=env.get("AKHBAR_ES_URL") or DEFAULT_ES_URL,
            es_api_key=env.get("AKHBAR_ES_API_KEY") or None,
            es_user=env.get("AKHBAR_ES_USER") or None,
            es_password=env.get("AKHBAR_ES_PASSWORD") or None,
            es_ca_certs=env.get("AKHBAR_ES_CA_CERTS") or None,
            es_external=bool(env.get("AKHBAR_ES_URL")),
            index_prefix=prefix,
            feeds_path=Path(env.get("AKHBAR_FEEDS") or CONFIG_DIR / "feeds.yaml"),
            staging_url=staging,
            tunables=_with_env_overrides(load_tunables(), env),
        )


def _with_env_overrides(tunables: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """Tunables with AKHBAR_CONTACT (the User-Agent's contact) and AKHBAR_HOST_DELAY_S (per-host delay) applied when set."""
    contact = env.get("AKHBAR_CONTACT", "").strip()
    if contact:
        tunables = {**tunables, "fetch": {**tunables.get("fetch", {}), "contact": contact}}
    delay = env.get("AKHBAR_HOST_DELAY_S")
    if not delay:
        return tunables
    try:
        seconds = float(delay)
    except ValueError as exc:
        raise ConfigError(f"AKHBAR_HOST_DELAY_S {delay!r} is not a number of seconds") from exc
    return {**tunables, "polite": {**tunables.get("polite", {}), "host_delay_s": seconds}}


def load_tunables() -> dict[str, Any]:
    """Load the tunables (AKHBAR_TUNABLES or config/tunables.yaml), with AKHBAR_CONTACT and AKHBAR_HOST_DELAY_S applied when set."""
    return _with_env_overrides(_tunables_at(os.environ.get("AKHBAR_TUNABLES") or str(CONFIG_DIR / "tunables.yaml")), dict(os.environ))


@lru_cache(maxsize=4)
def _tunables_at(path: str) -> dict[str, Any]:
    """Read a tunables file once per process."""
    return _read_yaml(Path(path))


def _read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping or raise ConfigError naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def load_feeds(path: Path | str) -> FeedsFile:
    """Parse and validate a feeds file."""
    path = Path(path)
    data = _read_yaml(path)
    raw = data.get("feeds")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{path}: 'feeds' must be a non-empty list")
    feeds: list[Feed] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("name") or not item.get("url"):
            raise ConfigError(f"{path}: feed #{i + 1} needs 'name' and 'url'")
        name = str(item["name"])
        if name in seen:
            raise ConfigError(f"{path}: duplicate feed name {name!r}")
        seen.add(name)
        feeds.append(
            Feed(
                name=name,
                url=str(item["url"]),
                outlet=str(item.get("outlet") or name),
                country=str(item.get("country") or ""),
            )
        )
    from akhbar.fetch import parse_networks

    try:
        allow = parse_networks(data.get("allow_private_networks", False))
    except ValueError as exc:
        raise ConfigError(f"{path}: 'allow_private_networks' {exc}") from exc
    return FeedsFile(feeds=tuple(feeds), allow_private_networks=allow, path=path)
