"""The administrator's page: a hall's rules changed from the phone, a paused applicant let back
in, a day of the calendar adjusted; bad input told in Chinese and nothing changed."""

from __future__ import annotations

from datetime import date

from aiohttp.test_utils import TestClient

from app import keys
from tests.http.chat_world import World
from tests.http.test_staff_pages import sign_in, token_of


async def _post(http: TestClient, path: str, **form: str) -> tuple[int, str]:
    page = await (await http.get("/staff/admin")).text()
    resp = await http.post(path, data={"csrf": token_of(page), **form})
    return resp.status, await resp.text()


async def test_an_administrator_changes_a_halls_rules_on_the_phone(plain_world: World) -> None:
    http = plain_world.client
    signed = await sign_in(http, "demo-admin")
    assert signed.headers["Location"] == "/staff/admin"
    page = await (await http.get("/staff/admin")).text()
    assert "市民政局" in page and "每个半小时 4 人" in page and "30 天内未到 3 次" in page

    status, page = await _post(
        http, "/staff/admin/hall/mz",
        capacity="6", slots="11:30=2 16:30=0", no_show_limit="2", close="2026-12-31",
    )  # fmt: skip
    assert status == 200 and "大厅规则已保存" in page
    assert "每个半小时 6 人（11:30 2 人、16:30 0 人）" in page
    assert "30 天内未到 2 次" in page and "闭厅日：2026-12-31" in page
    hall = http.app[keys.APPOINTMENTS]
    assert (await hall.rules("mz")).capacity == 6

    for bad, told in (
        ({"capacity": "六"}, "“六”不是数字"),
        ({"capacity": "9", "slots": "12:00=2"}, "12:00 不是大厅的半小时时段起点"),
        ({"close": "2026/12/30"}, "请按 2026-12-31 的格式填写"),
        ({"restrict_days": "400"}, "1 到 365 之间"),
    ):
        status, page = await _post(http, "/staff/admin/hall/mz", **bad)
        assert status == 422 and told in page, (bad, page)
        assert 'id="hall-mz" open' in page  # the form with the problem stays open
    assert (await hall.rules("mz")).capacity == 6  # nothing of a refused form was saved
    status, page = await _post(http, "/staff/admin/hall/mzz", capacity="3")
    assert status == 422 and "没有部门代码为 mzz 的事项" in page
    audit = await http.app[keys.DOCUMENTS].find("audit", {"action": "hall.rules"})
    assert [(a["actor"], a["subject"]) for a in audit] == [("demo-admin", "hall:mz")]


async def test_a_paused_applicant_is_listed_and_let_back_in(plain_world: World) -> None:
    http = plain_world.client
    store = http.app[keys.DOCUMENTS]
    [matter] = await store.find("matters", {"department": "mz"})
    async with store.transaction() as tx:
        await tx.insert("users", {"_id": "wx-late", "role": "applicant", "name": "王五"})
        for n in range(3):
            await tx.insert("bookings", {
                "_id": f"miss{n}", "person": "wx-late", "matter_code": matter["_id"],
                "department": "mz", "day": f"2026-10-2{n + 7}", "slot": "09:00",
                "created_at": "2026-10-20T00:00:00+00:00", "case_number": None,
                "state": "no_show", "queue_number": None, "history": [],
            })  # fmt: skip
    await sign_in(http, "demo-admin")
    page = await (await http.get("/staff/admin")).text()
    paused = page.split('id="restrictions"')[1].split("</section>")[0]
    assert "王五" in paused and "市民政局" in paused and "前不能在线预约" in paused

    status, page = await _post(http, "/staff/admin/restrictions/wx-late/lift")
    assert status == 200 and "已解除限制" in page and "王五" not in page
    assert await http.app[keys.APPOINTMENTS].admin.restrictions() == []
    status, page = await _post(http, "/staff/admin/restrictions/wx-nobody/lift")
    assert status == 404 and "没有名为 wx-nobody 的账号" in page


async def test_a_day_of_the_calendar_is_adjusted_with_its_basis(plain_world: World) -> None:
    http = plain_world.client
    await sign_in(http, "demo-admin")
    status, page = await _post(http, "/staff/admin/calendar", day="2027-01-04", workday="off")
    assert status == 422 and "请说明调整依据" in page
    status, page = await _post(
        http, "/staff/admin/calendar", day="2027-01-04", workday="off", note="国办发明电〔2026〕9号"
    )
    assert status == 200 and "工作日历已调整" in page
    assert "2027-01-04 放假" in page and "国办发明电〔2026〕9号" in page
    calendar = await http.app[keys.CALENDAR].calendar()
    assert not calendar.is_workday(date(2027, 1, 4))


async def test_a_provisional_year_is_flagged_until_the_administrator_confirms_it(
    plain_world: World,
) -> None:
    http = plain_world.client
    await sign_in(http, "demo-supervisor")
    board = await (await http.get("/staff/dashboard")).text()
    assert "2027 年工作日历为暂定" in board
    await sign_in(http, "demo-admin")
    page = await (await http.get("/staff/admin")).text()
    assert "2027 年工作日历为暂定" in page and 'id="confirm-year"' in page
    status, page = await _post(http, "/staff/admin/calendar/confirm", year="2027", note="x号")
    assert status == 422 and "请先按国务院办公厅的放假安排逐日录入" in page
    await _post(
        http,
        "/staff/admin/calendar",
        day="2027-02-20",
        workday="work",
        note="国办发明电〔2026〕9号",
    )
    status, page = await _post(
        http, "/staff/admin/calendar/confirm", year="2027", note="国办发明电〔2026〕9号"
    )
    assert status == 200 and "该年放假安排已确认" in page
    assert "2027 年工作日历为暂定" not in page
    await sign_in(http, "demo-supervisor")
    board = await (await http.get("/staff/dashboard")).text()
    assert "工作日历为暂定" not in board


async def test_only_administrators_open_the_page_and_forms_need_its_token(
    plain_world: World,
) -> None:
    http = plain_world.client
    assert (await http.get("/staff/admin", allow_redirects=False)).status == 302  # sign in first
    await sign_in(http, "reviewer-mz")
    refused = await http.get("/staff/admin")
    assert refused.status == 403 and "仅供系统管理员" in await refused.text()
    assert (await http.post("/staff/admin/hall/mz", data={"capacity": "99"})).status == 403
    await sign_in(http, "demo-admin")
    forged = await http.post("/staff/admin/hall/mz", data={"csrf": "0" * 32, "capacity": "99"})
    assert forged.status == 403
    assert (await http.app[keys.APPOINTMENTS].rules("mz")).capacity == 4
