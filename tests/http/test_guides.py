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
        # GB/T 36114's elements the guide lacked, and the hall where and when to go.
        for heading in ("数量限制", "咨询方式", "监督投诉", "救济途径", "办理地点和时间"):
            assert heading in page, (matter["name"], heading)
        assert "uri.amap.com" in page and "工作日" in page  # the demo hall: address and hours
        assert matter["name"] in page
    missing = await api.client.get("/guides/no-such-matter")
    assert missing.status == 404 and "未找到该事项" in await missing.text()
