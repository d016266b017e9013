"""Case use cases: open, attach, submit, act; each saved with its history and side effects."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.domain.actors import Actor, Role, person
from app.domain.case_states import BEFORE_ACCEPTANCE, DEPARTMENT_TURN, Action
from app.domain.cases import (
    Case,
    CaseEvent,
    FeeLine,
    MaterialRef,
    MatterTerms,
    Slot,
    china_date,
)
from app.domain.eligibility import check_eligibility
from app.domain.errors import (
    InvalidTransition,
    NotFoundError,
    NotPermitted,
    StaleVersion,
    ValidationFailed,
)
from app.domain.follow_ups import FollowUp
from app.domain.identity import parse_citizen_id
from app.domain.notices import Correction
from app.domain.prechecks import Precheck
from app.domain.space import NOT_FOUND as SPACE_NOT_FOUND
from app.domain.space import SpaceDocument, check_reusable
from app.domain.workdays import deemed_acceptance_date, due_date
from app.services.accounts import USERS
from app.services.audit import AUDIT, audit_record
from app.services.calendar import CalendarService
from app.services.case_effects import (
    precheck_effects,
    side_effects,
)
from app.services.case_records import (
    PRECHECKS,
    case_from_doc,
    case_to_doc,
    event_from_doc,
    event_to_doc,
    precheck_from_doc,
    precheck_to_doc,
)
from app.services.catalog import get_matter
from app.services.follow_ups import FOLLOW_UPS, follow_up_to_doc
from app.services.space_records import SPACE, doc_from_record, doc_to_record
from storage.documents import Document, DocumentStore, DuplicateKey, Transaction, VersionConflict
from storage.outbox import enqueue

CASES = "cases"
SYSTEM = Actor("system", Role.SYSTEM)
EVENTS = "case_events"
NOT_FOUND = "未找到该办件，请核对办件号"


def _sole_enterprise(actor: Actor, code: str, name: str) -> str:
    """The enterprise an applicant applies for when the matter is for enterprises only."""
    firms = actor.enterprises_for(code)
    if not firms:
        raise NotPermitted(
            f"“{name}”面向企业办理。请法定代表人回复“企业认证”认证企业，"
            "或经办人回复“企业授权”向法定代表人申请授权后再办理"
        )
    if len(firms) > 1:
        raise ValidationFailed("您可代多家企业办理该事项，请选择代哪家企业办理")
    return firms[0]


def new_case_number(today: date) -> str:
    """'BC' + date + 6 random digits: easy to read aloud, not guessable from a neighbour's."""
    return f"BC{today:%Y%m%d}{secrets.randbelow(10**6):06d}"


@dataclass(frozen=True)
class Page:
    items: list[Case]
    total: int
    page: int
    size: int


class CaseService:
    """Every method loads, lets the domain decide, and saves case + history + outbox atomically."""

    def __init__(
        self,
        store: DocumentStore,
        calendars: CalendarService,
        *,
        clock: Callable[[], datetime],
        numbers: Callable[[date], str] = new_case_number,
    ) -> None:
        self._store = store
        self._calendars = calendars
        self._clock = clock
        self._numbers = numbers

    def now(self) -> datetime:
        return self._clock()

    # -- reads -------------------------------------------------------------------------------

    async def get(self, actor: Actor, number: str) -> Case:
        doc = await self._store.get(CASES, number)
        if doc is None:
            raise NotFoundError(NOT_FOUND)
        case = case_from_doc(doc)
        if not case.may_view(actor):
            raise NotFoundError(NOT_FOUND)  # another's case must not even be known to exist
        for record in await self._store.find(PRECHECKS, {"case": number}):
            case.prechecks[record["slot"]] = precheck_from_doc(record)
        return case

    async def view(self, actor: Actor, number: str, *, purpose: str) -> Case:
        """``get`` for display; a staff member's look at someone's case is logged (PIPL)."""
        case = await self.get(actor, number)
        if actor.is_staff and actor.role is not Role.SYSTEM:
            record = audit_record(
                f"case:{number}",
                "case.view",
                actor.id,
                self._clock(),
                {"role": actor.role.value, "purpose": purpose},
            )
            async with self._store.transaction() as tx:
                await tx.insert(AUDIT, record)
        return case

    async def open_material(self, actor: Actor, number: str, slot_id: str) -> MaterialRef:
        """The material's stored file for display; the look is recorded (PIPL).

        A material taken from the personal space is also recorded on that document, so its
        owner sees that a reviewer looked at it and for which case.
        """
        case = await self.get(actor, number)
        ref = case.materials.get(slot_id)
        if ref is None:
            raise NotFoundError("该材料尚未提交")
        purpose = f"case:{number}"
        records = [
            audit_record(
                f"case:{number}",
                "material.view",
                actor.id,
                self._clock(),
                {"role": actor.role.value, "slot": slot_id},
            )
        ]
        if ref.source.startswith("space:"):
            doc_id = ref.source.split(":")[1]
            records.append(
                audit_record(
                    f"space:{doc_id}",
                    "space.view",
                    actor.id,
                    self._clock(),
                    {"role": actor.role.value, "purpose": purpose},
                )
            )
        async with self._store.transaction() as tx:
            for record in records:
                await tx.insert(AUDIT, record)
        return ref

    async def history(self, actor: Actor, number: str) -> list[CaseEvent]:
        await self.get(actor, number)
        docs = await self._store.find(EVENTS, {"case_number": number}, sort=[("seq", 1)])
        return [event_from_doc(d) for d in docs]

    async def list_for(
        self,
        actor: Actor,
        *,
        state: str | None = None,
        matter: str | None = None,
        page: int = 1,
        size: int = 20,
    ) -> Page:
        """An applicant's own cases, newest first, or a reviewer's queue, nearest deadline first."""
        if actor.role is Role.APPLICANT:
            return await self._applicants_cases(actor, state, matter, page, size)
        where: dict[str, Any] = {}
        sort: list[tuple[str, int]]
        if actor.role is Role.REVIEWER:
            where["department"] = actor.department
            sort = [("due_date", 1)]
        elif actor.role in {Role.SUPERVISOR, Role.ADMIN}:
            sort = [("due_date", 1)]
        else:
            raise NotPermitted("您的身份不能查看办件列表")
        if state:
            where["state"] = state
        elif actor.role is Role.REVIEWER:
            where["state"] = {"$in": sorted(s.value for s in DEPARTMENT_TURN)}
        if matter:
            where["matter_code"] = matter
        size = max(1, min(size, 100))
        page = max(1, page)
        docs = await self._store.find(CASES, where, sort=sort, limit=size, skip=(page - 1) * size)
        total = await self._store.count(CASES, where)
        return Page([case_from_doc(d) for d in docs], total, page, size)

    async def _applicants_cases(
        self, actor: Actor, state: str | None, matter: str | None, page: int, size: int
    ) -> Page:
        """Their own cases and those of whom they act for today, within each authority's scope.

        One query per principal (an applicant has a handful), merged newest first.
        """
        wheres: list[dict[str, Any]] = [{"applicant_id": actor.id, "enterprise_uscc": None}]
        for authority in actor.authorities:
            kind, _, ref = authority.principal.partition(":")
            where: dict[str, Any] = (
                {"enterprise_uscc": ref}
                if kind == "enterprise"
                else {"applicant_id": ref, "enterprise_uscc": None}
            )
            if authority.matters is not None:
                where["matter_code"] = {"$in": sorted(authority.matters)}
            wheres.append(where)
        size = max(1, min(size, 100))
        page = max(1, page)
        found: dict[str, Document] = {}
        total = 0
        for where in wheres:
            if state:
                where["state"] = state
            if matter:
                if "matter_code" in where and matter not in where["matter_code"]["$in"]:
                    continue
                where["matter_code"] = matter
            sort = [("created_at", -1)]
            for doc in await self._store.find(CASES, where, sort=sort, limit=page * size):
                found[doc["_id"]] = doc
            total += await self._store.count(CASES, where)
        docs = sorted(found.values(), key=lambda d: (d["created_at"], d["_id"]), reverse=True)
        window = docs[(page - 1) * size : page * size]
        return Page([case_from_doc(d) for d in window], total, page, size)

    # -- changes -----------------------------------------------------------------------------

    async def open(
        self, actor: Actor, matter_code: str, *, on_behalf_of: str | None = None
    ) -> Case:
        """Open a case for the actor, or for the enterprise or person they act for.

        Conditions the catalog states that verified facts can settle (an age, from the ID
        number's birth date on the day of application) are checked here, not by a reviewer.
        """
        matter = await get_matter(self._store, matter_code)
        if on_behalf_of is None and "citizen" not in matter.targets:
            on_behalf_of = _sole_enterprise(actor, matter.code, matter.name)
        principal = on_behalf_of or person(actor.id)
        target = "enterprise" if principal.startswith("enterprise:") else "citizen"
        if target not in matter.targets:
            who = "企业" if target == "enterprise" else "个人"
            raise NotPermitted(f"“{matter.name}”不面向{who}办理，请选择其他事项")
        if actor.role is Role.APPLICANT and not actor.may_act_for(principal, matter.code):
            raise NotPermitted("您没有代其办理该事项的授权，请先取得授权")
        if target == "citizen":
            holder = await self._store.get(USERS, principal.partition(":")[2]) or {}
            if number := holder.get("id_number"):
                today = china_date(self._clock())
                born = parse_citizen_id(number, today=today).birth_date
                check_eligibility(matter.eligibility, birth_date=born, today=today)
        terms = MatterTerms(
            code=matter.code,
            version=matter.version,
            name=matter.name,
            department=matter.department,
            limit_days=matter.committed_limit_days,
            fee_fen=matter.total_fee_fen,
            originals_required=matter.originals_required,
            result=matter.result,
            result_valid_years=matter.result_valid_years,
            fees=tuple(FeeLine(f.name, f.amount_fen, f.basis) for f in matter.fees),
            pay_before_review=matter.pay_before_review,
            slots=tuple(
                Slot(
                    m.id,
                    m.name,
                    m.required,
                    expected_kind=m.expected_kind,
                    sample=m.sample,
                    belongs_to_applicant=m.belongs_to_applicant,
                    must_be_valid=m.must_be_valid,
                    min_valid_days=m.min_valid_days,
                    reusable=m.reusable,
                )
                for m in matter.materials
            ),
        )
        now = self._clock()
        for _ in range(5):
            number = self._numbers(china_date(now))
            case = Case.open(number, terms, actor, now, on_behalf_of=on_behalf_of)
            try:
                return await self._save(case, new=True)
            except DuplicateKey:
                continue  # a number collision: draw another
        raise RuntimeError("could not allocate a unique case number")

    async def attach(
        self, actor: Actor, number: str, slot_id: str, ref: MaterialRef, *, version: int | None
    ) -> Case:
        case = await self._load(actor, number, version)
        case.attach(slot_id, ref, actor, self._clock())
        return await self._save(case)

    async def attach_from_space(
        self, actor: Actor, number: str, slot_id: str, doc_id: str, *, version: int | None
    ) -> Case:
        """Reuse a document from the owner's space: pin its current version to the slot."""
        case = await self._load(actor, number, version)
        record = await self._store.get(SPACE, doc_id)
        doc = doc_from_record(record) if record else None
        if doc is None or not doc.may_use(actor) or not case.is_owner(actor):
            raise NotFoundError(SPACE_NOT_FOUND)
        slot = case.terms.slot(slot_id)
        if not slot.reusable:
            raise ValidationFailed(f"“{slot.name}”须按本次办理重新提交，不能从个人空间调用")
        now = self._clock()
        used = check_reusable(
            doc,
            slot.expected_kind,
            china_date(now),
            must_be_valid=slot.must_be_valid,
            min_days=slot.min_valid_days,
        )
        ref = MaterialRef(
            used.object_key, used.content_type, used.size, used.sha256, f"space:{doc.id}:{used.n}"
        )
        case.attach(slot_id, ref, actor, now)
        doc.pin(case.number, used.n)  # this version now outlives the document's deletion
        return await self._save(case, pinned=doc)

    async def submit(self, actor: Actor, number: str, *, version: int | None) -> Case:
        case = await self._load(actor, number, version)
        now = self._clock()
        if case.notices:
            case.resubmit(actor, now)
        else:
            case.submit(actor, now)
        return await self._save(case)

    async def return_for_correction(
        self,
        actor: Actor,
        number: str,
        items: list[Correction],
        *,
        version: int | None,
        dismissed: frozenset[str] = frozenset(),
    ) -> Case:
        """Return the case with one notice: the reviewer's items plus the open machine findings.

        ``dismissed`` names materials whose machine findings the reviewer overrules.
        """
        case = await self._load(actor, number, version)
        now = self._clock()
        case.return_for_correction(case.compose_notice(items, dismissed=dismissed), actor, now)
        return await self._save(case)

    async def preview_return(
        self,
        actor: Actor,
        number: str,
        items: list[Correction],
        *,
        dismissed: frozenset[str] = frozenset(),
    ) -> str:
        """The exact notice ``return_for_correction`` would send, checked the same way, unsaved."""
        case = await self.get(actor, number)
        case.return_for_correction(
            case.compose_notice(items, dismissed=dismissed), actor, self._clock()
        )
        return case.notice_text(len(case.notices))

    async def record_precheck(self, number: str, slot_id: str, check: Precheck) -> bool:
        """Keep the machine's verdict on a photo and tell the applicant; False if replaced.

        The verdict, the chat message and the deposit into the space are written together;
        the case document itself is not touched (see ``Case.record_precheck``).
        """
        case = await self.get(SYSTEM, number)
        if not case.record_precheck(slot_id, check):
            return False
        record = precheck_to_doc(number, slot_id, check)
        tag = check.object_key.rsplit("/", 1)[-1]  # one message per photo judged
        async with self._store.transaction() as tx:
            existing = await tx.get(PRECHECKS, record["_id"])
            if existing is None:
                await tx.insert(PRECHECKS, record)
            else:
                await tx.replace(PRECHECKS, record, expected_version=existing["_version"])
            for topic, effect_key, payload in precheck_effects(case, slot_id):
                # once: an earlier run of this job may have queued it and then stopped short
                key = f"{effect_key}:{tag}"
                await enqueue(
                    tx, topic=topic, key=key, payload=payload, now=check.checked_at, once=True
                )
        return True

    async def approve(self, actor: Actor, number: str, *, version: int | None) -> Case:
        case = await self._load(actor, number, version)
        case.approve(actor, self._clock())
        return await self._save(case)

    async def reject(
        self, actor: Actor, number: str, reason: str, basis: str, *, version: int | None
    ) -> Case:
        case = await self._load(actor, number, version)
        case.reject(reason, basis, actor, self._clock())
        return await self._save(case)

    async def confirm_payment(self, number: str, *, trade_no: str) -> Case:
        """The fee arrived (the payment service saw Alipay say so): the case moves on."""
        case = await self._load(SYSTEM, number, None)
        case.confirm_payment(SYSTEM, self._clock(), trade_no=trade_no)
        return await self._save(case)

    async def rate(
        self, actor: Actor, number: str, level: str, comment: str = "", *, version: int | None
    ) -> Case:
        """好差评; a bad rating opens its follow-up in the same transaction as the rating."""
        case = await self._load(actor, number, version)
        case.rate(level, comment, actor, self._clock())
        follow_up = FollowUp.for_rating(case, await self._calendars.calendar())
        also = [(FOLLOW_UPS, follow_up_to_doc(follow_up))] if follow_up else []
        return await self._save(case, also=also)

    async def act(
        self, actor: Actor, number: str, action: Action, *, version: int | None, reason: str | None
    ) -> Case:
        case = await self._load(actor, number, version)
        case.act(action, actor, self._clock(), reason)
        return await self._save(case)

    async def hand_over(
        self,
        actor: Actor,
        number: str,
        actions: Sequence[Action],
        *,
        write: Callable[[Transaction], Awaitable[None]],
        detail: dict[str, Any],
        reason: str | None = None,
    ) -> Case:
        """Courier steps proven outside the case (a scanned code, a signed courier push).

        ``write`` records the proof (the scan, the route event) in the transaction of the
        change, keyed so that a replayed code or a repeated push fails the unit with
        DuplicateKey: nothing moves.
        """
        case = await self.get(SYSTEM, number)
        now = self._clock()
        for action in actions:
            case.act(action, actor, now, reason, detail=detail)
        return await self._save(case, write=write)

    async def deem_overdue_accepted(self, *, limit: int = 500) -> list[str]:
        """Art. 32 sweep: cases with no correction notice within 5 working days become accepted."""
        calendar = await self._calendars.calendar()
        now = self._clock()
        states = sorted(s.value for s in BEFORE_ACCEPTANCE)
        where = {"state": {"$in": states}, "accept_by": {"$lt": china_date(now).isoformat()}}
        docs = await self._store.find(CASES, where, sort=[("accept_by", 1)], limit=limit)
        changed: list[str] = []
        for doc in docs:
            case = case_from_doc(doc)
            try:
                case.deem_accepted(calendar, now)
                await self._save(case)
            except InvalidTransition:
                continue  # the five-day window is not over yet
            except StaleVersion:
                continue  # someone acted on it meanwhile; the next sweep decides again
            changed.append(case.number)
        return changed

    # -- internals ---------------------------------------------------------------------------

    async def _load(self, actor: Actor, number: str, version: int | None) -> Case:
        case = await self.get(actor, number)
        if version is not None and version != case.version:
            raise StaleVersion(
                f"办件已被他人更新（当前版本 {case.version}，您提交的版本 {version}），请刷新后重试"
            )
        return case

    async def _save(
        self,
        case: Case,
        *,
        new: bool = False,
        pinned: SpaceDocument | None = None,
        also: Sequence[tuple[str, Document]] = (),
        write: Callable[[Transaction], Awaitable[None]] | None = None,
    ) -> Case:
        calendar = await self._calendars.calendar()
        due = accept_by = None
        if case.submitted_on is not None:
            today = china_date(self._clock())
            due = due_date(calendar, case.submitted_on, case.terms.limit_days, case.pauses, today)
        if case.state in BEFORE_ACCEPTANCE and case.window_start is not None:
            accept_by = deemed_acceptance_date(calendar, case.window_start)
        doc = case_to_doc(case, due_date=due, accept_by=accept_by)
        try:
            async with self._store.transaction() as tx:
                if new:
                    saved = await tx.insert(CASES, doc)
                else:
                    saved = await tx.replace(CASES, doc, expected_version=case.version)
                await self._write_events(tx, case)
                if pinned is not None:  # the pin holds if and only if the case took it
                    await tx.replace(SPACE, doc_to_record(pinned), expected_version=pinned.version)
                for collection, record in also:  # documents the decision creates with it
                    await tx.insert(collection, record)
                if write is not None:  # other writes that stand or fall with the change
                    await write(tx)
        except VersionConflict as exc:
            raise StaleVersion("办件刚被他人更新，您的操作未生效，请刷新后重试") from exc
        case.version = saved["_version"]
        case.new_events.clear()
        return case

    async def _write_events(self, tx: Transaction, case: Case) -> None:
        """Each event with the side effects it implies, in the transaction that records it."""
        for event in case.new_events:
            await tx.insert(EVENTS, event_to_doc(case.number, event))
            for topic, key, payload in side_effects(case, event):
                await enqueue(tx, topic=topic, key=key, payload=payload, now=event.at)
