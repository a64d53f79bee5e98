"""A local single-node Elasticsearch for development and tests, run from Maven Central's integ-test zip."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from akhbar.config import ROOT, Settings

log = logging.getLogger(__name__)

ES_VERSION = "8.19.21"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
ES_USER = "akhbar-es"
HEAP = "1g"
JDK_MAJORS = (17, 21)  # Elasticsearch 8.19 supports these LTS releases
CACHE = ROOT / ".cache"


class LocalESError(RuntimeError):
    """The local node could not be fetched, started or stopped."""


@dataclass(frozen=True)
class NodePaths:
    """Where the local node lives."""

    home: Path

    @property
    def dist(self) -> Path:
        return self.home / f"elasticsearch-{ES_VERSION}"

    @property
    def conf(self) -> Path:
        return self.home / "config"

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def pidfile(self) -> Path:
        return self.home / "es.pid"


def _is_root() -> bool:
    """True when running as root, where Elasticsearch refuses to start."""
    return os.geteuid() == 0


def _as_es_user(cmd: list[str]) -> list[str]:
    """Wrap a command so it runs as the unprivileged node user when we are root."""
    return ["runuser", "-u", ES_USER, "--", *cmd] if _is_root() else cmd


def ensure_user() -> None:
    """Create the unprivileged system user that owns and runs the node (root only)."""
    if not _is_root():
        return
    if subprocess.run(["id", "-u", ES_USER], capture_output=True).returncode == 0:
        return
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER],
        check=True,
    )
    log.info("created system user %s", ES_USER)


def node_paths() -> NodePaths:
    """Pick the node home: the checkout's cache when the node user can reach it, else /var/tmp."""
    home = CACHE / "es"
    if _is_root():
        probe = subprocess.run(_as_es_user(["test", "-x", str(CACHE.parent)]), capture_output=True)
        if probe.returncode != 0:
            digest = hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
            home = Path("/var/tmp") / f"akhbar-es-{digest}"
    return NodePaths(home)


def find_java_home() -> Path:
    """Find a JDK the pinned Elasticsearch supports (ES_JAVA_HOME wins)."""
    if os.environ.get("ES_JAVA_HOME"):
        return Path(os.environ["ES_JAVA_HOME"])
    jvm = Path("/usr/lib/jvm")
    candidates = sorted(p for p in jvm.iterdir() if (p / "bin" / "java").exists()) if jvm.exists() else []
    for major in JDK_MAJORS:
        for cand in candidates:
            if f"-{major}-" in cand.name or cand.name.endswith(f"-{major}"):
                return cand
    raise LocalESError(f"no JDK {' or '.join(map(str, JDK_MAJORS))} under /usr/lib/jvm; set ES_JAVA_HOME")


def download() -> Path:
    """Fetch the distribution zip once into the git-ignored cache, via Maven."""
    target = CACHE / "downloads" / f"elasticsearch-{ES_VERSION}.zip"
    if target.exists():
        return target
    if not shutil.which("mvn"):
        raise LocalESError("mvn is needed once to fetch Elasticsearch from Maven Central")
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("fetching %s", ES_ARTIFACT)
    proc = subprocess.run(
        ["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={ES_ARTIFACT}", f"-DoutputDirectory={target.parent}"],
        capture_output=True,
        text=True,
        cwd=target.parent,
    )
    if proc.returncode != 0 or not target.exists():
        raise LocalESError(f"mvn could not fetch {ES_ARTIFACT}: {proc.stdout[-500:]}{proc.stderr[-500:]}")
    return target


def install(paths: NodePaths) -> None:
    """Unpack the distribution and write the node's own config (security set explicitly)."""
    if not (paths.dist / "bin" / "elasticsearch").exists():
        archive = download()
        paths.home.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                extracted = Path(zf.extract(info, paths.home))
                mode = info.external_attr >> 16
                if mode:
                    extracted.chmod(mode & 0o777)
    paths.conf.mkdir(parents=True, exist_ok=True)
    for name in ("jvm.options", "log4j2.properties"):
        shutil.copy2(paths.dist / "config" / name, paths.conf / name)
    (paths.conf / "jvm.options.d").mkdir(exist_ok=True)
    (paths.conf / "jvm.options.d" / "heap.options").write_text(f"-Xms{HEAP}\n-Xmx{HEAP}\n")
    paths.data.mkdir(exist_ok=True)
    paths.logs.mkdir(exist_ok=True)


def _node_yaml(paths: NodePaths, port: int) -> str:
    """The elasticsearch.yml of the local node."""
    return "\n".join(
        [
            "# Written by `akhbar es start`; local development and test node only.",
            "cluster.name: akhbar-local",
            "node.name: akhbar-local-1",
            "discovery.type: single-node",
            "network.host: 127.0.0.1",
            f"http.port: {port}",
            f"path.data: {paths.data}",
            f"path.logs: {paths.logs}",
            "# Bound to loopback only; security is switched off on purpose rather than auto-configured.",
            "# Clusters reached through AKHBAR_ES_URL use TLS and API keys (docs/deploy.md).",
            "xpack.security.enabled: false",
            "cluster.routing.allocation.disk.threshold_enabled: false",
            "",
        ]
    )


def local_port(settings: Settings) -> int:
    """The HTTP port of the local node, taken from AKHBAR_ES_URL's default form."""
    return urlparse(settings.es_url).port or 9200


def ping(url: str, timeout: float = 2.0) -> bool:
    """True when an Elasticsearch node answers at url."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/_cluster/health", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _read_pid(paths: NodePaths) -> int | None:
    """PID of the running node, or None."""
    try:
        pid = int(paths.pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def start(settings: Settings, wait_s: float = 180.0) -> str:
    """Start the local node unless one answers already; return a one-line status."""
    if settings.es_external:
        return f"AKHBAR_ES_URL is set: using {settings.es_url}, nothing started"
    if ping(settings.es_url):
        return f"Elasticsearch already answers at {settings.es_url}"
    ensure_user()
    paths = node_paths()
    install(paths)
    (paths.conf / "elasticsearch.yml").write_text(_node_yaml(paths, local_port(settings)))
    node_env = {
        "ES_PATH_CONF": str(paths.conf),
        "ES_JAVA_HOME": str(find_java_home()),
        "ES_TMPDIR": str(paths.home / "tmp"),
    }
    (paths.home / "tmp").mkdir(exist_ok=True)
    if _is_root():
        subprocess.run(["chown", "-R", f"{ES_USER}:", str(paths.home)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "ES_JAVA_OPTS"} | node_env
    cmd = _as_es_user(["env", *(f"{k}={v}" for k, v in node_env.items()), str(paths.dist / "bin" / "elasticsearch"), "-d", "-p", str(paths.pidfile)])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=wait_s)
    if proc.returncode != 0:
        raise LocalESError(f"elasticsearch failed to start (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-800:]}")
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if ping(settings.es_url):
            return f"Elasticsearch {ES_VERSION} started at {settings.es_url} (home {paths.home})"
        time.sleep(0.5)
    raise LocalESError(f"node did not answer within {wait_s:.0f}s; see {paths.logs}")


def stop(settings: Settings, wait_s: float = 60.0) -> str:
    """Stop the local node by its PID."""
    if settings.es_external:
        return "AKHBAR_ES_URL is set: nothing to stop"
    paths = node_paths()
    pid = _read_pid(paths)
    if pid is None:
        return "no local Elasticsearch is running"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            paths.pidfile.unlink(missing_ok=True)
            return f"stopped Elasticsearch (pid {pid})"
        time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    paths.pidfile.unlink(missing_ok=True)
    return f"killed Elasticsearch (pid {pid}) after {wait_s:.0f}s"


def status(settings: Settings) -> tuple[bool, str]:
    """Whether a node answers at the configured URL, with a one-line description."""
    if settings.es_external:
        from akhbar.index import client_from_settings

        try:
            info = client_from_settings(settings).info()
            return True, f"{settings.es_url}: Elasticsearch {info['version']['number']} answers"
        except Exception as exc:  # noqa: BLE001 - any failure means "not answering"
            return False, f"{settings.es_url}: no answer ({type(exc).__name__}: {exc})"
    if ping(settings.es_url):
        pid = _read_pid(node_paths())
        return True, f"{settings.es_url}: answers" + (f" (local node pid {pid})" if pid else "")
    return False, f"{settings.es_url}: no answer"
