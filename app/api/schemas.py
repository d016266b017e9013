"""Request bodies of /api/v1, as pydantic models (also the OpenAPI components)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreateCase(_Body):
    matter_code: str = Field(min_length=1, max_length=64, description="事项编码")
    enterprise: str | None = Field(
        default=None,
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$",
        description="代哪家企业办理（统一社会信用代码）；须有该企业的有效授权",
    )


class Versioned(_Body):
    version: int | None = Field(
        default=None, description="调用方看到的办件版本号；已过期的版本会被拒绝（409）"
    )


class CorrectionIn(_Body):
    slot_id: str | None = Field(default=None, description="材料项；为空表示针对申请本身")
    defects: list[str] = Field(default_factory=list, description="问题代码，见 /api/v1/defects")
    remark: str = Field(default="", max_length=500)


class ReturnBody(Versioned):
    corrections: list[CorrectionIn] = Field(
        default_factory=list,
        max_length=50,
        description="预审员的补正要求；机器预审未解决的问题会自动并入同一份告知书",
    )
    dismiss_findings: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="不采纳机器预审意见的材料项（slot_id）",
    )


class RejectBody(Versioned):
    reason: str = Field(min_length=1, max_length=1000)
    basis: str = Field(min_length=1, max_length=500, description="法律依据")


class ExtendBody(Versioned):
    approved_by: str = Field(min_length=1, max_length=40, description="批准延期的本机关负责人")
    reason: str = Field(min_length=1, max_length=500, description="延期理由，将告知申请人")


class PauseBody(Versioned):
    kind: str = Field(description="听证、招标、拍卖、检验、检测、检疫、鉴定或专家评审")
    expected_days: int = Field(ge=1, le=365, description="预计所需天数，将书面告知申请人")


class ActionBody(Versioned):
    reason: str | None = Field(default=None, max_length=1000)


class CalendarOverride(_Body):
    workday: bool
    note: str = Field(min_length=1, max_length=200, description="依据，如国办发明电文号")


class YearConfirmation(_Body):
    note: str = Field(min_length=1, max_length=200, description="国务院办公厅放假安排通知的文号")


BODIES: list[type[BaseModel]] = [
    YearConfirmation,
    ExtendBody,
    PauseBody,
    CreateCase,
    Versioned,
    CorrectionIn,
    ReturnBody,
    RejectBody,
    ActionBody,
    CalendarOverride,
]
