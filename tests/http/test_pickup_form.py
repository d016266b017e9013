"""The pickup form: filled in with what the service knows of the signed-in person (and nobody
else's), province, city and district as lists, and every problem named at once in Chinese
beside its field, by the server, with what was typed kept."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from app import keys
from app.domain.actors import Actor, Role
from app.services.sessions import Use
from tests.http.conftest import Api, fill_and_submit, open_case
from tests.http.courier_world import ADDRESS, Courier, applicant_phone, courier_world, csrf_of


@pytest.fixture
async def world(api: Api) -> AsyncIterator[Courier]:
    world = await courier_world(api)
    yield world
    for phone in (world.applicant, world.courier, world.counter):
        await phone.close()


def value_of(html: str, field: str) -> str:
    """What an input shows, or the option a select has chosen ("" for none)."""
    found = re.search(rf'<input id="f-{field}" name="{field}" value="([^"]*)"', html)
    if found:
        return found[1]
    select = re.search(rf'<select id="f-{field}".*?</select>', html, re.S)
    assert select, f"no field {field}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select[0])
    return chosen[1] if chosen else ""


def options(html: str, field: str) -> list[str]:
    select = re.search(rf'<select id="f-{field}".*?</select>', html, re.S)
    assert select, f"{field} is not a list"
    return [v for v in re.findall(r'<option value="([^"]*)"', select[0]) if v]


def beside(html: str, field: str) -> str:
    """The message shown next to a field ("" when there is none)."""
    found = re.search(rf'<span class="field-error" id="err-{field}">([^<]*)</span>', html)
    return found[1] if found else ""


async def post(world: Courier, number: str, **fields: str) -> tuple[int, str]:
    page = await (await world.applicant.get(f"/h5/cases/{number}/pickup")).text()
    form = {"csrf": csrf_of(page), "window": options(page, "window")[0], **fields}
    resp = await world.applicant.post(
        f"/h5/cases/{number}/pickup", data=form, allow_redirects=False
    )
    return resp.status, await resp.text()


async def test_the_form_starts_with_the_applicants_own_name_then_their_last_address(
    world: Courier,
) -> None:
    first = await world.approved_case()
    html = await (await world.applicant.get(f"/h5/cases/{first}/pickup")).text()
    assert "novalidate" in html  # no browser bubbles: the server's messages
    assert value_of(html, "name") == "张三"  # as verified at binding
    assert value_of(html, "mobile") == ""  # not known yet
    assert "福建省" in options(html, "province") and "请先选择省份" in html
    assert (await world.book_pickup(first)).status == 303

    second = await world.approved_case()
    html = await (await world.applicant.get(f"/h5/cases/{second}/pickup")).text()
    assert value_of(html, "mobile") == ADDRESS["mobile"]  # the number given last time
    place = [value_of(html, f) for f in ("province", "city", "district")]
    assert place == ["福建省", "福州市", "鼓楼区"]
    assert "厦门市" in options(html, "city") and "仓山区" in options(html, "district")


async def test_another_person_never_sees_the_applicants_name_or_number(world: Courier) -> None:
    number = await world.approved_case()
    assert (await world.book_pickup(number)).status == 303
    _, matters = await world.api.call("GET", "/matters?target=enterprise")
    code = next(m["code"] for m in matters["items"] if "营业执照" in m["name"])
    case = await fill_and_submit(
        world.api, await open_case(world.api, "demo-agent", code), "demo-agent"
    )
    status, case = await world.api.call(
        "POST", f"/cases/{case['number']}/approve", "reviewer-scjg",
        json={"version": case["version"]},
    )  # fmt: skip
    assert status == 200 and case["state"] == "awaiting_pickup", case
    agent = Actor("demo-agent", Role.APPLICANT)
    token = world.client.app[keys.TOKENS].issue(agent, use=Use.H5)
    async with applicant_phone(str(world.client.make_url("/")), token) as phone:
        own = await (await phone.get(f"/h5/cases/{case['number']}/pickup")).text()
        assert value_of(own, "name") == "李四" and value_of(own, "mobile") == ""
        other = await phone.get(f"/h5/cases/{number}/pickup")
        text = await other.text()
        assert other.status == 404 and "张三" not in text and ADDRESS["mobile"] not in text


async def test_every_problem_is_named_at_once_beside_its_field_and_what_was_typed_stays(
    world: Courier,
) -> None:
    number = await world.approved_case()
    typed = {
        "name": "张三",
        "mobile": "1381234",
        "province": "福建省",
        "city": "广州市",  # not in 福建省
        "district": "",
        "detail": "12号",  # too short
    }
    status, html = await post(world, number, **typed)
    assert status == 422 and "请修改以下 4 处后再提交" in html
    assert beside(html, "mobile") == "请填写正确的 11 位手机号码"
    assert beside(html, "city") == "请从列表中选择福建省的城市"
    assert beside(html, "district") == "请填写区县"
    assert beside(html, "detail") == "详细地址应为 5 到 120 个字"
    assert beside(html, "name") == "" and beside(html, "province") == ""
    summary = re.findall(r'<li><a href="#f-(\w+)">', html)
    assert summary == ["mobile", "city", "district", "detail"]  # in the form's order
    assert value_of(html, "mobile") == "1381234" and value_of(html, "detail") == "12号"
    assert value_of(html, "province") == "福建省"
    assert "福州市" in options(html, "city")  # the right province's cities, to choose again
    assert 'aria-invalid="true" aria-describedby="err-mobile"' in html
    assert await world.leg(number) is None  # nothing booked

    status, html = await post(world, number, **(typed | {"name": "", "province": ""}))
    assert status == 422 and "请修改以下 5 处后再提交" in html
    assert beside(html, "name") == "请填写收件人姓名"
    assert beside(html, "province") == "请选择省份（省、自治区、直辖市）"


async def test_the_lists_come_from_the_divisions_and_the_server_holds_to_them(
    world: Courier,
) -> None:
    listed = await (await world.applicant.get("/h5/divisions?province=福建省")).json()
    fuzhou = next(c for c in listed["cities"] if c["name"] == "福州市")
    assert len(listed["cities"]) == 9 and "鼓楼区" in fuzhou["districts"]
    beijing = await (await world.applicant.get("/h5/divisions?province=北京市")).json()
    assert [c["name"] for c in beijing["cities"]] == ["北京市"]  # a municipality is its city
    hong_kong = await (await world.applicant.get("/h5/divisions?province=香港特别行政区")).json()
    assert hong_kong["cities"] == []  # typed in

    number = await world.approved_case()
    status, html = await post(world, number, **(ADDRESS | {"district": "天河区"}))
    assert status == 422 and beside(html, "district") == "请从列表中选择福州市的区县"
    place = {"province": "北京市", "city": "北京市", "district": "朝阳区"}
    status, _ = await post(world, number, **(ADDRESS | place))
    assert status == 303
    leg = await world.leg(number)
    assert leg is not None and leg.address.full().startswith("北京市北京市朝阳区")


async def test_where_the_lists_have_no_districts_the_district_is_typed(world: Courier) -> None:
    number = await world.approved_case()
    place = {"province": "广东省", "city": "东莞市", "district": "南城街道", "detail": "x"}
    status, html = await post(world, number, **(ADDRESS | place))
    assert status == 422  # the short street address only
    assert '<input id="f-district" name="district" value="南城街道"' in html
    assert beside(html, "district") == "" and beside(html, "detail")
    status, _ = await post(world, number, **(ADDRESS | place | {"detail": "鸿福路 88 号"}))
    assert status == 303
