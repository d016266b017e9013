"""代办 for a person without WeChat: evidence in, a department reviewer decides, the handler acts.

Runs on the real store, the demo catalog and the real OCR pool: the principal's ID card is a
generated card photo, read by the engine against the name and number the handler typed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from app.domain.actors import Actor, Role, person
from app.domain.case_states import Action
from app.domain.errors import (
    InvalidTransition,
    NotFoundError,
    NotPermitted,
    ValidationFailed,
)
from app.services.accounts import actor_for
from app.services.cases import CaseService
from app.services.catalog import list_matters
from app.services.mandates import MandateService
from app.services.privacy_export import gather
from app.services.proxy_requests import EVIDENCE_TOPIC, ProxyService
from app.wiring.services import Services
from storage.outbox import OutboxDispatcher
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock
from tests.service.photos import png

HANDLER = "p-handler"
HANDLER_ID = "350102198001010011"
MZ = Actor("staff-mz", Role.REVIEWER, department="mz")  # 民政: the 老年人优待证's department
RS = Actor("staff-rs", Role.REVIEWER, department="rs")


class Rig:
    def __init__(self, store: SqliteDocumentStore, proxies: ProxyService, cases: CaseService,
                 mandates: MandateService, clock: Clock, jobs: OutboxDispatcher,
                 card: Any, other: Any) -> None:  # fmt: skip
        self.store, self.proxies, self.cases, self.mandates = store, proxies, cases, mandates
        self.clock, self.jobs, self.card, self.other = clock, jobs, card, other

    async def handler(self) -> Actor:
        return await actor_for(self.store, HANDLER, self.clock().date())

    async def matter(self, words: str) -> str:
        return next(m.code for m in await list_matters(self.store) if words in m.name)

    async def ask(self, *, card: Any = None, **change: str) -> str:
        """The handler's request for the card's holder, photos and all; the request's id."""
        fields = {
            "name": self.card.truth["name"],
            "id_number": self.card.truth["id_number"],
            "relation": "child",
            "matter": await self.matter("老年人优待证"),
        } | change
        actor = await self.handler()
        await self.proxies.check(actor, **fields)
        id_card = await self.proxies.keep_photo(_once(png((card or self.card).image)))
        proof = await self.proxies.keep_photo(_once(png(self.other.image)))
        mandate = await self.proxies.request(actor, **fields, id_card=id_card, proof=proof)
        return mandate.id

    async def told(self, pid: str) -> list[str]:
        docs = await self.store.find("outbox", {"topic": "notify.person", "payload.person": pid})
        return [d["payload"]["text"] for d in docs]


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
async def rig(
    services: Services, store: SqliteDocumentStore, clock: Clock, cards: dict[str, Any]
) -> Rig:
    async with store.transaction() as tx:
        await tx.insert(
            "users",
            {"_id": HANDLER, "role": "applicant", "name": "周经办", "id_number": HANDLER_ID},
        )
    proxies = services.proxies
    jobs = OutboxDispatcher(
        store, {EVIDENCE_TOPIC: proxies.check_evidence}, topics=[EVIDENCE_TOPIC]
    )
    return Rig(
        store, proxies, services.cases, services.mandates, clock, jobs, cards["mine"],
        cards["stranger"],
    )  # fmt: skip


async def test_a_reviewer_of_the_matter_grants_and_the_handler_applies_for_the_elder(
    rig: Rig,
) -> None:
    mandate_id = await rig.ask()
    assert "市民政局审核人员核对" in (await rig.told(HANDLER))[-1]
    assert await rig.jobs.dispatch_once() == 1
    [pending] = await rig.proxies.pending_for(MZ)
    assert pending.evidence is not None and pending.evidence.findings == ()  # the card matched
    assert await rig.proxies.pending_for(RS) == []  # another department's reviewer: not theirs
    until = rig.proxies.today() + timedelta(days=90)
    with pytest.raises(NotFoundError):
        await rig.proxies.grant(RS, mandate_id, expires_on=until)
    before = await rig.handler()
    assert before.authorities == ()  # nothing of the elder until granted

    granted = await rig.proxies.grant(MZ, mandate_id, expires_on=until)
    number = rig.card.truth["id_number"]
    [elder] = await rig.store.find("users", {"id_number": number})
    assert elder["name"] == rig.card.truth["name"] and not elder.get("openid")
    assert granted.principal == person(elder["_id"])
    assert "审核通过" in (await rig.told(HANDLER))[-1]
    with pytest.raises(InvalidTransition):  # a colleague's second decision changes nothing
        await rig.proxies.refuse(MZ, mandate_id, reason="重复")

    handler = await rig.handler()
    youdai = await rig.matter("老年人优待证")
    case = await rig.cases.open(handler, youdai, on_behalf_of=granted.principal)
    assert case.applicant_id == elder["_id"] and case.handler_id == HANDLER  # the elder's case
    with pytest.raises(NotPermitted):  # the grant covers the matter asked for, nothing else
        await rig.cases.open(
            handler, await rig.matter("失业保险金"), on_behalf_of=granted.principal
        )

    await rig.cases.act(handler, case.number, Action.WITHDRAW, version=None, reason=None)
    notices = await rig.store.find(
        "outbox", {"topic": "notify.applicant", "payload.case": case.number}
    )
    heard = {d["payload"]["applicant_id"]: d["payload"]["text"] for d in notices}
    assert set(heard) == {elder["_id"], HANDLER}  # the handler acts, and is told
    assert heard[HANDLER].startswith("【您代办的办件】")


async def test_someone_elses_id_card_is_flagged_for_the_reviewer_and_the_handler_told(
    rig: Rig,
) -> None:
    await rig.ask(card=rig.other)  # the stranger's card, for the elder's name and number
    assert await rig.jobs.dispatch_once() == 1
    [pending] = await rig.proxies.pending_for(MZ)
    assert pending.evidence is not None and pending.evidence.findings
    assert "未通过识别" in (await rig.told(HANDLER))[-1]
    assert await rig.jobs.dispatch_once() == 0  # read once; a rerun tells nothing new


async def test_a_refusal_needs_a_reason_and_leaves_no_person_behind(rig: Rig) -> None:
    mandate_id = await rig.ask()
    with pytest.raises(ValidationFailed):
        await rig.proxies.refuse(MZ, mandate_id, reason=" ")
    await rig.proxies.refuse(MZ, mandate_id, reason="关系证明看不清，请重新拍摄")
    assert "关系证明看不清" in (await rig.told(HANDLER))[-1]
    assert await rig.store.find("users", {"id_number": rig.card.truth["id_number"]}) == []
    assert (await rig.handler()).authorities == ()
    await rig.ask()  # refused is closed: the handler may ask again with better photos


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"id_number": "350102195003124022"}, "身份证号码"),
        ({"relation": "neighbour"}, "关系"),
        ({"id_number": HANDLER_ID, "name": "周经办"}, "不能为自己"),
        ({"matter": "营业执照"}, "不面向个人"),
        ({"name": "张"}, "姓名"),
    ],
)
async def test_bad_requests_are_told_why_and_keep_nothing(
    rig: Rig, change: dict[str, str], says: str
) -> None:
    if "matter" in change:
        change["matter"] = await rig.matter(change["matter"])
    with pytest.raises((ValidationFailed, NotFoundError)) as err:
        await rig.ask(**change)
    assert says in err.value.message
    assert await rig.store.find("mandates", {"agent": HANDLER}) == []


async def test_one_open_request_per_person_and_a_bound_person_may_refuse_it(rig: Rig) -> None:
    number, name = rig.card.truth["id_number"], rig.card.truth["name"]
    async with rig.store.transaction() as tx:  # the elder has WeChat after all
        await tx.insert(
            "users",
            {"_id": "wx-elder", "role": "applicant", "name": name, "id_number": number,
             "openid": "o-elder"},
        )  # fmt: skip
    with pytest.raises(ValidationFailed, match="不一致"):
        await rig.ask(name=name + "某")  # the bound record's name is the truth
    mandate_id = await rig.ask()
    with pytest.raises(ValidationFailed, match="已为该委托人提交"):
        await rig.ask()
    assert "如您不同意" in (await rig.told("wx-elder"))[-1]
    elder = await actor_for(rig.store, "wx-elder", rig.clock().date())
    refused = await rig.mandates.refuse(elder, mandate_id, reason="我没有委托")
    assert refused.reason == "我没有委托"
    with pytest.raises(InvalidTransition):
        until = rig.proxies.today() + timedelta(days=30)
        await rig.proxies.grant(MZ, mandate_id, expires_on=until)


async def test_each_look_at_the_evidence_is_recorded_and_others_see_nothing(rig: Rig) -> None:
    mandate_id = await rig.ask()
    key = await rig.proxies.evidence_photo(MZ, mandate_id, "id_card")
    assert key.startswith("mandates/evidence/")
    looks = await rig.store.find("audit", {"action": "mandate.evidence_viewed"})
    assert [(a["actor"], a["detail"]["photo"]) for a in looks] == [("staff-mz", "id_card")]
    for stranger in (RS, await rig.handler(), Actor("courier-1", Role.COURIER)):
        with pytest.raises(NotFoundError):
            await rig.proxies.evidence_photo(stranger, mandate_id, "proof")


async def test_the_handlers_data_export_masks_the_person_they_brought_evidence_for(
    rig: Rig,
) -> None:
    await rig.ask()
    export = await gather(rig.store, HANDLER, rig.clock())
    [mandate] = export.data["mandates"]
    assert mandate["my_role"] == "被授权人"
    assert mandate["evidence"]["id_number"] != rig.card.truth["id_number"]
    assert mandate["evidence"]["id_number"].endswith(rig.card.truth["id_number"][-4:])
