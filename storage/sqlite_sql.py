"""SQL text for the SQLite document store: identifiers are checked here, values are always bound."""

# ruff: noqa: S608 -- only checked identifiers and field paths are formatted into SQL text.

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from storage.documents import Filter, Sort, check_fields, check_page, parse_filter, parse_sort
from storage.schema import Index

_COLLECTION = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_COMPARE = {"$eq": "=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


@lru_cache(maxsize=256)
def table(collection: str) -> str:
    """The quoted table name of a collection, or ValueError for a name unsafe as an identifier."""
    if not _COLLECTION.match(collection) or collection.startswith("sqlite"):
        raise ValueError(f"bad collection name: {collection!r}")
    return f'"{collection}"'


def column(field: str) -> str:
    """SQL for a checked field path; indexes and queries share it so the planner matches them."""
    if field == "_id":
        return "id"
    if field == "_version":
        return "version"
    return f"json_extract(data, '$.{field}')"


def create_table(collection: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {table(collection)} "
        "(id TEXT PRIMARY KEY, version INTEGER NOT NULL, data TEXT NOT NULL)"
    )


def create_index(index: Index) -> str:
    columns = ", ".join(f"{column(f)}{' DESC' if d == -1 else ''}" for f, d in index.keys)
    unique = "UNIQUE " if index.unique else ""
    on = f"{table(index.collection)} ({columns})"
    return f'CREATE {unique}INDEX IF NOT EXISTS "{index.name}" ON {on}'


@lru_cache(maxsize=256)
def select_by_id(collection: str) -> str:
    return f"SELECT version, data FROM {table(collection)} WHERE id = ?"


@lru_cache(maxsize=256)
def insert(collection: str) -> str:
    return f"INSERT INTO {table(collection)} (id, version, data) VALUES (?, 1, ?)"


@lru_cache(maxsize=256)
def update(collection: str) -> str:
    """Compare-and-set: parameters (data, id, expected version); changes 0 rows on a miss."""
    cas = "SET version = version + 1, data = ? WHERE id = ? AND version = ?"
    return f"UPDATE {table(collection)} {cas}"


@lru_cache(maxsize=256)
def delete(collection: str, *, versioned: bool) -> str:
    return f"DELETE FROM {table(collection)} WHERE id = ?{' AND version = ?' if versioned else ''}"


def select(
    collection: str,
    where: Filter | None,
    sort: Sort,
    limit: int | None,
    skip: int,
    fields: Sequence[str] | None = None,
) -> tuple[str, list[Any]]:
    """The query's text and parameters. Its rows are (id, version, data), or with ``fields``
    (id, version, then each field's JSON type and value, in the order given)."""
    check_page(limit, skip)
    clause, params = _where(where)
    what = "id, version, data" if fields is None else _projection(tuple(fields))
    order = _order(tuple((f, d) for f, d in sort))  # the text of each sort and projection kept
    sql = f"SELECT {what} FROM {table(collection)}{clause} ORDER BY {order}"
    if limit is not None or skip:
        sql += " LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, skip]
    return sql, params


@lru_cache(maxsize=256)
def _order(sort: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{column(f)} {'ASC' if d == 1 else 'DESC'}" for f, d in parse_sort(sort))


@lru_cache(maxsize=256)
def _projection(fields: tuple[str, ...]) -> str:
    # The type tells a missing field (NULL) from a JSON null, and text from a nested object,
    # which json_extract returns as its JSON text.
    pairs = [f"json_type(data, '$.{f}'), json_extract(data, '$.{f}')" for f in check_fields(fields)]
    return ", ".join(["id", "version", *pairs])


def count(collection: str, where: Filter | None) -> tuple[str, list[Any]]:
    clause, params = _where(where)
    return f"SELECT count(*) FROM {table(collection)}{clause}", params


def _where(where: Filter | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for field, op, value in parse_filter(where):
        col = column(field)
        if op == "$in":
            present = [v for v in value if v is not None]
            alternatives = [f"{col} IN ({', '.join('?' * len(present))})"] if present else []
            if len(present) < len(value):
                alternatives.append(f"{col} IS NULL")
            clauses.append(f"({' OR '.join(alternatives)})" if alternatives else "0")
            params.extend(present)
        elif value is None:
            clauses.append(f"{col} IS {'NOT ' if op == '$ne' else ''}NULL")
        else:
            # IS NOT is SQL's null-safe inequality: $ne matches documents lacking the field.
            clauses.append(f"{col} {'IS NOT' if op == '$ne' else _COMPARE[op]} ?")
            params.append(value)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params
