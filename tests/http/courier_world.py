"""People around a case that travels by courier: applicant, courier and counter, each on a phone.

The app is the real one in demo mode with its local SF simulator, whose route pushes are
pointed at the test server's ``/sf/routes``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import segno
from aiohttp.test_utils import TestClient

from app import keys
from app.domain.actors import Actor, Role
from app.domain.shipments import Leg
from app.services.sessions import Use
from app.services.staff import DEMO_STAFF_PASSWORD
from app.web.session import SESSION
from logistics.simulator import SfSimulator
from tests.http.conftest import Api, fill_and_submit, open_case

ADDRESS = {
    "name": "张三",
    "mobile": "13812345678",
    "province": "福建省",
    "city": "福州市",
    "district": "鼓楼区",
    "detail": "五一北路 123 号 2 栋 301",
}
CODE = re.compile(r'<code class="token">([0-9A-Z]{4}-[0-9A-Z]{4})</code>')


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form token"
    return found[1]


def code_on(html: str) -> str:
    found = CODE.search(html)
    assert found, "the page shows no hand-over code"
    return found[1]


async def eventually(check: Callable[[], Any], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@dataclass
class Courier:
    """The app, its local SF, and one phone per person."""

    api: Api
    sim: SfSimulator
    applicant: aiohttp.ClientSession
    courier: aiohttp.ClientSession
    counter: aiohttp.ClientSession

    @property
    def client(self) -> TestClient:
        return self.api.client

    async def leg(self, number: str, kind: str = "pickup") -> Leg | None:
        return await self.client.app[keys.SHIPMENTS].leg(number, kind)

    async def state(self, number: str) -> str:
        status, case = await self.api.call("GET", f"/cases/{number}", "reviewer-jtys")
        assert status == 200, case
        return str(case["state"])

    async def outbox_texts(self, number: str) -> list[str]:
        docs = await self.client.app[keys.DOCUMENTS].find(
            "outbox", {"topic": "notify.applicant", "payload.case": number}
        )
        return [d["payload"]["text"] for d in sorted(docs, key=lambda d: d["created_at"])]

    async def approved_case(self) -> str:
        """A 从业资格证换证 (originals needed) applied for and approved: awaiting pickup."""
        _, body = await self.api.call("GET", "/matters?target=citizen")
        code = next(m["code"] for m in body["items"] if m["department"] == "jtys")
        case = await fill_and_submit(self.api, await open_case(self.api, code=code))
        status, case = await self.api.call(
            "POST",
            f"/cases/{case['number']}/approve",
            "reviewer-jtys",
            json={"version": case["version"]},
        )
        assert status == 200 and case["state"] == "awaiting_pickup", case
        return str(case["number"])

    async def book_pickup(self, number: str, **changes: str) -> aiohttp.ClientResponse:
        page = await (await self.applicant.get(f"/h5/cases/{number}/pickup")).text()
        window = re.search(r'<option value="(\d{4}-\d\d-\d\dT\d\d:\d\d)"', page)
        assert window, "no pickup time offered"
        form = {"csrf": csrf_of(page), "window": window[1], **ADDRESS, **changes}
        return await self.applicant.post(
            f"/h5/cases/{number}/pickup", data=form, allow_redirects=False
        )

    async def booked(self, number: str, kind: str = "pickup") -> Leg:
        async def has_waybill() -> bool:
            leg = await self.leg(number, kind)
            return leg is not None and leg.waybill is not None

        await eventually(has_waybill)
        leg = await self.leg(number, kind)
        assert leg is not None
        return leg

    async def courier_scans(self, code: str, **form: str) -> tuple[int, str]:
        page = await (await self.courier.get("/courier/")).text()
        data = {"csrf": csrf_of(page), "code": code, **form}
        resp = await self.courier.post("/courier/scan", data=data)
        return resp.status, await resp.text()

    async def counter_scans(self, code: str, **form: str) -> tuple[int, str]:
        page = await (await self.counter.get("/staff/handover")).text()
        resp = await self.counter.post(
            "/staff/handover", data={"csrf": csrf_of(page), "code": code, **form}
        )
        return resp.status, await resp.text()

    async def pickup_code(self, number: str) -> str:
        """The code on the applicant's page, as typed (its short form)."""
        return code_on(await (await self.applicant.get(f"/h5/cases/{number}")).text())

    async def pickup_qr(self, number: str) -> str:
        """The token the applicant's QR code carries, as a camera reads it."""
        page = await (await self.applicant.get(f"/h5/cases/{number}")).text()
        short = code_on(page).replace("-", "")
        [shown] = await self.client.app[keys.DOCUMENTS].find("handover_codes", {"short": short})
        token = str(shown["token"])
        assert segno.make(token, error="m").svg_inline(scale=5, border=2, omitsize=True) in page
        return token

    async def courier_code(self, number: str, step: str) -> str:
        resp = await self.courier.get(f"/courier/codes/{number}/{step}")
        assert resp.status == 200, await resp.text()
        return code_on(await resp.text())


async def staff_phone(base: str, username: str) -> aiohttp.ClientSession:
    """A phone signed in on /staff/login (a courier's session lands on /courier/)."""
    phone = aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    page = await (await phone.get("/staff/login")).text()
    form = {
        "csrf": csrf_of(page),
        "username": username,
        "password": DEMO_STAFF_PASSWORD,
        "next": "",
    }
    resp = await phone.post("/staff/login", data=form, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    return phone


def applicant_phone(base: str, token: str) -> aiohttp.ClientSession:
    jar = aiohttp.CookieJar(unsafe=True)
    return aiohttp.ClientSession(base, cookies={SESSION: token}, cookie_jar=jar)


async def courier_world(api: Api) -> Courier:
    app = api.client.app
    sim = app[keys.SF_SIMULATOR]
    sim.pusher.callback_url = str(api.client.make_url("/sf/routes"))
    sim.pusher.retry_delay = 0
    base = str(api.client.make_url("/"))
    citizen = Actor("demo-citizen", Role.APPLICANT)  # signed in on the H5 pages (an H5 cookie)
    return Courier(
        api,
        sim,
        applicant_phone(base, app[keys.TOKENS].issue(citizen, use=Use.H5)),
        await staff_phone(base, "demo-courier"),
        await staff_phone(base, "reviewer-jtys"),
    )
