"""The applicant's phone pages: fill a case by upload or from the space; keep, inspect, delete."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from PIL import Image
from yarl import URL

from app import keys
from app.domain.space import Version
from tests.http.chat_world import (
    OPENID,
    VALID_ID,
    World,
    apply_by_chat,
    csrf_of,
    eventually,
    open_by_chat,
    sign_in,
)

ME = f"wx-{OPENID}"


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 600), (200, 190, 170)).save(out, "JPEG")
    return out.getvalue()


async def kept(world: World, data: bytes) -> str:
    """A card kept in the citizen's space, as a passed pre-check would keep it."""
    objects, space = world.client.app[keys.OBJECTS], world.client.app[keys.SPACE]

    async def once() -> AsyncIterator[bytes]:
        yield data

    info = await objects.put(
        "space/test/front.jpg", once(), content_type="image/jpeg", max_bytes=10**7
    )
    version = Version(
        1, info.key, "image/jpeg", info.size, info.sha256, "case:BC1",
        world.client.app[keys.CASES].now(), {"id_number": VALID_ID, "valid_to": "2036-01-01"},
    )  # fmt: skip
    doc = await space.deposit(f"person:{ME}", "id_card_front", "居民身份证人像面", version)
    return doc.id


async def test_a_photo_is_uploaded_from_the_case_page_and_a_forged_form_changes_nothing(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await open_by_chat(world)
    page = f"/h5/cases/{number}"
    await sign_in(world, page)
    html = await (await http.get(page)).text()
    assert "拍照或选择文件" in html

    def form(token: str) -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field("csrf", token)
        data.add_field("photo", photo(), filename="x.jpg", content_type="image/jpeg")
        return data

    forged = await http.post(f"{page}/materials/id_card_front", data=form("0" * 32))
    assert forged.status == 403
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    assert not any(m["attached"] for m in case["materials"])

    done = await http.post(f"{page}/materials/id_card_front", data=form(csrf_of(html)))
    assert done.status == 200 and str(done.url).endswith(page)  # back on the case page
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    assert [m["slot_id"] for m in case["materials"] if m["attached"]] == ["id_card_front"]
    assert "重新拍照" in await done.text()

    wrong = aiohttp.FormData()
    wrong.add_field("csrf", csrf_of(html))
    wrong.add_field("photo", b"not a picture", filename="x.txt", content_type="text/plain")
    refused = await http.post(f"{page}/materials/id_card_back", data=wrong)
    assert refused.status == 422 and "只接受" in await refused.text()


async def test_the_space_offers_its_card_on_the_case_page_and_keeps_a_record_of_each_look(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await open_by_chat(world)
    doc_id = await kept(world, photo())
    page = f"/h5/cases/{number}"
    await sign_in(world, page)
    html = await (await http.get(page)).text()
    assert "从个人空间调用（有效期至 2036-01-01）" in html
    taken = await http.post(
        f"{page}/materials/id_card_front/reuse", data={"csrf": csrf_of(html), "doc": doc_id}
    )
    assert taken.status == 200
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    assert [m["slot_id"] for m in case["materials"] if m["attached"]] == ["id_card_front"]

    listing = await (await http.get("/h5/space")).text()
    assert "居民身份证人像面" in listing and f"/h5/space/{doc_id}" in listing
    detail = await (await http.get(f"/h5/space/{doc_id}")).text()
    assert number in detail  # the case using it is named
    shown = await http.get(f"/h5/space/{doc_id}/versions/1", allow_redirects=False)
    assert shown.status == 302
    image = await http.get(URL(shown.headers["Location"]).path_qs)  # a signed /files/ link
    assert image.status == 200 and await image.read() == photo()
    detail = await (await http.get(f"/h5/space/{doc_id}")).text()
    assert detail.count("本人在手机上查看") == 2 and "本人查看照片" in detail

    # The reviewer opens the photo of the case: the owner sees who, and for which case.
    link = await world.api("GET", f"/cases/{number}/materials/id_card_front/link", "reviewer-mz")
    assert await (await http.get(URL(link["url"]).path_qs)).read() == photo()
    detail = await (await http.get(f"/h5/space/{doc_id}")).text()
    assert f"预审人员 · 审核办件 {number}" in detail


async def test_a_document_is_deleted_only_with_the_pages_token_and_nobody_else_sees_it(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)
    doc_id = await kept(world, photo())
    await sign_in(world, f"/h5/space/{doc_id}")
    html = await (await http.get(f"/h5/space/{doc_id}")).text()
    forged = await http.post(f"/h5/space/{doc_id}/delete", data={"csrf": "f" * 32})
    assert forged.status == 403
    assert doc_id in await (await http.get("/h5/space")).text()
    gone = await http.post(f"/h5/space/{doc_id}/delete", data={"csrf": csrf_of(html)})
    assert gone.status == 200 and doc_id not in await gone.text()
    missing = await http.get(f"/h5/space/{doc_id}")
    assert missing.status == 404

    # Someone else's document: the same answer as for none at all.
    now = world.client.app[keys.CASES].now()
    version = Version(1, "space/x.jpg", "image/jpeg", 1, "2" * 64, "chat", now)
    other: Any = await world.client.app[keys.SPACE].deposit(
        "person:wx-someone-else", "id_card_front", "居民身份证人像面", version
    )
    theirs = await http.get(f"/h5/space/{other.id}")
    assert theirs.status == 404 and (await theirs.text()) == (await missing.text())
    assert (await http.get(f"/h5/space/{other.id}/versions/1", allow_redirects=False)).status == 404


async def issue(world: World, number: str) -> str:
    """Approve and issue the case as its reviewer; the chat message that announces it."""
    for action in ("approve", "actions/issue_certificate"):
        case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
        await world.api(
            "POST", f"/cases/{number}/{action}", "reviewer-mz", json={"version": case["version"]}
        )
    await eventually(lambda: any("电子证照“老年人优待证”" in t for t in world.chat()))
    return next(t for t in world.chat() if "电子证照“老年人优待证”" in t)


async def test_without_the_space_the_certificate_is_on_the_case_page_and_kept_nowhere_else(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)  # never said yes to the space: it keeps nothing
    told = await issue(world, number)
    assert "办件页面查看" in told and "个人空间" not in told
    assert '/certificate">查看证照</a>' in told  # a tappable label, as WeChat shows <a>
    page = URL(re.findall(r"http\S+/h5/cases/\S+/certificate", told)[0]).path
    await sign_in(world, f"/h5/cases/{number}")
    html = await (await http.get(f"/h5/cases/{number}")).text()
    assert "电子证照" in html and page in html
    assert f'<img src="{page}.png"' in await (await http.get(page)).text()  # its own page
    png = await (await http.get(f"{page}.png")).read()
    assert png.startswith(b"\x89PNG")
    store = world.client.app[keys.DOCUMENTS]
    assert await store.count("space_documents", {"kind": "certificate"}) == 0


async def test_an_issued_certificate_lands_in_the_space_and_its_qr_link_checks_it(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)
    await sign_in(world, "/h5/me")
    me = await (await http.get("/h5/me")).text()
    kept = await http.post("/h5/me/space", data={"csrf": csrf_of(me), "keep": "yes"})
    assert "已开启" in await kept.text()
    told = await issue(world, number)
    page = URL(re.findall(r"http\S+/h5/space/[0-9a-f]+", told)[0]).path
    html = await (await http.get(page)).text()
    assert "老年人优待证" in html and f"办件 {number} 出证" in html
    shown = await http.get(f"{page}/versions/1", allow_redirects=False)
    png = await (await http.get(URL(shown.headers["Location"]).path_qs)).read()
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).size == (1240, 880)

    certificates = world.client.app[keys.CERTIFICATES]
    check = certificates.verify_path(f"DZZZ{number[2:]}")
    verified = await (await http.get(check)).text()
    assert "核验通过" in verified and "老年人优待证" in verified
    assert "张*" in verified and "张三" not in verified  # a verifier sees the holder masked
    forged = await http.get(check[:-4] + "0000")
    assert forged.status == 404 and "核验通过" not in await forged.text()


async def test_the_upload_page_offers_the_documents_the_catalog_reuses_and_needs_its_token(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    await open_by_chat(world)
    await sign_in(world, "/h5/space/upload")
    html = await (await http.get("/h5/space/upload")).text()
    assert "<option>居民身份证人像面</option>" in html and "<option>营业执照</option>" not in html

    def form(token: str) -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field("csrf", token)
        data.add_field("name", "居民身份证人像面")
        data.add_field("photo", photo(), filename="x.jpg", content_type="image/jpeg")
        return data

    assert (await http.post("/h5/space/upload", data=form("0" * 32))).status == 403
    sent = await http.post("/h5/space/upload", data=form(csrf_of(html)))
    assert sent.status == 200 and "正在自动识别" in await sent.text()
    store = world.client.app[keys.DOCUMENTS]
    assert await store.count("outbox", {"topic": "space.precheck"}) == 1


async def test_the_applicant_withdraws_on_the_case_page_and_a_stale_page_changes_nothing(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)
    await sign_in(world, f"/h5/cases/{number}")
    html = await (await http.get(f"/h5/cases/{number}")).text()
    assert "撤回办件" in html
    version = re.search(r'name="version" value="(\d+)"', html)
    assert version
    form = {"csrf": csrf_of(html), "version": str(int(version[1]) - 1), "reason": "不办了"}
    stale = await http.post(f"/h5/cases/{number}/withdraw", data=form)
    assert stale.status == 409 and "刷新" in await stale.text()
    store = world.client.app[keys.DOCUMENTS]
    assert (await store.get("cases", number) or {})["state"] != "withdrawn"
    forged = await http.post(f"/h5/cases/{number}/withdraw", data=form | {"csrf": "0" * 32})
    assert forged.status == 403
    done = await http.post(f"/h5/cases/{number}/withdraw", data=form | {"version": version[1]})
    assert done.status == 200 and "已撤回" in await done.text()
    assert (await store.get("cases", number) or {})["state"] == "withdrawn"
    assert "撤回办件" not in await (await http.get(f"/h5/cases/{number}")).text()


async def test_after_submission_the_case_page_no_longer_asks_for_a_retake(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await apply_by_chat(world)  # its photos are cut short: the machine asked a retake
    case = await world.api("GET", f"/cases/{number}", "reviewer-mz")
    await world.api(
        "POST", f"/cases/{number}/approve", "reviewer-mz", json={"version": case["version"]}
    )
    await sign_in(world, f"/h5/cases/{number}")
    page = await (await http.get(f"/h5/cases/{number}")).text()
    assert "需要重新提交" not in page and "照片文件不完整" not in page
    assert page.count("已交工作人员审核") == 3  # the reviewer decided; nothing is asked of them


async def test_the_case_page_submits_once_every_required_material_is_there(
    plain_world: World,
) -> None:
    world, http = plain_world, plain_world.client
    number = await open_by_chat(world)
    await sign_in(world, f"/h5/cases/{number}")
    html = await (await http.get(f"/h5/cases/{number}")).text()
    assert 'type="submit" disabled>提交申请</button>' in html  # nothing sent yet
    for n in range(3):
        await world.sim.push_image(OPENID, photo())
        await eventually(lambda n=n: sum("【材料预审】" in t for t in world.chat()) == n + 1, 30)
    html = await (await http.get(f"/h5/cases/{number}")).text()
    assert "还有必交材料未提交" not in html and 'type="submit">提交申请</button>' in html
    version = re.search(
        r'action="/h5/cases/[^/]+/submit".*?name="version" value="(\d+)"', html, re.S
    )
    assert version
    form = {"csrf": csrf_of(html), "version": version[1]}
    stale = await http.post(f"/h5/cases/{number}/submit", data=form | {"version": "0"})
    assert stale.status == 409
    done = await http.post(f"/h5/cases/{number}/submit", data=form)
    assert done.status == 200 and "已提交" in await done.text()
    store = world.client.app[keys.DOCUMENTS]
    assert (await store.get("cases", number) or {})["state"] == "submitted"
