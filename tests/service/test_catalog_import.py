"""Importing the catalog into the real SQLite document store: idempotent, versioned, atomic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.domain.catalog import CatalogInvalid, Matter
from app.domain.errors import NotFoundError, StaleVersion, ValidationFailed
from app.services import catalog
from app.settings import Settings
from app.wiring.demo import load_demo_data
from storage.documents import (
    Document,
    DocumentStore,
    DuplicateKey,
    Transaction,
)
from storage.sqlite import SqliteDocumentStore
from tests.stores import DelegatingStore

CATALOG_DIR = Path(__file__).resolve().parents[2] / "app" / "catalog"
NOW = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
LATER = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


@pytest.fixture
def matters() -> list[Matter]:
    return catalog.load_catalog([CATALOG_DIR])


class FailingStore(DelegatingStore):
    """The real store, except that inserting matter ``fail_on`` collides as if someone beat us."""

    def __init__(self, inner: DocumentStore, fail_on: str) -> None:
        super().__init__(inner)
        self._fail_on = fail_on

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.inner.transaction() as tx:
            yield FailingTransaction(tx, self._fail_on)


class FailingTransaction(Transaction):
    def __init__(self, inner: Transaction, fail_on: str) -> None:
        self._inner, self._fail_on = inner, fail_on

    async def get(self, collection: str, doc_id: str) -> Document | None:
        return await self._inner.get(collection, doc_id)

    async def insert(self, collection: str, doc: Document) -> Document:
        if collection == "matters" and doc["_id"] == self._fail_on:
            raise DuplicateKey(f"matters: {doc['_id']} already exists")
        return await self._inner.insert(collection, doc)

    async def replace(self, collection: str, doc: Document, *, expected_version: int) -> Document:
        return await self._inner.replace(collection, doc, expected_version=expected_version)

    async def delete(
        self, collection: str, doc_id: str, *, expected_version: int | None = None
    ) -> None:
        await self._inner.delete(collection, doc_id, expected_version=expected_version)


async def test_importing_the_catalog_twice_changes_nothing_the_second_time(
    store: DocumentStore, matters: list[Matter]
) -> None:
    first = await catalog.import_catalog(store, matters, actor="admin:1", now=NOW)
    second = await catalog.import_catalog(store, matters, actor="admin:1", now=LATER)

    assert (first.created, first.updated, first.unchanged) == (len(matters), 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, len(matters))
    assert await store.count("matters") == len(matters)
    assert await store.count("audit") == len(matters)
    assert all(m.version == 1 for m in await catalog.list_matters(store))


async def test_a_changed_matter_gets_the_next_version_and_an_audit_record(
    store: DocumentStore, matters: list[Matter]
) -> None:
    await catalog.import_catalog(store, matters, actor="admin:1", now=NOW)
    edited = matters[0].model_copy(update={"committed_limit_days": 0, "kind": "immediate"})

    report = await catalog.import_catalog(store, [edited, *matters[1:]], actor="admin:2", now=LATER)

    assert (report.created, report.updated, report.unchanged) == (0, 1, len(matters) - 1)
    stored = await catalog.get_matter(store, edited.code)
    assert (stored.version, stored.kind) == (2, "immediate")
    audits = await store.find("audit", {"subject": f"matter:{edited.code}"}, sort=[("at", 1)])
    assert [(a["action"], a["actor"], a["detail"]) for a in audits] == [
        ("catalog.import", "admin:1", {"version": 1}),
        ("catalog.import", "admin:2", {"version": 2}),
    ]
    assert audits[1]["at"] == LATER.isoformat()


async def test_a_failure_halfway_through_the_first_import_leaves_nothing_imported(
    store: DocumentStore, matters: list[Matter]
) -> None:
    failing = FailingStore(store, fail_on=matters[3].code)

    with pytest.raises(StaleVersion):
        await catalog.import_catalog(failing, matters, actor="admin:1", now=NOW)

    assert await store.count("matters") == 0
    assert await store.count("audit") == 0


async def test_a_failure_halfway_through_a_reimport_keeps_the_previous_catalog(
    store: DocumentStore, matters: list[Matter]
) -> None:
    await catalog.import_catalog(store, matters[:2], actor="admin:1", now=NOW)
    edited = matters[0].model_copy(update={"result": "新版证照"})
    failing = FailingStore(store, fail_on=matters[4].code)

    with pytest.raises(StaleVersion):
        await catalog.import_catalog(failing, [edited, *matters[1:]], actor="admin:2", now=LATER)

    assert await store.count("matters") == 2
    assert await store.count("audit") == 2
    assert (await catalog.get_matter(store, edited.code)) == matters[0]


async def test_the_same_code_twice_in_one_import_is_refused_before_writing(
    store: DocumentStore, matters: list[Matter]
) -> None:
    with pytest.raises(ValidationFailed, match=matters[0].code):
        await catalog.import_catalog(store, [matters[0], matters[0]], actor="admin:1", now=NOW)

    assert await store.count("matters") == 0


async def test_matters_are_listed_by_department_and_by_target(
    store: DocumentStore, matters: list[Matter]
) -> None:
    await catalog.import_catalog(store, matters, actor="admin:1", now=NOW)

    everything = await catalog.list_matters(store)
    scjg = await catalog.list_matters(store, department="scjg")
    for_enterprises = await catalog.list_matters(store, target="enterprise")

    assert [m.code for m in everything] == sorted(m.code for m in matters)
    assert scjg and all(m.department == "scjg" for m in scjg)
    assert len(scjg) == sum(m.department == "scjg" for m in matters)
    assert for_enterprises and all("enterprise" in m.targets for m in for_enterprises)
    assert await catalog.list_matters(store, department="nobody") == []
    with pytest.raises(ValidationFailed):
        await catalog.list_matters(store, target="tourist")


async def test_a_stored_matter_reads_back_equal_and_a_missing_one_is_not_found(
    store: DocumentStore, matters: list[Matter]
) -> None:
    await catalog.import_catalog(store, matters, actor="admin:1", now=NOW)

    assert await catalog.get_matter(store, matters[2].code) == matters[2]
    with pytest.raises(NotFoundError, match="未找到该事项"):
        await catalog.get_matter(store, "11350100MB03175262-XK-99999")


def test_a_matter_survives_the_round_trip_through_its_document_form(
    matters: list[Matter],
) -> None:
    for m in matters:
        doc = catalog.matter_to_doc(m)
        assert doc["_id"] == m.code and doc["department"] == m.department
        assert catalog.matter_from_doc({**doc, "_version": 7}) == m


def test_a_directory_of_catalog_files_loads_in_name_order(tmp_path: Path) -> None:
    for f in sorted(CATALOG_DIR.glob("*.yaml"))[:2]:
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "README.txt").write_text("not a catalog file", encoding="utf-8")

    docs = catalog.load_catalog_files([tmp_path])

    assert [Path(source).name for source, _ in docs] == sorted(
        f.name for f in CATALOG_DIR.glob("*.yaml")
    )[:2]


def test_a_syntax_error_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("code: X-1\nname: [未闭合\nkind: promised\n", encoding="utf-8")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"code": "X-1",\n "name": }', encoding="utf-8")

    with pytest.raises(CatalogInvalid) as caught:
        catalog.load_catalog_files([broken, bad_json, tmp_path / "missing.yaml"])

    found = {p.file: p for p in caught.value.problems}
    assert set(found) == {str(broken), str(bad_json), str(tmp_path / "missing.yaml")}
    assert found[str(broken)].field.startswith("line ")
    assert "YAML 语法错误" in found[str(broken)].message
    assert found[str(bad_json)].field == "line 2, column 10"


def test_unreadable_and_invalid_files_are_reported_together(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("- 不是映射\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("code: 11350100MB03175262-XK-1\n", encoding="utf-8")

    with pytest.raises(CatalogInvalid) as caught:
        catalog.load_catalog([tmp_path])

    files = {Path(p.file).name for p in caught.value.problems}
    assert files == {"a.yaml", "b.yaml"}


async def test_a_matter_stored_before_the_new_guide_elements_reads_with_the_laws_remedies(
    store: DocumentStore, matters: list[Matter]
) -> None:
    old = catalog.matter_to_doc(matters[0])
    for element in ("quantity_limit", "consultation", "complaints", "remedies"):
        del old[element]  # as imported before these elements existed
    async with store.transaction() as tx:
        await tx.insert(catalog.MATTERS, old)
    read = await catalog.get_matter(store, matters[0].code)
    assert "本级人民政府申请行政复议" in read.remedies.text()


async def test_two_instances_starting_on_an_empty_store_both_load_the_demo_data(
    tmp_path: Path, settings: Settings
) -> None:
    # Two web instances started together (docker compose up with two replicas): both import
    # the shipped catalog at once, one commit loses, and that instance must still start.
    stores = [SqliteDocumentStore(tmp_path / "shared.sqlite3") for _ in range(2)]
    for one in stores:
        await one.open()
    try:
        await asyncio.gather(*(load_demo_data(one, settings, NOW) for one in stores))

        shipped = catalog.load_catalog([settings.catalog_dir])
        assert await stores[1].count("matters") == len(shipped)
        assert await stores[1].count("audit", {"action": "catalog.import"}) == len(shipped)
    finally:
        for one in stores:
            await one.close()
