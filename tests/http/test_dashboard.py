"""The supervisor's dashboard: figures drawn as SVG, the CSV export, closing a follow-up."""

from __future__ import annotations

import csv
import io

from app import keys
from app.domain.actors import Actor, Role
from storage.outbox import outbox_message
from tests.conftest import Clock
from tests.http.conftest import Api, fill_and_submit, open_case
from tests.http.test_staff_pages import sign_in, token_of

CITIZEN = Actor("demo-citizen", Role.APPLICANT)


async def rejected_and_rated_badly(api: Api, clock: Clock) -> str:
    """A citizen's case, refused by its department the next day, then rated 不满意."""
    case = await fill_and_submit(api, await open_case(api))
    clock.advance(days=1)
    status, body = await api.call(
        "POST",
        f"/cases/{case['number']}/reject",
        f"reviewer-{case['department']}",
        json={"reason": "不符合条件", "basis": "《行政许可法》第三十八条"},
    )
    assert status == 200, body
    cases = api.client.app[keys.CASES]
    await cases.rate(CITIZEN, case["number"], "不满意", "窗口电话 13800138000 打不通", version=None)
    return str(case["number"])


async def test_a_supervisor_sees_counts_warnings_and_ratings_drawn_as_charts(
    api: Api, clock: Clock
) -> None:
    number = await rejected_and_rated_badly(api, clock)
    assert (await sign_in(api.client, "demo-supervisor")).headers["Location"] == "/staff/dashboard"
    page = await api.client.get("/staff/dashboard")
    html = await page.text()
    assert page.status == 200
    assert html.count("<svg") == 4  # states, departments, handling days, ratings
    assert 'role="img"' in html and "<title id=" in html and "<desc id=" in html
    assert "不予许可：1 件" in html  # the bar's text for screen readers
    assert "不满意：1 条" in html
    assert "作出决定 <b>1</b> 件" in html
    assert number in html and "138****8000" in html and "13800138000" not in html
    assert "cdn" not in html.lower() and "<script" not in html


async def test_staff_other_than_supervisors_are_refused_and_strangers_sent_to_sign_in(
    api: Api,
) -> None:
    away = await api.client.get("/staff/dashboard", allow_redirects=False)
    assert away.status == 302 and away.headers["Location"].startswith("/staff/login?next=")
    await sign_in(api.client, "reviewer-mz")
    for path in ("/staff/dashboard", "/staff/dashboard.csv"):
        refused = await api.client.get(path)
        assert refused.status == 403 and "仅供督办人员使用" in await refused.text()


async def test_the_csv_opens_in_excel_with_chinese_columns_and_one_row_per_case(
    api: Api, clock: Clock
) -> None:
    number = await rejected_and_rated_badly(api, clock)
    await open_case(api)  # a draft: not submitted, not exported
    await sign_in(api.client, "demo-supervisor")
    resp = await api.client.get("/staff/dashboard.csv")
    raw = await resp.read()
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [
        "办件号", "事项", "部门", "状态", "提交日期", "办结期限", "已用工作日", "预警", "评价"
    ]  # fmt: skip
    assert len(rows) == 2
    assert rows[1][0] == number and rows[1][3] == "不予许可" and rows[1][8] == "不满意"
    assert rows[1][6] == "1"  # refused on the next working day


async def test_closing_a_follow_up_needs_the_page_token_and_a_resolution(
    api: Api, clock: Clock
) -> None:
    number = await rejected_and_rated_badly(api, clock)
    await sign_in(api.client, "demo-supervisor")
    csrf = token_of(await (await api.client.get("/staff/dashboard")).text())
    close = f"/staff/dashboard/follow-ups/{number}/close"
    store = api.client.app[keys.DOCUMENTS]

    forged = await api.client.post(close, data={"csrf": "forged", "resolution": "已回访"})
    assert forged.status == 403
    empty = await api.client.post(close, data={"csrf": csrf, "resolution": "  "})
    assert empty.status == 422 and "请填写处理结果" in await empty.text()
    assert (await store.get("follow_ups", number))["closed_at"] is None

    resolution = "已电话回访，窗口已增设咨询专线"
    done = await api.client.post(
        close, data={"csrf": csrf, "resolution": resolution}, allow_redirects=False
    )
    assert done.status == 303 and done.headers["Location"] == "/staff/dashboard#follow-ups"
    closed = await store.get("follow_ups", number)
    assert (closed["closed_by"], closed["resolution"]) == ("demo-supervisor", resolution)
    assert number not in await (await api.client.get("/staff/dashboard")).text()


async def test_a_payment_job_that_gave_up_is_listed_and_sent_back_only_with_the_pages_token(
    api: Api, clock: Clock
) -> None:
    store = api.client.app[keys.DOCUMENTS]
    dead = outbox_message(
        topic="payment.refund", key="refund:X1", payload={"case": "BC1"}, now=clock()
    ) | {"status": "dead", "last_error": "GatewayRefused: ACQ.SELLER_BALANCE_NOT_ENOUGH"}
    async with store.transaction() as tx:
        await tx.insert("outbox", dead)
    await sign_in(api.client, "reviewer-mz")
    refused = await api.client.post("/staff/dashboard/payments/retry", data={"key": "refund:X1"})
    assert refused.status == 403
    await sign_in(api.client, "demo-supervisor")
    page = await (await api.client.get("/staff/dashboard")).text()
    assert "处理失败的支付任务" in page and "ACQ.SELLER_BALANCE_NOT_ENOUGH" in page

    retry = "/staff/dashboard/payments/retry"
    forged = await api.client.post(retry, data={"csrf": "forged", "key": "refund:X1"})
    assert forged.status == 403 and (await store.get("outbox", "refund:X1"))["status"] == "dead"
    done = await api.client.post(
        retry, data={"csrf": token_of(page), "key": "refund:X1"}, allow_redirects=False
    )
    assert done.status == 303
    assert (await store.get("outbox", "refund:X1"))["status"] in {"pending", "leased", "done"}


async def test_the_seeds_targets_stand_beside_each_departments_monthly_figures(
    api: Api, clock: Clock
) -> None:
    number = await rejected_and_rated_badly(api, clock)
    supervisor = Actor("demo-supervisor", Role.SUPERVISOR)
    [month] = await api.client.app[keys.SUPERVISION].targets(supervisor)
    case = await api.client.app[keys.CASES].get(supervisor, number)
    assert (month.department, month.cases) == (case.terms.department, 1)
    figures = {f.target.key: f for f in month.figures}
    assert figures["visits"].value == 1.0 and figures["visits"].met  # refused without a visit
    assert figures["finished"].value == 1.0
    assert figures["satisfied"].value == 0.0  # 不满意
    legal = await api.client.app[keys.CATALOG].get(case.terms.code)
    assert figures["time_used"].value == 1 / legal.legal_limit_days  # decided the next day

    await sign_in(api.client, "demo-supervisor")
    html = await (await api.client.get("/staff/dashboard")).text()
    assert "跑零次或跑一次<br><span class=\"small\">目标 ≥ 90%</span>" in html
    assert "用时占法定时限<br><span class=\"small\">目标 ≤ 50%</span>" in html
    assert month.month in html
