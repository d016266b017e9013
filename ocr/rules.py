"""The pre-check's judgement of one photo against what its checklist slot expects.

The rules come from the catalog material (expected kind, whose document it must be, how long
it must stay valid) and from the applicant's bound identity; the service hands them over as an
``Expectation``. The machine never rejects: a material either passes, needs a fix the applicant
can make (a new photo, the right document), or is left to the reviewer when the machine cannot
tell (a field it could not read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from ocr.checkchars import citizen_id_ok
from ocr.findings import (
    FIELD_UNREADABLE,
    Finding,
    expired,
    expires_soon,
    not_applicant,
    unreadable,
    wrong_kind,
)
from ocr.quality import QualityFinding
from ocr.text import Read

PASS, FIX, REVIEW = "pass", "fix", "review"
OCR_FAILED = "OCR_FAILED"

KIND_ZH: Mapping[str, str] = {
    "id_card_front": "居民身份证人像面",
    "id_card_back": "居民身份证国徽面",
    "business_licence": "营业执照",
    "certificate": "证照",
    "form": "申请表",
    "photo": "证件照",
    "other": "材料",
}
# The kinds the pre-check can recognise; a portrait photo or "other" gets the quality checks only.
DOCUMENT_KINDS = frozenset({"id_card_front", "id_card_back", "business_licence", "certificate"})
# The fields without which a reviewer could not use the document, per kind.
KEY_FIELDS: Mapping[str, Mapping[str, str]] = {
    "id_card_front": {"id_number": "公民身份号码", "name": "姓名"},
    "id_card_back": {"valid_to": "有效期限"},
    "business_licence": {"uscc": "统一社会信用代码", "company_name": "名称"},
    "certificate": {"certificate_number": "证书编号", "expiry_date": "有效期"},
}
# Documents whose key fields differ from their kind's: the driving licence's supplementary
# page prints no validity.
DOCUMENT_KEY_FIELDS: Mapping[str, Mapping[str, str]] = {
    "driving_licence_page2": {"certificate_number": "证号", "holder_name": "姓名"},
}
# Quality findings about how hard the photo is to read. When every key field was read anyway
# (ID numbers and USCCs through their check characters), the photo did its job: asking for
# a retake would only cost the applicant. Blur and a cut-off document are always told: a
# reviewer needs the whole document, sharp.
READABILITY = frozenset({"TOO_SMALL", "TOO_DARK", "OVEREXPOSED", "GLARE", "NOT_FILLING"})
# Where each kind prints its expiry date.
EXPIRY_FIELD: Mapping[str, str] = {
    "id_card_back": "valid_to",
    "business_licence": "valid_to",
    "certificate": "expiry_date",
}
PERMANENT = "长期"


@dataclass(frozen=True)
class Expectation:
    """What one checklist slot expects, and of whom; ``today`` is the day of the check."""

    kind: str
    today: date
    person_id: str | None = None  # the applicant's bound citizen ID number
    uscc: str | None = None  # the enterprise's code, for an enterprise's case
    holder_name: str | None = None  # whose name a certificate must carry
    must_be_valid: bool = True
    valid_for_days: int = 0


@dataclass(frozen=True)
class Verdict:
    """The outcome for one photo: a status, what was found, and the fields that were read."""

    status: str  # PASS | FIX | REVIEW
    kind: str  # what the photo looked like ("unknown" when it could not be opened)
    findings: tuple[Finding, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    corrected: tuple[str, ...] = ()  # fields repaired with their check character
    engine_seconds: float = 0.0
    document: str = ""  # which document of the kind (ocr.classify.DOCUMENTS), when recognised


def unopenable(code: str, message: str) -> Verdict:
    """The upload could not be opened as a picture: a new photo is the only fix."""
    return Verdict(FIX, "unknown", (Finding(code, None, message),))


def machine_failed() -> Verdict:
    """The engine timed out or crashed on this photo: a person looks at it instead."""
    message = "系统暂时无法自动识别该照片，已转工作人员人工审核"
    return Verdict(REVIEW, "unknown", (Finding(OCR_FAILED, None, message),))


def judge(
    expect: Expectation,
    quality: list[QualityFinding],
    kind: str,
    read: Mapping[str, Read],
    *,
    engine_seconds: float = 0.0,
    document: str = "",
) -> Verdict:
    """Apply the slot's rules to what the photo showed; quality problems come first."""
    keys = key_fields(kind, document)
    if kind == expect.kind and keys and all(read.get(name, (None, ""))[0] for name in keys):
        quality = [q for q in quality if q.code not in READABILITY]
    findings = [Finding(q.code, None, q.message) for q in quality]
    if expect.kind in DOCUMENT_KINDS:
        findings += _document_findings(expect, kind, read, quality_ok=not quality, keys=keys)
    elif expect.kind == "form" and kind in DOCUMENT_KINDS:
        findings.append(wrong_kind(KIND_ZH["form"]))  # an ID card sent where a form belongs
    fields = {name: value for name, (value, _) in read.items() if value is not None}
    corrected = tuple(sorted(name for name, (_, how) in read.items() if how == "corrected"))
    return Verdict(
        _status(findings),
        kind,
        tuple(findings),
        fields,
        corrected,
        round(engine_seconds, 3),
        document,
    )


def key_fields(kind: str, document: str = "") -> Mapping[str, str]:
    """The fields without which a reviewer could not use a document of ``kind``."""
    return DOCUMENT_KEY_FIELDS.get(document) or KEY_FIELDS.get(kind, {})


def _status(findings: list[Finding]) -> str:
    if any(f.code not in {FIELD_UNREADABLE, OCR_FAILED} for f in findings):
        return FIX
    return REVIEW if findings else PASS


def _document_findings(
    expect: Expectation,
    kind: str,
    read: Mapping[str, Read],
    *,
    quality_ok: bool,
    keys: Mapping[str, str],
) -> list[Finding]:
    if kind != expect.kind:
        # A blurry photo of the right card may classify as nothing; its quality finding says
        # what to do. A document of another recognised kind is the wrong one, sharp or not.
        if kind in DOCUMENT_KINDS or quality_ok:
            return [wrong_kind(KIND_ZH[expect.kind])]
        return []
    findings: list[Finding] = []
    for name, label in keys.items():
        if read.get(name, (None, ""))[0] is None and quality_ok:
            findings.append(unreadable(label, field=name))
    findings += _ownership(expect, kind, read)
    if expect.must_be_valid and kind in EXPIRY_FIELD:
        findings += _validity(expect, EXPIRY_FIELD[kind], read)
    return findings


def _ownership(expect: Expectation, kind: str, read: Mapping[str, Read]) -> list[Finding]:
    # Compared only on values read with certainty: ID numbers and USCCs pass their check
    # character, so a mismatch is another person's document, not a misreading.
    checks = {
        "id_card_front": ("id_number", expect.person_id, "公民身份号码"),
        "business_licence": ("uscc", expect.uscc, "统一社会信用代码"),
        "certificate": ("holder_name", expect.holder_name, "持证人姓名"),
    }
    if kind not in checks:
        return []
    name, wanted, label = checks[kind]
    number = read.get("certificate_number", (None, ""))[0] if kind == "certificate" else None
    if number and expect.person_id and citizen_id_ok(number[-18:]):
        # The certificate carries its holder's ID number (a driving licence's 证号): checked
        # by its check character, it settles whose it is better than a name can.
        if number[-18:] != expect.person_id:
            return [not_applicant("证件号码", field="certificate_number")]
        return []
    printed = read.get(name, (None, ""))[0]
    if wanted and printed and printed != wanted:
        return [not_applicant(label, field=name)]
    return []


def _validity(expect: Expectation, name: str, read: Mapping[str, Read]) -> list[Finding]:
    printed = read.get(name, (None, ""))[0]
    if printed is None or printed == PERMANENT:
        return []
    try:
        until = date.fromisoformat(printed)
    except ValueError:
        return []
    if until < expect.today:
        return [expired(printed, field=name)]
    if expect.valid_for_days and until < expect.today + timedelta(days=expect.valid_for_days):
        return [expires_soon(printed, expect.valid_for_days, field=name)]
    return []
