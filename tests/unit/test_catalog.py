"""The matter model and catalog validation: every problem is named by file, matter and field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.domain.catalog import (
    CatalogInvalid,
    CatalogProblem,
    Matter,
    parse_matter,
    validate_catalog,
)
from app.domain.errors import NotFoundError, ValidationFailed

CATALOG_DIR = Path(__file__).resolve().parents[2] / "app" / "catalog"
CODE = "11350100MB03175262-XK-09901"


def shipped() -> list[tuple[str, dict[str, Any]]]:
    files = sorted(CATALOG_DIR.glob("*.yaml"))
    return [(f"app/catalog/{f.name}", yaml.safe_load(f.read_text(encoding="utf-8"))) for f in files]


def material(slot: str, **changes: Any) -> dict[str, Any]:
    base = {
        "id": slot,
        "name": "居民身份证人像面",
        "form": "copy",
        "copies": 1,
        "required": True,
        "expected_kind": "id_card_front",
        "reusable": True,
    }
    return base | changes


def matter(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": CODE,
        "name": "测试事项",
        "category": "行政许可",
        "department": "scjg",
        "department_name": "市市场监督管理局",
        "legal_basis": ["《中华人民共和国行政许可法》第三十二条"],
        "conditions": ["申请人为依法登记的企业"],
        "targets": ["enterprise"],
        "materials": [material("id_front"), material("id_back", expected_kind="id_card_back")],
        "process": ["在线申请", "审核", "送达"],
        "legal_limit_days": 20,
        "committed_limit_days": 5,
        "kind": "promised",
        "fees": [],
        "free_basis": "依据《中华人民共和国行政许可法》第五十八条不收费",
        "originals_required": False,
        "result": "许可证",
        "delivery": ["courier"],
        "quantity_limit": "无数量限制",
        "consultation": ["12345 政务服务便民热线"],
        "complaints": ["12345 政务服务便民热线"],
        "remedies": {"review": "福州市人民政府", "court": "有管辖权的人民法院"},
    }
    return copy.deepcopy(base | changes)


def problems_of(
    data: dict[str, Any], source: str = "app/catalog/test.yaml"
) -> list[CatalogProblem]:
    with pytest.raises(CatalogInvalid) as caught:
        parse_matter(data, source=source)
    return caught.value.problems


def test_every_shipped_catalog_file_validates() -> None:
    matters = validate_catalog(shipped())

    assert len(matters) >= 6
    assert len({m.department for m in matters}) >= 4
    names = {m.name for m in matters}
    assert {"营业执照换发", "道路运输从业人员从业资格证换证", "食品经营许可证延续"} <= names
    assert "老年人优待证办理" in names


def test_the_shipped_catalog_has_a_paid_matter_and_every_fee_is_whole_fen() -> None:
    matters = validate_catalog(shipped())

    fees = [fee for m in matters for fee in m.fees]
    assert fees
    assert all(type(fee.amount_fen) is int and fee.amount_fen >= 1 for fee in fees)
    assert all(m.free_basis for m in matters if not m.fees)


def test_the_shipped_matters_the_brief_names_have_their_agreed_shape() -> None:
    by_name = {m.name: m for m in validate_catalog(shipped())}

    assert by_name["道路运输从业人员从业资格证换证"].originals_required
    assert by_name["老年人优待证办理"].kind == "immediate"
    assert by_name["营业执照换发"].targets == ["enterprise"]
    assert not by_name["食品经营许可证延续"].fees


BadInput = Callable[[dict[str, Any]], None]


def _set_copies(d: dict[str, Any]) -> None:
    d["materials"][1]["copies"] = -1


def _set_form(d: dict[str, Any]) -> None:
    d["materials"][0]["form"] = "scan"


def _dup_material(d: dict[str, Any]) -> None:
    d["materials"].append(material("id_front"))


@pytest.mark.parametrize(
    ("break_it", "field", "message"),
    [
        (_set_copies, "materials[1].copies", "必须大于等于 1"),
        (_set_form, "materials[0].form", "必须是以下取值之一"),
        (_dup_material, "materials[2].id", "重复"),
        (lambda d: d.update(committed_limit_days=30), "committed_limit_days", "超过了法定时限"),
        (lambda d: d.pop("free_basis"), "free_basis", "不收费的依据"),
        (lambda d: d.update(legal_basis=[]), "legal_basis", "至少需要 1 项"),
        (lambda d: d.pop("legal_basis"), "legal_basis", "缺少必填项"),
        (lambda d: d.update(kind="immediate"), "committed_limit_days", "即办件"),
        (lambda d: d.update(targets=["tourist"]), "targets[0]", "必须是以下取值之一"),
        (lambda d: d.update(colour="红"), "colour", "不是可识别的字段"),
    ],
)
def test_each_bad_input_is_reported_with_file_matter_and_field(
    break_it: BadInput, field: str, message: str
) -> None:
    data = matter()
    break_it(data)

    found = problems_of(data)

    assert [(p.file, p.matter, p.field) for p in found] == [("app/catalog/test.yaml", CODE, field)]
    assert message in found[0].message


def test_a_problem_reads_as_file_matter_field_and_chinese_message() -> None:
    data = matter()
    _set_copies(data)

    with pytest.raises(CatalogInvalid) as caught:
        parse_matter(data, source="app/catalog/foo.yaml")

    expected = f"app/catalog/foo.yaml: matter {CODE}: materials[1].copies: 必须大于等于 1"
    assert str(caught.value.problems[0]) == expected
    assert expected in str(caught.value)
    assert isinstance(caught.value, ValidationFailed)


def test_every_problem_in_one_matter_is_reported_not_just_the_first() -> None:
    data = matter(legal_basis=[], targets=[])
    _set_copies(data)
    _set_form(data)

    fields = {p.field for p in problems_of(data)}

    assert fields == {"legal_basis", "targets", "materials[1].copies", "materials[0].form"}


def test_every_cross_field_rule_a_matter_breaks_is_reported() -> None:
    data = matter(committed_limit_days=30, originals_required=True)
    data.pop("free_basis")
    _dup_material(data)

    fields = {p.field for p in problems_of(data)}

    assert fields == {"committed_limit_days", "free_basis", "originals_required", "materials[2].id"}


def test_problems_in_several_files_are_all_reported_together() -> None:
    bad_copies = matter(code="11350100MB03175262-XK-09902")
    _set_copies(bad_copies)
    no_basis = matter(code="11350100MB03175262-XK-09903")
    no_basis.pop("legal_basis")

    with pytest.raises(CatalogInvalid) as caught:
        validate_catalog([("a.yaml", bad_copies), ("b.yaml", matter()), ("c.yaml", no_basis)])

    assert [(p.file, p.field) for p in caught.value.problems] == [
        ("a.yaml", "materials[1].copies"),
        ("c.yaml", "legal_basis"),
    ]


def test_a_matter_code_used_in_two_files_is_rejected_naming_both() -> None:
    with pytest.raises(CatalogInvalid) as caught:
        validate_catalog([("a.yaml", matter()), ("b.yaml", matter(name="另一个事项"))])

    [problem] = caught.value.problems
    assert (problem.file, problem.matter, problem.field) == ("b.yaml", CODE, "code")
    assert "a.yaml" in problem.message


def test_one_department_id_must_carry_one_department_name_across_files() -> None:
    other = matter(code="11350100MB03175262-XK-09902", department_name="市工商局")

    with pytest.raises(CatalogInvalid) as caught:
        validate_catalog([("a.yaml", matter()), ("b.yaml", other)])

    assert [(p.file, p.field) for p in caught.value.problems] == [("b.yaml", "department_name")]


@pytest.mark.parametrize("amount", [10.5, 10.0, "1000", True])
def test_a_fee_amount_must_be_a_whole_number_of_fen(amount: object) -> None:
    fee = {"name": "工本费", "amount_fen": amount, "basis": "发改价格〔2004〕2831号"}
    data = matter(fees=[fee])
    data.pop("free_basis")

    assert [p.field for p in problems_of(data)] == ["fees[0].amount_fen"]


def test_a_matter_without_a_code_is_still_reported_by_file() -> None:
    data = matter()
    data.pop("code")

    [problem] = problems_of(data, source="x.yaml")

    assert (problem.file, problem.matter, problem.field) == ("x.yaml", None, "code")
    assert str(problem) == "x.yaml: code: 缺少必填项"


def test_building_a_matter_directly_enforces_the_cross_field_rules_too() -> None:
    with pytest.raises(ValueError, match="committed_limit_days"):
        Matter.model_validate(matter(committed_limit_days=30))


def test_a_paid_matter_totals_its_fees_in_fen() -> None:
    fees = [
        {"name": "工本费", "amount_fen": 1000, "basis": "发改价格〔2004〕2831号"},
        {"name": "邮寄费", "amount_fen": 1250, "basis": "示例依据"},
    ]
    data = matter(fees=fees)
    data.pop("free_basis")

    assert parse_matter(data, source="x.yaml").total_fee_fen == 2250


def test_a_free_matter_may_not_be_set_to_pay_before_review() -> None:
    [problem] = problems_of(matter(pay_before_review=True))

    assert problem.field == "pay_before_review"


def test_required_materials_and_slot_lookup() -> None:
    data = matter()
    data["materials"].append(material("proxy", required=False, expected_kind="form"))
    m = parse_matter(data, source="x.yaml")

    assert [s.id for s in m.required_materials] == ["id_front", "id_back"]
    assert m.material("proxy").required is False
    with pytest.raises(NotFoundError, match="没有“passport”这项材料"):
        m.material("passport")


def test_the_service_guide_states_every_gbt_36114_element_in_chinese() -> None:
    by_name = {m.name: m for m in validate_catalog(shipped())}
    guide = by_name["机动车驾驶证有效期满换证"].guide_text()

    for heading in ("事项名称", "事项编码", "设定依据", "申请条件", "申请材料", "办理流程"):
        assert f"【{heading}】" in guide
    for heading in ("办理时限", "收费标准", "服务对象"):
        assert f"【{heading}】" in guide
    for heading in ("数量限制", "咨询方式", "监督投诉", "救济途径"):
        assert f"【{heading}】" in guide
    assert "10.00 元" in guide
    assert "承诺办结时限 1 个工作日" in guide
    # 行政复议法 Art. 20 (sixty days) and 行政诉讼法 Art. 46 (six months), with where to go.
    assert "六十日内向福州市人民政府申请行政复议" in guide
    assert "六个月内向市公安局所在地有管辖权的人民法院提起行政诉讼" in guide


@pytest.mark.parametrize("element", ["consultation", "complaints", "remedies", "quantity_limit"])
def test_a_matter_without_a_gbt_36114_guide_element_is_refused(element: str) -> None:
    data = matter()
    del data[element]
    assert [(p.field, p.message) for p in problems_of(data)] == [(element, "缺少必填项")]


def test_the_guide_of_a_free_immediate_matter_says_free_and_same_day() -> None:
    by_name = {m.name: m for m in validate_catalog(shipped())}
    guide = by_name["老年人优待证办理"].guide_text()

    assert "不收费（" in guide
    assert "即办件" in guide
