"""Staff accounts made from the command line: a new password signs in and unlocks."""

from __future__ import annotations

import pytest

from app.services.staff import LOCKED, SignInFailed, set_staff_account, sign_in
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock


async def test_an_account_made_by_the_admin_signs_in_and_a_new_password_unlocks_it(
    store: SqliteDocumentStore, clock: Clock
) -> None:
    made = await set_staff_account(
        store, "reviewer-x", role="reviewer", department="scjg", name="预审员",
        password="correct-horse-1", now=clock(),
    )  # fmt: skip
    assert made == "created"
    actor = await sign_in(store, "reviewer-x", "correct-horse-1", clock())
    assert (actor.role.value, actor.department) == ("reviewer", "scjg")
    for _ in range(5):
        with pytest.raises(SignInFailed):
            await sign_in(store, "reviewer-x", "wrong", clock())
    with pytest.raises(SignInFailed) as locked:
        await sign_in(store, "reviewer-x", "correct-horse-1", clock())
    assert locked.value.message == LOCKED
    await set_staff_account(
        store, "reviewer-x", role="reviewer", department="scjg", name="预审员",
        password="battery-staple-2", now=clock(),
    )  # fmt: skip
    assert (await sign_in(store, "reviewer-x", "battery-staple-2", clock())).id == "reviewer-x"
    with pytest.raises(ValueError, match="department"):
        await set_staff_account(
            store, "r2", role="reviewer", department=None, name="x", password="p" * 12,
            now=clock(),
        )  # fmt: skip
