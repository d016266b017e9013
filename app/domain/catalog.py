"""The matter catalog: GB/T 36114 service-guide elements, their rules, and catalog validation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails

from app.domain.eligibility import AGE_LIMIT, max_age_condition, min_age_condition, zh_numeral
from app.domain.errors import NotFoundError, ValidationFailed

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Count = Annotated[int, Field(strict=True, ge=0)]
Age = Annotated[int, Field(strict=True, ge=1, le=AGE_LIMIT)]
Flag = Annotated[bool, Field(strict=True)]
Target = Literal["citizen", "enterprise"]
Delivery = Literal["courier", "pickup", "electronic"]
# Only the kinds a citizen or enterprise applies for (依申请); 处罚/强制/检查 are never "办" online.
Category = Literal[
    "行政许可", "行政确认", "行政给付", "行政奖励", "行政裁决", "其他行政权力", "公共服务"
]
ExpectedKind = Literal[
    "id_card_front", "id_card_back", "business_licence", "certificate", "form", "photo", "other"
]

FORM_ZH = {
    "original": "原件，拍照预审后快递收取",
    "copy": "复印件，拍照上传",
    "electronic": "电子材料",
}
TARGET_ZH = {"citizen": "自然人", "enterprise": "法人（企业）"}
DELIVERY_ZH = {"courier": "快递送达", "pickup": "窗口自取", "electronic": "电子送达"}
KIND_ZH = {"immediate": "即办件", "promised": "承诺件"}
_DEFER_RULES = "defer_catalog_rules"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeeItem(_Frozen):
    """One published charge (清单之外无收费): an integer amount in fen and its legal basis."""

    name: Text
    amount_fen: Annotated[int, Field(strict=True, ge=1)]
    basis: Text


class Eligibility(_Frozen):
    """Conditions checked from the applicant's verified ID number before a case opens: 年满
    ``min_age`` 周岁 and/or 未满 ``max_age`` 周岁 on the day of application, under ``basis``."""

    min_age: Age | None = None
    max_age: Age | None = None
    basis: Text

    @model_validator(mode="after")
    def _check_ages(self) -> Eligibility:
        low, high = self.min_age, self.max_age
        if low is None and high is None:
            raise ValueError("须至少填写 min_age（年满）或 max_age（未满）之一")
        if low is not None and high is not None and low >= high:
            raise ValueError(
                f"min_age {low} 须小于 max_age {high}："
                f"“年满{zh_numeral(low)}周岁且未满{zh_numeral(high)}周岁”没有人能符合"
            )
        return self

    @property
    def conditions(self) -> list[str]:
        """The conditions as the guide must state them, e.g. ["年满六十周岁"]."""
        out = [] if self.min_age is None else [min_age_condition(self.min_age)]
        return out + ([] if self.max_age is None else [max_age_condition(self.max_age)])


class Material(_Frozen):
    """One slot of the checklist (材料清单) an applicant fills with a photo, upload or reuse."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=64)]
    name: Text
    form: Literal["original", "copy", "electronic"]
    copies: Annotated[int, Field(strict=True, ge=1)]
    required: Flag
    sample: Text | None = None
    expected_kind: ExpectedKind
    reusable: Flag
    note: Text | None = None
    # Pre-check rules: the document must be the applicant's own (their ID number, their
    # enterprise's code, their name), valid on the day it is checked, and for at least
    # ``min_valid_days`` more when the matter needs it to outlast the procedure.
    belongs_to_applicant: Flag = True
    must_be_valid: Flag = True
    min_valid_days: Count = 0


class Remedies(_Frozen):
    """行政救济途径: where the applicant may challenge a decision of this matter."""

    review: Text  # 行政复议机关 (行政复议法 Art. 24: the people's government of the same level)
    court: Text  # 行政诉讼: the court with jurisdiction (行政诉讼法 Art. 14, 18)

    def text(self) -> str:
        """The remedy a refusal must state (行政许可法 Art. 38), with both periods."""
        return (
            f"如不服本决定，可以自收到本决定之日起六十日内向{self.review}申请行政复议"
            "（《中华人民共和国行政复议法》第二十条），或者自收到本决定之日起六个月内"
            f"向{self.court}提起行政诉讼（《中华人民共和国行政诉讼法》第四十六条）。"
        )


class Matter(_Frozen):
    """A government matter as published in the catalog; an immediate matter is done the same day."""

    code: Annotated[
        str, StringConstraints(pattern=r"^[0-9A-Za-z]+(-[0-9A-Za-z]+)*$", max_length=64)
    ]
    name: Text
    category: Category
    department: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)]
    department_name: Text
    legal_basis: Annotated[list[Text], Field(min_length=1)]
    conditions: list[Text]
    # The conditions among ``conditions`` that are checked by machine before a case opens.
    eligibility: Eligibility | None = None
    targets: Annotated[list[Target], Field(min_length=1)]
    materials: Annotated[list[Material], Field(min_length=1)]
    process: Annotated[list[Text], Field(min_length=1)]
    legal_limit_days: Count
    committed_limit_days: Count
    kind: Literal["immediate", "promised"]
    fees: list[FeeItem]
    free_basis: Text | None = None
    originals_required: Flag
    result: Text
    delivery: Annotated[list[Delivery], Field(min_length=1)]
    pay_before_review: Flag = False
    # Documents (by name) this matter renews: the space reminds their holders to renew here.
    renews: list[Text] = []
    # What people call the matter in their own words (俗称): the chat matches free text on them.
    keywords: list[Text] = []
    # GB/T 36114 guide elements: 咨询方式, 监督投诉渠道, 行政救济途径, 数量限制. Where and when
    # to go (办理地点和时间) is the department's hall, kept with its counter and hall rules.
    consultation: Annotated[list[Text], Field(min_length=1)]
    complaints: Annotated[list[Text], Field(min_length=1)]
    remedies: Remedies
    quantity_limit: Text
    # How long the issued result stays valid; None: no expiry (长期).
    result_valid_years: Annotated[int, Field(strict=True, ge=1, le=100)] | None = None
    version: Annotated[int, Field(strict=True, ge=1)] = 1

    @model_validator(mode="after")
    def _check_rules(self, info: ValidationInfo) -> Matter:
        if not (isinstance(info.context, dict) and info.context.get(_DEFER_RULES)):
            broken = rule_violations(self)
            if broken:
                raise ValueError("；".join(f"{field}: {message}" for field, message in broken))
        return self

    @property
    def total_fee_fen(self) -> int:
        return sum(fee.amount_fen for fee in self.fees)

    @property
    def required_materials(self) -> list[Material]:
        return [m for m in self.materials if m.required]

    def material(self, slot_id: str) -> Material:
        """Return the checklist slot ``slot_id`` or raise NotFoundError."""
        for m in self.materials:
            if m.id == slot_id:
                return m
        raise NotFoundError(f"事项“{self.name}”的材料清单中没有“{slot_id}”这项材料")

    def guide_text(self) -> str:
        """Render the GB/T 36114 service guide as plain Chinese text for a chat message."""
        limits = f"法定办结时限 {self.legal_limit_days} 个工作日；" + (
            "即办件，材料齐全当场办结"
            if self.kind == "immediate"
            else f"承诺办结时限 {self.committed_limit_days} 个工作日"
        )
        if self.fees:
            fees = [f"{f.name} {yuan(f.amount_fen)}（依据：{f.basis}）" for f in self.fees]
            fees.append(
                f"合计 {yuan(self.total_fee_fen)}"
                + ("，审核前缴纳" if self.pay_before_review else "，审核通过后缴纳")
            )
        else:
            fees = [f"不收费（{self.free_basis}）"]
        lines = [
            f"【事项名称】{self.name}",
            f"【事项编码】{self.code}",
            f"【事项类型】{self.category}（{KIND_ZH[self.kind]}）",
            f"【实施机关】{self.department_name}",
            f"【服务对象】{'、'.join(TARGET_ZH[t] for t in self.targets)}",
            "【设定依据】",
            *_numbered(self.legal_basis),
            "【申请条件】",
            *(_numbered(self._condition_lines()) or ["无特别条件"]),
            "【申请材料】",
            *_numbered(_material_line(m) for m in self.materials),
            "【办理流程】",
            *_numbered(self.process),
            f"【办理时限】{limits}",
            "【收费标准】",
            *fees,
            "【原件递交】"
            + ("需递交原件，由快递上门收取" if self.originals_required else "无需递交纸质原件"),
            f"【办理结果】{self.result}（{'、'.join(DELIVERY_ZH[d] for d in self.delivery)}）",
            f"【数量限制】{self.quantity_limit}",
            "【咨询方式】",
            *self.consultation,
            "【监督投诉】",
            *self.complaints,
            "【救济途径】",
            self.remedies.text(),
        ]
        return "\n".join(lines)

    def guide_summary(self) -> str:
        """What a chat message can carry of the guide: the essentials, the materials by name."""
        if self.fees:
            fee = f"合计 {yuan(self.total_fee_fen)}" + (
                "，审核前缴纳" if self.pay_before_review else "，审核通过后缴纳"
            )
        else:
            fee = "不收费"
        limits = (
            "即办件，材料齐全当场办结"
            if self.kind == "immediate"
            else f"{self.committed_limit_days} 个工作日"
        )
        names = "、".join(m.name + ("" if m.required else "（可选）") for m in self.materials)
        return "\n".join(
            [
                f"【事项名称】{self.name}",
                f"【实施机关】{self.department_name}",
                f"【服务对象】{'、'.join(TARGET_ZH[t] for t in self.targets)}",
                f"【申请材料】{len(self.materials)} 项：{names}",
                f"【办理时限】{limits}",
                f"【收费标准】{fee}",
                f"【办理结果】{self.result}",
            ]
        )

    def _condition_lines(self) -> list[str]:
        checked = self.eligibility.conditions if self.eligibility else []
        basis = self.eligibility.basis if self.eligibility else ""
        return [
            f"{text}（依据{basis}，按身份证号核对）" if any(c in text for c in checked) else text
            for text in self.conditions
        ]


def yuan(fen: int) -> str:
    """Format an amount in fen as yuan with two decimals, e.g. 1000 -> "10.00 元"."""
    return f"{fen // 100}.{fen % 100:02d} 元"


def _numbered(items: Iterable[str]) -> list[str]:
    return [f"{i}. {text}" for i, text in enumerate(items, start=1)]


def _material_line(m: Material) -> str:
    facts = [FORM_ZH[m.form], f"{m.copies} 份", "必需" if m.required else "按情形提交"]
    if m.reusable:
        facts.append("可从个人空间调用")
    line = f"{m.name}（{'，'.join(facts)}）"
    if m.sample:
        line += f"；样例：{m.sample}"
    if m.note:
        line += f"；说明：{m.note}"
    return line


def rule_violations(m: Matter) -> list[tuple[str, str]]:
    """Return (field path, Chinese message) for every cross-field rule the matter breaks."""
    days, legal = m.committed_limit_days, m.legal_limit_days
    originals = any(mat.form == "original" for mat in m.materials)
    checks = [
        (
            days > legal,
            "committed_limit_days",
            f"承诺时限 {days} 个工作日超过了法定时限 {legal} 个工作日",
        ),
        (m.kind == "immediate" and days != 0, "committed_limit_days", "即办件的承诺时限必须为 0"),
        (m.kind == "promised" and days == 0, "committed_limit_days", "承诺件的承诺时限至少为 1"),
        (not m.fees and m.free_basis is None, "free_basis", "不收费事项必须写明不收费的依据"),
        (bool(m.fees) and m.free_basis is not None, "free_basis", "收费事项不应填写不收费依据"),
        (m.pay_before_review and not m.fees, "pay_before_review", "不收费事项不能审核前缴费"),
        (m.originals_required and not originals, "originals_required", "材料清单中没有原件材料"),
        (originals and not m.originals_required, "originals_required", "含原件材料时必须为 true"),
    ]
    out = [(field, message) for broken, field, message in checks if broken]
    out += [
        (f"materials[{i}].min_valid_days", "不检查有效期的材料不能要求剩余有效天数")
        for i, mat in enumerate(m.materials)
        if mat.min_valid_days and not mat.must_be_valid
    ]
    if m.eligibility is not None:
        if m.targets != ["citizen"]:
            out.append(("eligibility", "年龄条件按身份证号核对，只适用于仅面向自然人的事项"))
        out += [
            ("conditions", f"按身份证号核对的条件须以“{c}”写入申请条件，办事指南才会告诉申请人")
            for c in m.eligibility.conditions
            if not any(c in text for text in m.conditions)
        ]
    out += _duplicates("materials", ".id", [mat.id for mat in m.materials], "材料编号")
    out += _duplicates("fees", ".name", [fee.name for fee in m.fees], "收费项目")
    out += _duplicates("targets", "", list(m.targets), "服务对象")
    out += _duplicates("delivery", "", list(m.delivery), "送达方式")
    return out


def _duplicates(field: str, key: str, values: list[str], what: str) -> list[tuple[str, str]]:
    first: dict[str, int] = {}
    out: list[tuple[str, str]] = []
    for i, value in enumerate(values):
        if value in first:
            out.append((f"{field}[{i}]{key}", f"{what}“{value}”与 {field}[{first[value]}] 重复"))
        else:
            first[value] = i
    return out


@dataclass(frozen=True)
class CatalogProblem:
    """One thing wrong in a catalog file, located by file, matter code and field path."""

    file: str
    matter: str | None
    field: str
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.matter:
            parts.append(f"matter {self.matter}")
        if self.field:
            parts.append(self.field)
        return ": ".join([*parts, self.message])


class CatalogInvalid(ValidationFailed):
    """The catalog was rejected; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[CatalogProblem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"事项目录校验未通过，共 {len(self.problems)} 个问题：\n{lines}")


def parse_matter(data: Mapping[str, Any], *, source: str) -> Matter:
    """Validate one matter document from ``source``; raise CatalogInvalid listing every problem."""
    code = data.get("code") if isinstance(data, Mapping) else None
    label = code.strip() if isinstance(code, str) and code.strip() else None
    try:
        matter = Matter.model_validate(data, context={_DEFER_RULES: True})
    except ValidationError as exc:
        raise CatalogInvalid(
            [
                CatalogProblem(source, label, field_path(e["loc"]), zh_message(e))
                for e in exc.errors()
            ]
        ) from None
    broken = rule_violations(matter)
    if broken:
        raise CatalogInvalid([CatalogProblem(source, label, f, msg) for f, msg in broken])
    return matter


def validate_catalog(docs: list[tuple[str, dict[str, Any]]]) -> list[Matter]:
    """Validate every (source, document) pair; raise CatalogInvalid naming every problem found."""
    problems: list[CatalogProblem] = []
    matters: list[Matter] = []
    code_seen: dict[str, str] = {}
    dept_seen: dict[str, tuple[str, str]] = {}
    for source, data in docs:
        try:
            matter = parse_matter(data, source=source)
        except CatalogInvalid as exc:
            problems += exc.problems
            continue
        if matter.code in code_seen:
            problems.append(
                CatalogProblem(
                    source, matter.code, "code", f"事项编码与 {code_seen[matter.code]} 中的事项重复"
                )
            )
            continue
        code_seen[matter.code] = source
        name, first = dept_seen.setdefault(matter.department, (matter.department_name, source))
        if name != matter.department_name:
            problems.append(
                CatalogProblem(
                    source,
                    matter.code,
                    "department_name",
                    f"部门 {matter.department} 的名称与 {first} 中的“{name}”不一致",
                )
            )
        matters.append(matter)
    if problems:
        raise CatalogInvalid(problems)
    return matters


def field_path(loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into ``materials[2].copies``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


_ZH_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不是可识别的字段（请检查拼写）",
    "string_too_short": "不能为空",
    "string_type": "必须是文本",
    "int_type": "必须是整数（不能带小数）",
    "int_parsing": "必须是整数",
    "bool_type": "必须是 true 或 false",
    "list_type": "必须是列表",
    "model_type": "必须是键值对（映射）",
    "model_attributes_type": "必须是键值对（映射）",
    "dict_type": "必须是键值对（映射）",
    "greater_than_equal": "必须大于等于 {ge}",
    "less_than_equal": "必须小于等于 {le}",
    "too_short": "至少需要 {min_length} 项",
    "string_too_long": "不能超过 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确，应匹配 {pattern}",
    "literal_error": "必须是以下取值之一：{expected}",
    "value_error": "{error}",
}


def zh_message(error: ErrorDetails) -> str:
    """Say one pydantic error in Chinese for a catalog administrator."""
    template = _ZH_MESSAGES.get(error["type"])
    if template is None:
        return error["msg"]
    ctx = {k: str(v).replace(" or ", ", ") for k, v in error.get("ctx", {}).items()}
    try:
        return template.format(**ctx)
    except KeyError:
        return error["msg"]
