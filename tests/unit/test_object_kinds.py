"""Every place the code writes an object uses a key prefix that ``object_kinds`` registers, so
the sweep of unreferenced objects knows where its references live (and a new kind of object
cannot be added without saying so). The code is read, not run: a writer no test drives counts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.services.object_kinds import HOLDERS, KINDS, kind_of
from storage.pairing import MARK_KEY

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "bot", "storage", "ocr", "payments", "logistics")


def heads(expr: ast.expr, scopes: list[ast.AST]) -> set[tuple[str, bool]]:
    """What the key ``expr`` can begin with, and whether that is all of it; ("", False) when
    unknown. A name is followed to what is assigned to it (or iterated into it) in ``scopes``."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {(expr.value, True)}
    if isinstance(expr, ast.JoinedStr):
        first = expr.values[0] if expr.values else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return {(first.value, False)}
    if isinstance(expr, ast.ListComp | ast.GeneratorExp):
        return heads(expr.elt, scopes)
    if isinstance(expr, ast.Name):
        found: set[tuple[str, bool]] = set()
        for scope in scopes:
            for node in ast.walk(scope):
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == expr.id for t in node.targets
                ):
                    found |= heads(node.value, scopes)
                elif isinstance(node, ast.comprehension | ast.For) and (
                    isinstance(node.target, ast.Name) and node.target.id == expr.id
                ):
                    found |= heads(node.iter, scopes)
        return found or {("", False)}
    return {("", False)}


def writes() -> list[tuple[str, ast.Call, list[ast.AST]]]:
    """Each ``store_photo(objects, prefix, ...)`` and ``<...objects>.put(key, ...)`` call."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for scope in ast.walk(tree):
                if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if scope.name == "store_photo":  # writes under its callers' prefixes, seen there
                    continue
                for node in ast.walk(scope):
                    if isinstance(node, ast.Call) and _writes(node):
                        where = f"{path.relative_to(ROOT)}:{node.lineno}"
                        found.append((where, node, [scope, tree]))
    return found


def _writes(call: ast.Call) -> bool:
    f = call.func
    if isinstance(f, ast.Name) and f.id == "store_photo":
        return True
    return (
        isinstance(f, ast.Attribute)
        and f.attr == "put"
        and ast.unparse(f.value).lower().endswith("objects")
    )


def key_heads(call: ast.Call, scopes: list[ast.AST]) -> set[str]:
    if isinstance(call.func, ast.Name):  # store_photo's prefix: the key is prefix/<uuid>.<ext>
        return {h + "/" if whole else h for h, whole in heads(call.args[1], scopes)}
    return {h for h, _ in heads(call.args[0], scopes)}


def test_the_code_writes_objects_in_the_places_this_test_knows_to_look() -> None:
    places = {where.rsplit(":", 1)[0] for where, _, _ in writes()}
    # If a writer moved or a new one came, check it is found here (and registered).
    assert {
        "app/services/materials.py",
        "app/services/mandates.py",
        "app/services/space.py",
        "app/services/proxy_requests.py",
        "app/services/certificates.py",
        "storage/pairing.py",
        "app/bench/upload.py",
    } <= places


@pytest.mark.parametrize("where, call, scopes", [pytest.param(*w, id=w[0]) for w in writes()])
def test_every_object_written_is_of_a_registered_kind(
    where: str, call: ast.Call, scopes: list[ast.AST]
) -> None:
    for head in key_heads(call, scopes):
        assert kind_of(head) is not None, (
            f"{where} writes objects under {head!r}…, a prefix app/services/object_kinds.py "
            "does not register: add a Kind there, naming where documents keep these keys"
        )


def test_a_kind_names_only_registered_holders_and_every_holder_serves_a_kind() -> None:
    named = {holder.name for kind in KINDS for holder in kind.held_by}
    assert named == {holder.name for holder in HOLDERS}


def test_kinds_do_not_overlap_and_the_stores_mark_is_kept() -> None:
    prefixes = [kind.prefix for kind in KINDS]
    assert all(p.endswith("/") for p in prefixes)
    assert not [(a, b) for a in prefixes for b in prefixes if a != b and b.startswith(a)]
    kind = kind_of(MARK_KEY)
    assert kind is not None and kind.keep


def test_an_unknown_prefix_belongs_to_no_kind() -> None:
    assert kind_of("hall/photos/x.png") is None
    assert kind_of("cases") is None  # not under cases/
