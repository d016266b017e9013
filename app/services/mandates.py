"""Who may act for whom: legal representatives, enterprise agents, family members (代办).

Every change is one transaction with its audit record and the chat messages it implies; the
principal and the agent each hear of it. Nothing here trusts a token: authorities are read
from the store when a request arrives (``accounts.with_authorities``), so a revocation stops
the agent at their next request, on every instance.

How a change is written (audit record, chat message) is ``mandate_changes``; what a licence
photo's verdict or an administrator makes of a legal representative is
``legal_representatives``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, Callable
from datetime import date, datetime

from app.domain.actors import Actor, Role, enterprise, person
from app.domain.cases import china_date
from app.domain.errors import NotFoundError, NotPermitted, ValidationFailed
from app.domain.identity import mask_id_number, mask_uscc, parse_citizen_id, parse_uscc
from app.domain.mandates import OPEN, Mandate, Status
from app.services.accounts import USERS
from app.services.audit import AUDIT
from app.services.catalog import list_matters
from app.services.legal_representatives import LegalRepresentatives
from app.services.mandate_changes import AUTHORITY_PAGE, mandate_audit, tell, write_change
from app.services.mandate_records import ENTERPRISES, MANDATES, mandate_from_doc, mandate_to_doc
from app.services.materials import store_photo
from ocr.rules import Verdict
from storage.documents import Document, DocumentStore, Transaction
from storage.objects import ObjectStore
from storage.outbox import OutboxMessage, enqueue_alone

CLAIM_TOPIC = "enterprise.claim"
NOT_FOUND = "没有找到这条授权记录"
OPEN_LIMIT = 20  # open requests one person may have at a time: a flood is an attack


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
        self._representatives = LegalRepresentatives(store, clock=clock)

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
            await self._notify(tx, decider, f"mandate:{mandate.id}:asked", text, AUTHORITY_PAGE)
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

    # -- legal representatives (LegalRepresentatives) -------------------------------------------

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
        await self._representatives.accept_claim(msg, verdict)

    async def appoint(
        self, admin: Actor, uscc: str, id_number: str, *, name: str | None, reason: str
    ) -> Document:
        """An administrator records an enterprise's legal representative (audited, with why)."""
        return await self._representatives.appoint(admin, uscc, id_number, name=name, reason=reason)

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
        await tx.insert(AUDIT, mandate_audit(m, action, by, self._clock()))

    async def _notify(
        self, tx: Transaction, person_id: str, key: str, text: str, path: str
    ) -> None:
        await tell(tx, person_id, key, text, self._clock(), path)

    async def _matter_names(self) -> dict[str, str]:
        return {m.code: m.name for m in await list_matters(self._store)}
