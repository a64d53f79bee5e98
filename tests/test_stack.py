"""The production compose file validates offline (no Docker engine runs here)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

DOCKER = Path(__file__).resolve().parents[1] / "docker"


def test_compose_file_validates_offline() -> None:
    proc = subprocess.run(["bash", str(DOCKER / "validate.sh")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


_ASSIGN = re.compile(r"^\s*-?\s*([A-Za-z0-9_]*(?:PASSWORD|API_KEY|SECRET|FERNET)[A-Za-z0-9_]*)\s*[:=]\s*(.*)$")


def test_no_literal_secrets_in_compose() -> None:
    for line in (DOCKER / "compose.yaml").read_text(encoding="utf-8").splitlines():
        match = _ASSIGN.match(line)
        if match and not line.lstrip().startswith("#"):
            value = match.group(2).strip().strip("'\"")
            assert value == "" or value.startswith("${") or value.startswith("/"), f"literal secret: {line.strip()}"
