"""The README's run command, for real: every provider's events reach the public topic, none doubled."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_demo_shows_every_provider_flowing_into_the_public_topic() -> None:
    # Its own state dir: the demo starts (and stops) its own Kafka, PostgreSQL and Dovecot. Not pytest's tmp_path:
    # as root, PostgreSQL runs as `postgres`, which cannot enter pytest's 0700 folders.
    base = Path(tempfile.mkdtemp(prefix="regpipe-demo-"))
    base.chmod(0o755)
    state = base / "demo"
    result = subprocess.run(
        [
            sys.executable, "-m", "regpipe.demo.cli",
            "--state-dir", str(state), "--duration", "60", "--tick", "2", "--per-tick", "3",
            "--require-all-sources",
        ],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    shutil.rmtree(base, ignore_errors=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    for source in ("most", "coldmail", "opensrs", "opusdns"):
        assert any(line.split()[2:3] == [source] for line in output.splitlines()), (source, output[-3000:])
    assert "ids published twice: 0" in output
    # the aggregator's read model fills up (its row counts in the summaries; the console may wrap the line)
    domains = [int(n) for n in re.findall(r"read model:[^;]*?domains=(\d+)", output, flags=re.S)]
    assert domains, output[-3000:]
    assert max(domains) > 0, output[-3000:]
