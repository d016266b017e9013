"""What the OCR pre-check found, as stable codes with Chinese messages the applicant can act on."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EXPIRED",
    "EXPIRES_SOON",
    "FIELD_UNREADABLE",
    "NOT_APPLICANT",
    "WRONG_KIND",
    "Finding",
    "expired",
    "expires_soon",
    "not_applicant",
    "unreadable",
    "wrong_kind",
]

FIELD_UNREADABLE = "FIELD_UNREADABLE"
WRONG_KIND = "WRONG_KIND"
NOT_APPLICANT = "NOT_APPLICANT"
EXPIRED = "EXPIRED"
EXPIRES_SOON = "EXPIRES_SOON"


@dataclass(frozen=True)
class Finding:
    """One problem with one material: a stable code, the field concerned, a message to show."""

    code: str
    field: str | None
    message: str


def unreadable(field_zh: str, *, field: str | None = None) -> Finding:
    """The field could not be read; ask for a clearer photo."""
    message = f"未能识别{field_zh}，请重新拍摄清晰、完整的照片"
    return Finding(FIELD_UNREADABLE, field, message)


def wrong_kind(expected_zh: str) -> Finding:
    """The photo shows another kind of document than the slot asks for."""
    return Finding(WRONG_KIND, None, f"上传的不是{expected_zh}，请按材料清单上传")


def not_applicant(field_zh: str, *, field: str | None = None) -> Finding:
    """The document belongs to someone else than the applicant."""
    return Finding(NOT_APPLICANT, field, f"材料上的{field_zh}与申请人不一致，请上传本人的材料")


def expired(date: str, *, field: str | None = "valid_to") -> Finding:
    """The document expired on ``date`` (as printed, or YYYY-MM-DD)."""
    return Finding(EXPIRED, field, f"证件已于{date}过期，请使用有效期内的证件")


def expires_soon(date: str, days: int, *, field: str | None = "valid_to") -> Finding:
    """The document expires on ``date``, fewer than ``days`` days away."""
    message = f"证件将于{date}到期，不满{days}天，请先办理换证"
    return Finding(EXPIRES_SOON, field, message)
