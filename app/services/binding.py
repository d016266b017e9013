"""Binding a WeChat account to a verified person (实名绑定), with consent, and rebinding.

The chat asks; the check with the real-name register runs as an outbox job (never inside the
WeChat callback), and its outcome arrives as a chat message. One ID number is bound to one
WeChat account at a time: binding it from another account needs the check to pass, moves the
person (and so their cases and documents) to the new account, and tells the old one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog

from app.domain.errors import ValidationFailed
from app.domain.identity import CitizenId, mask_id_number, parse_citizen_id
from app.realname.port import IdentityVerifier, VerifierUnavailable
from app.services.accounts import USERS, WECHAT_LINKS, person_id_for, person_of_openid
from app.services.audit import AUDIT, audit_record
from storage.documents import DocumentStore, DuplicateKey, Transaction, VersionConflict
from storage.outbox import OutboxMessage, enqueue, enqueue_alone

log = structlog.get_logger(__name__)

VERIFY_TOPIC = "identity.verify"
TEXT_TOPIC = "wechat.text"
ATTEMPTS = "identity_attempts"
# The provider charges per call and guessing pairs is an attack: a day's tries are capped.
WINDOW = timedelta(hours=24)
PER_ACCOUNT = 5
PER_NUMBER = 5

PRIVACY_VERSION = "2026-12-01"
PRIVACY_NOTICE = (
    "【个人信息处理告知】绑定前请阅读：\n"
    "1. 收集什么：您的姓名、身份证号码，以及办事时您拍摄的证件照片。\n"
    "2. 为什么：核验您的真实身份（由实名核验服务比对姓名与号码），并办理您申请的政务服务事项。\n"
    "3. 保存多久：身份信息保存至您注销账号；办件材料按档案管理规定随办件保存。\n"
    "4. 谁能看到：仅受理您办件的部门工作人员和监察人员，每次查看都有记录，您可查询。\n"
    "5. 您的权利：可随时查阅、导出您的信息，撤回同意并注销账号（回复“我的信息”）。\n"
    "回复“同意”继续绑定；回复“取消”退出，不会保存任何信息。"
)
CHECKING = "已收到，正在核验您的身份信息，结果稍后通过消息告诉您。"
BOUND = (
    "实名核验通过，绑定成功：{name}（身份证 {masked}）。回复“我要办”开始办理。\n"
    "如希望把通过预审的证件保存到个人空间、下次免于重复拍照，请回复“我的信息”开启。"
)
MOVED_AWAY = (
    "您的微信号已解除与身份证 {masked} 的绑定：该身份已在另一个微信号上通过实名核验并完成绑定，"
    "相关办件随身份转移。如非本人操作，请立即拨打政务服务热线 12345。"
)
MISMATCH = "实名核验未通过：{why}回复“绑定”可重新开始。"
UNAVAILABLE = "实名核验服务暂时不可用，本次未绑定任何信息。请稍后回复“绑定”重试。"
TOO_MANY = "今天的实名核验次数已用完，为保护您的信息安全，请明天再试，或拨打 12345 人工办理。"
OTHER_PERSON = (
    "该微信号已绑定{masked}的身份。一个微信号只能绑定一个身份；如需更换，请先回复“我的信息”注销。"
)
SAME_PERSON = "您已绑定该身份，无需重复绑定。回复“我要办”开始办理。"


def checked_name(name: str) -> str:
    name = name.strip()
    if not 2 <= len(name) <= 30:
        raise ValidationFailed("姓名应为 2 到 30 个字，请重新输入")
    return name


def number_key(number: str) -> str:
    """What the attempt log keeps of an ID number: enough to count, not to read."""
    return hashlib.sha256(f"buchumen-attempt:{number}".encode()).hexdigest()


class BindingService:
    def __init__(
        self,
        store: DocumentStore,
        verifier: IdentityVerifier | None,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._verifier = verifier
        self._clock = clock

    def handlers(self) -> dict[str, Callable[[OutboxMessage], Any]]:
        return {VERIFY_TOPIC: self.verify}

    async def request(self, openid: str, *, name: str, id_number: str, consent: str) -> str:
        """Queue the check of (name, number) for ``openid``; the reply to show at once.

        Refused here, with nothing queued: a malformed name or number, an account already
        bound to someone else, and a day's attempts used up.
        """
        now = self._clock()
        name = checked_name(name)
        citizen = parse_citizen_id(id_number, today=now.date())
        mine = await person_of_openid(self._store, openid)
        if mine is not None:
            if mine.get("id_number") == citizen.number:
                return SAME_PERSON
            return OTHER_PERSON.format(masked=mask_id_number(str(mine.get("id_number", ""))))
        if await self._used_up(openid, citizen.number, now, pending=0):
            return TOO_MANY
        attempt = uuid.uuid4().hex
        payload = {
            "openid": openid,
            "name": name,
            "id_number": citizen.number,
            "attempt": attempt,
            "consent": consent,
        }
        async with self._store.transaction() as tx:
            await tx.insert(
                ATTEMPTS,
                {
                    "_id": attempt,
                    "openid": openid,
                    "number": number_key(citizen.number),
                    "at": now.isoformat(),
                },
            )
            key = f"verify:{attempt}"
            await enqueue(tx, topic=VERIFY_TOPIC, key=key, payload=payload, now=now)
        return CHECKING

    async def _used_up(self, openid: str, number: str, now: datetime, *, pending: int) -> bool:
        """Whether the day's attempts are over the cap; ``pending`` of them are already logged."""
        since = (now - WINDOW).isoformat()
        by_account = await self._store.count(ATTEMPTS, {"openid": openid, "at": {"$gte": since}})
        by_number = await self._store.count(
            ATTEMPTS, {"number": number_key(number), "at": {"$gte": since}}
        )
        return by_account - pending >= PER_ACCOUNT or by_number - pending >= PER_NUMBER

    async def verify(self, msg: OutboxMessage) -> None:
        """Outbox job: ask the register, then bind, or tell why not. Never binds on doubt."""
        p = msg.payload
        openid, attempt = p["openid"], p["attempt"]
        now = self._clock()
        # Counted again with this attempt logged: racing requests cannot all slip under the cap.
        if await self._used_up(openid, p["id_number"], now, pending=1):
            await self._tell(openid, f"refused:{attempt}", TOO_MANY)
            return
        if self._verifier is None:
            await self._tell(openid, f"unavailable:{attempt}", UNAVAILABLE)
            return
        try:
            result = await self._verifier.verify(p["name"], p["id_number"])
        except VerifierUnavailable as exc:
            log.warning("realname_unavailable", code=exc.code, detail=exc.detail)
            await self._tell(openid, f"unavailable:{attempt}", UNAVAILABLE)
            return
        if not result.matched:
            await self._tell(openid, f"mismatch:{attempt}", MISMATCH.format(why=result.message))
            return
        citizen = parse_citizen_id(p["id_number"], today=now.date())
        for _ in range(3):  # a racing bind of the same person: read again and redo
            try:
                await self._bind(openid, p["name"], citizen, p, result.request_id, now)
                break
            except (VersionConflict, DuplicateKey):
                continue

    async def _bind(
        self,
        openid: str,
        name: str,
        citizen: CitizenId,
        p: Mapping[str, Any],
        request_id: str,
        now: datetime,
    ) -> None:
        found = await self._store.find(USERS, {"id_number": citizen.number}, limit=1)
        mine = await person_of_openid(self._store, openid)
        masked = mask_id_number(citizen.number)
        attempt = p["attempt"]
        facts = {
            "name": name,
            "openid": openid,
            "verified": {"by": "realname", "request_id": request_id, "at": now.isoformat()},
            "consent": {"version": p["consent"], "at": now.isoformat()},
        }
        async with self._store.transaction() as tx:
            if mine is not None and mine.get("id_number") != citizen.number:
                held = mask_id_number(str(mine.get("id_number", "")))
                await _say(tx, openid, f"other:{attempt}", OTHER_PERSON.format(masked=held), now)
                return
            if found and found[0].get("deleted_at") is None:
                person = found[0]
                old = person.get("openid")
                if old and old != openid:
                    if await tx.get(WECHAT_LINKS, old):
                        await tx.delete(WECHAT_LINKS, old)
                    moved = MOVED_AWAY.format(masked=masked)
                    await _say(tx, old, f"moved:{attempt}", moved, now)
                await tx.replace(USERS, person | facts, expected_version=person["_version"])
                person_id = person["_id"]
            else:
                person_id = person_id_for(openid)
                if await tx.get(USERS, person_id) is not None:  # a closed account's tombstone
                    person_id = f"p-{uuid.uuid4().hex[:16]}"  # a new person, never the old cases
                await tx.insert(
                    USERS,
                    {
                        "_id": person_id,
                        "username": person_id,
                        "role": "applicant",
                        "id_number": citizen.number,
                        "created_at": now.isoformat(),
                    }
                    | facts,
                )
            if mine is None:
                await tx.insert(WECHAT_LINKS, {"_id": openid, "person": person_id})
            await tx.insert(
                AUDIT,
                audit_record(
                    f"person:{person_id}",
                    "person.bound",
                    person_id,
                    now,
                    {"consent": p["consent"], "request_id": request_id},
                ),
            )
            bound = BOUND.format(name=name, masked=masked)
            await _say(tx, openid, f"bound:{attempt}", bound, now)

    async def _tell(self, openid: str, key: str, text: str) -> None:
        """Told at most once: a rerun of this job finds the key queued."""
        await enqueue_alone(
            self._store, topic=TEXT_TOPIC, key=f"identity:{key}",
            payload={"openid": openid, "text": text}, now=self._clock(),
        )  # fmt: skip


async def _say(tx: Transaction, openid: str, key: str, text: str, now: datetime) -> None:
    await enqueue(
        tx, topic=TEXT_TOPIC, key=f"identity:{key}", payload={"openid": openid, "text": text},
        now=now,
    )  # fmt: skip
