"""Who may act for whom: legal representatives, agents' authorisations, their scope and end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.actors import Actor, enterprise
from app.domain.errors import InvalidTransition, NotFoundError, NotPermitted, ValidationFailed
from app.services.accounts import actor_for
from app.services.cases import CaseService
from app.services.catalog import list_matters
from app.services.mandates import MandateService
from app.wiring.services import Services
from ocr.rules import FIX, PASS, Verdict
from storage.outbox import OutboxMessage
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

USCC = "91330106MACL12TH2J"  # GB 32100-valid, not the demo enterprise
FIRM = enterprise(USCC)
REP, AGENT, STRANGER = "p-rep", "p-agent", "p-stranger"
ELDER_ID = "310104195003124022"  # 赵敏, born 1950


@pytest.fixture
async def rig(services: Services, store: SqliteDocumentStore) -> tuple[MandateService, CaseService]:
    async with store.transaction() as tx:
        for pid, name in ((REP, "陈法人"), (AGENT, "周经办"), (STRANGER, "吴路人")):
            await tx.insert("users", {"_id": pid, "role": "applicant", "name": name})
    return services.mandates, services.cases


def licence(rep: str, status: str = PASS) -> Verdict:
    fields = {"uscc": USCC, "legal_representative": rep, "company_name": "福州测试有限公司"}
    return Verdict(status, "business_licence", (), fields)


def claim_job(person: str, key: str = "enterprise/claims/a.jpg") -> OutboxMessage:
    payload = {"person": person, "object_key": key}
    return OutboxMessage(f"claim:{key}", "enterprise.claim", payload, 1, datetime.now(UTC))


async def now_actor(store: SqliteDocumentStore, pid: str, clock: Clock) -> Actor:
    return await actor_for(store, pid, clock().date())


async def told(store: SqliteDocumentStore, pid: str) -> list[str]:
    docs = await store.find("outbox", {"topic": "notify.person", "payload.person": pid})
    return [d["payload"]["text"] for d in docs]


async def enterprise_matter(store: SqliteDocumentStore) -> tuple[str, str]:
    codes = [m.code for m in await list_matters(store) if "enterprise" in m.targets]
    return codes[0], codes[1]


async def test_only_the_person_the_licence_names_becomes_its_legal_representative(
    rig: tuple[MandateService, CaseService], store: SqliteDocumentStore
) -> None:
    mandates, _ = rig
    await mandates.accept_claim(claim_job(STRANGER), licence("陈法人"))
    assert await mandates.enterprise_of(USCC) is None
    assert "法定代表人与您的实名信息不一致" in (await told(store, STRANGER))[-1]
    await mandates.accept_claim(claim_job(REP, "b.jpg"), licence("陈法人", FIX))
    assert await mandates.enterprise_of(USCC) is None  # a photo that did not pass proves nothing
    await mandates.accept_claim(claim_job(REP, "c.jpg"), licence("陈 法人"))
    firm = await mandates.enterprise_of(USCC)
    assert firm is not None and firm["legal_rep"] == REP
    await mandates.accept_claim(claim_job(REP, "c.jpg"), licence("陈法人"))  # a rerun: once
    assert sum("企业认证成功" in t for t in await told(store, REP)) == 1
    [record] = await store.find("audit", {"subject": FIRM})
    assert record["action"] == "enterprise.claimed"


async def test_an_agent_sees_nothing_of_the_enterprise_until_granted_then_within_scope(
    rig: tuple[MandateService, CaseService], store: SqliteDocumentStore, clock: Clock
) -> None:
    mandates, cases = rig
    agent = await now_actor(store, AGENT, clock)
    with pytest.raises(ValidationFailed, match="尚未由法定代表人在本平台认证"):
        await mandates.request_for_enterprise(agent, USCC)
    await mandates.accept_claim(claim_job(REP), licence("陈法人"))
    rep = await now_actor(store, REP, clock)
    in_scope, out_of_scope = await enterprise_matter(store)
    theirs = await cases.open(rep, in_scope)  # the legal representative acts for the firm
    assert theirs.enterprise_uscc == USCC

    asked = await mandates.request_for_enterprise(agent, USCC)
    assert "周经办" in (await told(store, REP))[-1]  # the request reaches the representative
    with pytest.raises(ValidationFailed, match="请勿重复申请"):
        await mandates.request_for_enterprise(agent, USCC)
    agent = await now_actor(store, AGENT, clock)
    assert agent.authorities == ()
    assert (await cases.list_for(agent)).items == []
    with pytest.raises(NotFoundError):
        await cases.get(agent, theirs.number)
    with pytest.raises(NotPermitted):
        await cases.open(agent, in_scope, on_behalf_of=FIRM)

    stranger = await now_actor(store, STRANGER, clock)
    until = clock().date() + timedelta(days=30)
    with pytest.raises(NotFoundError):  # only the representative decides; others learn nothing
        await mandates.grant(stranger, asked.id, matters=None, expires_on=until)
    with pytest.raises(NotFoundError):
        await mandates.grant(rep, "forged-id", matters=None, expires_on=until)
    with pytest.raises(ValidationFailed, match="不超过三年"):
        await mandates.grant(rep, asked.id, matters=None, expires_on=clock().date())
    await mandates.grant(rep, asked.id, matters=(in_scope,), expires_on=until)
    assert "已授权您代为办理" in (await told(store, AGENT))[-1]

    agent = await now_actor(store, AGENT, clock)
    assert [c.number for c in (await cases.list_for(agent)).items] == [theirs.number]
    mine = await cases.open(agent, in_scope)  # the only enterprise it may act for
    assert mine.enterprise_uscc == USCC and mine.applicant_id == AGENT
    with pytest.raises(NotPermitted):
        await cases.open(agent, out_of_scope, on_behalf_of=FIRM)
    events = await store.find("case_events", {"case_number": mine.number})
    assert [(e["actor_id"], e["on_behalf_of"]) for e in events] == [(AGENT, FIRM)]


async def test_a_revoked_or_expired_authorisation_stops_at_the_next_request(
    rig: tuple[MandateService, CaseService], store: SqliteDocumentStore, clock: Clock
) -> None:
    mandates, cases = rig
    await mandates.accept_claim(claim_job(REP), licence("陈法人"))
    rep = await now_actor(store, REP, clock)
    agent = await now_actor(store, AGENT, clock)
    code, _ = await enterprise_matter(store)
    asked = await mandates.request_for_enterprise(agent, USCC)
    until = clock().date() + timedelta(days=10)
    await mandates.grant(rep, asked.id, matters=None, expires_on=until)
    agent = await now_actor(store, AGENT, clock)
    case = await cases.open(agent, code, on_behalf_of=FIRM)

    await mandates.revoke(rep, asked.id, reason="已离职")
    assert "已离职" in (await told(store, AGENT))[-1]
    agent = await now_actor(store, AGENT, clock)
    with pytest.raises(NotFoundError):
        await cases.get(agent, case.number)  # their own case of the firm's, too
    with pytest.raises(InvalidTransition):
        await mandates.revoke(rep, asked.id)  # a replayed revocation changes nothing
    with pytest.raises(InvalidTransition):
        await mandates.grant(rep, asked.id, matters=None, expires_on=until)

    again = await mandates.request_for_enterprise(agent, USCC)
    await mandates.grant(rep, again.id, matters=None, expires_on=until)
    assert (await now_actor(store, AGENT, clock)).enterprises == [USCC]
    clock.now += timedelta(days=11)  # the day after the last day it was good for
    assert (await now_actor(store, AGENT, clock)).enterprises == []


async def test_a_family_member_applies_for_an_elder_who_agreed_and_the_case_is_the_elders(
    rig: tuple[MandateService, CaseService], store: SqliteDocumentStore, clock: Clock
) -> None:
    mandates, cases = rig
    async with store.transaction() as tx:
        await tx.insert(
            "users",
            {
                "_id": "p-elder",
                "role": "applicant",
                "name": "赵敏",
                "id_number": "310104195003124022",
            },
        )
    son = await now_actor(store, AGENT, clock)
    assert await mandates.request_for_person(son, "赵敏", "11010519491231002X") is None
    assert await mandates.request_for_person(son, "别人", ELDER_ID) is None
    asked = await mandates.request_for_person(son, "赵敏", ELDER_ID)
    assert asked is not None
    elder = await now_actor(store, "p-elder", clock)
    await mandates.grant(elder, asked.id, matters=None, expires_on=clock().date() + timedelta(30))
    son = await now_actor(store, AGENT, clock)
    elderly = next(m for m in await list_matters(store) if "老年人优待证" in m.name)
    case = await cases.open(son, elderly.code, on_behalf_of="person:p-elder")
    assert (case.applicant_id, case.handler_id) == ("p-elder", AGENT)
    assert case.number in [c.number for c in (await cases.list_for(elder)).items]
