"""The API's view of a case's fee: items with their basis, attempts and ledger, owner only."""

from __future__ import annotations

from yarl import URL

from tests.http.conftest import Api, fill_and_submit, open_case

LICENCE = "驾驶证"  # the demo's paid matter, paid before review


async def licence_case(api: Api) -> str:
    _, body = await api.call("GET", "/matters?target=citizen")
    code = next(m["code"] for m in body["items"] if LICENCE in m["name"])
    case = await fill_and_submit(api, await open_case(api, code=code))
    assert case["state"] == "awaiting_payment"
    return case["number"]


async def test_the_owner_sees_what_is_due_and_gets_a_cashier_url_for_the_catalog_amount(
    api: Api,
) -> None:
    number = await licence_case(api)
    status, due = await api.call("GET", f"/cases/{number}/payments", "demo-citizen")
    assert status == 200 and due["due"] and due["fee_fen"] == 1000
    [fee] = due["fees"]
    assert fee["name"] == "机动车驾驶证工本费" and "发改价格" in fee["basis"]

    status, started = await api.call(
        "POST", f"/cases/{number}/payments", "demo-citizen", json={"amount_fen": 1}
    )
    assert status == 201 and started["amount_fen"] == 1000  # the client never sets the amount
    cashier = URL(started["cashier_url"])
    assert cashier.query["method"] == "alipay.trade.wap.pay"
    assert '"total_amount":"10.00"' in cashier.query["biz_content"].replace(" ", "")
    _, seen = await api.call("GET", f"/cases/{number}/payments", "demo-citizen")
    assert [o["out_trade_no"] for o in seen["orders"]] == [started["out_trade_no"]]
    assert seen["paid_fen"] == 0 and seen["refunded_fen"] == 0


async def test_nobody_else_sees_or_starts_a_payment_and_a_free_case_has_nothing_due(
    api: Api,
) -> None:
    number = await licence_case(api)
    for who in ("demo-agent", "reviewer-mz"):
        status, body = await api.call("GET", f"/cases/{number}/payments", who)
        assert status == 404, body
        status, body = await api.call("POST", f"/cases/{number}/payments", who)
        assert status in {403, 404}, body
    status, _ = await api.call("GET", f"/cases/{number}/payments", "reviewer-ga")
    assert status == 200  # the department sees what was paid for its case

    free = await open_case(api)
    status, body = await api.call("POST", f"/cases/{free['number']}/payments", "demo-citizen")
    assert status == 409 and "无需缴费" in body["error"]["message"]
