"""Reading cases: one case for whoever may see it (staff looks logged), its history, the lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.actors import Actor, Role, person
from app.domain.case_states import DEPARTMENT_TURN, State
from app.domain.cases import Case, CaseEvent, MaterialRef
from app.domain.errors import NotFoundError, NotPermitted, ValidationFailed
from app.services.audit import AUDIT, audit_record
from app.services.case_records import (
    CASES,
    EVENTS,
    PRECHECKS,
    case_from_doc,
    event_from_doc,
    precheck_from_doc,
)
from storage.documents import Document, DocumentStore

NOT_FOUND = "未找到该办件，请核对办件号"


@dataclass(frozen=True)
class Page:
    items: list[Case]
    total: int
    page: int
    size: int


@dataclass(frozen=True)
class CaseLine:
    """A case as a list shows it in a line: a fraction of the stored case to read."""

    number: str
    matter_name: str
    state: State
    created_at: str  # ISO 8601, as stored: what the list is sorted by


LINE_FIELDS = ("number", "terms.name", "state", "created_at")

# Looking at an applicant's photos without deciding their case needs a stated reason.
NEEDS_A_REASON = frozenset({Role.SUPERVISOR, Role.ADMIN})


class CaseReads:
    """What ``CaseService`` answers without changing a case; only the looks it logs are written."""

    def __init__(self, store: DocumentStore, *, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

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
            await self._log([self._look(f"case:{number}", "case.view", actor, purpose=purpose)])
        return case

    async def open_material(
        self, actor: Actor, number: str, slot_id: str, *, reason: str = ""
    ) -> MaterialRef:
        """The material's stored file for display; the look is recorded (PIPL).

        Someone who is not deciding the case (a supervisor, an administrator) states why they
        look, and the reason is recorded with the look. A material taken from the personal
        space is also recorded on that document, so its owner sees who looked and for which case.
        """
        case = await self.get(actor, number)
        ref = case.materials.get(slot_id)
        if ref is None:
            raise NotFoundError("该材料尚未提交")
        why = reason.strip()[:200]
        if actor.role in NEEDS_A_REASON and not why:
            raise ValidationFailed("查看申请人的材料须填写原因，原因将记录在案")
        purpose = f"case:{number}"
        detail = {"slot": slot_id} | ({"reason": why} if why else {})
        looks = [self._look(f"case:{number}", "material.view", actor, **detail)]
        if ref.source.startswith("space:"):
            doc_id = ref.source.split(":")[1]
            looks.append(self._look(f"space:{doc_id}", "space.view", actor, purpose=purpose))
        await self._log(looks)
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

    async def lines_for(
        self, actor: Actor, *, size: int = 10, principal: str | None = None
    ) -> list[CaseLine]:
        """An applicant's newest cases as a list shows them, reading only what a line says;
        with ``principal``, only those of that one (themselves or whom they act for)."""
        if actor.role is not Role.APPLICANT:
            raise NotPermitted("您的身份不能查看办件列表")
        if principal is not None and not actor.may_act_for(principal):
            raise NotPermitted("只能查询本人或您获授权办理的办件")
        docs, _ = await self._applicants_docs(
            actor, None, None, 1, size, LINE_FIELDS, principal=principal
        )
        return [
            CaseLine(d["number"], d["terms"]["name"], State(d["state"]), d["created_at"])
            for d in docs
        ]

    async def _applicants_cases(
        self, actor: Actor, state: str | None, matter: str | None, page: int, size: int
    ) -> Page:
        docs, total = await self._applicants_docs(actor, state, matter, page, size)
        return Page([case_from_doc(d) for d in docs], total, page, size)

    async def _applicants_docs(
        self,
        actor: Actor,
        state: str | None,
        matter: str | None,
        page: int,
        size: int,
        fields: Sequence[str] | None = None,
        *,
        principal: str | None = None,
    ) -> tuple[list[Document], int]:
        """Their own cases and those of whom they act for today, within each authority's scope
        (only ``principal``'s, when given).

        One query per principal (an applicant has a handful), merged newest first.
        """
        wheres: list[dict[str, Any]] = []
        if principal in (None, person(actor.id)):
            wheres.append({"applicant_id": actor.id, "enterprise_uscc": None})
        for authority in actor.authorities:
            if principal not in (None, authority.principal):
                continue
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
            hits = await self._store.find(CASES, where, sort=sort, limit=page * size, fields=fields)
            found.update((doc["_id"], doc) for doc in hits)
            # Fewer than asked for is all there are: most people have a handful, and a count
            # by state could use the state index and scan every case in that state.
            full = len(hits) == page * size
            total += await self._store.count(CASES, where) if full else len(hits)
        docs = sorted(found.values(), key=lambda d: (d["created_at"], d["_id"]), reverse=True)
        return docs[(page - 1) * size : page * size], total

    def _look(self, subject: str, action: str, actor: Actor, **detail: str) -> Document:
        """An access-log record: who looked, in which role, at what and why."""
        return audit_record(
            subject, action, actor.id, self._clock(), {"role": actor.role.value, **detail}
        )

    async def _log(self, looks: list[Document]) -> None:
        async with self._store.transaction() as tx:
            for record in looks:
                await tx.insert(AUDIT, record)
