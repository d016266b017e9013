"""Accounts a token may speak for; demo mode seeds one per role and one reviewer per department."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.actors import Actor, Role
from app.domain.errors import NotFoundError, ValidationFailed
from app.domain.identity import (
    CitizenId,
    Uscc,
    mask_id_number,
    mask_uscc,
    parse_citizen_id,
    parse_uscc,
)
from storage.documents import DocumentStore, DuplicateKey

USERS = "users"

# A valid GB 11643 number (the standard's own example) and a valid GB 32100 code.
DEMO_CITIZEN_ID = "11010519491231002X"
DEMO_USCC = "91350100M000100Y43"


def demo_accounts(departments: list[str]) -> list[dict[str, Any]]:
    accounts: list[dict[str, Any]] = [
        {"_id": "demo-citizen", "role": "applicant", "name": "张三", "id_number": DEMO_CITIZEN_ID},
        {
            "_id": "demo-agent",
            "role": "agent",
            "name": "李四",
            "uscc": DEMO_USCC,
            "enterprise": "福州示例科技有限公司",
        },
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


async def actor_for(store: DocumentStore, username: str) -> Actor:
    doc = await store.get(USERS, username)
    if doc is None:
        raise NotFoundError(f"没有名为 {username} 的账号")
    return Actor(
        id=doc["_id"],
        role=Role(doc["role"]),
        department=doc.get("department"),
        uscc=doc.get("uscc"),
    )


async def list_accounts(store: DocumentStore) -> list[dict[str, Any]]:
    return await store.find(USERS, sort=[("_id", 1)])


def wechat_account_id(openid: str) -> str:
    return f"wx-{openid}"


async def account_of_openid(store: DocumentStore, openid: str) -> Actor | None:
    """The actor bound to this WeChat user, or None before binding."""
    doc = await store.get(USERS, wechat_account_id(openid))
    if doc is None:
        return None
    return Actor(
        id=doc["_id"],
        role=Role(doc["role"]),
        department=doc.get("department"),
        uscc=doc.get("uscc"),
    )


async def bind_person(
    store: DocumentStore, openid: str, *, name: str, id_number: str, now: datetime
) -> CitizenId:
    """Bind an openid to a citizen once; the number must pass GB 11643 and the name be given."""
    name = _checked_name(name)
    citizen = parse_citizen_id(id_number, today=now.date())
    await _insert_account(
        store,
        {
            "_id": wechat_account_id(openid),
            "username": wechat_account_id(openid),
            "openid": openid,
            "role": Role.APPLICANT.value,
            "name": name,
            "id_number": citizen.number,
            "created_at": now.isoformat(),
        },
    )
    return citizen


async def bind_agent(
    store: DocumentStore, openid: str, *, name: str, uscc: str, now: datetime
) -> Uscc:
    """Bind an openid as an agent of one enterprise (GB 32100 code)."""
    name = _checked_name(name)
    code = parse_uscc(uscc)
    await _insert_account(
        store,
        {
            "_id": wechat_account_id(openid),
            "username": wechat_account_id(openid),
            "openid": openid,
            "role": Role.AGENT.value,
            "name": name,
            "uscc": code.code,
            "created_at": now.isoformat(),
        },
    )
    return code


def _checked_name(name: str) -> str:
    name = name.strip()
    if not 2 <= len(name) <= 30:
        raise ValidationFailed("姓名应为 2 到 30 个字，请重新输入")
    return name


async def _insert_account(store: DocumentStore, doc: dict[str, Any]) -> None:
    try:
        async with store.transaction() as tx:
            await tx.insert(USERS, doc)
    except DuplicateKey as exc:
        raise ValidationFailed("该微信号已绑定身份，如需更换请联系人工服务 12345") from exc


async def applicant_label(
    store: DocumentStore, account_id: str, uscc: str | None
) -> dict[str, str]:
    """Who applied, for staff pages, masked (PIPL): enough to recognise, not to copy."""
    account = await store.get(USERS, account_id) or {}
    if uscc:
        return {"who": str(account.get("enterprise") or "企业"), "id": mask_uscc(uscc)}
    number = account.get("id_number")
    return {
        "who": str(account.get("name") or "申请人"),
        "id": mask_id_number(number) if number else "",
    }
