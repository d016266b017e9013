"""Staff sign-in lockouts over every document-store adapter: guesses sent all at once count, each
one, and get no more password checks than guesses sent one by one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from app.services.staff import (
    LOCKED,
    MAX_FAILURES,
    PER_ADDRESS,
    TOO_MANY,
    WRONG,
    SignInFailed,
    set_staff_account,
    sign_in,
)
from storage.documents import DocumentStore

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
PASSWORD = "correct-horse-1"
AT_ONCE = 60


async def _reviewer(store: DocumentStore, name: str = "reviewer-x") -> str:
    await set_staff_account(
        store, name, role="reviewer", department="scjg", name="预审员", password=PASSWORD, now=NOW
    )
    return name


async def _answers(store: DocumentStore, name: str, **kw: str) -> list[str]:
    """``AT_ONCE`` wrong passwords for ``name`` sent together; the sentence each one got."""

    async def guess(i: int) -> str:
        with pytest.raises(SignInFailed) as refused:
            await sign_in(store, name, f"guess-{i}", NOW, **kw)
        return refused.value.message

    return await asyncio.gather(*(guess(i) for i in range(AT_ONCE)))


async def test_sixty_wrong_passwords_at_once_lock_the_account_after_five_checks(
    document_store: DocumentStore,
) -> None:
    name = await _reviewer(document_store)
    answers = await _answers(document_store, name)
    # Only the first MAX_FAILURES were checked against the hash; the others were refused unseen.
    assert answers.count(WRONG) <= MAX_FAILURES
    assert set(answers) <= {WRONG, LOCKED} and answers.count(LOCKED) >= AT_ONCE - MAX_FAILURES
    with pytest.raises(SignInFailed) as locked:
        await sign_in(document_store, name, PASSWORD, NOW)  # even the right one, for a while
    assert locked.value.message == LOCKED


async def test_an_unknown_name_locks_like_a_real_one_and_is_answered_alike(
    document_store: DocumentStore,
) -> None:
    real = await _reviewer(document_store)
    for name in (real, "nobody-here"):
        assert set(await _answers(document_store, name)) <= {WRONG, LOCKED}
        with pytest.raises(SignInFailed) as locked:
            await sign_in(document_store, name, PASSWORD, NOW)
        assert locked.value.message == LOCKED  # a real name and an unknown one, alike


async def test_a_new_password_unlocks_and_a_good_sign_in_clears_earlier_failures(
    document_store: DocumentStore,
) -> None:
    name = await _reviewer(document_store)
    await _answers(document_store, name)
    await _reviewer(document_store)  # the administrator sets a new password
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(SignInFailed):
            await sign_in(document_store, name, "still-wrong", NOW)
    assert (await sign_in(document_store, name, PASSWORD, NOW)).id == name
    for _ in range(MAX_FAILURES):  # counting starts again after a good sign-in
        with pytest.raises(SignInFailed) as wrong:
            await sign_in(document_store, name, "still-wrong", NOW)
        assert wrong.value.message == WRONG


async def test_one_address_trying_many_names_at_once_is_stopped_others_are_not(
    document_store: DocumentStore,
) -> None:
    name = await _reviewer(document_store)

    async def guess(i: int) -> str:
        with pytest.raises(SignInFailed) as refused:
            await sign_in(document_store, f"name-{i}", "guess", NOW, "203.0.113.7")
        return refused.value.message

    answers = await asyncio.gather(*(guess(i) for i in range(AT_ONCE)))
    assert answers.count(WRONG) <= PER_ADDRESS and answers.count(TOO_MANY) >= AT_ONCE - PER_ADDRESS
    with pytest.raises(SignInFailed) as stopped:
        await sign_in(document_store, name, PASSWORD, NOW, "203.0.113.7")
    assert stopped.value.message == TOO_MANY
    assert (await sign_in(document_store, name, PASSWORD, NOW, "198.51.100.2")).id == name
