"""Accounts a token may speak for; demo mode seeds one per role and one reviewer per department."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.actors import Actor, Role
from app.domain.errors import NotFoundError
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
