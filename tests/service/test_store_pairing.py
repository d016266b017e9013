"""Instances on one document store must share one object store: an instance started with its
own (another machine's directory, another bucket) is refused before it serves anything."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import unused_port

from storage.files import FileObjectStore
from storage.pairing import StoresNotPaired, check_pairing
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

ROOT = Path(__file__).resolve().parents[2]


def objects(directory: Path) -> FileObjectStore:
    return FileObjectStore(directory, url_secret=b"k" * 32, base_url="http://x", clock=Clock())


async def test_the_first_start_pairs_the_stores_and_another_object_store_is_refused(
    store: SqliteDocumentStore, tmp_path: Path
) -> None:
    shared = objects(tmp_path / "shared")
    await check_pairing(store, shared)
    await check_pairing(store, objects(tmp_path / "shared"))  # a second instance, same store
    with pytest.raises(StoresNotPaired, match="same shared object store"):
        await check_pairing(store, objects(tmp_path / "own"), wait=0.2)  # an empty directory
    other_db = SqliteDocumentStore(tmp_path / "other.sqlite3")
    await other_db.open()
    try:
        await check_pairing(other_db, objects(tmp_path / "theirs"))
        with pytest.raises(StoresNotPaired, match="its mark"):  # a store paired elsewhere
            await check_pairing(store, objects(tmp_path / "theirs"))
    finally:
        await other_db.close()


async def test_two_instances_starting_together_for_the_first_time_agree(
    store: SqliteDocumentStore, tmp_path: Path
) -> None:
    second = SqliteDocumentStore(tmp_path / "s.sqlite3")  # the fixture's database
    await second.open()
    try:
        await asyncio.gather(
            check_pairing(store, objects(tmp_path / "shared")),
            check_pairing(second, objects(tmp_path / "shared")),
        )
    finally:
        await second.close()


def test_serve_with_an_object_store_of_its_own_is_one_clear_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCHUMEN_")}
    env |= {
        "BUCHUMEN_DATA_DIR": str(tmp_path / "var"),
        "BUCHUMEN_JWT_SECRET": "x" * 40,
        "BUCHUMEN_WECHAT_TOKEN": "token",
        "BUCHUMEN_WECHAT_ENCODING_AES_KEY": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
        "BUCHUMEN_WECHAT_APPID": "wx5f3e9b1c7a2d4e60",
        "BUCHUMEN_WECHAT_APPSECRET": "0f6b7c3d9e1a4b5c8d2e7f0a1b3c5d7e",
        "COLUMNS": "80",
    }

    async def pair() -> None:  # the first instance has run on this database and its objects
        (tmp_path / "var").mkdir()
        db = SqliteDocumentStore(tmp_path / "var" / "buchumen.sqlite3")
        await db.open()
        await check_pairing(db, objects(tmp_path / "var" / "objects"))
        await db.close()

    asyncio.run(pair())
    env |= {
        "BUCHUMEN_OBJECTS_DIR": str(tmp_path / "elsewhere"),
        "BUCHUMEN_PORT": str(unused_port()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 1, said
    assert said[-1].startswith("cannot start: the object store is not the one"), said
