"""Issuing the electronic certificate: rendered, stored, kept in the holder's space, told.

The ``certificate.issue`` outbox job is queued with the issue_certificate event. A rerun draws
the same picture (everything on it comes from the case and the event), so it stores the same
bytes under the same key and the space keeps one version.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from typing import Any

from app.domain.actors import SYSTEM, Actor
from app.domain.cases import Case, china_date
from app.domain.errors import NotFoundError
from app.domain.identity import mask_person_name, mask_sensitive
from app.domain.space import Version, case_owner
from app.services.accounts import USERS
from app.services.case_reads import NOT_FOUND
from app.services.cases import CaseService
from app.services.catalog import get_matter
from app.services.certificate_image import CertificateFace, render
from app.services.notify import notify_once
from app.services.space import SpaceService
from storage.documents import Document, DocumentStore, DuplicateKey
from storage.objects import ObjectStore
from storage.outbox import OutboxMessage

CERTIFICATES = "certificates"
MAX_CERTIFICATE_BYTES = 5 * 1024 * 1024
NOT_ISSUED = "该办件还没有签发电子证照，签发后会在公众号通知您。"


def certificate_number(case: Case) -> str:
    return f"DZZZ{case.number[2:]}"


def valid_to(issued: date, years: int | None) -> str:
    if years is None:
        return "长期"
    try:
        return issued.replace(year=issued.year + years).isoformat()
    except ValueError:  # issued on 29 February
        return issued.replace(year=issued.year + years, day=28).isoformat()


class CertificateService:
    def __init__(
        self,
        store: DocumentStore,
        objects: ObjectStore,
        cases: CaseService,
        space: SpaceService,
        *,
        public_base_url: str,
        secret: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._objects = objects
        self._cases = cases
        self._space = space
        self._base = public_base_url
        self._secret = secret.encode()
        self._clock = clock

    def verify_path(self, number: str) -> str:
        """The public check page's path; the signature stops guessing numbers to read them."""
        sig = hmac.new(self._secret, f"cert:{number}".encode(), hashlib.sha256).hexdigest()[:20]
        return f"/verify/{number}/{sig}"

    async def verified(self, number: str, sig: str) -> dict[str, Any] | None:
        """What a verifier may see of a certificate (the holder masked), if the link is genuine."""
        expected = self.verify_path(number).rsplit("/", 1)[1]
        if not hmac.compare_digest(expected, sig):
            return None
        return await self._store.get(CERTIFICATES, number)

    async def issue(self, msg: OutboxMessage) -> None:
        """Outbox job: draw, store and keep the certificate of a case, then tell the holder."""
        case = await self._cases.get(SYSTEM, msg.payload["case"])
        matter = await get_matter(self._store, case.terms.code)
        issued = china_date(msg.created_at)
        number = certificate_number(case)
        face = CertificateFace(
            title=case.terms.result or case.terms.name,
            number=number,
            holder=await self._holder(case),
            department=matter.department_name,
            issued_on=issued.isoformat(),
            valid_to=valid_to(issued, case.terms.result_valid_years),
            verify_url=self._base + self.verify_path(number),
        )
        png = await asyncio.to_thread(render, face)  # a tenth of a second of drawing

        async def once() -> AsyncIterator[bytes]:
            yield png

        key = f"certificates/{number}.png"
        info = await self._objects.put(
            key, once(), content_type="image/png", max_bytes=MAX_CERTIFICATE_BYTES
        )
        await self._record(case, face, key)
        fields = {
            "certificate_number": number,
            "holder_name": face.holder,
            "expiry_date": face.valid_to,
        }
        version = Version(
            1, key, "image/png", info.size, info.sha256, f"certificate:{case.number}",
            msg.created_at, fields,
        )  # fmt: skip
        owner = case_owner(case.applicant_id, case.enterprise_uscc)
        if await self._space.keeps_copies(owner):
            doc = await self._space.deposit(owner, "certificate", face.title, version)
            stored, path = (
                "，并已存入个人空间，可随时出示，办理其他事项时也可直接调用",
                f"/h5/space/{doc.id}",
            )
        else:  # they chose not to keep copies: the case page shows it, nothing more is kept
            stored, path = "，可在办件页面查看和下载", f"/h5/cases/{case.number}/certificate"
        await notify_once(
            self._store,
            key=f"certificate-ready:{case.number}",
            applicant_id=case.applicant_id,
            text=f"您的电子证照“{face.title}”（{case.number}）已签发{stored}。",
            now=self._clock(),
            path=path,
            link_label="查看证照",
            case=case.number,
            state=case.state.value,
        )

    async def of_case(self, actor: Actor, number: str) -> Document | None:
        """The certificate of a case its owner (or someone acting for them) may see."""
        case = await self._cases.get(actor, number)  # not theirs: not found
        found = await self._store.find(CERTIFICATES, {"case": case.number}, limit=1)
        return found[0] if found else None

    async def of_holder(self, actor: Actor, number: str) -> Document:
        """The certificate for its holder's side only: the applicant, or who acts for them under
        a live mandate; NotFoundError for anyone else (as if the case did not exist), or before
        it is issued."""
        case = await self._cases.get(actor, number)
        if not case.is_owner(actor):
            raise NotFoundError(NOT_FOUND)
        found = await self._store.find(CERTIFICATES, {"case": case.number}, limit=1)
        if not found:
            raise NotFoundError(NOT_ISSUED)
        return found[0]

    async def picture(self, actor: Actor, number: str) -> tuple[Document, bytes]:
        """The certificate and its PNG, for its holder's side (as ``of_holder``)."""
        record = await self.of_holder(actor, number)
        png = b"".join([chunk async for chunk in self._objects.get(record["object_key"])])
        return record, png

    async def _holder(self, case: Case) -> str:
        account = await self._store.get(USERS, case.applicant_id) or {}
        if case.enterprise_uscc:
            return str(account.get("enterprise") or f"统一社会信用代码 {case.enterprise_uscc}")
        return str(account.get("name") or "申请人")

    async def _record(self, case: Case, face: CertificateFace, key: str) -> None:
        record = {
            "_id": face.number,
            "case": case.number,
            "title": face.title,
            "holder": mask_sensitive(_mask_name(face.holder)),
            "department": face.department,
            "issued_on": face.issued_on,
            "valid_to": face.valid_to,
            "object_key": key,
        }
        try:
            async with self._store.transaction() as tx:
                await tx.insert(CERTIFICATES, record)
        except DuplicateKey:
            pass  # recorded on an earlier run


def _mask_name(name: str) -> str:
    """A person's name masked for verifiers; an enterprise's is public (it is on its licence)."""
    if name.startswith("统一社会信用代码") or "公司" in name:
        return name
    return mask_person_name(name)
