"""A matter's whole guide on its own page, for anyone: what the chat links to when the guide is
longer than one WeChat message."""

from __future__ import annotations

from tests.http.conftest import Api


async def test_the_guide_page_shows_every_element_of_the_guide_without_signing_in(api: Api) -> None:
    _, matters = await api.call("GET", "/matters")
    for matter in matters["items"]:
        resp = await api.client.get(f"/guides/{matter['code']}")
        assert resp.status == 200
        page = await resp.text()
        for heading in ("事项名称", "设定依据", "申请条件", "申请材料", "办理流程", "办理结果"):
            assert heading in page, (matter["name"], heading)
        assert matter["name"] in page
    missing = await api.client.get("/guides/no-such-matter")
    assert missing.status == 404 and "未找到该事项" in await missing.text()
