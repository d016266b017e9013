"""Fixtures shared by service and HTTP tests: settings on a temp dir, a controllable clock.

With ``BUCHUMEN_MONGODB_URI`` set, the ``settings`` of every app-level test keep their documents
in MongoDB, a database of their own dropped afterwards, instead of SQLite.
"""

from __future__ import annotations

import io
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from hypothesis import settings as hypothesis_settings
from pymongo import MongoClient

from app.logs import configure_logging
from app.settings import Settings, load_settings

# Property tests check behaviour, never speed (speed is for the benchmarks): no per-example
# deadline, so a machine busy with other work does not fail them.
hypothesis_settings.register_profile("buchumen", deadline=None)
hypothesis_settings.load_profile("buchumen")


def pytest_report_header() -> list[str]:
    """Say once which optional adapters run, instead of one skip line per test."""
    lines = []
    if os.environ.get("BUCHUMEN_MONGODB_URI"):
        lines.append("app-level tests: documents in MongoDB (BUCHUMEN_MONGODB_URI), not SQLite")
    for variable, what in (
        ("BUCHUMEN_MONGODB_URI", "MongoDB"),
        ("BUCHUMEN_MINIO_ENDPOINT", "real MinIO (moto's S3 always runs)"),
    ):
        state = "running" if os.environ.get(variable) else f"skipped (set {variable} to run)"
        lines.append(f"{what} contract tests: {state}")
    return lines


@dataclass
class Clock:
    """A clock the test moves by hand; starts on a Monday morning, China time."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 2, 1, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    # Port 0: the demo WeChat simulator takes any free port, so parallel tests never collide.
    uri = os.environ.get("BUCHUMEN_MONGODB_URI")
    if not uri:
        yield load_settings({}, demo=True, data_dir=tmp_path / "var", wechat_simulator_port=0)
        return
    database = f"buchumen_test_{uuid.uuid4().hex[:12]}"
    yield load_settings(
        {},
        demo=True,
        data_dir=tmp_path / "var",
        wechat_simulator_port=0,
        document_store="mongodb",
        mongodb_uri=uri,
        mongodb_database=database,
    )
    client: MongoClient[dict[str, object]] = MongoClient(uri)
    try:
        client.drop_database(database)
    finally:
        client.close()


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    """What the service logs, as JSON lines, configured as `serve` configures it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging("INFO", "json", stream=buffer)
    yield buffer
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)
