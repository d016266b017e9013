"""An enterprise's agent through the API: a token opens only what a live authorisation allows."""

from __future__ import annotations

from app import keys
from app.services.accounts import DEMO_USCC, actor_for
from tests.http.conftest import Api


async def enterprise_matter(api: Api) -> str:
    _, body = await api.call("GET", "/matters?target=enterprise")
    return str(body["items"][0]["code"])


async def test_a_revoked_agents_token_opens_nothing_at_its_next_request(api: Api) -> None:
    code = await enterprise_matter(api)
    status, case = await api.call("POST", "/cases", "demo-agent", json={"matter_code": code})
    assert status == 201 and case["enterprise_uscc"] != DEMO_USCC  # masked in the API
    number = case["number"]
    status, mine = await api.call("GET", "/cases", "demo-agent")
    assert number in [c["number"] for c in mine["items"]]

    mandates = api.client.app[keys.MANDATES]
    store = api.client.app[keys.DOCUMENTS]
    rep = await actor_for(store, "demo-legal-rep", mandates.today())
    status, listed = await api.call("GET", "/cases", "demo-legal-rep")
    assert number in [c["number"] for c in listed["items"]]  # the firm's case, opened by 李四
    await mandates.revoke(rep, "demo-grant", reason="已离职")

    # The same token, unexpired: the authority is read at each request, never from the token.
    status, body = await api.call("GET", f"/cases/{number}", "demo-agent")
    assert status == 404
    status, mine = await api.call("GET", "/cases", "demo-agent")
    assert status == 200 and mine["items"] == []
    status, body = await api.call("POST", "/cases", "demo-agent", json={"matter_code": code})
    assert status == 403 and "企业" in body["error"]["message"]
    status, body = await api.call(
        "POST", f"/cases/{number}/actions/withdraw", "demo-agent", json={}
    )
    assert status == 404 and body["error"]["code"] == "not_found"
    case_doc = await store.get("cases", number)
    assert case_doc is not None and case_doc["state"] == "draft"  # nothing changed


async def test_a_stranger_who_types_a_companys_code_gets_no_case_of_it(api: Api) -> None:
    code = await enterprise_matter(api)
    status, case = await api.call("POST", "/cases", "demo-agent", json={"matter_code": code})
    assert status == 201
    status, body = await api.call(
        "POST", "/cases", "demo-citizen", json={"matter_code": code, "enterprise": DEMO_USCC}
    )
    assert status == 403 and "授权" in body["error"]["message"]
    status, _ = await api.call("GET", f"/cases/{case['number']}", "demo-citizen")
    assert status == 404
    status, body = await api.call(
        "POST", "/cases", "demo-citizen", json={"matter_code": code, "enterprise": "not-a-code"}
    )
    assert status == 422
