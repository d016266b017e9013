"""Personal document space use cases: deposit, list, view (audited), delete, purge.

Documents are deposited from the materials of a case that passed the pre-check (the
``space.deposit`` outbox job a kept verdict queues), and pinned by cases that reuse them
(``CaseService.attach_from_space``). A person's space keeps only what they agreed to keep
(``app.domain.space.keeps``: case materials once they opted in, photos they send straight to
it unless they opted out); an enterprise's keeps everything that passed. Every view by
anyone is recorded (PIPL): the owner can read who looked at their document, when and why.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterable, Callable
from datetime import date, datetime, timedelta
from typing import Any

from app.domain.actors import SYSTEM, Actor
from app.domain.case_states import TERMINAL, State
from app.domain.cases import Slot, china_date
from app.domain.catalog import Matter
from app.domain.errors import NotFoundError, ValidationFailed
from app.domain.prechecks import PASS
from app.domain.space import (
    IDENTIFIER,
    NOT_FOUND,
    SpaceDocument,
    Version,
    case_owner,
    fits,
    keeps,
    owner_of,
)
from app.services.accounts import USERS
from app.services.audit import AUDIT, audit_record
from app.services.case_records import CASES
from app.services.cases import CaseService
from app.services.catalog import list_matters
from app.services.mandate_records import holders_of
from app.services.materials import store_photo
from app.services.notify import notify_once
from app.services.space_records import SPACE, doc_from_record, doc_to_record
from ocr.rules import Verdict
from storage.documents import DocumentStore, DuplicateKey, NotFound, VersionConflict
from storage.objects import ObjectStore
from storage.outbox import OutboxMessage, enqueue_alone

SPACE_CHECK_TOPIC = "space.precheck"
# What can be photographed straight into the space: documents the pre-check can read.
UPLOADABLE_KINDS = frozenset({"id_card_front", "id_card_back", "business_licence", "certificate"})
SPACE_OFF = "您已选择不在个人空间保存证照。如需保存，请先在“我的信息”页面开启个人空间。"


class SpaceService:
    def __init__(
        self,
        store: DocumentStore,
        objects: ObjectStore,
        cases: CaseService,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._objects = objects
        self._cases = cases
        self._clock = clock

    # -- reads -------------------------------------------------------------------------------

    async def documents(self, actor: Actor, principal: str | None = None) -> list[SpaceDocument]:
        """The actor's documents (or an enterprise's they act for fully), newest first."""
        where = {"owner": owner_of(actor, principal), "deleted_at": None}
        records = await self._store.find(SPACE, where, sort=[("updated_at", -1)], limit=200)
        return [doc_from_record(r) for r in records]

    async def view(self, actor: Actor, doc_id: str, *, purpose: str) -> SpaceDocument:
        """One document for display or download; the look is recorded for the owner to see."""
        doc = await self._get(doc_id)
        if not doc.may_use(actor):
            raise NotFoundError(NOT_FOUND)  # another's document must not even be known
        await self._audit(doc, "space.view", actor, purpose)
        return doc

    async def access_log(self, actor: Actor, doc_id: str) -> list[dict[str, Any]]:
        """Who looked at the document, when and why: the owner's right to know (PIPL)."""
        doc = await self._get(doc_id)
        if not doc.may_use(actor):
            raise NotFoundError(NOT_FOUND)
        return await self._store.find(AUDIT, {"subject": f"space:{doc.id}"}, sort=[("at", -1)])

    async def usable_for(self, owner: str, slot: Slot) -> SpaceDocument | None:
        """The owner's newest document that may fill ``slot`` today: the document the slot
        asks for (its kind, and its name where the kind covers many), valid long enough."""
        if not slot.reusable:
            return None
        where = {"owner": owner, "kind": slot.expected_kind, "deleted_at": None}
        today = china_date(self._clock())
        for record in await self._store.find(SPACE, where, sort=[("updated_at", -1)], limit=20):
            doc = doc_from_record(record)
            if not fits(doc, slot.expected_kind, slot.name):
                continue
            if not slot.must_be_valid or doc.usable_on(today, min_days=slot.min_valid_days):
                return doc
        return None

    # -- changes -----------------------------------------------------------------------------

    async def deposit_from_case(self, msg: OutboxMessage) -> None:
        """Outbox job: keep a material that passed the pre-check in its owner's space."""
        number, slot_id, key = msg.payload["case"], msg.payload["slot"], msg.payload["object_key"]
        case = await self._cases.get(SYSTEM, number)
        ref, check = case.materials.get(slot_id), case.prechecks.get(slot_id)
        if ref is None or check is None or ref.object_key != key:
            return  # replaced since: the newer photo is deposited by its own job, if it passes
        slot = case.slot(slot_id)
        version = Version(
            n=1,
            object_key=ref.object_key,
            content_type=ref.content_type,
            size=ref.size,
            sha256=ref.sha256,
            source=f"case:{number}",
            added_at=self._clock(),
            fields=dict(check.fields),
        )
        owner = case_owner(case.applicant_id, case.enterprise_uscc)
        if not await self._keeps(owner, uploaded=False):
            return  # the person has not agreed to keep copies: the case keeps its own
        await self.deposit(owner, slot.expected_kind, slot.name, version)

    async def deposit(self, owner: str, kind: str, title: str, version: Version) -> SpaceDocument:
        """Add ``version`` to the owner's document it is a new photo of, or start a document.

        The same document is the same kind with the same identifier (the ID number, the code,
        the certificate number) when one was read. The same bytes twice add nothing.
        """
        identifier = version.fields.get(IDENTIFIER.get(kind, ""), None)
        for _ in range(3):
            doc = await self._same_document(owner, kind, identifier)
            if doc is not None and any(v.sha256 == version.sha256 for v in doc.versions):
                return doc
            try:
                async with self._store.transaction() as tx:
                    if doc is None:
                        doc = SpaceDocument(
                            id=uuid.uuid4().hex,
                            owner=owner,
                            kind=kind,
                            title=title,
                            versions=[version],
                            created_at=version.added_at,
                            identifier=identifier,
                        )
                        saved = await tx.insert(SPACE, doc_to_record(doc))
                    else:
                        doc.add(dataclasses.replace(version, n=doc.current.n + 1))
                        saved = await tx.replace(
                            SPACE, doc_to_record(doc), expected_version=doc.version
                        )
            except (VersionConflict, DuplicateKey):
                continue  # two deposits at once: look again
            doc.version = saved["_version"]
            return doc
        raise RuntimeError("could not deposit into the space after three attempts")

    async def remind_expiring(self) -> int:
        """Chat reminders 30 and 7 days before a kept document expires; how many were queued.

        Each reminder's key names the document, version, threshold and recipient, so a sweep
        run again (or on another instance) never sends one twice.
        """
        today = china_date(self._clock())
        window = {"$gte": today.isoformat(), "$lte": (today + timedelta(days=30)).isoformat()}
        records = await self._store.find(SPACE, {"deleted_at": None, "valid_to": window})
        renewals = [m for m in await list_matters(self._store) if m.renews]
        queued = 0
        for doc in map(doc_from_record, records):
            until = doc.current.valid_to
            assert until is not None  # the query asked for a date
            left = (until - today).days
            threshold = 7 if left <= 7 else 30
            matter = next((m for m in renewals if any(n in doc.title for n in m.renews)), None)
            text = texts_expiring(doc.title, until, left, matter.name if matter else None)
            for account in await self._holders(doc.owner):
                queued += await notify_once(
                    self._store,
                    key=f"expiry:{doc.id}:{doc.current.n}:{threshold}:{account}",
                    applicant_id=account,
                    text=text,
                    now=self._clock(),
                    path=f"/h5/space/{doc.id}",
                    link_label="查看材料",
                )
        return queued

    async def renewal_for(self, actor: Actor) -> tuple[SpaceDocument, Matter] | None:
        """The actor's document expiring soonest (or expired) that a catalog matter renews."""
        today = china_date(self._clock())
        renewals = [m for m in await list_matters(self._store) if m.renews]
        soonest: tuple[SpaceDocument, Matter] | None = None
        for doc in await self.documents(actor):
            until = doc.current.valid_to
            if until is None or until > today + timedelta(days=30):
                continue
            matter = next((m for m in renewals if any(n in doc.title for n in m.renews)), None)
            if matter and (soonest is None or until < (soonest[0].current.valid_to or until)):
                soonest = (doc, matter)
        return soonest

    async def _holders(self, owner: str) -> list[str]:
        """Who hears about an owner's documents: the person, or whoever acts fully for it."""
        return await holders_of(self._store, owner, china_date(self._clock()))

    async def upload_choices(
        self, actor: Actor, principal: str | None = None
    ) -> list[tuple[str, str]]:
        """(kind, name) of the documents this actor may keep: those the catalog reuses."""
        owner = owner_of(actor, principal)
        target = "enterprise" if owner.startswith("enterprise:") else "citizen"
        seen: dict[str, str] = {}
        for matter in await list_matters(self._store):
            if target not in matter.targets:
                continue
            for m in matter.materials:
                if m.reusable and m.expected_kind in UPLOADABLE_KINDS:
                    seen.setdefault(m.name, m.expected_kind)
        return sorted(((kind, name) for name, kind in seen.items()), key=lambda c: c[1])

    async def upload(
        self,
        actor: Actor,
        name: str,
        chunks: AsyncIterable[bytes],
        principal: str | None = None,
    ) -> None:
        """Store a photo sent straight to the space; it is kept once its pre-check passes."""
        kinds = dict((n, k) for k, n in await self.upload_choices(actor, principal))
        if name not in kinds:
            raise ValidationFailed("请从列表中选择要保存的证照种类")
        owner = owner_of(actor, principal)
        if not await self._keeps(owner, uploaded=True):
            raise ValidationFailed(SPACE_OFF)
        ref = await store_photo(self._objects, "space/uploads", chunks, "upload")
        job = {
            "owner": owner,
            "account": actor.id,
            "kind": kinds[name],
            "title": name,
            "object_key": ref.object_key,
            "content_type": ref.content_type,
            "size": ref.size,
            "sha256": ref.sha256,
        }
        key = f"space-check:{ref.object_key}"
        await enqueue_alone(
            self._store, topic=SPACE_CHECK_TOPIC, key=key, payload=job, now=self._clock()
        )

    async def accept_upload(self, msg: OutboxMessage, verdict: Verdict) -> None:
        """Keep an uploaded photo that passed, or drop it; either way tell the uploader."""
        p = msg.payload
        doc_id = None
        if verdict.status == PASS and not await self._keeps(p["owner"], uploaded=True):
            await self._objects.delete(p["object_key"])  # turned off meanwhile: not kept
            text = f"【个人空间】“{p['title']}”未保存：{SPACE_OFF}"
        elif verdict.status == PASS:
            version = Version(
                1, p["object_key"], p["content_type"], p["size"], p["sha256"], "upload",
                msg.created_at, dict(verdict.fields),
            )  # fmt: skip
            doc_id = (await self.deposit(p["owner"], p["kind"], p["title"], version)).id
            text = f"【个人空间】“{p['title']}”已保存，办理事项时可直接调用，无需再拍照。"
        else:
            await self._objects.delete(p["object_key"])  # not kept: nothing of it stays
            reasons = [f.message for f in verdict.findings] or ["未能识别证件内容"]
            lines = "\n".join(f"{n}. {r}" for n, r in enumerate(reasons, start=1))
            text = f"【个人空间】“{p['title']}”未能保存：\n{lines}\n请重新拍摄后再上传。"
        await notify_once(
            self._store,
            key=f"space-told:{p['object_key']}",
            applicant_id=p["account"],
            text=text,
            now=self._clock(),
            path=f"/h5/space/{doc_id}" if doc_id else "/h5/space",
            link_label="查看个人空间",
        )

    async def delete(self, actor: Actor, doc_id: str) -> None:
        """Hide the document now; its objects go once no open case pins it (see purge)."""
        doc = await self._get(doc_id)
        if not doc.may_use(actor):
            raise NotFoundError(NOT_FOUND)
        doc.delete(self._clock())
        async with self._store.transaction() as tx:
            await tx.replace(SPACE, doc_to_record(doc), expected_version=doc.version)
            await tx.insert(AUDIT, self._record(doc, "space.delete", actor, "applicant"))

    async def purge(self) -> int:
        """Remove the objects of deleted documents nothing needs any more; return how many."""
        now = self._clock()
        removed = 0
        for record in await self._store.find(SPACE, {"deleted_at": {"$ne": None}}, limit=500):
            doc = doc_from_record(record)
            if not doc.may_purge(now, await self._open_cases(list(doc.pins))):
                continue
            try:  # the record first: a photo is never gone while a record names it
                async with self._store.transaction() as tx:
                    await tx.delete(SPACE, doc.id, expected_version=doc.version)
            except (NotFound, VersionConflict):  # another instance purged it first
                continue
            for key in doc.owned_keys():
                await self._objects.delete(key)
                removed += 1
        return removed

    # -- internals ---------------------------------------------------------------------------

    async def keeps_copies(self, owner: str) -> bool:
        """Whether the owner's space takes what the service makes or checks for them now."""
        return await self._keeps(owner, uploaded=False)

    async def _keeps(self, owner: str, *, uploaded: bool) -> bool:
        """The owner's choice, read now: a person may change it at any time."""
        kind, _, ref = owner.partition(":")
        user = await self._store.get(USERS, ref) if kind == "person" else None
        if user is not None and user.get("deleted_at"):
            return False  # a closed account keeps nothing new
        return keeps(owner, user.get("space_opt_in") if user else None, uploaded=uploaded)

    async def _open_cases(self, numbers: list[str]) -> set[str]:
        if not numbers:
            return set()
        found = await self._store.find(CASES, {"_id": {"$in": numbers}})
        return {c["_id"] for c in found if State(c["state"]) not in TERMINAL}

    async def _get(self, doc_id: str) -> SpaceDocument:
        record = await self._store.get(SPACE, doc_id)
        if record is None:
            raise NotFoundError(NOT_FOUND)
        return doc_from_record(record)

    async def _same_document(
        self, owner: str, kind: str, identifier: str | None
    ) -> SpaceDocument | None:
        if identifier is None:
            return None  # without an identifier two photos cannot be told apart: keep both
        where = {"owner": owner, "kind": kind, "identifier": identifier, "deleted_at": None}
        found = await self._store.find(SPACE, where, limit=1)
        return doc_from_record(found[0]) if found else None

    async def _audit(self, doc: SpaceDocument, action: str, actor: Actor, purpose: str) -> None:
        async with self._store.transaction() as tx:
            await tx.insert(AUDIT, self._record(doc, action, actor, purpose))

    def _record(self, doc: SpaceDocument, action: str, actor: Actor, purpose: str) -> Any:
        detail = {"role": actor.role.value, "purpose": purpose}
        return audit_record(f"space:{doc.id}", action, actor.id, self._clock(), detail)


def texts_expiring(title: str, until: date, left: int, renewal: str | None) -> str:
    """The reminder an applicant reads; it offers the renewal when the catalog has one."""
    when = "已到期" if left <= 0 else f"还有 {left} 天到期"
    text = f"【证照到期提醒】您个人空间中的“{title}”有效期至 {until}，{when}。"
    if renewal:
        return text + f"回复“换证”即可在线办理“{renewal}”，个人空间中的材料将自动带入。"
    return text + "请及时到发证机关办理换领，换领后拍照发送即可更新个人空间。"
