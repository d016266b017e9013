"""The machine pre-check's verdict on one material, kept on the case for reviewer and applicant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

PASS, FIX, REVIEW = "pass", "fix", "review"
STATUS_ZH = {PASS: "预审通过", FIX: "需要重新提交", REVIEW: "转人工审核"}


@dataclass(frozen=True)
class MachineFinding:
    """One problem the machine found: a stable code, the field concerned, what to do about it."""

    code: str
    message: str
    field: str | None = None


@dataclass(frozen=True)
class Precheck:
    """The verdict on the photo stored at ``object_key``; a newer photo makes it stale."""

    object_key: str
    status: str  # PASS | FIX | REVIEW
    kind: str  # what the photo looked like to the machine
    findings: tuple[MachineFinding, ...]
    checked_at: datetime
    fields: Mapping[str, str] = field(default_factory=dict)  # values read, for the reviewer
    corrected: tuple[str, ...] = ()  # fields repaired with their check character

    def __post_init__(self) -> None:
        if self.status not in STATUS_ZH:
            raise ValueError(f"unknown pre-check status {self.status!r}")

    def message(self, slot_name: str, case_number: str, *, next_photo_replaces: bool) -> str:
        """The chat message the applicant gets seconds after sending the photo."""
        head = f"【材料预审】办件 {case_number}“{slot_name}”："
        if self.status == PASS:
            return head + "预审通过。"
        if self.status == REVIEW:
            reasons = "；".join(f.message for f in self.findings)
            return (
                head
                + "系统未能自动识别全部内容，已转工作人员人工审核，您无需操作。"
                + (f"\n如方便，也可重新拍摄：{reasons}" if reasons else "")
            )
        lines = [head + "请按以下提示重新拍摄或上传："]
        lines += [f"{n}. {f.message}" for n, f in enumerate(self.findings, start=1)]
        lines.append(
            "直接发送新照片即可替换。"
            if next_photo_replaces
            else "请先发送其余材料，之后再发送新照片替换此项；也可在办件页面中直接替换。"
        )
        return "\n".join(lines)
