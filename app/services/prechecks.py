"""The machine pre-check of each photo, run from the outbox: expectation in, verdict kept and told.

Attaching a photo queues an ``ocr.precheck`` job in the same transaction (see cases.py). The job
builds the slot's expectation from the rules frozen on the case and the applicant's bound
identity, has the checker (an OCR process pool, wired by the composition root) judge the photo,
and keeps the verdict on the case, which also queues the chat message with it. The checker is
given the photo's key, not its bytes: the photo is read where it is judged, never here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from app.domain.actors import SYSTEM
from app.domain.cases import Case, Slot, china_date
from app.domain.prechecks import MachineFinding, Precheck
from app.domain.space import case_owner
from app.services.accounts import USERS
from app.services.cases import CaseService
from app.services.mandates import MandateService
from app.services.space import SpaceService
from ocr.rules import Expectation, Verdict
from storage.documents import DocumentStore
from storage.objects import ObjectNotFound, ObjectStore
from storage.outbox import OutboxMessage

# Judges the photo stored under the key in that store, reading it itself; ObjectNotFound if gone.
Checker = Callable[[ObjectStore, str, Expectation], Awaitable[Verdict]]


class PhotoMissing(RuntimeError):
    """A photo a case refers to is not in the object store (lost, or another store's)."""


class PrecheckService:
    def __init__(
        self,
        cases: CaseService,
        objects: ObjectStore,
        store: DocumentStore,
        checker: Checker,
        space: SpaceService,
        mandates: MandateService,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._cases = cases
        self._objects = objects
        self._store = store
        self._checker = checker
        self._space = space
        self._clock = clock
        self._mandates = mandates

    async def handle(self, msg: OutboxMessage) -> None:
        """Outbox handler of ``ocr.precheck``; a rerun judges the same photo again, harmlessly."""
        number, slot_id, key = msg.payload["case"], msg.payload["slot"], msg.payload["object_key"]
        case = await self._cases.get(SYSTEM, number)
        ref = case.materials.get(slot_id)
        if ref is None or ref.object_key != key:
            return  # replaced since: the newer photo has a job of its own
        expect = await self.expectation(case, case.slot(slot_id))
        try:
            verdict = await self._checker(self._objects, key, expect)
        except ObjectNotFound as exc:
            # The case still names this photo, so it must be there: fail, to be retried and,
            # if it stays missing, shown to supervisors as dead work — never "done" unjudged.
            raise PhotoMissing(f"{number} {slot_id}: {key} is not in the object store") from exc
        check = Precheck(
            object_key=key,
            status=verdict.status,
            kind=verdict.kind,
            findings=tuple(MachineFinding(f.code, f.message, f.field) for f in verdict.findings),
            checked_at=self._clock(),
            fields=dict(verdict.fields),
            corrected=verdict.corrected,
        )
        await self._cases.record_precheck(number, slot_id, check)

    async def expectation(self, case: Case, slot: Slot) -> Expectation:
        """What the slot expects of the photo, and of whom (the applicant or their enterprise)."""
        if not slot.belongs_to_applicant:
            return Expectation(
                slot.expected_kind,
                china_date(self._clock()),
                must_be_valid=slot.must_be_valid,
                valid_for_days=slot.min_valid_days,
            )
        return await self.owners_expectation(
            case_owner(case.applicant_id, case.enterprise_uscc),
            slot.expected_kind,
            must_be_valid=slot.must_be_valid,
            valid_for_days=slot.min_valid_days,
        )

    async def owners_expectation(
        self, owner: str, kind: str, *, must_be_valid: bool = True, valid_for_days: int = 0
    ) -> Expectation:
        """A document of ``kind`` that must be the owner's: their ID number and name, or code."""
        person_id = holder = uscc = None
        who, _, ref = owner.partition(":")
        if who == "enterprise":
            uscc = ref
        else:
            account = await self._store.get(USERS, ref) or {}
            person_id, holder = account.get("id_number"), account.get("name")
        return Expectation(
            kind=kind,
            today=china_date(self._clock()),
            person_id=person_id,
            uscc=uscc,
            holder_name=holder,
            must_be_valid=must_be_valid,
            valid_for_days=valid_for_days,
        )

    async def check_licence_claim(self, msg: OutboxMessage) -> None:
        """Outbox job: a business licence sent to become its legal representative here."""
        expect = Expectation("business_licence", china_date(self._clock()))
        try:
            verdict = await self._checker(self._objects, msg.payload["object_key"], expect)
        except ObjectNotFound:
            return  # handled by an earlier run
        await self._mandates.accept_claim(msg, verdict)

    async def check_for_space(self, msg: OutboxMessage) -> None:
        """Outbox job: a photo uploaded straight to the space is kept only if it passes."""
        p = msg.payload
        expect = await self.owners_expectation(p["owner"], p["kind"])
        try:
            verdict = await self._checker(self._objects, p["object_key"], expect)
        except ObjectNotFound:
            return  # handled by an earlier run
        await self._space.accept_upload(msg, verdict)
