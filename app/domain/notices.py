"""The one-time correction notice (补正材料一次性告知书, Art. 32) and its defect codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.domain.errors import ValidationFailed
from app.domain.prechecks import MachineFinding

# One-tap defect codes a reviewer picks per material; the text is what the applicant reads.
DEFECTS: dict[str, str] = {
    "missing": "未提供该材料",
    "blurry": "照片模糊，无法辨认",
    "incomplete": "材料不完整或被遮挡，请拍摄全部页面和四角",
    "expired": "证件已过有效期",
    "mismatch": "材料信息与申请人不一致",
    "wrong_kind": "材料类型不符，请按材料清单提交",
    "unsigned": "缺少签名或盖章",
    "not_original": "须提交原件照片，不接受复印件翻拍",
    "other": "其他问题（见说明）",
}

# The defects that can be wrong with each kind of material, most likely first: a portrait photo
# cannot have expired, a form has no validity but wants a signature.
_DOCUMENT = ("blurry", "incomplete", "expired", "mismatch", "wrong_kind", "not_original", "missing")
DEFECTS_BY_KIND: dict[str, tuple[str, ...]] = {
    "id_card_front": _DOCUMENT,
    "id_card_back": _DOCUMENT,
    "business_licence": _DOCUMENT,
    "certificate": _DOCUMENT,
    "form": ("unsigned", "incomplete", "blurry", "mismatch", "wrong_kind", "missing"),
    "photo": ("blurry", "wrong_kind", "incomplete", "missing"),
}


def defects_for(kind: str) -> tuple[list[str], list[str]]:
    """The defect codes that fit a material of ``kind``, then the rest (never "other": the
    reviewer's remark is that)."""
    codes = [c for c in DEFECTS if c != "other"]
    fitting = list(DEFECTS_BY_KIND.get(kind, codes))
    return fitting, [c for c in codes if c not in fitting]


@dataclass(frozen=True)
class Correction:
    """What is wrong with one material (``slot_id``), or with the application (``None``).

    ``defects`` and ``remark`` are the reviewer's; ``findings`` are the machine pre-check's,
    still open when the notice was issued.
    """

    slot_id: str | None
    defects: tuple[str, ...]
    remark: str = ""
    findings: tuple[MachineFinding, ...] = ()

    def __post_init__(self) -> None:
        unknown = [d for d in self.defects if d not in DEFECTS]
        if unknown:
            raise ValidationFailed(f"未知的问题代码：{'、'.join(unknown)}")
        if not self.defects and not self.remark.strip() and not self.findings:
            raise ValidationFailed("每一项补正要求都须选择问题或填写说明")
        if "other" in self.defects and not self.remark.strip():
            raise ValidationFailed("选择“其他问题”时须填写具体说明")

    def problems(self) -> list[str]:
        """Every problem with this material in the applicant's words, reviewer's first."""
        texts = [DEFECTS[d] for d in self.defects if d != "other"]
        texts += [f.message for f in self.findings if f.message not in texts]
        if self.remark.strip():
            texts.append(self.remark.strip())
        return texts


@dataclass(frozen=True)
class CorrectionNotice:
    items: tuple[Correction, ...]

    def __post_init__(self) -> None:
        if not self.items:
            raise ValidationFailed("补正通知至少要列出一项需要补正的内容")
        slots = [i.slot_id for i in self.items]
        if len(slots) != len(set(slots)):
            raise ValidationFailed("同一材料的问题请合并在一项中列出")

    def slot_ids(self) -> set[str | None]:
        return {i.slot_id for i in self.items}

    def render(
        self,
        case_number: str,
        matter_name: str,
        slot_names: Mapping[str, str],
        *,
        number: int = 1,
        samples: Mapping[str, str] | None = None,
        link: str | None = None,
    ) -> str:
        """The Chinese text the applicant receives: every correction, listed once."""
        lines = [
            f"【补正告知书 第{number}号】您申请的“{matter_name}”（办件号 {case_number}）"
            "需要补正以下材料，请一次性补齐后重新提交：",
        ]
        for n, item in enumerate(self.items, start=1):
            subject = slot_names.get(item.slot_id, item.slot_id) if item.slot_id else "申请事项"
            lines.append(f"{n}. {subject}：{'；'.join(item.problems())}")
            sample = (samples or {}).get(item.slot_id or "")
            if sample:
                lines.append(f"   样表/样例：{sample}")
        lines.append("补正期间办理时限暂停计算，补正材料提交后继续计算。")
        if link:
            lines.append(f"查看告知书：{link}")
        return "\n".join(lines)
