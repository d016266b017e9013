"""The staff pages' navigation bar: each member sees the pages their role opens (签到叫号
included), every link in it opens, and the page they are on is marked."""

from __future__ import annotations

import re

from tests.http.conftest import Api, fill_and_submit, open_case
from tests.http.test_staff_pages import sign_in

BARS = {
    "reviewer-mz": ["待办队列", "签到叫号", "窗口交接", "代办审核"],
    "demo-supervisor": ["电子监察"],
    "demo-admin": ["代办审核", "系统管理"],
}
PAGE_LINK = r'href="(/staff/(?:queue|checkin|handover|mandates|dashboard|admin))"'


def bar(page: str) -> list[tuple[str, str, bool]]:
    """(link, name, marked current) of each entry in the page's navigation bar."""
    nav = re.search(r'<nav class="staff-nav"[^>]*>(.*?)</nav>', page, re.S)
    assert nav, "the page has no navigation bar"
    links = re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav[1])
    return [(href, name, bool(current)) for href, current, name in links]


async def test_each_role_sees_the_pages_it_may_open_and_each_opens_marked_as_current(
    api: Api,
) -> None:
    http = api.client
    for username, names in BARS.items():
        http.session.cookie_jar.clear()
        assert (await sign_in(http, username)).status == 303
        home = await http.get("/staff/")
        entries = bar(await home.text())
        assert [name for _, name, _ in entries] == names, username
        for href, name, _ in entries:
            resp = await http.get(href, allow_redirects=False)
            assert resp.status == 200, (username, href, resp.status)
            page = await resp.text()
            marked = [n for _, n, current in bar(page) if current]
            assert marked == [name], (username, href)
            # Nor does any other link on the page lead to one of these pages the role may not open.
            assert set(re.findall(PAGE_LINK, page)) <= {h for h, _, _ in entries}, (username, href)


async def test_a_supervisor_on_a_case_is_led_back_to_the_dashboard_never_to_the_queue(
    api: Api,
) -> None:
    case = await fill_and_submit(api, await open_case(api))
    await sign_in(api.client, "demo-supervisor")
    page = await (await api.client.get(f"/staff/cases/{case['number']}")).text()
    assert bar(page) == [("/staff/dashboard", "电子监察", False)]
    assert 'href="/staff/queue"' not in page  # a page a supervisor may not open
