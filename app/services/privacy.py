"""A person's rights over what we hold about them (PIPL Art. 13–17, 44–47), as use cases.

See what is held (``overview``), take a copy (``export``, ``write_zip``), keep or stop keeping
copies in the personal space (``set_space_opt_in``), and withdraw consent by closing the
account (``delete_account``). Closing leaves a tombstone under the person's id: their cases
are kept by archive rules and still name it, but nothing on it identifies them any more, and
the ID number is free for the same person to bind again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

from app.domain.actors import Actor, Role, person
from app.domain.appointments import BOOKED, CALLED, CHECKED_IN
from app.domain.case_states import LABELS_ZH, TERMINAL, State
from app.domain.errors import NotFoundError, NotPermitted, ValidationFailed
from app.domain.mandates import OPEN, Mandate, Status
from app.services.accounts import USERS, WECHAT_LINKS
from app.services.appointment_records import BOOKINGS
from app.services.audit import AUDIT, audit_record
from app.services.case_records import CASES
from app.services.mandate_changes import write_change
from app.services.mandate_records import MANDATES, mandate_from_doc
from app.services.privacy_export import gather, pack
from app.services.space_records import SPACE, doc_from_record, doc_to_record
from storage.documents import Document, DocumentStore, Transaction, VersionConflict
from storage.objects import ObjectStore

# Cases that no longer need the applicant's account. A draft was never sent to a department:
# it stays as it is, out of reach once the account is closed. Every other state waits on the
# department, the applicant, the post or a payment: closing would leave it without its owner.
SETTLED = TERMINAL | {State.DRAFT, State.CERTIFICATE_ISSUED, State.DELIVERED}
LIVE_BOOKINGS = [BOOKED, CHECKED_IN, CALLED]
CONVERSATIONS = "conversations"  # the chat's state per openid (bot.conversations)
# What the tombstone keeps: enough for the cases kept by archive rules to name an account.
TOMBSTONE = ("_id", "role", "created_at")
GONE = "账号不存在或已注销"
ENDED_FOR_AGENT = "对您的代办授权已终止，您不能再代其办理事项或查看其办件。"
REFUSED_FOR_AGENT = "您的代办授权申请未获同意。"


class PrivacyService:
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

    # -- seeing and copying ------------------------------------------------------------------

    async def overview(self, actor: Actor) -> dict[str, Any]:
        """The account and how many records of each kind are held, for the person to read."""
        user = await self._user(actor)
        data = (await gather(self._store, actor.id, self._clock())).data
        own = data["cases"]
        counts = [
            ("身份信息（姓名、身份证号码、实名核验记录）", 1),
            ("本人办件", len(own)),
            ("办件材料（照片、文件）", sum(len(c["materials_list"]) for c in own)),
            ("代他人或企业经办的办件", len(data["cases_for_others"])),
            ("个人空间证照", sum(1 for d in data["space_documents"] if not d["deleted_at"])),
            ("代办授权记录", len(data["mandates"])),
            ("大厅预约", len(data["bookings"])),
            ("查看与操作记录", len(data["access_log"])),
        ]
        return {
            "user": user,
            "counts": counts,
            "waiting": await self.reasons_to_wait(actor),
        }

    async def export(self, actor: Actor) -> dict[str, Any]:
        """Everything held about the person, as data.json carries it; the export is audited."""
        await self._user(actor)
        found = await gather(self._store, actor.id, self._clock())
        await self._audit(actor, "person.export", {"format": "json"})
        return found.data

    async def write_zip(self, actor: Actor, out: IO[bytes]) -> None:
        """The export with the person's files, as a ZIP written into ``out`` (seekable)."""
        await self._user(actor)
        found = await gather(self._store, actor.id, self._clock())
        copied = await pack(found, self._objects, out, self._clock())
        await self._audit(actor, "person.export", {"format": "zip", "files": copied})

    # -- choices -----------------------------------------------------------------------------

    async def set_space_opt_in(self, actor: Actor, keep: bool) -> None:
        """Keep copies of passed materials in the personal space, or stop keeping new ones.

        Saying no removes nothing already kept: the person deletes documents themselves.
        """
        for _ in range(3):
            user = await self._user(actor)
            now = self._clock()
            changed = user | {"space_opt_in": keep, "space_opt_in_at": now.isoformat()}
            try:
                async with self._store.transaction() as tx:
                    await tx.replace(USERS, changed, expected_version=user["_version"])
                    await tx.insert(AUDIT, self._record(actor, "person.space_opt_in", keep=keep))
                return
            except VersionConflict:
                continue
        raise RuntimeError("could not record the space choice after three attempts")

    # -- leaving -----------------------------------------------------------------------------

    async def reasons_to_wait(self, actor: Actor) -> list[str]:
        """What must end before the account may close: cases in progress, hall bookings."""
        reasons = []
        cases = await self._store.find(CASES, {"applicant_id": actor.id})
        busy = [c for c in cases if State(c["state"]) not in SETTLED]
        if busy:
            listed = "、".join(f"{c['_id']}（{LABELS_ZH[State(c['state'])]}）" for c in busy)
            reasons.append(f"您还有正在办理的办件：{listed}。办件须办结或撤回后才能注销账号。")
        where = {"person": actor.id, "state": {"$in": LIVE_BOOKINGS}}
        for b in await self._store.find(BOOKINGS, where, sort=[("day", 1)]):
            reasons.append(f"您还有 {b['day']} {b['slot']} 的大厅预约，请先取消预约。")
        return reasons

    async def delete_account(self, actor: Actor) -> None:
        """Withdraw consent and close the account; refused while something still needs it.

        Removed: name, ID number, WeChat link and chat state, the space choice; the person's
        authorisations end (theirs withdrawn, those they granted revoked or refused) and their
        space documents are deleted (the objects go after the retention period, see
        ``SpaceService.purge``). Kept: the cases, which archive rules keep with their
        materials, naming the tombstone; and the audit records.
        """
        reasons = await self.reasons_to_wait(actor)
        if reasons:
            raise ValidationFailed(reasons[0])
        for _ in range(3):
            try:
                await self._close(await self._user(actor), actor)
                return
            except VersionConflict:
                continue  # a mandate or document changed meanwhile: read again
        raise RuntimeError("could not close the account after three attempts")

    async def _close(self, user: Document, actor: Actor) -> None:
        now = self._clock()
        me = person(actor.id)
        held = await self._store.find(MANDATES, {"agent": actor.id})
        granted = await self._store.find(MANDATES, {"principal": me})
        docs = await self._store.find(SPACE, {"owner": me, "deleted_at": None})
        openid = user.get("openid")
        link = await self._store.get(WECHAT_LINKS, openid) if openid else None
        chat = await self._store.get(CONVERSATIONS, openid) if openid else None
        consent = dict(user.get("consent") or {}) | {"withdrawn_at": now.isoformat()}
        tombstone = {k: user[k] for k in TOMBSTONE if k in user}
        tombstone |= {"deleted_at": now.isoformat(), "consent": consent}
        async with self._store.transaction() as tx:
            await tx.replace(USERS, tombstone, expected_version=user["_version"])
            if link is not None and link["person"] == actor.id:
                await tx.delete(WECHAT_LINKS, link["_id"], expected_version=link["_version"])
            if chat is not None:
                await tx.delete(CONVERSATIONS, chat["_id"])
            ended = 0
            for found in held + granted:
                ended += await self._end_mandate(tx, mandate_from_doc(found), actor, now)
            for doc in map(doc_from_record, docs):
                doc.delete(now)
                await tx.replace(SPACE, doc_to_record(doc), expected_version=doc.version)
                detail = {"role": actor.role.value, "purpose": "account-deleted"}
                record = audit_record(f"space:{doc.id}", "space.delete", actor.id, now, detail)
                await tx.insert(AUDIT, record)
            record = self._record(
                actor, "person.deleted", mandates_ended=ended, space_documents=len(docs)
            )
            await tx.insert(AUDIT, record)

    async def _end_mandate(self, tx: Transaction, m: Mandate, actor: Actor, now: datetime) -> int:
        """End an open authorisation in the closing transaction; 1 if one was ended."""
        if m.status not in OPEN:
            return 0
        reason = "授权人已注销账号"
        if m.agent == actor.id:
            after, text = m.withdraw(actor.id, at=now), None
        elif m.status is Status.GRANTED:
            after, text = m.revoke(actor.id, reason=reason, at=now), ENDED_FOR_AGENT
        else:
            after, text = m.refuse(actor.id, reason=reason, at=now), REFUSED_FOR_AGENT
        await write_change(tx, m, after, actor.id, now, text, why="account-deleted")
        return 1

    # -- internals ---------------------------------------------------------------------------

    async def _user(self, actor: Actor) -> Document:
        if actor.role is not Role.APPLICANT:
            raise NotPermitted("只有实名绑定的申请人本人可以管理自己的个人信息")
        user = await self._store.get(USERS, actor.id)
        if user is None or user.get("deleted_at"):
            raise NotFoundError(GONE)
        return user

    async def _audit(self, actor: Actor, action: str, detail: dict[str, Any]) -> None:
        async with self._store.transaction() as tx:
            await tx.insert(AUDIT, self._record(actor, action, **detail))

    def _record(self, actor: Actor, action: str, **detail: Any) -> Document:
        return audit_record(person(actor.id), action, actor.id, self._clock(), detail)
