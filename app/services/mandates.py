"""Who may act for whom: legal representatives, enterprise agents, family members (代办).

Every change is one transaction with its audit record and the chat messages it implies; the
principal and the agent each hear of it. Nothing here trusts a token: authorities are read
from the store when a request arrives (``accounts.with_authorities``), so a revocation stops
the agent at their next request, on every instance.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, Callable
from datetime import date, datetime
from typing import Any

from app.domain.actors import Actor, Role, enterprise, person
from app.domain.cases import china_date
from app.domain.errors import NotFoundError, NotPermitted, ValidationFailed
from app.domain.identity import mask_id_number, mask_uscc, parse_citizen_id, parse_uscc
from app.domain.mandates import OPEN, Mandate, Status
from app.services.accounts import USERS
from app.services.audit import AUDIT, audit_record
from app.services.catalog import list_matters
from app.services.mandate_records import (
    ENTERPRISES,
    MANDATES,
    enterprise_doc,
    mandate_from_doc,
    mandate_to_doc,
)
from app.services.materials import store_photo
from ocr.rules import PASS, Verdict
from storage.documents import Document, DocumentStore, Transaction
from storage.objects import ObjectStore
from storage.outbox import OutboxMessage, enqueue, enqueue_alone

CLAIM_TOPIC = "enterprise.claim"
NOTIFY_PERSON = "notify.person"
AUTHORITY_PAGE = "/h5/authority"
NOT_FOUND = "没有找到这条授权记录"
OPEN_LIMIT = 20  # open requests one person may have at a time: a flood is an attack
CLAIM_UNREAD = (
    "营业执照未通过识别：{problems}。"
    "请在光线充足处平拍营业执照正本或副本后，回复“企业认证”重新发送。"
)
CLAIM_NOT_REP = (
    "营业执照上的法定代表人与您的实名信息不一致。只有法定代表人本人可以认证企业；"
    "经办人请回复“企业授权”向法定代表人申请授权。"
)
CLAIM_TAKEN = (
    "企业（{masked}）已由另一位法定代表人认证。如法定代表人已变更，"
    "请拨打 12345，由管理员核实变更登记后为您更新。"
)
CLAIMED = (
    "企业认证成功：您已作为{name}（{masked}）的法定代表人，可直接办理企业事项。"
    "经办人向您申请授权时，您会在这里收到消息。"
)
NO_FIELDS = "未能识别出统一社会信用代码和法定代表人"


class MandateService:
    def __init__(
        self,
        store: DocumentStore,
        objects: ObjectStore,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._objects = objects
        self._clock = clock

    def today(self) -> date:
        return china_date(self._clock())

    # -- reads -------------------------------------------------------------------------------

    async def enterprise_of(self, uscc: str) -> Document | None:
        return await self._store.get(ENTERPRISES, uscc)

    async def represented_by(self, actor: Actor) -> list[Document]:
        """The enterprises ``actor`` is the legal representative of."""
        return await self._store.find(ENTERPRISES, {"legal_rep": actor.id}, sort=[("_id", 1)])

    async def granted_by(self, actor: Actor, principal: str) -> list[Mandate]:
        """A principal's requests and grants, newest first; only the principal sees them."""
        await self._require_principal(actor, principal)
        docs = await self._store.find(MANDATES, {"principal": principal})
        return sorted(
            (mandate_from_doc(d) for d in docs), key=lambda m: m.requested_at, reverse=True
        )

    async def held_by(self, actor: Actor) -> list[Mandate]:
        """The agent's own requests and grants, newest first."""
        docs = await self._store.find(MANDATES, {"agent": actor.id})
        return sorted(
            (mandate_from_doc(d) for d in docs), key=lambda m: m.requested_at, reverse=True
        )

    async def names_of(self, principals: list[str]) -> dict[str, str]:
        """How to show each principal: the enterprise's name, or a person's masked name."""
        out = {}
        for principal in principals:
            kind, _, ref = principal.partition(":")
            if kind == "enterprise":
                doc = await self._store.get(ENTERPRISES, ref) or {}
                out[principal] = f"{doc.get('name') or '企业'}（{mask_uscc(ref)}）"
            else:
                doc = await self._store.get(USERS, ref) or {}
                out[principal] = str(doc.get("name") or "申请人")
        return out

    # -- the agent's side ---------------------------------------------------------------------

    async def request_for_enterprise(self, actor: Actor, uscc: str) -> Mandate:
        code = parse_uscc(uscc).code
        firm = await self._store.get(ENTERPRISES, code)
        if firm is None:
            raise ValidationFailed(
                f"统一社会信用代码为 {mask_uscc(code)} 的企业尚未由法定代表人在本平台认证。"
                "请法定代表人在公众号回复“企业认证”并拍摄营业执照，认证后再申请。"
            )
        if firm["legal_rep"] == actor.id:
            raise ValidationFailed("您是该企业的法定代表人，可直接办理企业事项，无需申请授权")
        return await self._request(actor, enterprise(code), firm["legal_rep"], firm.get("name"))

    async def request_for_person(self, actor: Actor, name: str, id_number: str) -> Mandate | None:
        """Ask a bound person to let ``actor`` apply for them (代办); None when no one is asked.

        The answer is the same whether or not the person is bound here, so the request tells
        nobody who uses the service.
        """
        number = parse_citizen_id(id_number, today=self.today()).number
        found = await self._store.find(USERS, {"id_number": number}, limit=1)
        principal = found[0] if found else None
        if (
            principal is None
            or principal.get("name") != name.strip()
            or principal.get("deleted_at")
        ):
            return None
        if principal["_id"] == actor.id:
            raise ValidationFailed("不能为自己申请代办授权，直接办理即可")
        return await self._request(actor, person(principal["_id"]), principal["_id"], None)

    async def _request(
        self, actor: Actor, principal: str, decider: str, firm_name: str | None
    ) -> Mandate:
        if actor.role is not Role.APPLICANT:
            raise NotPermitted("只有实名绑定的个人可以申请授权")
        mine = [mandate_from_doc(d) for d in await self._store.find(MANDATES, {"agent": actor.id})]
        if any(m.principal == principal and m.status in OPEN for m in mine):
            raise ValidationFailed(
                "您已提交过该授权申请或已获授权，请勿重复申请。回复“我的授权”查看"
            )
        if sum(m.status is Status.REQUESTED for m in mine) >= OPEN_LIMIT:
            raise ValidationFailed("您待确认的授权申请过多，请等对方处理后再申请")
        agent = await self._store.get(USERS, actor.id) or {}
        now = self._clock()
        mandate = Mandate(
            id=uuid.uuid4().hex[:12],
            principal=principal,
            agent=actor.id,
            agent_name=str(agent.get("name") or ""),
            status=Status.REQUESTED,
            requested_at=now,
        )
        whom = f"您的企业{firm_name or ''}" if principal.startswith("enterprise:") else "您"
        masked = mask_id_number(str(agent.get("id_number") or ""))
        text = (
            f"{mandate.agent_name}（身份证 {masked}）申请代{whom}办理政务服务事项。"
            "请打开链接选择授权的事项和期限，或拒绝。如不认识此人，请直接拒绝。"
        )
        async with self._store.transaction() as tx:
            await tx.insert(MANDATES, mandate_to_doc(mandate))
            await self._audit(tx, mandate, "mandate.requested", actor.id)
            await self._notify(tx, decider, f"mandate:{mandate.id}:asked", text, "/h5/authority")
        return mandate

    async def withdraw(self, actor: Actor, mandate_id: str) -> Mandate:
        mandate = await self._get(mandate_id)
        if mandate.agent != actor.id:
            raise NotFoundError(NOT_FOUND)
        return await self._save(mandate, mandate.withdraw(actor.id, at=self._clock()), actor, None)

    # -- the principal's side -----------------------------------------------------------------

    async def grant(
        self,
        actor: Actor,
        mandate_id: str,
        *,
        matters: tuple[str, ...] | None,
        expires_on: date,
    ) -> Mandate:
        mandate = await self._mine_to_decide(actor, mandate_id)
        granted = mandate.grant(
            actor.id, matters=matters, expires_on=expires_on, at=self._clock(), today=self.today()
        )
        names = await self._matter_names()
        unknown = [code for code in granted.matters or () if code not in names]
        if unknown:
            raise ValidationFailed("授权的事项不在目录中，请刷新页面后重新选择")
        who = (await self.names_of([granted.principal]))[granted.principal]
        text = (
            f"{who}已授权您代为办理：{granted.scope_zh(names)}，有效期至 {granted.expires_on}。"
            "回复“我要办”开始办理。"
        )
        return await self._save(mandate, granted, actor, text)

    async def refuse(self, actor: Actor, mandate_id: str, *, reason: str = "") -> Mandate:
        mandate = await self._mine_to_decide(actor, mandate_id)
        refused = mandate.refuse(actor.id, reason=reason, at=self._clock())
        who = (await self.names_of([refused.principal]))[refused.principal]
        why = f"说明：{refused.reason}" if refused.reason else ""
        return await self._save(mandate, refused, actor, f"{who}拒绝了您的授权申请。{why}")

    async def revoke(self, actor: Actor, mandate_id: str, *, reason: str = "") -> Mandate:
        mandate = await self._mine_to_decide(actor, mandate_id)
        revoked = mandate.revoke(actor.id, reason=reason, at=self._clock())
        who = (await self.names_of([revoked.principal]))[revoked.principal]
        why = f"说明：{revoked.reason}" if revoked.reason else ""
        text = f"{who}已撤销对您的授权，您不能再代其办理事项或查看其办件。{why}"
        return await self._save(mandate, revoked, actor, text)

    async def _mine_to_decide(self, actor: Actor, mandate_id: str) -> Mandate:
        mandate = await self._get(mandate_id)
        try:
            await self._require_principal(actor, mandate.principal)
        except NotPermitted as exc:
            raise NotFoundError(NOT_FOUND) from exc  # others' records are not known to exist
        return mandate

    async def _require_principal(self, actor: Actor, principal: str) -> None:
        """Only the person themselves, or an enterprise's legal representative, decides."""
        kind, _, ref = principal.partition(":")
        if actor.role is Role.APPLICANT:
            if kind == "person" and ref == actor.id:
                return
            firm = await self._store.get(ENTERPRISES, ref) if kind == "enterprise" else None
            if firm is not None and firm["legal_rep"] == actor.id:
                return
        raise NotPermitted("只有法定代表人或本人可以管理授权")

    # -- legal representatives ------------------------------------------------------------------

    async def claim(
        self, actor: Actor, chunks: AsyncIterable[bytes], *, key: str | None = None
    ) -> None:
        """A business licence photo to become its legal representative here, once it passes.

        ``key`` names the upload (a chat message): a rerun queues nothing new.
        """
        if actor.role is not Role.APPLICANT:
            raise NotPermitted("只有实名绑定的个人可以认证企业")
        ref = await store_photo(self._objects, "enterprise/claims", chunks, "upload")
        payload = {"person": actor.id, "object_key": ref.object_key}
        # A key queued before: this very photo is being judged already.
        key = f"claim:{key or ref.object_key}"
        await enqueue_alone(
            self._store, topic=CLAIM_TOPIC, key=key, payload=payload, now=self._clock()
        )

    async def accept_claim(self, msg: OutboxMessage, verdict: Verdict) -> None:
        """A licence photo judged: its legal representative is recorded, or told why not."""
        person_id, key = msg.payload["person"], msg.payload["object_key"]
        who = await self._store.get(USERS, person_id) or {}
        uscc, rep = verdict.fields.get("uscc"), verdict.fields.get("legal_representative")
        tell = f"claim:{key}"
        if verdict.kind != "business_licence" or verdict.status != PASS or not uscc or not rep:
            problems = "；".join(f.message for f in verdict.findings) or NO_FIELDS
            await self._tell_once(person_id, tell, CLAIM_UNREAD.format(problems=problems))
            return
        if _plain(rep) != _plain(str(who.get("name", ""))):
            await self._tell_once(person_id, tell, CLAIM_NOT_REP)
            return
        now = self._clock()
        firm = await self._store.get(ENTERPRISES, uscc)
        if firm is not None and firm["legal_rep"] == person_id:
            return  # a rerun of the job after it was recorded
        if firm is not None:
            await self._tell_once(person_id, tell, CLAIM_TAKEN.format(masked=mask_uscc(uscc)))
            return
        name = verdict.fields.get("company_name")
        doc = enterprise_doc(uscc, name, person_id, rep, how=f"licence:{key}", at=now)
        text = CLAIMED.format(name=name or "该企业", masked=mask_uscc(uscc))
        async with self._store.transaction() as tx:
            await tx.insert(ENTERPRISES, doc)
            detail = {"licence": key}
            record = audit_record(
                f"enterprise:{uscc}", "enterprise.claimed", person_id, now, detail
            )
            await tx.insert(AUDIT, record)
            await self._notify(tx, person_id, tell, text, "/h5/authority")

    async def appoint(
        self, admin: Actor, uscc: str, id_number: str, *, name: str | None, reason: str
    ) -> Document:
        """An administrator records an enterprise's legal representative (audited, with why)."""
        if admin.role is not Role.ADMIN:
            raise NotPermitted("只有管理员可以变更企业的法定代表人")
        if not reason.strip():
            raise ValidationFailed("请写明依据（如营业执照或变更登记通知书的编号）")
        code = parse_uscc(uscc).code
        number = parse_citizen_id(id_number, today=self.today()).number
        found = await self._store.find(USERS, {"id_number": number}, limit=1)
        if not found:
            raise NotFoundError("该身份证号码尚未在本平台实名绑定，请法定代表人先在公众号绑定")
        rep = found[0]
        now = self._clock()
        firm = await self._store.get(ENTERPRISES, code)
        doc = enterprise_doc(
            code,
            name or (firm or {}).get("name"),
            rep["_id"],
            rep["name"],
            how=f"admin:{admin.id}",
            at=now,
        )
        async with self._store.transaction() as tx:
            if firm is None:
                await tx.insert(ENTERPRISES, doc)
            else:
                await tx.replace(ENTERPRISES, doc, expected_version=firm["_version"])
            detail = {"reason": reason.strip(), "before": (firm or {}).get("legal_rep")}
            await tx.insert(
                AUDIT,
                audit_record(f"enterprise:{code}", "enterprise.appointed", admin.id, now, detail),
            )
            await self._notify(
                tx,
                rep["_id"],
                f"appointed:{code}:{now.isoformat()}",
                f"管理员已登记您为企业（{mask_uscc(code)}）的法定代表人，可在此管理经办人授权。",
                "/h5/authority",
            )
        return doc

    # -- internals ----------------------------------------------------------------------------

    async def _get(self, mandate_id: str) -> Mandate:
        doc = await self._store.get(MANDATES, mandate_id)
        if doc is None:
            raise NotFoundError(NOT_FOUND)
        return mandate_from_doc(doc)

    async def _save(
        self, before: Mandate, after: Mandate, actor: Actor, text: str | None
    ) -> Mandate:
        async with self._store.transaction() as tx:
            saved = await write_change(tx, before, after, actor.id, self._clock(), text)
        return mandate_from_doc(saved)

    async def _audit(self, tx: Transaction, m: Mandate, action: str, by: str) -> None:
        await tx.insert(AUDIT, _audit_record(m, action, by, self._clock()))

    async def _notify(
        self, tx: Transaction, person_id: str, key: str, text: str, path: str
    ) -> None:
        await tell(tx, person_id, key, text, self._clock(), path)

    async def _tell_once(self, person_id: str, key: str, text: str) -> None:
        """Told at most once: a rerun of the job that tells finds the key queued."""
        payload = _told(person_id, text, AUTHORITY_PAGE)
        await enqueue_alone(
            self._store, topic=NOTIFY_PERSON, key=key, payload=payload, now=self._clock()
        )

    async def _matter_names(self) -> dict[str, str]:
        return {m.code: m.name for m in await list_matters(self._store)}


async def write_change(
    tx: Transaction,
    before: Mandate,
    after: Mandate,
    by: str,
    at: datetime,
    text: str | None,
    **why: str,
) -> Document:
    """An authorisation's new state in ``tx``: compare-and-set, its audit record, and the
    agent's chat message when ``text`` is given. Every change of a mandate goes through here."""
    saved = await tx.replace(MANDATES, mandate_to_doc(after), expected_version=before.version)
    await tx.insert(AUDIT, _audit_record(after, f"mandate.{after.status.value}", by, at, **why))
    if text:
        key = f"mandate:{after.id}:{after.status.value}"
        await tell(tx, after.agent, key, text, at)
    return saved


def _audit_record(m: Mandate, action: str, by: str, at: datetime, **why: str) -> Document:
    detail: dict[str, Any] = {"agent": m.agent, "status": m.status.value, **why}
    if m.matters is not None:
        detail["matters"] = list(m.matters)
    if m.expires_on:
        detail["expires_on"] = m.expires_on.isoformat()
    return audit_record(m.principal, action, by, at, detail)


async def tell(
    tx: Transaction, person_id: str, key: str, text: str, at: datetime, path: str = ""
) -> None:
    """Queue a chat message to a person about an authorisation, linking to its page."""
    payload = _told(person_id, text, path or AUTHORITY_PAGE)
    await enqueue(tx, topic=NOTIFY_PERSON, key=key, payload=payload, now=at)


def _told(person_id: str, text: str, path: str) -> dict[str, Any]:
    return {"person": person_id, "text": text, "path": path, "link_label": "查看授权"}


def _plain(name: str) -> str:
    return "".join(name.split()).replace("·", "").replace("•", "")
