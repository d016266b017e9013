"""Only the reviewer deciding a case looks at its photos freely; a supervisor or administrator
states why, and the reason is kept with the look (PIPL: access to personal data is justified)."""

from __future__ import annotations

from app import keys
from tests.http.conftest import Api, citizen_matter, fill_and_submit, open_case


async def test_a_supervisor_or_administrator_looks_at_a_photo_only_with_a_reason(api: Api) -> None:
    case = await fill_and_submit(api, await open_case(api, code=await citizen_matter(api, "rs")))
    slot = next(m["slot_id"] for m in case["materials"] if m["required"])
    link = f"/cases/{case['number']}/materials/{slot}/link"
    store = api.client.app[keys.DOCUMENTS]
    for who in ("demo-admin", "demo-supervisor"):
        status, body = await api.call("GET", link, who)
        assert status == 422 and "原因" in body["error"]["message"], body
        status, body = await api.call("GET", link + "?reason=%20%20", who)
        assert status == 422  # blank is no reason
        status, body = await api.call("GET", link + "?reason=核查12345投诉", who)
        assert status == 200 and body["url"]
        looks = await store.find("audit", {"action": "material.view", "actor": who})
        assert [a["detail"].get("reason") for a in looks] == ["核查12345投诉"]
    status, _ = await api.call("GET", link, "reviewer-rs")  # deciding the case: no reason asked
    assert status == 200
