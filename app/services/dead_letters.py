"""Work the outbox gave up on, of every topic: shown to supervisors (what, whose, why, since
when) and sent back to work by them, one by one or a topic at a time, each retry audited. A
correction notice that cannot reach its applicant flags the case for the department to phone.

The flag is the undelivered notice itself (``dead_at`` on its outbox message, set when it died,
kept while a retry tries again, cleared once delivered), so it cannot disagree with the outbox;
it is shown while the case still waits on that notice (its state is the one the notice told).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from app.domain.actors import Actor, Role
from app.domain.errors import InvalidTransition, NotFoundError, NotPermitted
from app.domain.identity import mask_person_name, mask_sensitive
from app.services.accounts import USERS, person_of_openid
from app.services.audit import AUDIT, audit_record
from app.services.case_records import CASES
from app.services.notify import NOTIFY_TOPIC
from storage.documents import Document, DocumentStore, VersionConflict
from storage.outbox import DEAD, LEASED, OUTBOX, PENDING, requeued

log = structlog.get_logger(__name__)
LISTED = 500  # dead messages read for the page; beyond that, counted
NOT_SUPERVISOR = "只有督办人员可以重新处理后台任务"
# Each topic's family (the page's headings) and its name, as supervisors know the work.
TOPICS: dict[str, tuple[str, str]] = {
    NOTIFY_TOPIC: ("通知", "办件通知"),
    "notify.person": ("通知", "授权、绑定通知"),
    "wechat.text": ("通知", "公众号回复"),
    "wechat.photo": ("识别", "聊天照片归档"),
    "ocr.precheck": ("识别", "材料机器预审"),
    "space.precheck": ("识别", "个人空间证件识别"),
    "enterprise.claim": ("识别", "企业认证执照识别"),
    "mandate.evidence": ("识别", "代办身份证识别"),
    "certificate.issue": ("证照", "生成电子证照"),
    "space.deposit": ("证照", "存入个人空间"),
    "payment.settle": ("支付", "缴费入账"),
    "payment.refund": ("支付", "退款"),
    "payment.close": ("支付", "关闭订单"),
    "payment.query": ("支付", "查询订单"),
    "courier.book": ("快递", "预约上门取件"),
    "courier.deliver": ("快递", "证照寄送下单"),
    "courier.cancel": ("快递", "取消快递订单"),
    "courier.withdrawn": ("快递", "撤件后取消快递"),
    "identity.verify": ("实名", "实名核验"),
}
FAMILIES = ("通知", "识别", "证照", "支付", "快递", "实名", "其他")
# Why, in words, from the start of the error the outbox kept (the raw text is shown beside).
WHY = (
    ("not sent", "微信连续未应答，暂停发送，待微信恢复应答"),
    ("WeChatNoAnswer", "微信未应答（消息可能已送达）"),
    ("WeChatApiError", "微信拒收"),
    ("WeChatUnavailable", "微信接口不可用"),
    ("GatewayUnavailable", "支付宝接口不可用"),
    ("GatewayRefused", "支付宝拒绝"),
    ("TradeNotFound", "支付宝查无此订单"),
    ("CourierUnavailable", "顺丰接口不可用"),
    ("CourierRefused", "顺丰拒绝"),
    ("VerifierUnavailable", "实名核验接口不可用"),
    ("StorageFull", "存储空间不足"),
    ("OcrTimeout", "识别超时"),
    ("TimeoutError", "处理超时"),
    ("lease expired", "处理中断（服务重启或进程退出）"),
)


@dataclass(frozen=True)
class DeadLetter:
    """One message given up on, as a supervisor reads it."""

    key: str
    topic: str
    label: str
    case: str | None
    whom: str  # masked (PIPL)
    why: str
    error: str  # masked
    since: str  # ISO time it first died


@dataclass(frozen=True)
class DeadTopic:
    topic: str
    label: str
    letters: list[DeadLetter]


@dataclass(frozen=True)
class DeadFamily:
    name: str
    count: int
    topics: list[DeadTopic]


@dataclass(frozen=True)
class Unreached:
    """A correction notice that has not reached its applicant: the department phones them."""

    case: str
    since: str
    notice: str  # the notice's page


class DeadLetters:
    def __init__(self, store: DocumentStore, *, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    async def listing(self, actor: Actor) -> list[DeadFamily]:
        """Every dead message by family and topic, the longest dead first; supervisors only."""
        _supervisor(actor)
        dead = await self._store.find(
            OUTBOX, {"status": DEAD}, sort=[("next_attempt_at", 1)], limit=LISTED
        )
        by_topic: dict[str, list[DeadLetter]] = {}
        for doc in sorted(dead, key=lambda d: str(d.get("dead_at") or "")):
            by_topic.setdefault(doc["topic"], []).append(await self._letter(doc))
        families = []
        for family in FAMILIES:
            topics = [
                DeadTopic(topic, _label(topic), letters)
                for topic, letters in sorted(by_topic.items())
                if _family(topic) == family
            ]
            if topics:
                count = sum(len(t.letters) for t in topics)
                families.append(DeadFamily(family, count, topics))
        return families

    async def retry(self, actor: Actor, key: str) -> None:
        """Send one dead message back to work, audited."""
        _supervisor(actor)
        doc = await self._store.get(OUTBOX, key)
        if doc is None:
            raise NotFoundError("没有这个后台任务")
        if not await self._requeue(actor, doc, bulk=False):
            raise InvalidTransition("该任务不在“处理失败”状态，无需重新处理")

    async def retry_topic(self, actor: Actor, topic: str) -> int:
        """Send every dead message of ``topic`` back to work, each audited; how many went."""
        _supervisor(actor)
        sent = 0
        while dead := await self._store.find(OUTBOX, {"status": DEAD, "topic": topic}, limit=200):
            went = [await self._requeue(actor, doc, bulk=True) for doc in dead]
            sent += sum(went)
            if not any(went):
                break  # each changed under us: whatever is still dead, the page shows again
        if not sent:
            raise NotFoundError("该类别没有处理失败的任务")
        log.info("outbox_topic_requeued", topic=topic, count=sent, by=actor.id)
        return sent

    async def unreached(self, department: str) -> list[Unreached]:
        """The department's cases whose correction notice has not reached the applicant."""
        return [u for u, case in await self._unreached() if case.get("department") == department]

    async def unreached_case(self, number: str) -> Unreached | None:
        return next((u for u, case in await self._unreached() if u.case == number), None)

    async def _unreached(self) -> list[tuple[Unreached, Document]]:
        where = {
            "topic": NOTIFY_TOPIC,
            "status": {"$in": [DEAD, PENDING, LEASED]},  # dead, or retried and not yet through
            "dead_at": {"$ne": None},
        }
        found = []
        for doc in await self._store.find(OUTBOX, where, sort=[("dead_at", 1)], limit=LISTED):
            payload = doc["payload"]
            number, path = payload.get("case") or "", str(payload.get("path") or "")
            if not path.startswith(f"/h5/cases/{number}/notices/"):
                continue  # a correction notice has a page of its own
            case = await self._store.get(CASES, number)
            if case is not None and case.get("state") == payload.get("state"):
                found.append((Unreached(number, doc["dead_at"], path), case))
        return found

    async def _requeue(self, actor: Actor, doc: Document, *, bulk: bool) -> bool:
        if doc["status"] != DEAD:
            return False
        now = self._clock()
        detail = {"topic": doc["topic"], "case": doc["payload"].get("case"), "bulk": bulk}
        try:
            async with self._store.transaction() as tx:
                again = requeued(doc, now)
                await tx.replace(OUTBOX, again, expected_version=doc["_version"])
                subject = f"outbox:{doc['_id']}"
                await tx.insert(
                    AUDIT, audit_record(subject, "outbox.requeued", actor.id, now, detail)
                )
        except VersionConflict:
            return False  # retried or changed meanwhile
        log.info("outbox_requeued", key=doc["_id"], topic=doc["topic"], by=actor.id)
        return True

    async def _letter(self, doc: Document) -> DeadLetter:
        payload: dict[str, Any] = doc.get("payload") or {}
        error = str(doc.get("last_error") or "")
        return DeadLetter(
            key=doc["_id"],
            topic=doc["topic"],
            label=_label(doc["topic"]),
            case=payload.get("case") or None,
            whom=await self._whom(payload),
            why=next((zh for start, zh in WHY if start in error), "处理出错"),
            error=mask_sensitive(error),
            since=str(doc.get("dead_at") or doc.get("created_at") or ""),
        )

    async def _whom(self, payload: dict[str, Any]) -> str:
        """The person the work is for, masked: enough to recognise, not to copy (PIPL)."""
        person = next(
            (payload[k] for k in ("applicant_id", "person", "account") if payload.get(k)), None
        )
        if person is None and payload.get("case"):
            case = await self._store.get(CASES, str(payload["case"])) or {}
            person = case.get("applicant_id")
        user = await self._store.get(USERS, str(person)) if person else None
        if user is None and payload.get("openid"):
            user = await person_of_openid(self._store, str(payload["openid"]))
        name = str((user or {}).get("name") or payload.get("name") or "")
        if name:
            return mask_person_name(name)
        return "未绑定的微信用户" if payload.get("openid") else "—"


def _supervisor(actor: Actor) -> None:
    if actor.role is not Role.SUPERVISOR:
        raise NotPermitted(NOT_SUPERVISOR)


def _family(topic: str) -> str:
    return TOPICS.get(topic, ("其他", topic))[0]


def _label(topic: str) -> str:
    return TOPICS.get(topic, ("其他", topic))[1]
