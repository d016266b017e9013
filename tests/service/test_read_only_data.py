"""Starting on a data directory that cannot be written (a read-only mount) says so in one line
and exits, instead of a traceback from deep inside SQLite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import unused_port

ROOT = Path(__file__).resolve().parents[2]


def read_only(
    directory: Path, command: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` where ``directory`` is a read-only mount (a user and mount namespace of
    its own, so no root is needed and nothing outside changes)."""
    where = str(directory)
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    unshare = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, where]
    return subprocess.run(  # noqa: S603 - our own command lines, nothing from outside
        [*unshare, *command],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def namespaces(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to mount a read-only directory")
    tried = read_only(probe, ["touch", str(probe / "x")], dict(os.environ))
    if "Read-only file system" not in tried.stderr:
        pytest.skip(f"cannot mount a read-only directory here: {tried.stderr.strip()[:200]}")


def test_starting_on_a_read_only_data_directory_is_one_clear_line(
    tmp_path: Path, namespaces: None
) -> None:
    data = tmp_path / "var"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCHUMEN_")}
    env |= {
        "BUCHUMEN_DATA_DIR": str(data),
        "BUCHUMEN_PORT": str(unused_port()),
        "BUCHUMEN_JWT_SECRET": "x" * 40,
        "BUCHUMEN_WECHAT_TOKEN": "token",
        "BUCHUMEN_WECHAT_ENCODING_AES_KEY": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
        "BUCHUMEN_WECHAT_APPID": "wx5f3e9b1c7a2d4e60",
        "BUCHUMEN_WECHAT_APPSECRET": "0f6b7c3d9e1a4b5c8d2e7f0a1b3c5d7e",
        "COLUMNS": "80",  # a narrow terminal: the line must not be cut in two
    }
    done = read_only(data, [sys.executable, "-m", "app.cli", "serve"], env)

    said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 1
    assert len(said) == 1, said
    assert said[0].startswith("cannot start: cannot write to")
    assert str(data) in said[0] and "Read-only file system" in said[0]
    assert "BUCHUMEN_DATA_DIR" in said[0]
