"""Accounts: verified persons (linked to a WeChat openid) and staff; demo accounts in demo mode.

A person's account has an id of its own, made at their first binding and kept for life: the ID
number is unique among persons and the current WeChat account is only linked to it, so cases
and documents stay with the person when they bind another WeChat account
(see ``app.services.binding``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from app.domain.actors import Actor, Role, enterprise
from app.domain.errors import NotFoundError
from app.domain.identity import mask_id_number, mask_uscc
from app.domain.mandates import Mandate, Status
from app.services.mandate_records import (
    ENTERPRISES,
    MANDATES,
    authorities_of,
    enterprise_doc,
    mandate_to_doc,
)
from storage.documents import DocumentStore, DuplicateKey

USERS = "users"
WECHAT_LINKS = "wechat_links"  # _id = openid → the person bound to it, one at a time

# Valid GB 11643 numbers and a valid GB 32100 code; the local real-name register knows them.
DEMO_CITIZEN_ID = "35010219850715002X"
DEMO_AGENT_ID = "350102197503020012"
DEMO_LEGAL_REP_ID = "350102196509090041"
DEMO_USCC = "91350100M000100Y43"
DEMO_ENTERPRISE = "福州示例科技有限公司"


def person_id_for(openid: str) -> str:
    """A new person's id, made once from the WeChat account they first bind with; it never
    changes after, whichever account they bind later (it names the person, not the account)."""
    return f"wx-{openid}"


def demo_accounts(departments: list[str]) -> list[dict[str, Any]]:
    people = [
        ("demo-citizen", "张三", DEMO_CITIZEN_ID),
        ("demo-agent", "李四", DEMO_AGENT_ID),
        ("demo-legal-rep", "王五", DEMO_LEGAL_REP_ID),
    ]
    accounts: list[dict[str, Any]] = [
        {"_id": i, "role": "applicant", "name": n, "id_number": number, "verified_by": "demo"}
        for i, n, number in people
    ]
    accounts += [
        {"_id": "demo-courier", "role": "courier", "name": "王师傅"},
        {"_id": "demo-kiosk", "role": "kiosk", "name": "大厅自助签到机"},
        {"_id": "demo-admin", "role": "admin", "name": "系统管理员"},
        {"_id": "demo-supervisor", "role": "supervisor", "name": "电子监察员"},
    ]
    accounts += [
        {"_id": f"reviewer-{d}", "role": "reviewer", "name": f"{d} 预审员", "department": d}
        for d in departments
    ]
    for a in accounts:
        a["username"] = a["_id"]
    return accounts


async def seed_accounts(store: DocumentStore, accounts: list[dict[str, Any]], now: datetime) -> int:
    """Insert the accounts that are not there yet; safe to run at every start."""
    created = 0
    for account in accounts:
        try:
            async with store.transaction() as tx:
                await tx.insert(USERS, account | {"created_at": now.isoformat()})
            created += 1
        except DuplicateKey:
            continue
    return created


async def seed_demo_enterprise(store: DocumentStore, now: datetime) -> None:
    """王五 represents the demo enterprise and has authorised 李四 for every matter."""
    grant = Mandate(
        id="demo-grant",
        principal=enterprise(DEMO_USCC),
        agent="demo-agent",
        agent_name="李四",
        status=Status.GRANTED,
        requested_at=now,
        expires_on=(now + timedelta(days=365)).date(),
        decided_at=now,
        decided_by="demo-legal-rep",
    )
    rep = enterprise_doc(DEMO_USCC, DEMO_ENTERPRISE, "demo-legal-rep", "王五", how="demo", at=now)
    for collection, doc in ((ENTERPRISES, rep), (MANDATES, mandate_to_doc(grant))):
        try:
            async with store.transaction() as tx:
                await tx.insert(collection, doc)
        except DuplicateKey:
            continue


def _actor(doc: dict[str, Any]) -> Actor:
    return Actor(id=doc["_id"], role=Role(doc["role"]), department=doc.get("department"))


async def actor_for(store: DocumentStore, username: str, today: date | None = None) -> Actor:
    """The account's actor; an applicant's with the authorities they hold ``today``."""
    doc = await store.get(USERS, username)
    if doc is None or doc.get("deleted_at"):
        raise NotFoundError(f"没有名为 {username} 的账号")
    actor = _actor(doc)
    if actor.role is Role.APPLICANT and today is not None:
        return await with_authorities(store, actor, today)
    return actor


async def with_authorities(store: DocumentStore, actor: Actor, today: date) -> Actor:
    """``actor`` with what they may act for today, read now (never trusted from a token)."""
    if actor.role is not Role.APPLICANT:
        return actor
    return Actor(actor.id, actor.role, authorities=await authorities_of(store, actor.id, today))


async def list_accounts(store: DocumentStore) -> list[dict[str, Any]]:
    return await store.find(USERS, sort=[("_id", 1)])


async def person_of_openid(store: DocumentStore, openid: str) -> dict[str, Any] | None:
    link = await store.get(WECHAT_LINKS, openid)
    if link is None:
        return None
    doc = await store.get(USERS, link["person"])
    return doc if doc and doc.get("openid") == openid and not doc.get("deleted_at") else None


async def account_of_openid(
    store: DocumentStore, openid: str, today: date | None = None
) -> Actor | None:
    """The person bound to this WeChat user (with today's authorities), or None before binding."""
    doc = await person_of_openid(store, openid)
    if doc is None:
        return None
    actor = _actor(doc)
    return await with_authorities(store, actor, today) if today is not None else actor


async def applicant_label(
    store: DocumentStore, account_id: str, uscc: str | None
) -> dict[str, str]:
    """Who applied, for staff pages, masked (PIPL): enough to recognise, not to copy."""
    account = await store.get(USERS, account_id) or {}
    if uscc:
        firm = await store.get(ENTERPRISES, uscc) or {}
        who = str(firm.get("name") or "企业")
        return {"who": f"{who}（经办人 {account.get('name') or '—'}）", "id": mask_uscc(uscc)}
    number = account.get("id_number")
    return {
        "who": str(account.get("name") or "申请人"),
        "id": mask_id_number(number) if number else "",
    }
