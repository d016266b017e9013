"""The personal document space (个人空间): documents kept once, in versions, reused by cases.

A citizen's space belongs to their verified account, an enterprise's to its code (every agent
bound to that code acts for it). A document is one licence, card side or certificate; a new
photo of the same document is a new version and the old one stays. A case pins the exact
version it uses: a pinned version outlives the document's deletion until no open case needs
it and the retention period is over (少交免交 without losing what a case was decided on).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.domain.actors import Actor, Role, person
from app.domain.errors import NotFoundError, ValidationFailed

# How long a deleted document's objects are kept for the cases that used them: longer than the
# 60 days to ask for administrative review and the six months to sue (行政诉讼法 Art. 46).
RETENTION = timedelta(days=190)
KEPT_FROM = ("case:", "certificate:")  # versions whose photo belongs to a case or certificate
# The field that tells one document of a kind from another of the same owner.
IDENTIFIER: Mapping[str, str] = {
    "id_card_front": "id_number",
    "business_licence": "uscc",
    "certificate": "certificate_number",
}
# Where each kind's expiry date is read from (see ocr.rules.EXPIRY_FIELD).
EXPIRY: Mapping[str, str] = {
    "id_card_back": "valid_to",
    "business_licence": "valid_to",
    "certificate": "expiry_date",
}
PERMANENT = "长期"
NOT_FOUND = "个人空间中没有这份材料"


def owner_of(actor: Actor, principal: str | None = None) -> str:
    """Whose space ``actor`` works in: their own, or one they act for in every matter.

    An agent authorised for some matters only fills those cases from the space (the case's
    owner is checked there) but does not browse it.
    """
    principal = principal or person(actor.id)
    if actor.role is Role.APPLICANT and actor.fully_for(principal):
        return principal
    raise NotFoundError(NOT_FOUND)


def case_owner(applicant_id: str, enterprise_uscc: str | None) -> str:
    return f"enterprise:{enterprise_uscc}" if enterprise_uscc else f"person:{applicant_id}"


def keeps(owner: str, opt_in: bool | None, *, uploaded: bool) -> bool:
    """Whether a document that passed goes into ``owner``'s space (PIPL Art. 13–14: consent).

    A person's space keeps copies of case materials only once they said yes (``opt_in`` True;
    never asked is no). A photo they sent straight to the space is itself the choice to keep
    that one, unless they said no. An enterprise's space keeps as before: it is not a person's.
    """
    if not owner.startswith("person:"):
        return True
    return opt_in is True or (uploaded and opt_in is None)


@dataclass(frozen=True)
class Version:
    """One stored photo or file of the document, as it was when added."""

    n: int
    object_key: str
    content_type: str
    size: int
    sha256: str
    source: str  # chat | upload | case:<number> | certificate:<number>
    added_at: datetime
    fields: Mapping[str, str] = field(default_factory=dict)  # what the pre-check read

    @property
    def valid_to(self) -> date | None:
        """The printed expiry date; None when permanent or not read."""
        for name in EXPIRY.values():
            value = self.fields.get(name)
            if value and value != PERMANENT:
                try:
                    return date.fromisoformat(value)
                except ValueError:
                    return None
        return None


@dataclass
class SpaceDocument:
    id: str
    owner: str
    kind: str  # as the catalog's expected_kind
    title: str  # what the applicant calls it, e.g. the checklist material's name
    versions: list[Version]
    created_at: datetime
    identifier: str | None = None  # e.g. the ID number the card carries
    deleted_at: datetime | None = None
    pins: dict[str, int] = field(default_factory=dict)  # open case number -> version
    version: int = 0  # the store's, for compare-and-set

    @property
    def current(self) -> Version:
        return self.versions[-1]

    def version_no(self, n: int) -> Version:
        for v in self.versions:
            if v.n == n:
                return v
        raise NotFoundError(NOT_FOUND)

    def may_use(self, actor: Actor) -> bool:
        """Only the owner sees it; anyone else is told it does not exist."""
        try:
            return owner_of(actor, self.owner) == self.owner and self.deleted_at is None
        except NotFoundError:
            return False

    def add(self, version: Version) -> None:
        if version.n != self.current.n + 1:
            raise ValueError("versions are numbered one after another")
        self.versions.append(version)

    def usable_on(self, day: date, *, min_days: int = 0) -> bool:
        """Valid on ``day`` and for ``min_days`` more (unknown expiry counts as valid)."""
        until = self.current.valid_to
        return until is None or until >= day + timedelta(days=min_days)

    def pin(self, case_number: str, n: int) -> None:
        if self.deleted_at is not None:
            raise NotFoundError(NOT_FOUND)
        self.version_no(n)
        self.pins[case_number] = n

    def unpin(self, case_number: str) -> None:
        self.pins.pop(case_number, None)

    def delete(self, at: datetime) -> None:
        """Hide it from the space; its objects go once unpinned and the retention is over."""
        if self.deleted_at is not None:
            raise NotFoundError(NOT_FOUND)
        self.deleted_at = at

    def may_purge(self, now: datetime, open_cases: Collection[str]) -> bool:
        """Whether a deleted document may go now: past retention, no open case pinning it.

        ``open_cases`` are the pinning cases still open. A finished case's decision stands on
        its record; once the retention period (longer than the six months to appeal) is over,
        the applicant's deletion wins (PIPL).
        """
        if self.deleted_at is None or now < self.deleted_at + RETENTION:
            return False
        return not any(number in open_cases for number in self.pins)

    def owned_keys(self) -> list[str]:
        """The photos that are the space's own, to delete with the document. A copy kept from a
        case or of a certificate is that case's or certificate's photo, which its record still
        names: the space lets go of it, the file keeps it."""
        return [v.object_key for v in self.versions if not v.source.startswith(KEPT_FROM)]


# Kinds that name one document each; the others (a certificate, a form, a photo) cover many,
# so the document must also be the one the slot asks for by name.
ONE_DOCUMENT_KINDS = frozenset({"id_card_front", "id_card_back", "business_licence"})


def fits(doc: SpaceDocument, kind: str, name: str) -> bool:
    """Whether ``doc`` is the document a slot expecting ``kind`` under ``name`` asks for: an
    老年人优待证 is a certificate, but not the 原机动车驾驶证 a renewal asks for, which the
    中华人民共和国机动车驾驶证 issued last time is."""
    if doc.kind != kind:
        return False
    if kind in ONE_DOCUMENT_KINDS:
        return True
    held, asked = _core(doc.title), _core(name)
    return len(min(held, asked, key=len)) >= 3 and (held in asked or asked in held)


def _core(name: str) -> str:
    """A document's name without what varies in how it is written: notes in brackets, 原
    (the old one), the state's name, book-title marks."""
    core = re.sub(r"[（(][^）)]*[）)]", "", name)
    core = core.replace("中华人民共和国", "").replace("《", "").replace("》", "").strip()
    return core.removeprefix("原")


def check_reusable(
    doc: SpaceDocument,
    kind: str,
    day: date,
    *,
    must_be_valid: bool,
    min_days: int,
    name: str,
) -> Version:
    """The version a case may pin for a slot expecting ``kind`` (``name``), or a refusal."""
    if not fits(doc, kind, name):
        raise ValidationFailed(f"“{doc.title}”不能用作这项材料，请选择相符的材料或重新拍照")
    if must_be_valid and not doc.usable_on(day, min_days=min_days):
        until = doc.current.valid_to
        raise ValidationFailed(f"“{doc.title}”已于{until}到期或即将到期，请上传有效期内的材料")
    return doc.current
