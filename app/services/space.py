"""Personal document space use cases: deposit, list, view (audited), delete, purge.

Documents are deposited from the materials of a case that passed the pre-check (the
``space.deposit`` outbox job a kept verdict queues), and pinned by cases that reuse them
(``CaseService.attach_from_space``). Every view by anyone is recorded (PIPL): the owner can
read who looked at their document, when and why.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.domain.actors import Actor
from app.domain.case_states import TERMINAL, State
from app.domain.errors import NotFoundError
from app.domain.space import (
    IDENTIFIER,
    NOT_FOUND,
    SpaceDocument,
    Version,
    case_owner,
    owner_of,
)
from app.services.audit import AUDIT, audit_record
from app.services.cases import CASES, SYSTEM, CaseService
from app.services.space_records import SPACE, doc_from_record, doc_to_record
from storage.documents import DocumentStore, DuplicateKey, VersionConflict
from storage.objects import ObjectStore
from storage.outbox import OutboxMessage


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

    async def documents(self, actor: Actor) -> list[SpaceDocument]:
        """The actor's (or their enterprise's) documents, newest first."""
        where = {"owner": owner_of(actor), "deleted_at": None}
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

    async def matching(self, owner: str, kind: str) -> SpaceDocument | None:
        """The owner's newest document of ``kind``, for the bot and pages to offer."""
        where = {"owner": owner, "kind": kind, "deleted_at": None}
        found = await self._store.find(SPACE, where, sort=[("updated_at", -1)], limit=1)
        return doc_from_record(found[0]) if found else None

    # -- changes -----------------------------------------------------------------------------

    async def deposit_from_case(self, msg: OutboxMessage) -> None:
        """Outbox job: keep a material that passed the pre-check in its owner's space."""
        number, slot_id, key = msg.payload["case"], msg.payload["slot"], msg.payload["object_key"]
        case = await self._cases.get(SYSTEM, number)
        ref, check = case.materials.get(slot_id), case.prechecks.get(slot_id)
        if ref is None or check is None or ref.object_key != key:
            return  # replaced since: the newer photo is deposited by its own job, if it passes
        slot = case.terms.slot(slot_id)
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
            keys = doc.purgeable_keys(now, await self._open_cases(list(doc.pins)))
            if not keys:
                continue
            for key in keys:
                await self._objects.delete(key)
            async with self._store.transaction() as tx:
                await tx.delete(SPACE, doc.id, expected_version=doc.version)
            removed += len(keys)
        return removed

    # -- internals ---------------------------------------------------------------------------

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
