"""Service tests run on the real embedded store, demo catalog and accounts loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.sqlite import SqliteDocumentStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteDocumentStore]:
    store = SqliteDocumentStore(tmp_path / "s.sqlite3")
    await store.open()
    yield store
    await store.close()
