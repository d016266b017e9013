"""Case use cases: open, attach, submit, act; each saved with its history and side effects."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any

from app.domain.actors import SYSTEM, Actor, person
from app.domain.case_states import BEFORE_ACCEPTANCE, Action
from app.domain.cases import Case, CaseEvent, MaterialRef, china_date
from app.domain.errors import InvalidTransition, NotFoundError, StaleVersion, ValidationFailed
from app.domain.follow_ups import FollowUp
from app.domain.notices import Correction
from app.domain.prechecks import Precheck
from app.domain.space import NOT_FOUND as SPACE_NOT_FOUND
from app.domain.space import SpaceDocument, check_reusable
from app.domain.workdays import deemed_acceptance_date
from app.services.calendar import CalendarService
from app.services.case_effects import precheck_effects, side_effects
from app.services.case_opening import applying_for, check_eligible, new_case_number, terms_of
from app.services.case_reads import CaseLine, CaseReads, Page
from app.services.case_records import (
    CASES,
    EVENTS,
    PRECHECKS,
    case_from_doc,
    case_to_doc,
    event_to_doc,
    precheck_to_doc,
)
from app.services.catalog import get_matter
from app.services.follow_ups import FOLLOW_UPS, follow_up_to_doc
from app.services.space_records import SPACE, doc_from_record, doc_to_record
from storage.documents import Document, DocumentStore, DuplicateKey, Transaction, VersionConflict
from storage.outbox import enqueue


class CaseService:
    """Every method loads, lets the domain decide, and saves case + history + outbox atomically.

    Reads are ``CaseReads``'s; opening a case asks ``case_opening`` whom it is for and on what
    terms.
    """

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
        self._reads = CaseReads(store, clock=clock)

    def now(self) -> datetime:
        return self._clock()

    # -- reads -------------------------------------------------------------------------------

    async def get(self, actor: Actor, number: str) -> Case:
        return await self._reads.get(actor, number)

    async def view(self, actor: Actor, number: str, *, purpose: str) -> Case:
        """``get`` for display; a staff member's look at someone's case is logged (PIPL)."""
        return await self._reads.view(actor, number, purpose=purpose)

    async def open_material(
        self, actor: Actor, number: str, slot_id: str, *, reason: str = ""
    ) -> MaterialRef:
        """The material's stored file for display; the look (and its reason) is recorded."""
        return await self._reads.open_material(actor, number, slot_id, reason=reason)

    async def history(self, actor: Actor, number: str) -> list[CaseEvent]:
        return await self._reads.history(actor, number)

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
        return await self._reads.list_for(actor, state=state, matter=matter, page=page, size=size)

    async def lines_for(
        self, actor: Actor, *, size: int = 10, principal: str | None = None
    ) -> list[CaseLine]:
        """An applicant's newest cases, a line each (number, matter, state): the chat's list;
        with ``principal``, only those of that one (themselves or whom they act for)."""
        return await self._reads.lines_for(actor, size=size, principal=principal)

    # -- changes -----------------------------------------------------------------------------

    async def open(
        self,
        actor: Actor,
        matter_code: str,
        *,
        on_behalf_of: str | None = None,
        write: Callable[[Case, Transaction], Awaitable[None]] | None = None,
    ) -> Case:
        """Open a case for the actor, or for the enterprise or person they act for.

        Conditions the catalog states that verified facts can settle (an age, from the ID
        number's birth date on the day of application) are checked here, not by a reviewer.
        ``write``: more that stands or falls with the opening (the request's idempotency key).
        """
        matter = await get_matter(self._store, matter_code)
        on_behalf_of = applying_for(actor, matter, on_behalf_of)
        await check_eligible(self._store, matter, on_behalf_of or person(actor.id), self._clock)
        terms = terms_of(matter)
        now = self._clock()
        for _ in range(5):
            number = self._numbers(china_date(now))
            case = Case.open(number, terms, actor, now, on_behalf_of=on_behalf_of)
            also = None if write is None else functools.partial(write, case)
            try:
                return await self._save(case, new=True, write=also)
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
        slot = case.slot(slot_id)
        if not slot.reusable:
            raise ValidationFailed(f"“{slot.name}”须按本次办理重新提交，不能从个人空间调用")
        now = self._clock()
        used = check_reusable(
            doc,
            slot.expected_kind,
            china_date(now),
            must_be_valid=slot.must_be_valid,
            min_days=slot.min_valid_days,
            name=slot.name,
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
        remedy = await self._remedy(case)
        case.reject(reason, basis, actor, self._clock(), remedy=remedy)
        return await self._save(case)

    async def accept(self, actor: Actor, number: str, *, version: int | None) -> Case:
        """受理: the 受理通知书 is the case's record of it; the decision clock starts."""
        case = await self._load(actor, number, version)
        case.accept(actor, self._clock())
        return await self._save(case)

    async def refuse_acceptance(
        self, actor: Actor, number: str, reason: str, basis: str, *, version: int | None
    ) -> Case:
        case = await self._load(actor, number, version)
        remedy = await self._remedy(case)
        case.refuse_acceptance(reason, basis, actor, self._clock(), remedy=remedy)
        return await self._save(case)

    async def extend(
        self, actor: Actor, number: str, approved_by: str, reason: str, *, version: int | None
    ) -> Case:
        """Art. 42's ten more working days, approved by the head of the department."""
        case = await self._load(actor, number, version)
        case.extend(approved_by, reason, actor, self._clock(), await self._calendars.calendar())
        return await self._save(case)

    async def pause_for(
        self, actor: Actor, number: str, kind: str, expected_days: int, *, version: int | None
    ) -> Case:
        case = await self._load(actor, number, version)
        case.pause_for(kind, expected_days, actor, self._clock())
        return await self._save(case)

    async def resume(self, actor: Actor, number: str, *, version: int | None) -> Case:
        case = await self._load(actor, number, version)
        case.resume(actor, self._clock())
        return await self._save(case)

    async def _remedy(self, case: Case) -> str:
        """The 救济途径 a refusal must state: the matter's review body and court."""
        return (await get_matter(self._store, case.terms.code)).remedies.text()

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
        accept_by = None
        clock = case.legal_clock()
        # The running limit's last day (the queue and the cards sort on it); once none runs,
        # the last one is kept for the record.
        due = clock.due(calendar, china_date(self._clock())) if clock else case.due_on
        case.due_on = due
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
