"""A full disk: writes and uploads answer 507 "存储空间不足" (JSON on the API, a page on the phone)
instead of "系统繁忙", nothing half-kept; /readyz names the full store and turns ready by itself
once space is back.

The app is the factory's, with its stores put on a full disk right after they open
(tests/full_disk.py; SQLite's own StorageFull is in tests/service/test_sqlite_full_disk.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from app import keys
from app.domain.actors import Actor, Role
from app.main import create_app
from app.services.sessions import Use
from app.settings import Settings
from tests.conftest import Clock
from tests.full_disk import FullDirectory, FullDocuments
from tests.http.chat_world import csrf_of
from tests.http.conftest import PNG, Api, open_case
from tests.http.courier_world import applicant_phone

FULL = {"code": "storage_full", "message": "存储空间不足，请稍后再试"}


@dataclass
class Disk:
    api: Api
    documents: FullDocuments
    objects: FullDirectory

    def fill(self, *, documents: bool = True, objects: bool = True) -> None:
        self.documents.full, self.objects.full = documents, objects

    def free(self) -> None:
        self.fill(documents=False, objects=False)


@pytest.fixture
async def disk(
    aiohttp_client: Callable[[web.Application], Awaitable[Any]], settings: Settings, clock: Clock
) -> Disk:
    app = create_app(settings, clock=clock)
    found: list[Any] = []

    async def on_a_disk_that_fills(app: web.Application) -> AsyncIterator[None]:
        found.extend([FullDocuments(app[keys.DOCUMENTS]), FullDirectory(app[keys.OBJECTS])])
        for wrapper in found:
            wrapper.full = False
        app[keys.DOCUMENTS], app[keys.OBJECTS] = found  # before the services are built on them
        yield

    app.cleanup_ctx.insert(1, on_a_disk_that_fills)  # right after the stores open
    client = await aiohttp_client(app)
    tokens = await (await client.get("/api/v1/demo/tokens")).json()
    api = Api(client, {i["username"]: i["token"] for i in tokens["items"]})
    return Disk(api, *found)


async def readiness(api: Api) -> tuple[int, dict[str, Any]]:
    resp = await api.client.get("/readyz")
    return resp.status, await resp.json()


async def test_a_write_on_a_full_disk_is_refused_plainly_and_works_once_space_returns(
    disk: Disk,
) -> None:
    api = disk.api
    case = await open_case(api)
    upload = f"/cases/{case['number']}/materials/{case['materials'][0]['slot_id']}"
    cases_before = await api.count("cases")
    disk.fill(objects=False)  # the database's disk: the photo is kept, its record cannot be

    assert await api.call("PUT", upload, "demo-citizen", data=PNG) == (507, {"error": FULL})
    opening = {"matter_code": case["matter"]["code"]}
    assert await api.call("POST", "/cases", "demo-citizen", json=opening) == (507, {"error": FULL})
    assert await api.count("cases") == cases_before
    _, now = await api.call("GET", f"/cases/{case['number']}", "demo-citizen")  # reads go on
    assert not any(m["attached"] for m in now["materials"])
    assert await readiness(api) == (
        503,
        {
            "status": "not_ready",
            "checks": {"documents": "full", "objects": "ok"},
            "failing": ["documents"],
        },
    )

    disk.free()
    assert (await readiness(api))[0] == 200  # nobody restarted anything
    status, body = await api.call("PUT", upload, "demo-citizen", data=PNG)
    assert status == 200, body


async def test_a_photo_on_a_full_object_store_is_refused_plainly_and_readyz_names_it(
    disk: Disk,
) -> None:
    api = disk.api
    case = await open_case(api)
    upload = f"/cases/{case['number']}/materials/{case['materials'][0]['slot_id']}"
    disk.fill(documents=False)

    assert await api.call("PUT", upload, "demo-citizen", data=PNG) == (507, {"error": FULL})
    status, body = await readiness(api)
    assert status == 503 and body["checks"] == {"documents": "ok", "objects": "full"}

    disk.free()
    assert (await readiness(api))[0] == 200
    status, body = await api.call("PUT", upload, "demo-citizen", data=PNG)
    assert status == 200, body


async def test_an_upload_from_the_phone_on_a_full_disk_gets_a_page_saying_so(disk: Disk) -> None:
    api = disk.api
    case = await open_case(api)
    page = f"/h5/cases/{case['number']}"
    token = api.client.app[keys.TOKENS].issue(Actor("demo-citizen", Role.APPLICANT), use=Use.H5)
    async with applicant_phone(str(api.client.make_url("/")), token) as phone:
        csrf = csrf_of(await (await phone.get(page)).text())

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("csrf", csrf)
            data.add_field("photo", PNG, filename="x.png", content_type="image/png")
            return data

        slot = case["materials"][0]["slot_id"]
        disk.fill()
        full = await phone.post(f"{page}/materials/{slot}", data=form())
        html = await full.text()
        assert full.status == 507
        assert "存储空间不足，请稍后再试" in html and "系统繁忙" not in html
        assert f'href="{page}"' in html  # a way back to the case

        disk.free()
        again = await phone.post(f"{page}/materials/{slot}", data=form())
        assert again.status == 200 and str(again.url).endswith(page)
