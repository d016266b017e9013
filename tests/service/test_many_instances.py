"""Two web instances and an OCR worker on one store, as a scaled deployment runs them (issue 22):
``serve`` twice with ``BUCHUMEN_OCR_IN_WEB=false`` on distinct ports and ``worker`` once, on one
SQLite file or on the MongoDB stand-in, with one shared object directory and demo secret.

Applicants open a case on one instance and upload through the other, reviewers act on either:
every photo is judged by the worker (the web instances start no OCR pool), every notice goes out
once and in its applicant's order, every periodic job runs once per period and only on the web
instances, and a session begun on one instance is valid, and ended, on both. The journeys use
the HTTP API: the demo WeChat simulator is still one per process, so notices go to API-only
accounts and their delivery is read from the outbox (once: one attempt; in order: done in the
order queued).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from app.bench.fleet import Fleet, Member
from app.bench.precheck import _photos
from app.services.notify import NOTIFY_TOPIC
from app.settings import load_settings
from app.web.session import STAFF
from app.wiring.background import PERIODS
from app.wiring.stores import open_documents
from storage.documents import DocumentStore
from storage.outbox import DONE, OUTBOX
from storage.periodic import RUNS, slot_of
from tests.http.courier_world import csrf_of, staff_phone

MATTER = "11350100MB0319679L-JF-00101"  # 失业保险金申领: free, four photos, department rs
REVIEWER = "reviewer-rs"
APPLICANTS = ("demo-citizen", "demo-agent", "demo-legal-rep")
WITHIN = 60.0  # seconds for all verdicts, and again for all notices
WAKE = timedelta(seconds=12)  # a new period is claimed within this (background._every)


@pytest.fixture(params=["sqlite", "mongo-standin"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The settings that put every process on one document store."""
    if request.param == "sqlite":
        yield {}
        return
    pytest.importorskip("nx_27017", reason="the MongoDB stand-in nx-27017 is not installed")
    from tests.contract.mongo_standin import standin

    with contextlib.ExitStack() as stack:
        try:
            uri = stack.enter_context(standin(tmp_path / "mongo"))
        except RuntimeError as exc:
            pytest.skip(f"the MongoDB stand-in cannot start here: {exc}")
        yield {"BUCHUMEN_DOCUMENT_STORE": "mongodb", "BUCHUMEN_MONGODB_URI": uri}


class Journeys:
    """Applicants and a reviewer driving the API across the two web instances."""

    def __init__(self, http: aiohttp.ClientSession, a: Member, b: Member) -> None:
        self.http, self.a, self.b = http, a, b
        self.tokens: dict[str, str] = {}

    async def sign_in(self) -> None:
        async with self.http.get(f"{self.a.base}/api/v1/demo/tokens") as resp:
            self.tokens = {i["username"]: i["token"] for i in (await resp.json())["items"]}

    async def call(self, method: str, at: Member, path: str, who: str, **kw: Any) -> dict[str, Any]:
        auth = {"Authorization": f"Bearer {self.tokens[who]}"}
        async with self.http.request(
            method, f"{at.base}/api/v1{path}", headers=auth | kw.pop("headers", {}), **kw
        ) as resp:
            body: dict[str, Any] = await resp.json()
            assert resp.status in (200, 201), (method, path, at.role, at.port, body)
            return body

    async def open_and_upload(self, who: str, photos: list[bytes]) -> str:
        """A case opened on A, its photos uploaded through B (A's token, B's check of it)."""
        case = await self.call("POST", self.a, "/cases", who, json={"matter_code": MATTER})
        slots = [m["slot_id"] for m in case["materials"] if m["required"]]
        for slot, data in zip(slots, photos, strict=False):
            path = f"/cases/{case['number']}/materials/{slot}"
            await self.call(
                "PUT", self.b, path, who, data=data, headers={"Content-Type": "image/jpeg"}
            )
        return str(case["number"])

    async def judged(self, who: str, number: str) -> dict[str, Any]:
        """The case once every photo has its verdict, read alike on both instances."""
        while True:
            on_b = await self.call("GET", self.b, f"/cases/{number}", who)
            if all(m["precheck"] for m in on_b["materials"] if m["attached"]):
                break
            await asyncio.sleep(0.2)
        on_a = await self.call("GET", self.a, f"/cases/{number}", who)
        assert on_a["materials"] == on_b["materials"]
        return on_b

    async def verdicts(self, who: str, numbers: list[str]) -> int:
        """How many photos of the cases ``numbers`` have their verdict."""
        cases = [await self.call("GET", self.a, f"/cases/{n}", who) for n in numbers]
        return sum(bool(m["precheck"]) for case in cases for m in case["materials"])

    async def first_verdict(self, who: str, numbers: list[str]) -> None:
        """Wait until another process has judged a first photo of the cases ``numbers``."""
        while True:
            if await self.verdicts(who, numbers):
                return
            await asyncio.sleep(0.05)

    async def submit_and_return(self, who: str, case: dict[str, Any]) -> None:
        """Submitted on A; reviewed and returned for one correction on B."""
        number = case["number"]
        case = await self.call(
            "POST", self.a, f"/cases/{number}/submit", who, json={"version": case["version"]}
        )
        path = f"/cases/{number}/actions/start_review"
        case = await self.call("POST", self.b, path, REVIEWER, json={"version": case["version"]})
        fix = {"slot_id": "bank_account", "defects": [], "remark": "请拍摄银行卡正面"}
        body = {"version": case["version"], "corrections": [fix]}
        await self.call("POST", self.b, f"/cases/{number}/return", REVIEWER, json=body)


async def notices_done(store: DocumentStore, applicants: tuple[str, ...]) -> list[dict[str, Any]]:
    """The applicants' notices, once none is waiting or being sent any more."""
    while True:
        found = await store.find(
            OUTBOX, {"topic": NOTIFY_TOPIC, "payload.applicant_id": {"$in": list(applicants)}}
        )
        if found and all(doc["status"] == DONE for doc in found):
            return found
        await asyncio.sleep(0.2)


async def test_two_web_instances_and_a_worker_on_one_store_work_as_one_service(
    store_env: dict[str, str], tmp_path: Path
) -> None:
    photos = _photos(4)
    timeout = aiohttp.ClientTimeout(total=60)
    spawned = datetime.now(UTC)
    with Fleet(tmp_path / "var", webs=2, workers=1, env=store_env) as fleet:
        settings = load_settings(
            {k: v for k, v in fleet.env.items() if k.startswith("BUCHUMEN_")}, demo=True
        )
        async with (
            open_documents(settings) as store,
            aiohttp.ClientSession(timeout=timeout) as http,
        ):
            await fleet.ready(http)
            ready_at = datetime.now(UTC)  # each web instance has claimed its first periods
            a, b = fleet.webs
            journeys = Journeys(http, a, b)
            await journeys.sign_in()
            numbers = await asyncio.gather(
                *(journeys.open_and_upload(who, photos) for who in APPLICANTS)
            )
            t0 = time.monotonic()
            cases = await asyncio.wait_for(
                asyncio.gather(*map(journeys.judged, APPLICANTS, numbers)), WITHIN
            )
            judged_in = time.monotonic() - t0
            for who, case in zip(APPLICANTS, cases, strict=True):
                attached = [m for m in case["materials"] if m["attached"]]
                assert len(attached) == len(photos) and all(m["precheck"] for m in attached)
                await journeys.submit_and_return(who, case)
            notices = await asyncio.wait_for(notices_done(store, APPLICANTS), WITHIN)
            runs, read_at = await store.find(RUNS, {}), datetime.now(UTC)
            await sessions_are_shared(a, b)
            pools = {m.role + str(m.port): any("spawn_main" in c for c in m.children())
                     for m in fleet.members}  # fmt: skip
            # Nor any multiprocessing helper (its resource tracker came with an idle pool).
            helpers = [c for m in fleet.members if m.role != "worker" for c in m.children()]
        stopped = fleet.stop()

    # Every photo was judged, by the worker: the web instances never started an OCR pool.
    assert pools == {m.role + str(m.port): m.role == "worker" for m in fleet.members}
    assert not [c for c in helpers if "multiprocessing" in c], helpers
    assert judged_in < WITHIN
    # Every notice once (one attempt) and, per applicant, done in the order it was queued.
    for who in APPLICANTS:
        mine = [n for n in notices if n["payload"]["applicant_id"] == who]
        assert len(mine) >= len(photos) + 2, mine  # a verdict a photo, 提交, 补正告知 at least
        assert [n["attempts"] for n in mine] == [1] * len(mine), mine
        queued = sorted(mine, key=lambda n: (n["created_at"], n.get("seq", 0)))
        done = sorted(mine, key=lambda n: n["done_at"])
        assert [n["_id"] for n in done] == [n["_id"] for n in queued]
        assert any("补正" in n["payload"]["text"] for n in mine)
    # Every periodic job in every period since the start, run by one web instance, never the
    # worker (the slot's record is claimed before the job runs: storage/periodic.py). A period
    # that began in the last seconds may not be claimed yet: instances wait 1-9 s after its start.
    webs = {f":{m.pid}" for m in fleet.webs}
    for job, period in PERIODS.items():
        mine = [r for r in runs if r["job"] == job]
        slots = {r["_id"] for r in mine}
        assert slots and slots <= {slot_of(job, period, t) for t in (spawned, read_at)}, mine
        if read_at - WAKE >= ready_at:  # a period that began since the start is claimed
            assert slot_of(job, period, read_at - WAKE) in slots, mine
        assert all(r["holder"].endswith(tuple(webs)) for r in mine), mine
    # All stop on SIGTERM within the grace, releasing what they held.
    assert all(code == 0 and took < fleet.grace for code, took in stopped.values()), stopped


async def sessions_are_shared(a: Member, b: Member) -> None:
    """A staff session begun on A opens B's pages; ended on B, A refuses it too."""
    phone = await staff_phone(a.base, REVIEWER)
    try:
        cookie = phone.cookie_jar.filter_cookies(URL(f"{a.base}/staff/queue"))[STAFF].value
    finally:
        await phone.close()
    pages = {at.port: await staff_queue(at, cookie) for at in (a, b)}
    assert [status for status, _ in pages.values()] == [200, 200]
    async with aiohttp.ClientSession(b.base, cookies={STAFF: cookie}) as on_b:
        form = {"csrf": csrf_of(pages[b.port][1])}
        async with on_b.post("/staff/logout", data=form, allow_redirects=False) as resp:
            assert resp.status == 303
    status, _ = await staff_queue(a, cookie)
    assert status == 302  # to /staff/login


async def staff_queue(at: Member, cookie: str) -> tuple[int, str]:
    """The reviewer's queue page on ``at`` with the staff cookie ``cookie``."""
    async with (
        aiohttp.ClientSession(at.base, cookies={STAFF: cookie}) as phone,
        phone.get("/staff/queue", allow_redirects=False) as resp,
    ):
        return resp.status, await resp.text()


async def test_a_worker_stopped_mid_work_exits_within_the_grace_and_the_next_worker_judges_the_rest(
    tmp_path: Path,
) -> None:
    photos, who = _photos(4), APPLICANTS[0]
    timeout = aiohttp.ClientTimeout(total=60)
    with Fleet(tmp_path / "var", webs=1, workers=1) as fleet:
        [web], [first] = fleet.webs, fleet.workers
        async with aiohttp.ClientSession(timeout=timeout) as http:
            await fleet.ready(http)
            journeys = Journeys(http, web, web)
            await journeys.sign_in()
            numbers = [await journeys.open_and_upload(who, photos) for _ in range(3)]
            await journeys.first_verdict(who, numbers)  # the worker is at work
            [(code, took)] = fleet.stop([first]).values()
            assert code == 0 and took < fleet.grace, first.said()
            assert '"stopping"' in first.said()
            left = 3 * len(photos) - await journeys.verdicts(who, numbers)
            second = fleet.add_worker(1)  # finds by its poll what was queued before it started
            await second.ready(http, 120)
            cases = await asyncio.wait_for(
                asyncio.gather(*(journeys.judged(who, n) for n in numbers)), WITHIN
            )
    assert left > 0  # the stop came mid-work: the second worker had photos to judge
    assert all(m["precheck"] for case in cases for m in case["materials"] if m["attached"])
