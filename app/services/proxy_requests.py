"""代办 for a person without WeChat: the handler brings evidence and a department reviewer decides.

A person who cannot confirm in their own chat (an elder without a phone) is represented by the
handler's evidence: the person's ID card photo and a proof of relationship. The ID card is
pre-checked against the typed name and number, the request goes to the reviewers of the matter's
department, and a grant covers that matter only. When the person is bound here after all, they
are told too and may refuse it on their own authority page. The person's record is made when the
grant is made (never for a refused request), so a stranger's typing leaves nothing behind.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, Callable
from dataclasses import replace
from datetime import date, datetime

from app.domain.actors import Actor, Role, person
from app.domain.cases import china_date
from app.domain.errors import NotFoundError, NotPermitted, ValidationFailed
from app.domain.identity import mask_id_number, mask_person_name, parse_citizen_id
from app.domain.mandates import OPEN, RELATIONS, Evidence, Mandate, Status
from app.services.accounts import USERS
from app.services.audit import AUDIT, audit_record
from app.services.catalog import get_matter
from app.services.mandate_changes import tell, write_change
from app.services.mandate_records import MANDATES, mandate_from_doc, mandate_to_doc
from app.services.mandates import OPEN_LIMIT
from app.services.materials import store_photo
from app.services.prechecks import Checker
from ocr.rules import PASS, Expectation, Verdict
from storage.documents import Document, DocumentStore, DuplicateKey, VersionConflict
from storage.objects import ObjectNotFound, ObjectStore
from storage.outbox import OutboxMessage, enqueue

EVIDENCE_TOPIC = "mandate.evidence"
NOT_FOUND = "没有找到这条代办申请"
NAME_MAX = 30
SUBMITTED = (
    "已提交代{name}办理“{matter}”的申请，由{department}审核人员核对身份证和关系证明，"
    "一般在3个工作日内答复，结果会在这里告诉您。"
)
TOLD_PRINCIPAL = (
    "{agent}（身份证 {masked}）提交了您的身份证和关系证明，申请代您办理“{matter}”。"
    "如您不同意，请打开链接拒绝；如不认识此人，请拒绝并拨打 12345。"
)
ID_CARD_UNREAD = (
    "您上传的委托人身份证照片未通过识别：{problems}。审核人员仍会查看；"
    "如需重拍，请在授权页撤回申请后重新提交。"
)
GRANTED = (
    "审核通过：您可以代{name}办理“{matter}”，有效期至 {until}。回复“我要办”开始办理，"
    "办理进度会同时告诉您。"
)
REFUSED = "您代{name}办理“{matter}”的申请未通过审核。说明：{reason}"


class ProxyService:
    def __init__(
        self,
        store: DocumentStore,
        objects: ObjectStore,
        checker: Checker,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._objects = objects
        self._checker = checker
        self._clock = clock

    def today(self) -> date:
        return china_date(self._clock())

    # -- the handler's side -------------------------------------------------------------------

    async def check(
        self, actor: Actor, *, name: str, id_number: str, relation: str, matter: str
    ) -> str:
        """The principal's person id once the request is acceptable; the reason why not if not.

        Run before any photo is read, so a refused request keeps no photo.
        """
        if actor.role is not Role.APPLICANT:
            raise NotPermitted("只有实名绑定的个人可以申请代办")
        name = name.strip()
        if not 2 <= len(name) <= NAME_MAX:
            raise ValidationFailed("请填写委托人身份证上的姓名")
        number = parse_citizen_id(id_number, today=self.today()).number
        if relation not in RELATIONS:
            raise ValidationFailed("请选择您与委托人的关系")
        found = await get_matter(self._store, matter)
        if "citizen" not in found.targets:
            raise ValidationFailed(f"“{found.name}”不面向个人办理，不能代办")
        me = await self._store.get(USERS, actor.id) or {}
        if me.get("id_number") == number:
            raise ValidationFailed("不能为自己申请代办，直接办理即可")
        record = await self._person(number)
        if record is not None and record.get("name") != name:
            raise ValidationFailed("姓名与身份证号码不一致，请对照委托人的身份证核对后重新填写")
        principal = person(record["_id"]) if record else None
        mine = [mandate_from_doc(d) for d in await self._store.find(MANDATES, {"agent": actor.id})]
        if any(
            m.status in OPEN
            and (m.principal == principal or (m.evidence and m.evidence.id_number == number))
            for m in mine
        ):
            raise ValidationFailed("您已为该委托人提交过申请或已获授权。回复“我的授权”查看")
        if sum(m.status is Status.REQUESTED for m in mine) >= OPEN_LIMIT:
            raise ValidationFailed("您待审核的授权申请过多，请等处理后再申请")
        return record["_id"] if record else f"p-{uuid.uuid4().hex[:16]}"

    async def keep_photo(self, chunks: AsyncIterable[bytes]) -> str:
        """One evidence photo (stored without its location), by object key."""
        ref = await store_photo(self._objects, "mandates/evidence", chunks, "upload")
        return ref.object_key

    async def request(
        self,
        actor: Actor,
        *,
        name: str,
        id_number: str,
        relation: str,
        matter: str,
        id_card: str,
        proof: str,
    ) -> Mandate:
        person_id = await self.check(
            actor, name=name, id_number=id_number, relation=relation, matter=matter
        )
        found = await get_matter(self._store, matter)
        agent = await self._store.get(USERS, actor.id) or {}
        now = self._clock()
        number = parse_citizen_id(id_number, today=self.today()).number
        mandate = Mandate(
            id=uuid.uuid4().hex[:12],
            principal=person(person_id),
            agent=actor.id,
            agent_name=str(agent.get("name") or ""),
            status=Status.REQUESTED,
            requested_at=now,
            matters=(matter,),
            evidence=Evidence(name.strip(), number, relation, id_card, proof),
        )
        principal = await self._store.get(USERS, person_id)
        async with self._store.transaction() as tx:
            await tx.insert(MANDATES, mandate_to_doc(mandate))
            await tx.insert(AUDIT, _audit(mandate, "mandate.requested", actor.id, now))
            job = {"mandate": mandate.id, "object_key": id_card}
            key = f"evidence:{mandate.id}"
            await enqueue(tx, topic=EVIDENCE_TOPIC, key=key, payload=job, now=now)
            text = SUBMITTED.format(
                name=_masked_name(mandate.evidence), matter=found.name,
                department=found.department_name,
            )  # fmt: skip
            await tell(tx, actor.id, f"mandate:{mandate.id}:asked", text, now)
            if principal and principal.get("openid"):  # bound after all: they may object
                told = TOLD_PRINCIPAL.format(
                    agent=mandate.agent_name,
                    masked=mask_id_number(str(agent.get("id_number") or "")),
                    matter=found.name,
                )
                key = f"mandate:{mandate.id}:told"
                await tell(tx, person_id, key, told, now)
        return mandate

    async def check_evidence(self, msg: OutboxMessage) -> None:
        """Outbox job: the principal's ID card photo against the typed name and number."""
        doc = await self._store.get(MANDATES, msg.payload["mandate"])
        evidence = mandate_from_doc(doc).evidence if doc else None
        if evidence is None or evidence.findings is not None:
            return  # read by an earlier run
        expect = Expectation(
            "id_card_front", self.today(), person_id=evidence.id_number, holder_name=evidence.name
        )
        try:
            verdict = await self._checker(self._objects, evidence.id_card, expect)
        except ObjectNotFound:
            return
        await self._keep_check(msg, verdict)

    async def _keep_check(self, msg: OutboxMessage, verdict: Verdict) -> None:
        """The ID card photo read: the reviewer sees what did not match; the handler is told."""
        for _ in range(3):
            doc = await self._store.get(MANDATES, msg.payload["mandate"])
            if doc is None:
                return
            mandate = mandate_from_doc(doc)
            if mandate.evidence is None or mandate.evidence.findings is not None:
                return  # told by an earlier run of this job
            problems = () if verdict.status == PASS else tuple(f.message for f in verdict.findings)
            problems = problems or (() if verdict.status == PASS else ("未能识别",))
            read = replace(mandate, evidence=mandate.evidence.read(problems))
            try:
                async with self._store.transaction() as tx:
                    await tx.replace(
                        MANDATES, mandate_to_doc(read), expected_version=mandate.version
                    )
                    if problems:
                        text = ID_CARD_UNREAD.format(problems="；".join(problems))
                        key = f"mandate:{mandate.id}:unread"
                        await tell(tx, mandate.agent, key, text, self._clock())
            except VersionConflict:
                continue
            return

    # -- the reviewer's side ------------------------------------------------------------------

    async def pending_for(self, reviewer: Actor) -> list[Mandate]:
        """Requests with evidence for the reviewer's department's matters, oldest first."""
        docs = await self._store.find(MANDATES, {"status": Status.REQUESTED.value})
        out = []
        for doc in sorted(docs, key=lambda d: d["requested_at"]):
            mandate = mandate_from_doc(doc)
            if mandate.evidence is not None and await self._decides(reviewer, mandate):
                out.append(mandate)
        return out

    async def evidence_photo(self, reviewer: Actor, mandate_id: str, which: str) -> str:
        """The object key of one evidence photo; each look is recorded (PIPL)."""
        mandate = await self._to_decide(reviewer, mandate_id)
        assert mandate.evidence is not None
        key = mandate.evidence.id_card if which == "id_card" else mandate.evidence.proof
        async with self._store.transaction() as tx:
            record = audit_record(
                mandate.principal, "mandate.evidence_viewed", reviewer.id, self._clock(),
                {"mandate": mandate.id, "photo": which},
            )  # fmt: skip
            await tx.insert(AUDIT, record)
        return key

    async def grant(self, reviewer: Actor, mandate_id: str, *, expires_on: date) -> Mandate:
        """Granted for the matter asked; the person's record is made now if there is none."""
        mandate = await self._to_decide(reviewer, mandate_id)
        evidence = mandate.evidence
        assert evidence is not None
        granted = mandate.grant(
            reviewer.id,
            matters=mandate.matters,
            expires_on=expires_on,
            at=self._clock(),
            today=self.today(),
        )
        matter = await get_matter(self._store, (mandate.matters or ("",))[0])
        text = GRANTED.format(
            name=_masked_name(evidence), matter=matter.name, until=granted.expires_on
        )
        for _ in range(3):  # a person bound or made meanwhile: use theirs
            record = await self._person(evidence.id_number)
            now = self._clock()
            try:
                async with self._store.transaction() as tx:
                    if record is None:
                        await tx.insert(USERS, _principal_doc(mandate, reviewer, now))
                    elif record.get("name") != evidence.name:
                        raise ValidationFailed(
                            "委托人已在本平台登记，姓名与申请不一致，请退回申请并说明原因"
                        )
                    else:
                        granted = replace(granted, principal=person(record["_id"]))
                    saved = await write_change(tx, mandate, granted, reviewer.id, now, text)
            except DuplicateKey:
                continue
            return mandate_from_doc(saved)
        raise VersionConflict("请刷新页面后重试")

    async def refuse(self, reviewer: Actor, mandate_id: str, *, reason: str) -> Mandate:
        if not reason.strip():
            raise ValidationFailed("请写明不通过的原因，会告知申请人")
        mandate = await self._to_decide(reviewer, mandate_id)
        assert mandate.evidence is not None
        refused = mandate.refuse(reviewer.id, reason=reason, at=self._clock())
        matter = await get_matter(self._store, (mandate.matters or ("",))[0])
        text = REFUSED.format(
            name=_masked_name(mandate.evidence), matter=matter.name, reason=refused.reason
        )
        async with self._store.transaction() as tx:
            saved = await write_change(tx, mandate, refused, reviewer.id, self._clock(), text)
        return mandate_from_doc(saved)

    # -- internals ----------------------------------------------------------------------------

    async def _to_decide(self, reviewer: Actor, mandate_id: str) -> Mandate:
        """A request with evidence this reviewer decides; whether it is still open is the
        domain's to say (a colleague may have decided first)."""
        doc = await self._store.get(MANDATES, mandate_id)
        mandate = mandate_from_doc(doc) if doc else None
        if mandate is None or mandate.evidence is None:
            raise NotFoundError(NOT_FOUND)
        if not await self._decides(reviewer, mandate):
            raise NotFoundError(NOT_FOUND)
        return mandate

    async def _decides(self, reviewer: Actor, mandate: Mandate) -> bool:
        """Reviewers of the department whose matter was asked for; administrators."""
        if reviewer.role is Role.ADMIN:
            return True
        if reviewer.role is not Role.REVIEWER or not mandate.matters:
            return False
        matter = await get_matter(self._store, mandate.matters[0])
        return matter.department == reviewer.department

    async def _person(self, number: str) -> Document | None:
        found = await self._store.find(USERS, {"id_number": number}, limit=1)
        if not found or found[0].get("deleted_at"):
            return None
        return found[0]


def _principal_doc(mandate: Mandate, reviewer: Actor, now: datetime) -> Document:
    """A person known from a handler's evidence, as checked by a reviewer; no WeChat account.

    If they bind later, binding finds this record by the ID number and keeps its cases.
    """
    assert mandate.evidence is not None
    person_id = mandate.principal.partition(":")[2]
    return {
        "_id": person_id,
        "username": person_id,
        "role": "applicant",
        "id_number": mandate.evidence.id_number,
        "name": mandate.evidence.name,
        "verified": {"by": "reviewer", "mandate": mandate.id, "reviewer": reviewer.id,
                     "at": now.isoformat()},
        "created_at": now.isoformat(),
    }  # fmt: skip


def _masked_name(evidence: Evidence | None) -> str:
    return mask_person_name(evidence.name) if evidence and evidence.name else "委托人"


def _audit(m: Mandate, action: str, by: str, at: datetime) -> Document:
    assert m.evidence is not None
    detail = {
        "agent": m.agent,
        "matters": list(m.matters or ()),
        "relation": m.evidence.relation,
        "id_card": m.evidence.id_card,
        "proof": m.evidence.proof,
    }
    return audit_record(m.principal, action, by, at, detail)
