"""No secret in code or config: a scan of every tracked file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "Slack token": re.compile(r"\bxox[abpr]-[0-9A-Za-z-]{10,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[0-9A-Za-z]{30,}"),
    "Elastic API key header": re.compile(r"ApiKey\s+[A-Za-z0-9+/=]{30,}"),
    "credentials in a URL": re.compile(r"https?://[^/\s:@]+:[^/\s@{$]{4,}@"),
    "assigned secret": re.compile(
        r"""(?i)\b\w*(password|passwd|secret|api_key|apikey|token|fernet_key)\w*\s*[:=]\s*["']?(?!\$\{|\$|<|change-me|changeme|example|none|null|""|''|\s*$)[A-Za-z0-9+/_\-]{12,}"""
    ),
}
SKIP = ("uv.lock", "tests/data/", "config/samples/", "tests/test_secrets.py")


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.splitlines()
    return [ROOT / f for f in out if not f.startswith(SKIP)]


def test_no_secrets_in_tracked_files() -> None:
    files = tracked_files()
    assert len(files) > 50
    found = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for name, pattern in PATTERNS.items():
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(ROOT)}: {name}: {match.group(0)[:60]}")
    assert found == []


def test_the_scan_catches_what_it_claims() -> None:
    samples = {
        "private key": "-----BEGIN RSA PRIVATE KEY-----",
        "AWS access key": "AKIAABCDEFGHIJKLMNOP",
        "credentials in a URL": "https://elastic:hunter2secret@es.example.org:9200",
        "assigned secret": "ELASTIC_PASSWORD=Sup3rS3cretPassw0rd",
    }
    for name, text in samples.items():
        assert PATTERNS[name].search(text), name
    assert not PATTERNS["assigned secret"].search("ELASTIC_PASSWORD=${ELASTIC_PASSWORD:?set it}")
