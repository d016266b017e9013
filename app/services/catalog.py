"""Catalog use cases: read catalog files, import them into the document store, look matters up."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from app.domain.actors import Actor
from app.domain.catalog import CatalogInvalid, CatalogProblem, Matter, validate_catalog
from app.domain.errors import NotFoundError, StaleVersion, ValidationFailed
from app.services.audit import AUDIT, audit_record
from storage.documents import Document, DocumentStore, DuplicateKey, VersionConflict

MATTERS = "matters"
CATALOG_SUFFIXES = (".yaml", ".yml", ".json")
TARGETS = ("citizen", "enterprise")
# Bookkeeping that is not catalog content: the store's keys and the version we assign.
_NOT_CONTENT = frozenset({"_id", "_version", "version"})


@dataclass(frozen=True)
class ImportReport:
    """How many matters an import created, changed (new version) and left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def load_catalog_files(paths: Sequence[Path]) -> list[tuple[str, dict[str, Any]]]:
    """Read each catalog file (a directory means its YAML/JSON files); raise CatalogInvalid."""
    docs, problems = _read_files(paths)
    if problems:
        raise CatalogInvalid(problems)
    return docs


def load_catalog(paths: Sequence[Path]) -> list[Matter]:
    """Read and validate catalog files, reporting unreadable and invalid files together."""
    docs, problems = _read_files(paths)
    matters: list[Matter] = []
    try:
        matters = validate_catalog(docs)
    except CatalogInvalid as exc:
        problems += exc.problems
    if problems:
        raise CatalogInvalid(problems)
    return matters


def _read_files(
    paths: Sequence[Path],
) -> tuple[list[tuple[str, dict[str, Any]]], list[CatalogProblem]]:
    docs: list[tuple[str, dict[str, Any]]] = []
    problems: list[CatalogProblem] = []
    for path in _expand(paths, problems):
        data, problem = _read_one(path)
        if problem is not None:
            problems.append(problem)
        elif data is not None:
            docs.append((str(path), data))
    return docs, problems


def _expand(paths: Sequence[Path], problems: list[CatalogProblem]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p for p in path.iterdir() if p.suffix in CATALOG_SUFFIXES and p.is_file()
            )
        elif path.is_file():
            files.append(path)
        else:
            problems.append(CatalogProblem(str(path), None, "", "文件或目录不存在"))
    unique: dict[Path, Path] = {}
    for f in files:
        unique.setdefault(f.resolve(), f)  # the same file named twice is read once
    return list(unique.values())


def _read_one(path: Path) -> tuple[dict[str, Any] | None, CatalogProblem | None]:
    def problem(field: str, message: str) -> tuple[None, CatalogProblem]:
        return None, CatalogProblem(str(path), None, field, message)

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return problem("", "文件必须是 UTF-8 编码")
    except OSError as exc:
        return problem("", f"无法读取文件：{exc.strerror or exc}")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        return problem(f"line {exc.lineno}, column {exc.colno}", f"JSON 语法错误：{exc.msg}")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        return problem(where, f"YAML 语法错误：{getattr(exc, 'problem', None) or exc}")
    if not isinstance(data, dict):
        return problem("", "文件内容必须是一个事项（键值对映射）")
    return data, None


async def import_catalog(
    store: DocumentStore, matters: list[Matter], *, actor: str, now: datetime
) -> ImportReport:
    """Upsert every matter and audit each change in one transaction: all of it, or none of it."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    codes = [m.code for m in matters]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise ValidationFailed(f"导入的事项编码重复：{'、'.join(repeated)}")
    created = updated = unchanged = 0
    try:
        async with store.transaction() as tx:
            for matter in matters:
                stored = await tx.get(MATTERS, matter.code)
                doc = matter_to_doc(matter)
                if stored is None:
                    await tx.insert(MATTERS, doc)
                    created += 1
                elif _content(stored) == _content(doc):
                    unchanged += 1
                    continue
                else:
                    doc["version"] = int(stored.get("version", 0)) + 1
                    await tx.replace(MATTERS, doc, expected_version=stored["_version"])
                    updated += 1
                record = audit_record(
                    f"matter:{matter.code}",
                    "catalog.import",
                    actor,
                    now,
                    {"version": doc["version"]},
                )
                await tx.insert(AUDIT, record)
    except (DuplicateKey, VersionConflict) as exc:
        raise StaleVersion("事项目录正在被他人同时导入，本次导入未生效，请重试") from exc
    return ImportReport(created=created, updated=updated, unchanged=unchanged)


def _content(doc: Document) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in _NOT_CONTENT}


async def list_matters(
    store: DocumentStore, *, department: str | None = None, target: str | None = None
) -> list[Matter]:
    """Return the published matters, by code, optionally of one department or for one target."""
    if target is not None and target not in TARGETS:
        raise ValidationFailed("办事对象只能是 citizen（个人）或 enterprise（企业）")
    where = {"department": department} if department else None
    matters = [matter_from_doc(d) for d in await store.find(MATTERS, where)]
    if target is not None:
        matters = [m for m in matters if target in m.targets]
    return sorted(matters, key=lambda m: m.code)


async def check_department(store: DocumentStore, department: str) -> None:
    """Refuse, in Chinese, a department code no published matter belongs to (an
    administrator's typo, or a catalog not imported yet)."""
    if await store.count(MATTERS, {"department": department}):
        return
    if not await store.count(MATTERS):
        raise ValidationFailed(
            "事项目录还是空的：请先导入目录（catalog import），演示数据请先启动一次演示服务"
        )
    raise ValidationFailed(f"没有部门代码为 {department} 的事项，请核对部门代码")


def open_to(actor: Actor, matters: list[Matter]) -> list[Matter]:
    """What ``actor`` may apply for: citizen matters for themselves, and the enterprise
    matters that an enterprise they act for has authorised them for."""
    return [
        m
        for m in matters
        if "citizen" in m.targets
        or ("enterprise" in m.targets and bool(actor.enterprises_for(m.code)))
    ]


async def get_matter(store: DocumentStore, code: str) -> Matter:
    """Return the matter published under ``code`` or raise NotFoundError."""
    doc = await store.get(MATTERS, code)
    if doc is None:
        raise NotFoundError("未找到该事项")
    return matter_from_doc(doc)


def matter_to_doc(matter: Matter) -> Document:
    """The stored form of a matter: its JSON dump keyed by ``_id`` = code."""
    return {"_id": matter.code, **matter.model_dump(mode="json")}


# GB/T 36114 elements the catalog files gained in December 2026. A matter imported before reads
# with what the law itself says until the next `catalog import` brings the file's own words.
STORED_BEFORE = {
    "quantity_limit": "以办事指南为准",
    "consultation": ["12345 政务服务便民热线"],
    "complaints": ["12345 政务服务便民热线"],
    # 行政复议法 Art. 24: the people's government at the department's level; 行政诉讼法 Art. 18.
    "remedies": {"review": "本级人民政府", "court": "作出决定的行政机关所在地基层人民法院"},
}


def matter_from_doc(doc: Document) -> Matter:
    """Rebuild a matter from its stored form, ignoring the store's bookkeeping keys."""
    fields = {k: v for k, v in doc.items() if not k.startswith("_")}
    return Matter.model_validate(STORED_BEFORE | fields)


class CatalogCache:
    """The published catalog as this instance last read it, re-read at most every ``ttl`` s.

    Matters change only through an import, so a page or a chat menu may lag one by ``ttl``;
    in exchange, browsing the catalog costs no query and no re-validation.
    """

    def __init__(
        self,
        store: DocumentStore,
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._matters: list[Matter] | None = None
        self._loaded_at = 0.0

    async def matters(self, *, target: str | None = None) -> list[Matter]:
        if self._matters is None or self._clock() - self._loaded_at > self._ttl:
            self._matters = await list_matters(self._store)
            self._loaded_at = self._clock()
        if target is not None and target not in TARGETS:
            raise ValidationFailed("办事对象只能是 citizen（个人）或 enterprise（企业）")
        return [m for m in self._matters if target is None or target in m.targets]

    async def matters_for(self, actor: Actor) -> list[Matter]:
        return open_to(actor, await self.matters())

    async def get(self, code: str) -> Matter:
        for matter in await self.matters():
            if matter.code == code:
                return matter
        return await get_matter(self._store, code)  # imported since the last read


class CatalogService:
    """The published catalog as pages read it: straight from the store, never a lagging copy."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def matters(
        self, *, department: str | None = None, target: str | None = None
    ) -> list[Matter]:
        return await list_matters(self._store, department=department, target=target)

    async def get(self, code: str) -> Matter:
        return await get_matter(self._store, code)
