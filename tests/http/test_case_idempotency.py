"""POST /api/v1/cases with an Idempotency-Key: a client that lost the answer retries and gets
the case it already opened (201, then 200), never a second one; the key is the applicant's own,
bound to its request, and lives 24 hours.

Issue 20 found an orphan draft from a cut POST /cases and a second case from the client's retry.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app import keys
from app.services.idempotency import KEYS
from tests.conftest import Clock
from tests.http.conftest import Api, citizen_matter


async def create(
    api: Api, key: str | None, code: str, who: str = "demo-citizen"
) -> tuple[int, Any]:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return await api.call("POST", "/cases", who, json={"matter_code": code}, headers=headers)


async def test_a_retry_with_the_same_key_gets_the_same_case_and_opens_no_second(api: Api) -> None:
    code = await citizen_matter(api)
    first_status, first = await create(api, "7d5f0c8e-retry", code)
    again_status, again = await create(api, "7d5f0c8e-retry", code)

    assert (first_status, again_status) == (201, 200)
    assert again["number"] == first["number"] and again == first
    assert await api.count("cases") == 1


async def test_the_same_key_with_another_request_is_refused_and_opens_nothing(api: Api) -> None:
    first, second = (await api.call("GET", "/matters?target=citizen"))[1]["items"][:2]
    assert (await create(api, "k-1", first["code"]))[0] == 201

    status, body = await create(api, "k-1", second["code"])

    assert status == 422 and "Idempotency-Key" in body["error"]["message"]
    assert await api.count("cases") == 1


async def test_without_a_key_every_request_opens_a_case(api: Api) -> None:
    code = await citizen_matter(api)
    assert [(await create(api, None, code))[0] for _ in range(2)] == [201, 201]
    assert await api.count("cases") == 2


async def test_a_key_is_the_applicants_own(api: Api) -> None:
    """Two applicants' clients may draw the same key: each gets a case of their own."""
    _, matters = await api.call("GET", "/matters?target=citizen")
    code = next(m["code"] for m in matters["items"] if "eligibility" not in str(m))
    mine_status, mine = await create(api, "shared-key", code)
    theirs_status, theirs = await create(api, "shared-key", code, who="demo-agent")

    assert (mine_status, theirs_status) == (201, 201), (mine, theirs)
    assert theirs["number"] != mine["number"]


async def test_twins_sent_at_once_open_one_case(api: Api) -> None:
    code = await citizen_matter(api)
    answers = await asyncio.gather(*(create(api, "twins", code) for _ in range(4)))

    assert sorted(status for status, _ in answers) == [200, 200, 200, 201]
    assert len({body["number"] for _, body in answers}) == 1
    assert await api.count("cases") == 1


async def test_a_key_lives_a_day_then_opens_a_new_case_and_is_purged(
    api: Api, clock: Clock
) -> None:
    code = await citizen_matter(api)
    _, first = await create(api, "daily", code)
    clock.advance(hours=23, minutes=59)
    assert (await create(api, "daily", code))[1]["number"] == first["number"]

    clock.advance(minutes=2)
    openings = api.client.app[keys.OPENINGS]
    assert await openings.purge() == 1
    assert await api.count(KEYS) == 0
    status, later = await create(api, "daily", code)
    assert status == 201 and later["number"] != first["number"]


async def test_a_malformed_key_is_refused(api: Api) -> None:
    code = await citizen_matter(api)
    for key in ("x" * 256, "带中文的键", "has space"):
        status, body = await create(api, key, code)
        assert status == 422, (key, body)
    assert await api.count("cases") == 0
