"""Dependencies point one way (docs/architecture.md); this reads every import to keep it so."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("app", "bot", "payments", "logistics", "ocr", "storage")
# Concrete adapters and simulators: only the wiring (the composition root, its typed keys, the
# CLI and the benchmarks it serves) may import them; everything else meets a port.
ADAPTERS = (
    "storage.sqlite",
    "storage.mongo",
    "storage.files",
    "storage.minio",
    "payments.alipay",
    "payments.simulator",
    "logistics.sf",
    "logistics.simulator",
    "ocr.rapid",
    "ocr.tesseract",
    "ocr.pool",
    "ocr.precheck",
    "app.realname.tencent",
    "app.realname.simulator",
    "app.realname.demo",
    "bot.simulator",
)
WIRING = ("app.main", "app.keys", "app.cli", "app.bench", "app.wiring")
# What the domain must never touch: it is rules over values, testable without a world.
IO_LIBRARIES = ("aiohttp", "aiosqlite", "sqlite3", "pymongo", "minio", "PIL", "pytesseract",
                "socket", "asyncio", "jinja2", "aiohttp_jinja2", "wechatpy", "structlog",
                "requests", "httpx", "subprocess", "os", "pathlib")  # fmt: skip


def all_imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def imports_of(path: Path) -> set[str]:
    return {name for name in all_imports_of(path) if name.split(".")[0] in OURS}


def modules(package: str) -> list[tuple[str, Path]]:
    base = ROOT / package.replace(".", "/")
    return [
        (".".join(p.relative_to(ROOT).with_suffix("").parts), p) for p in sorted(base.rglob("*.py"))
    ]


@pytest.mark.parametrize(("module", "path"), modules("app.domain"))
def test_the_domain_imports_nothing_of_ours_but_itself(module: str, path: Path) -> None:
    assert {i for i in imports_of(path) if not i.startswith("app.domain")} == set(), module


@pytest.mark.parametrize(("module", "path"), modules("app.services"))
def test_services_use_the_domain_and_ports_only(module: str, path: Path) -> None:
    allowed = (
        "app.domain",
        "app.services",
        "storage.documents",
        "storage.objects",
        "storage.outbox",
        "storage.purges",  # deletes over the document port that tolerate a lost race
        "storage.schema",
        "ocr.intake",  # what a photo is, decided once for upload and pre-check alike
        "ocr.metadata",  # location stripped from an upload as it streams to the store (PIPL)
        "ocr.rules",  # the pre-check's plain value types (expectation in, verdict out)
        "payments.port",  # the payment port
        "payments.notifications",  # a provider's notice checked against our order: pure
        "logistics.port",  # the courier port and its value types
        "logistics.pickup_codes",  # the pure hand-over code codec (HMAC, no I/O)
        "app.realname.port",  # the real-name verification port and its value types
    )
    bad = {i for i in imports_of(path) if not i.startswith(allowed)}
    assert bad == set(), module


@pytest.mark.parametrize("package", ["storage", "ocr", "payments", "logistics"])
def test_adapter_packages_never_import_app_or_bot(package: str) -> None:
    for module, path in modules(package):
        bad = {i for i in imports_of(path) if i.split(".")[0] in {"app", "bot"}}
        assert bad == set(), module


def test_the_realname_adapter_package_imports_nothing_of_the_app() -> None:
    for module, path in modules("app.realname"):
        bad = {i for i in imports_of(path) if i.split(".")[0] in {"app", "bot"}}
        bad = {i for i in bad if not i.startswith("app.realname")}
        assert bad == set(), module


def test_only_the_wiring_imports_concrete_adapters_and_simulators() -> None:
    for package in ("app", "bot"):
        for module, path in modules(package):
            if module.startswith(WIRING) or module.startswith(ADAPTERS):
                continue  # the wiring, or an adapter's own modules
            bad = {i for i in imports_of(path) if i.startswith(ADAPTERS)}
            assert bad == set(), module


@pytest.mark.parametrize(("module", "path"), modules("app.domain"))
def test_the_domain_imports_no_io_library(module: str, path: Path) -> None:
    bad = {i for i in all_imports_of(path) if i.split(".")[0] in IO_LIBRARIES}
    assert bad == set(), module


def test_pages_and_the_api_never_import_the_chat_adapter() -> None:
    for package in ("app.web", "app.api"):
        for module, path in modules(package):
            assert {i for i in imports_of(path) if i.split(".")[0] == "bot"} == set(), module
