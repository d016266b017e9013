"""Access audit of staff views (PIPL) and the administrator's working-day overrides."""

from __future__ import annotations

from datetime import date

from app import keys
from app.services.audit import audit_trail
from tests.http.conftest import Api, fill_and_submit, open_case


async def test_a_reviewer_viewing_a_case_is_recorded_but_the_applicant_is_not(api: Api) -> None:
    case = await fill_and_submit(api, await open_case(api))
    number = case["number"]
    store = api.client.app[keys.DOCUMENTS]
    await api.call("GET", f"/cases/{number}", "demo-citizen")
    assert await audit_trail(store, f"case:{number}") == []
    status, _ = await api.call("GET", f"/cases/{number}", f"reviewer-{case['department']}")
    assert status == 200
    trail = await audit_trail(store, f"case:{number}")
    assert [(r["action"], r["actor"]) for r in trail] == [
        ("case.view", f"reviewer-{case['department']}")
    ]


async def test_an_administrator_enters_next_years_schedule_and_deadlines_follow(api: Api) -> None:
    _, years = await api.call("GET", "/calendar/years", "demo-admin")
    assert {y["year"]: y["status"] for y in years["items"]}[2027] == "provisional"
    # Until the State Council's schedule is entered, 2027 is the law's festivals: 9 February
    # is a 补假 day for the Spring Festival weekend, and Saturday 20 February is off.
    calendar = await api.client.app[keys.CALENDAR].calendar()
    assert not calendar.is_workday(date(2027, 2, 9))
    status, body = await api.call(
        "PUT",
        "/calendar/overrides/2027-02-20",
        "demo-admin",
        json={"workday": True, "note": "国办发明电〔2026〕X号 调休上班"},
    )
    assert status == 200, body
    assert body["workday"] is True
    status, listed = await api.call("GET", "/calendar/overrides?year=2027", "demo-admin")
    assert [d["_id"] for d in listed["items"]] == ["2027-02-20"]
    status, body = await api.call(
        "PUT", "/calendar/years/2027", "demo-admin", json={"note": "国办发明电〔2026〕X号"}
    )
    assert status == 200, body
    _, years = await api.call("GET", "/calendar/years", "demo-admin")
    assert {y["year"]: y["status"] for y in years["items"]}[2027] == "confirmed"
    calendar = await api.client.app[keys.CALENDAR].calendar()
    assert calendar.is_workday(date(2027, 2, 20))  # the entered working Saturday
    assert calendar.is_workday(date(2027, 2, 9))  # the law's guess gives way to the schedule
    trail = await audit_trail(api.client.app[keys.DOCUMENTS], "calendar:2027-02-20")
    assert trail[0]["actor"] == "demo-admin"
    trail = await audit_trail(api.client.app[keys.DOCUMENTS], "calendar:2027")
    assert trail[0]["action"] == "calendar.confirm"


async def test_a_year_with_nothing_entered_cannot_be_confirmed(api: Api) -> None:
    status, body = await api.call(
        "PUT", "/calendar/years/2027", "demo-admin", json={"note": "国办发明电〔2026〕X号"}
    )
    assert status == 422
    assert "逐日录入" in body["error"]["message"]
    status, body = await api.call(
        "PUT", "/calendar/years/2027", "reviewer-scjg", json={"note": "x"}
    )
    assert status == 403


async def test_only_an_administrator_may_change_the_calendar(api: Api) -> None:
    status, _ = await api.call(
        "PUT",
        "/calendar/overrides/2027-01-04",
        "reviewer-scjg",
        json={"workday": False, "note": "x"},
    )
    assert status == 403
    _, listed = await api.call("GET", "/calendar/overrides?year=2027", "demo-admin")
    assert listed["items"] == []


async def test_a_bad_date_is_422_and_changes_nothing(api: Api) -> None:
    status, body = await api.call(
        "PUT", "/calendar/overrides/2027-13-01", "demo-admin", json={"workday": True, "note": "x"}
    )
    assert status == 422
    assert "YYYY-MM-DD" in body["error"]["message"]
