"""DocumentStore contract, run over every adapter (see conftest.DOCUMENT_BACKENDS)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from storage import sqlite_sql
from storage.documents import (
    DocumentStore,
    DuplicateKey,
    NotFound,
    TransactionAborted,
    VersionConflict,
)
from storage.outbox import outbox_message
from storage.schema import MIGRATIONS, Index
from storage.sqlite import SqliteDocumentStore
from tests.contract.conftest import MakeStore


async def insert(store: DocumentStore, collection: str, *docs: dict[str, Any]) -> None:
    async with store.transaction() as tx:
        for doc in docs:
            await tx.insert(collection, doc)


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ids(docs: list[dict[str, Any]]) -> list[str]:
    return [doc["_id"] for doc in docs]


@pytest.fixture
async def people(document_store: DocumentStore) -> DocumentStore:
    await insert(
        document_store,
        "matters",
        {"_id": "a", "name": "ann", "age": 30, "city": "xian", "tags": {"vip": True}},
        {"_id": "b", "name": "bob", "age": 25, "city": "wuhan"},
        {"_id": "c", "name": "cai", "age": 35, "city": "xian"},
        {"_id": "d", "name": "dan", "age": 30},
    )
    return document_store


async def test_an_inserted_document_comes_back_with_version_one(document_store: DocumentStore):
    async with document_store.transaction() as tx:
        stored = await tx.insert("cases", {"_id": "c1", "state": "draft", "n": 1.5, "x": None})

    assert stored == {"_id": "c1", "state": "draft", "n": 1.5, "x": None, "_version": 1}
    assert await document_store.get("cases", "c1") == stored
    assert await document_store.get("cases", "nope") is None
    assert await document_store.get("counters", "nothing-written-here") is None



async def test_values_come_back_as_stored_text_numbers_and_nesting(document_store: DocumentStore):
    doc = {
        "_id": "c2",
        "name": "张三 \"quoted\" \\ 𠀀 emoji 🙂",  # CJK, an astral-plane character, escapes
        "n": [0, -1, 2**62, 0.1, -0.0, 1e300, 5e-324],
        "deep": {"a": [{"b": {"c": [True, False, None]}}]},
    }
    async with document_store.transaction() as tx:
        await tx.insert("cases", doc)
    got = await document_store.get("cases", "c2")
    assert got == {**doc, "_version": 1}
    [projected] = await document_store.find("cases", {"_id": "c2"}, fields=["n", "deep.a"])
    assert projected["n"] == doc["n"] and projected["deep"] == doc["deep"]

@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({}, ["a", "b", "c", "d"]),
        ({"city": "xian"}, ["a", "c"]),
        ({"city": {"$eq": "xian"}, "age": 30}, ["a"]),
        ({"city": {"$ne": "xian"}}, ["b", "d"]),  # $ne matches a missing field
        ({"city": None}, ["d"]),
        pytest.param(
            {"city": {"$ne": None}},
            ["a", "b", "c"],
            marks=pytest.mark.standin_deviation("ne_null_matches_missing"),
        ),
        ({"city": {"$in": ["wuhan", "nanjing"]}}, ["b"]),
        ({"city": {"$in": ["wuhan", None]}}, ["b", "d"]),
        ({"city": {"$in": []}}, []),
        ({"age": {"$lt": 30}}, ["b"]),
        ({"age": {"$lte": 30}}, ["a", "b", "d"]),
        ({"age": {"$gt": 30}}, ["c"]),
        ({"age": {"$gte": 30, "$lt": 35}}, ["a", "d"]),
        ({"tags.vip": True}, ["a"]),
        ({"_id": {"$in": ["b", "c"]}}, ["b", "c"]),
        ({"_version": 1, "name": "dan"}, ["d"]),
    ],
)
async def test_find_filters_with_each_operator(
    people: DocumentStore, where: dict[str, Any], expected: list[str]
):
    assert ids(await people.find("matters", where)) == expected
    assert await people.count("matters", where) == len(expected)


async def test_find_sorts_ascending_and_descending_with_ties_broken_by_id(people: DocumentStore):
    assert ids(await people.find("matters", sort=[("age", 1)])) == ["b", "a", "d", "c"]
    assert ids(await people.find("matters", sort=[("age", -1)])) == ["c", "d", "a", "b"]
    assert ids(await people.find("matters", sort=[("city", 1), ("age", -1)])) == [
        "d",  # a missing field sorts first
        "b",
        "c",
        "a",
    ]


async def test_find_pages_with_limit_and_skip(people: DocumentStore):
    by_age = [("age", 1)]
    assert ids(await people.find("matters", sort=by_age, limit=2)) == ["b", "a"]
    assert ids(await people.find("matters", sort=by_age, limit=2, skip=2)) == ["d", "c"]
    assert ids(await people.find("matters", sort=by_age, skip=3)) == ["c"]
    assert await people.find("matters", sort=by_age, limit=0) == []


async def test_find_with_fields_returns_only_those_nested_as_stored(
    document_store: DocumentStore,
):
    doc = {
        "_id": "m1",
        "number": "BC1",
        "terms": {"name": "换证", "fee": 0, "slots": [{"id": "a"}]},
        "paid": False,
        "note": None,
        "tags": ["x", 2],
        "big": "x" * 5000,
    }
    async with document_store.transaction() as tx:
        await tx.insert("matters", doc)
        await tx.insert("matters", {"_id": "m2", "number": "BC2"})
    fields = ["number", "terms.name", "terms.slots", "paid", "note", "tags", "absent"]
    found = await document_store.find("matters", sort=[("_id", 1)], fields=fields)
    assert found == [
        {
            "_id": "m1",
            "_version": 1,
            "number": "BC1",
            "terms": {"name": "换证", "slots": [{"id": "a"}]},
            "paid": False,  # a boolean stays one, a JSON null stays null
            "note": None,
            "tags": ["x", 2],
        },
        {"_id": "m2", "_version": 1, "number": "BC2"},  # what a document lacks is left out
    ]
    with pytest.raises(ValueError):  # a path inside another asked for too
        await document_store.find("matters", fields=["terms", "terms.name"])
    with pytest.raises(ValueError):
        await document_store.find("matters", fields=["number') --"])


@pytest.mark.parametrize(
    "where",
    [
        {"name; DROP TABLE matters": 1},
        {"name": {"$regex": "a"}},
        {"name": {"$in": "ann"}},
        {"name": {"nested": "object"}},
        {"age": {"$lt": None}},
    ],
)
async def test_find_refuses_what_the_filter_language_lacks(people: DocumentStore, where):
    with pytest.raises(ValueError):
        await people.find("matters", where)


async def test_replace_with_the_current_version_bumps_it(document_store: DocumentStore):
    await insert(document_store, "cases", {"_id": "c1", "state": "draft"})
    async with document_store.transaction() as tx:
        doc = await tx.get("cases", "c1")
        assert doc is not None
        replaced = await tx.replace("cases", {**doc, "state": "submitted"}, expected_version=1)

    assert replaced == {"_id": "c1", "_version": 2, "state": "submitted"}
    assert await document_store.get("cases", "c1") == replaced


async def test_a_stale_version_conflicts_and_leaves_the_document_unchanged(
    document_store: DocumentStore,
):
    await insert(document_store, "cases", {"_id": "c1", "state": "draft"})
    async with document_store.transaction() as tx:
        await tx.replace("cases", {"_id": "c1", "state": "submitted"}, expected_version=1)

    with pytest.raises(VersionConflict):
        async with document_store.transaction() as tx:
            await tx.replace("cases", {"_id": "c1", "state": "withdrawn"}, expected_version=1)
    with pytest.raises(VersionConflict):
        async with document_store.transaction() as tx:
            await tx.delete("cases", "c1", expected_version=1)

    assert await document_store.get("cases", "c1") == {
        "_id": "c1",
        "_version": 2,
        "state": "submitted",
    }


async def test_replace_or_delete_of_a_missing_document_is_not_found(document_store: DocumentStore):
    with pytest.raises(NotFound):
        async with document_store.transaction() as tx:
            await tx.replace("cases", {"_id": "ghost"}, expected_version=1)
    with pytest.raises(NotFound):
        async with document_store.transaction() as tx:
            await tx.delete("cases", "ghost")


async def test_delete_removes_the_document(document_store: DocumentStore):
    await insert(document_store, "cases", {"_id": "c1"}, {"_id": "c2"})
    async with document_store.transaction() as tx:
        await tx.delete("cases", "c1", expected_version=1)
        await tx.delete("cases", "c2")
    assert await document_store.count("cases") == 0


async def test_a_duplicate_id_or_unique_field_is_a_duplicate_key(document_store: DocumentStore):
    await insert(document_store, "users", {"_id": "u1", "username": "li"})
    with pytest.raises(DuplicateKey):
        await insert(document_store, "users", {"_id": "u1", "username": "wang"})
    with pytest.raises(DuplicateKey):
        await insert(document_store, "users", {"_id": "u2", "username": "li"})
    await insert(document_store, "users", {"_id": "u3", "username": "zhao"})
    with pytest.raises(DuplicateKey):
        async with document_store.transaction() as tx:
            await tx.replace("users", {"_id": "u3", "username": "li"}, expected_version=1)

    assert ids(await document_store.find("users")) == ["u1", "u3"]


async def test_documents_lacking_a_unique_field_do_not_collide(document_store: DocumentStore):
    await insert(document_store, "cases", {"_id": "c1"}, {"_id": "c2"})
    assert await document_store.count("cases") == 2


async def test_a_duplicate_key_dooms_its_transaction_even_when_caught(
    document_store: DocumentStore,
):
    # Adapters may report the duplicate at the insert (MongoDB) or when the transaction commits
    # (SQLite buffers writes until then); either way catching it saves nothing of the transaction.
    await insert(document_store, "outbox", {"_id": "k1"})
    with pytest.raises((TransactionAborted, DuplicateKey)):
        async with document_store.transaction() as tx:
            await tx.insert("cases", {"_id": "c1"})
            with contextlib.suppress(DuplicateKey):
                await tx.insert("outbox", {"_id": "k1"})
    assert await document_store.get("cases", "c1") is None


async def test_an_escaping_exception_rolls_back_every_write(document_store: DocumentStore):
    await insert(document_store, "cases", {"_id": "c1", "state": "submitted"})
    with pytest.raises(RuntimeError, match="boom"):
        async with document_store.transaction() as tx:
            await tx.replace("cases", {"_id": "c1", "state": "accepted"}, expected_version=1)
            await tx.insert("cases", {"_id": "c2"})
            await tx.insert(
                "outbox", outbox_message(topic="chat", key="c1:accepted", payload={}, now=NOW)
            )
            raise RuntimeError("boom")

    assert await document_store.get("cases", "c1") == {
        "_id": "c1",
        "_version": 1,
        "state": "submitted",
    }
    assert await document_store.get("cases", "c2") is None
    assert await document_store.count("outbox") == 0


@pytest.mark.standin_deviation("dirty_reads")
async def test_reads_inside_a_transaction_see_its_writes_and_others_do_not(
    document_store: DocumentStore,
):
    async with document_store.transaction() as tx:
        await tx.insert("cases", {"_id": "c1", "state": "draft"})
        assert await tx.get("cases", "c1") == {"_id": "c1", "_version": 1, "state": "draft"}
        assert await document_store.get("cases", "c1") is None
        assert await document_store.count("cases") == 0
    assert await document_store.get("cases", "c1") is not None


async def test_of_two_concurrent_replaces_of_one_version_exactly_one_wins(
    document_store: DocumentStore,
):
    await insert(document_store, "cases", {"_id": "c1", "owner": None})
    both_read = asyncio.Barrier(2)

    async def claim(owner: str) -> str:
        doc = await document_store.get("cases", "c1")
        assert doc is not None
        await both_read.wait()
        try:
            async with document_store.transaction() as tx:
                await tx.replace("cases", {**doc, "owner": owner}, expected_version=doc["_version"])
        except VersionConflict:
            return "lost"
        return "won"

    results = await asyncio.gather(claim("li"), claim("wang"))

    assert sorted(results) == ["lost", "won"]
    winner = "li" if results[0] == "won" else "wang"
    assert await document_store.get("cases", "c1") == {"_id": "c1", "_version": 2, "owner": winner}


async def test_data_survives_reopening_and_migrations_apply_once(document_backend: MakeStore):
    store = document_backend()
    await store.open()
    await insert(store, "users", {"_id": "u1", "username": "li"})
    await store.close()

    store = document_backend()
    await store.open()  # every migration again: harmless
    try:
        assert await store.get("users", "u1") == {"_id": "u1", "_version": 1, "username": "li"}
        with pytest.raises(DuplicateKey):
            await insert(store, "users", {"_id": "u2", "username": "li"})
    finally:
        await store.close()


async def test_instances_starting_at_once_on_an_empty_store_all_open(document_backend: MakeStore):
    stores = [document_backend() for _ in range(3)]
    try:
        await asyncio.gather(*(store.open() for store in stores))  # each makes the schema
        await insert(stores[0], "cases", {"_id": "c1"})
        assert [await store.get("cases", "c1") for store in stores] == [
            {"_id": "c1", "_version": 1}
        ] * 3
    finally:
        for store in stores:
            await store.close()


async def test_a_migration_appended_later_applies_on_the_next_start(document_backend: MakeStore):
    store = document_backend()
    await store.open()
    await insert(store, "audit", {"_id": "a1", "ref": "x"})
    await store.close()

    later = [*MIGRATIONS, [Index("audit", (("ref", 1),), unique=True)]]
    store = document_backend(later)
    await store.open()
    try:
        with pytest.raises(DuplicateKey):
            await insert(store, "audit", {"_id": "a2", "ref": "x"})
    finally:
        await store.close()


# SQLite only: the queries that must stay fast use the expression indexes.


async def test_sqlite_instances_opening_a_new_file_together_never_find_it_locked(tmp_path: Path):
    # Switching a new file to WAL wants it alone, and SQLite answers one of two instances
    # doing so at the same moment "database is locked" without waiting: before the wait in
    # storage.sqlite._enter_wal, five runs of this test out of five failed to start an instance.
    for n in range(200):
        stores = [SqliteDocumentStore(tmp_path / f"fresh{n}.sqlite3") for _ in range(4)]
        opened = await asyncio.gather(*(store.open() for store in stores), return_exceptions=True)
        for store in stores:
            with contextlib.suppress(Exception):  # one that failed to open has nothing to close
                await store.close()
        assert [repr(e) for e in opened if isinstance(e, BaseException)] == [], f"round {n}"


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> Path:
    store = SqliteDocumentStore(tmp_path / "plan.sqlite3")
    await store.open()
    await store.close()
    return tmp_path / "plan.sqlite3"


@pytest.mark.parametrize(
    ("collection", "where", "sort", "index"),
    [
        ("cases", {"_id": "BCM-1"}, [], "sqlite_autoindex_cases_1"),  # the case number
        ("case_events", {"case_number": "BCM-1"}, [("seq", 1)], "ix_case_events_case_number_seq"),
        (
            "cases",
            {"department": "yunguan", "state": "submitted"},
            [("due_date", 1)],
            "ix_cases_department_state_due_date",
        ),
        (
            "cases",
            {"applicant_id": "p1"},
            [("created_at", -1)],
            "ix_cases_applicant_id_created_at_desc",
        ),
        (
            "outbox",
            {"status": "pending", "next_attempt_at": {"$lte": "2026"}},
            [("next_attempt_at", 1)],
            "ix_outbox_status_next_attempt_at",
        ),
    ],
)
def test_sqlite_queries_search_their_index(sqlite_file: Path, collection, where, sort, index):
    statement, params = sqlite_sql.select(collection, where, sort, limit=20, skip=0)
    with sqlite3.connect(sqlite_file) as conn:
        plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", params))

    assert f"SEARCH {collection} USING INDEX {index} " in plan
    if collection != "case_events":  # its unique index cannot end with the _id tie-break
        assert "TEMP B-TREE" not in plan  # the index delivers the order: no sort step


def test_sqlite_get_by_id_searches_the_primary_key(sqlite_file: Path):
    with sqlite3.connect(sqlite_file) as conn:
        [row] = conn.execute(f"EXPLAIN QUERY PLAN {sqlite_sql.select_by_id('cases')}", ("BCM-1",))
    assert row[3] == "SEARCH cases USING INDEX sqlite_autoindex_cases_1 (id=?)"


async def test_a_sqlite_transaction_cannot_nest_in_one_task(tmp_path: Path):
    store = SqliteDocumentStore(tmp_path / "nest.sqlite3")
    await store.open()
    try:
        async with store.transaction():
            with pytest.raises(RuntimeError, match="nested"):
                async with store.transaction():
                    pass
    finally:
        await store.close()


async def test_concurrent_transactions_fail_alone_and_the_rest_commit(
    document_store: DocumentStore,
):
    await insert(document_store, "cases", *({"_id": f"old{i}"} for i in range(5)))

    async def write(i: int) -> str:
        doc_id = f"old{i}" if i < 5 else f"new{i}"  # the first five collide
        try:
            async with document_store.transaction() as tx:
                await tx.insert("cases", {"_id": doc_id, "n": i})
                await tx.insert("outbox", {"_id": f"side-effect-{i}"})
        except (DuplicateKey, TransactionAborted):
            return "refused"
        return "committed"

    results = await asyncio.gather(*(write(i) for i in range(30)))

    assert results == ["refused"] * 5 + ["committed"] * 25
    assert await document_store.count("cases") == 30
    # A refused transaction left nothing behind, not even its other write.
    assert sorted(ids(await document_store.find("outbox"))) == sorted(
        f"side-effect-{i}" for i in range(5, 30)
    )


async def test_watchers_hear_of_each_commit_to_their_collection_and_of_nothing_else(
    document_store: DocumentStore,
) -> None:
    """How the outbox's dispatchers are woken: by the commit, never by a rolled-back write."""
    heard: list[str] = []
    document_store.watch("outbox", lambda: heard.append("outbox"))
    document_store.watch("cases", lambda: heard.append("cases"))
    async with document_store.transaction() as tx:
        await tx.insert("cases", {"_id": "w1"})
        await tx.insert("outbox", outbox_message(topic="t", key="k1", payload={}, now=NOW))
        await tx.insert("outbox", outbox_message(topic="t", key="k2", payload={}, now=NOW))
    assert sorted(heard) == ["cases", "outbox"]  # once per commit, not per write
    heard.clear()
    with pytest.raises(RuntimeError):
        async with document_store.transaction() as tx:
            await tx.insert("outbox", outbox_message(topic="t", key="k3", payload={}, now=NOW))
            raise RuntimeError("the change fails after queueing")
    with pytest.raises(DuplicateKey):
        async with document_store.transaction() as tx:
            await tx.insert("outbox", outbox_message(topic="t", key="k1", payload={}, now=NOW))
    async with document_store.transaction() as tx:
        await tx.insert("audit", {"_id": "a1"})
    assert heard == []
