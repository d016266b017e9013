"""The reviewer's case page: it offers only what the case's state allows, says at the top what
each action did, and 返回修改 on the notice preview brings the form back as it was left."""

from __future__ import annotations

import html
import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from app.domain.notices import defects_for
from tests.http.conftest import Api, fill_and_submit, open_case
from tests.http.courier_world import eventually
from tests.http.test_staff_pages import sign_in

DECISIONS = ("preview", "approve", "reject", "issue")


async def _submitted(api: Api) -> str:
    """A submitted 居住证首次申领 case (no fee, no originals), its photos judged, its
    department's reviewer signed in."""
    _, matters = await api.call("GET", "/matters?target=citizen")
    [code] = [m["code"] for m in matters["items"] if m["name"] == "居住证首次申领"]
    case = await fill_and_submit(api, await open_case(api, code=code))
    assert (await sign_in(api.client, "reviewer-ga")).status == 303
    number = str(case["number"])

    async def judged() -> bool:
        return "机器预审中" not in await (await api.client.get(f"/staff/cases/{number}")).text()

    await eventually(judged)
    return number


def _form(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form on ``page`` that posts to ``action``."""
    found = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert found, f"the page offers no form for {action}"
    return _hidden(found[0])


def _hidden(markup: str) -> dict[str, str]:
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', markup)
    return {html.unescape(k): html.unescape(v) for k, v in pairs}


def _offered(page: str, number: str) -> set[str]:
    """The decisions the page offers, by the form each posts to."""
    return {d for d in DECISIONS if f'action="/staff/cases/{number}/{d}"' in page}


def _ticked(page: str) -> set[str]:
    return set(re.findall(r'<input type="checkbox" name="([^"]+)" value="1" checked>', page))


def _notice(preview: str) -> str:
    """The notice text the preview shows, as the applicant would read it."""
    found = re.search(r'<p class="pre">(.*?)</p>', preview, re.S)
    assert found, "the preview shows no notice"
    return html.unescape(found[1])


def _remark(page: str, slot: str) -> str:
    found = re.search(rf'<textarea name="remark:{slot}"[^>]*>([^<]*)</textarea>', page)
    assert found, slot
    return html.unescape(found[1])


async def _act(
    http: TestClient[web.Request, web.Application], number: str, decision: str, form: dict[str, str]
) -> str:
    """Post a decision as the page's form would, follow the redirect, return the page."""
    resp = await http.post(f"/staff/cases/{number}/{decision}", data=form, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    location = resp.headers["Location"]
    assert location.startswith(f"/staff/cases/{number}?done=")
    return await (await http.get(location)).text()


async def test_after_approval_the_page_offers_only_issuing_and_says_what_happened(
    api: Api,
) -> None:
    http = api.client
    number = await _submitted(api)
    page = await (await http.get(f"/staff/cases/{number}")).text()
    assert _offered(page, number) == {"preview", "approve", "reject"}

    page = await _act(http, number, "approve", _form(page, f"/staff/cases/{number}/approve"))
    assert "已预审通过，已通知申请人。" in page
    assert _offered(page, number) == {"issue"}  # no 预审通过, 补正 or 不予许可 to tap into a 409
    assert "需要补正的问题" not in page

    page = await _act(http, number, "issue", _form(page, f"/staff/cases/{number}/issue"))
    assert "已出证，电子证照生成后存入申请人的个人空间，并通知申请人。" in page
    assert _offered(page, number) == set()
    assert "暂时没有需要您办理的操作" in page


async def test_a_correction_notice_sent_says_how_many_items_the_applicant_was_told(
    api: Api,
) -> None:
    http = api.client
    number = await _submitted(api)
    page = await (await http.get(f"/staff/cases/{number}")).text()
    form = _form(page, f"/staff/cases/{number}/preview") | {
        "defect:photo:blurry": "1",
        "remark:": "请补充户口簿首页",
    }
    preview = await (await http.post(f"/staff/cases/{number}/preview", data=form)).text()
    told = re.findall(r"^\d+\. ", _notice(preview), re.M)
    assert len(told) >= 2  # the photo and the case-level item, and any open machine findings

    page = await _act(http, number, "return", form)
    assert f"已一次性告知申请人补正，共 {len(told)} 项。" in page
    assert _offered(page, number) == set()  # now the applicant's turn
    assert "待补正" in page and "暂时没有需要您办理的操作" in page


async def test_a_refusal_is_reported_and_ends_every_offer(api: Api) -> None:
    http = api.client
    number = await _submitted(api)
    page = await (await http.get(f"/staff/cases/{number}")).text()
    form = _form(page, f"/staff/cases/{number}/reject") | {
        "reason": "申请人在本市无合法稳定住所",
        "basis": "《居住证暂行条例》第九条",
    }
    page = await _act(http, number, "reject", form)
    assert "已作出不予许可决定，已通知申请人。" in page
    assert _offered(page, number) == set()


async def test_the_banner_says_only_fixed_sentences_that_are_true_of_the_case(api: Api) -> None:
    http = api.client
    number = await _submitted(api)
    made_up = await (await http.get(f"/staff/cases/{number}?done=%3Cb%3E已办结%3C/b%3E")).text()
    assert 'role="status"' not in made_up and "已办结</b>" not in made_up
    stale = await (await http.get(f"/staff/cases/{number}?done=approved")).text()
    assert "已预审通过" not in stale  # not approved: a link cannot say it was
    returned = await (await http.get(f"/staff/cases/{number}?done=returned")).text()
    assert "已一次性告知" not in returned


async def test_back_from_the_preview_shows_every_tick_and_remark_as_the_reviewer_left_them(
    api: Api,
) -> None:
    http = api.client
    number = await _submitted(api)
    page = await (await http.get(f"/staff/cases/{number}")).text()
    fitting, rest = defects_for("photo")
    ticks = {
        f"defect:photo:{fitting[0]}",
        f"defect:photo:{rest[0]}",  # one under 其他问题
        "defect:id_card_back:blurry",
        "dismiss:id_card_front",
    }
    remarks = {"photo": "请上传白底证件照 <近期>", "": "请补充户口簿首页"}
    form = _form(page, f"/staff/cases/{number}/preview") | dict.fromkeys(ticks, "1")
    form |= {f"remark:{slot}": text for slot, text in remarks.items()}
    preview = await (await http.post(f"/staff/cases/{number}/preview", data=form)).text()
    notice = _notice(preview)
    assert "请上传白底证件照" in notice

    # 返回修改 posts the preview's draft back (the browser sends the form's fields to its
    # formaction); the case page shows it again, exactly.
    back = re.search(r'formaction="([^"]+)">返回修改</button>', preview)
    assert back
    page = await (await http.post(back[1], data=_hidden(preview))).text()
    assert _ticked(page) == ticks
    assert _remark(page, "photo") == remarks["photo"] and _remark(page, "") == remarks[""]
    assert _remark(page, "id_card_front") == ""
    assert re.search(r'<details class="more-defects" open>', page)  # the 其他问题 tick shows
    again = _form(page, f"/staff/cases/{number}/preview")
    assert again["version"] == form["version"]
    assert not any(k.startswith(("defect:", "remark:", "dismiss:")) for k in again)  # not hidden

    # Previewing again from the restored page gives the very same notice.
    fields = dict.fromkeys(_ticked(page), "1") | {f"remark:{s}": _remark(page, s) for s in remarks}
    second = await (await http.post(f"/staff/cases/{number}/preview", data=again | fields)).text()
    assert _notice(second) == notice


async def test_a_draft_kept_across_the_preview_still_loses_to_a_colleagues_decision(
    api: Api, aiohttp_client: Any
) -> None:
    http = api.client
    number = await _submitted(api)
    page = await (await http.get(f"/staff/cases/{number}")).text()
    form = _form(page, f"/staff/cases/{number}/preview") | {"defect:photo:blurry": "1"}
    preview = await (await http.post(f"/staff/cases/{number}/preview", data=form)).text()
    page = await (await http.post(f"/staff/cases/{number}/edit", data=_hidden(preview))).text()

    colleague = await aiohttp_client(http.server)  # another phone, same service
    assert (await sign_in(colleague, "reviewer-ga")).status == 303
    theirs = await (await colleague.get(f"/staff/cases/{number}")).text()
    approve = _form(theirs, f"/staff/cases/{number}/approve")
    assert (await colleague.post(f"/staff/cases/{number}/approve", data=approve)).status == 200

    mine = _form(page, f"/staff/cases/{number}/preview") | {"defect:photo:blurry": "1"}
    late = await http.post(f"/staff/cases/{number}/return", data=mine)
    assert late.status == 409 and "已被他人更新" in await late.text()


async def test_only_the_reviewer_may_go_back_to_a_draft(api: Api) -> None:
    http = api.client
    number = await _submitted(api)
    await sign_in(http, "demo-supervisor")
    page = await (await http.get(f"/staff/cases/{number}")).text()
    assert _offered(page, number) == set()  # supervisors look, never decide
    edit = await http.post(f"/staff/cases/{number}/edit", data=_hidden(page))
    assert edit.status == 403
