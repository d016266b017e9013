"""Legal representatives: recorded from a business licence photo's verdict, or by an administrator.

The photo is queued by ``MandateService.claim`` and judged by the OCR dispatcher; what the
verdict means for the claimant is decided here, each outcome told once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.domain.actors import Actor, Role
from app.domain.cases import china_date
from app.domain.errors import NotFoundError, NotPermitted, ValidationFailed
from app.domain.identity import mask_uscc, parse_citizen_id, parse_uscc
from app.services.accounts import USERS
from app.services.audit import AUDIT, audit_record
from app.services.mandate_changes import AUTHORITY_PAGE, NOTIFY_PERSON, tell, told
from app.services.mandate_records import ENTERPRISES, enterprise_doc
from ocr.rules import PASS, Verdict
from storage.documents import Document, DocumentStore
from storage.outbox import OutboxMessage, enqueue_alone

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


class LegalRepresentatives:
    def __init__(self, store: DocumentStore, *, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    async def accept_claim(self, msg: OutboxMessage, verdict: Verdict) -> None:
        """A licence photo judged: its legal representative is recorded, or told why not."""
        person_id, key = msg.payload["person"], msg.payload["object_key"]
        who = await self._store.get(USERS, person_id) or {}
        uscc, rep = verdict.fields.get("uscc"), verdict.fields.get("legal_representative")
        tell_key = f"claim:{key}"
        if verdict.kind != "business_licence" or verdict.status != PASS or not uscc or not rep:
            problems = "；".join(f.message for f in verdict.findings) or NO_FIELDS
            await self._tell_once(person_id, tell_key, CLAIM_UNREAD.format(problems=problems))
            return
        if _plain(rep) != _plain(str(who.get("name", ""))):
            await self._tell_once(person_id, tell_key, CLAIM_NOT_REP)
            return
        now = self._clock()
        firm = await self._store.get(ENTERPRISES, uscc)
        if firm is not None and firm["legal_rep"] == person_id:
            return  # a rerun of the job after it was recorded
        if firm is not None:
            taken = CLAIM_TAKEN.format(masked=mask_uscc(uscc))
            await self._tell_once(person_id, tell_key, taken)
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
            await tell(tx, person_id, tell_key, text, self._clock(), AUTHORITY_PAGE)

    async def appoint(
        self, admin: Actor, uscc: str, id_number: str, *, name: str | None, reason: str
    ) -> Document:
        """An administrator records an enterprise's legal representative (audited, with why)."""
        if admin.role is not Role.ADMIN:
            raise NotPermitted("只有管理员可以变更企业的法定代表人")
        if not reason.strip():
            raise ValidationFailed("请写明依据（如营业执照或变更登记通知书的编号）")
        code = parse_uscc(uscc).code
        number = parse_citizen_id(id_number, today=china_date(self._clock())).number
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
            await tell(
                tx,
                rep["_id"],
                f"appointed:{code}:{now.isoformat()}",
                f"管理员已登记您为企业（{mask_uscc(code)}）的法定代表人，可在此管理经办人授权。",
                self._clock(),
                AUTHORITY_PAGE,
            )
        return doc

    async def _tell_once(self, person_id: str, key: str, text: str) -> None:
        """Told at most once: a rerun of the job that tells finds the key queued."""
        payload = told(person_id, text, AUTHORITY_PAGE)
        await enqueue_alone(
            self._store, topic=NOTIFY_PERSON, key=key, payload=payload, now=self._clock()
        )


def _plain(name: str) -> str:
    """A name as compared: without spaces or middle dots (阿依古丽·买买提 is written both ways)."""
    return "".join(name.split()).replace("·", "").replace("•", "")
