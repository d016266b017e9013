"""The electronic certificate's own page: seen at phone width, saved, its check code readable
(decoded from the very picture by a real QR decoder), and only for the case's holder side."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
import zxingcpp
from PIL import Image
from yarl import URL

from app import keys
from app.domain.actors import Actor, Role
from app.services.certificate_image import CertificateFace, render
from app.services.sessions import Use
from tests.http.conftest import Api, fill_and_submit, open_case
from tests.http.courier_world import applicant_phone, eventually

Phone = Callable[[str], aiohttp.ClientSession]


@pytest.fixture
async def phone(api: Api) -> AsyncIterator[Phone]:
    """An H5-signed-in phone per account, closed at the end."""
    opened: list[aiohttp.ClientSession] = []

    def make(who: str) -> aiohttp.ClientSession:
        token = api.client.app[keys.TOKENS].issue(Actor(who, Role.APPLICANT), use=Use.H5)
        opened.append(applicant_phone(str(api.client.make_url("/")), token))
        return opened[-1]

    yield make
    for session in opened:
        await session.close()


async def issued(api: Api, who: str, matter: str) -> str:
    """A case of ``who`` in the matter named ``matter``, approved and its certificate issued
    (matters whose originals travel by courier are not among them: no pickup to wait for)."""
    _, matters = await api.call("GET", "/matters")
    code, department = next(
        (m["code"], m["department"]) for m in matters["items"] if matter in m["name"]
    )
    case = await fill_and_submit(api, await open_case(api, who, code), who)
    for action in ("approve", "actions/issue_certificate"):
        status, case = await api.call(
            "POST", f"/cases/{case['number']}/{action}", f"reviewer-{department}",
            json={"version": case["version"]},
        )  # fmt: skip
        assert status == 200, case
    store = api.client.app[keys.DOCUMENTS]
    number = str(case["number"])

    async def drawn() -> bool:
        return bool(await store.count("certificates", {"case": number}) == 1)

    await eventually(drawn)
    return number


def qr_texts(png: bytes, width: int | None = None) -> list[str]:
    image: Image.Image = Image.open(io.BytesIO(png))
    if width:  # as a phone shows it: the picture scaled to the screen
        image = image.resize(
            (width, round(image.height * width / image.width)), Image.Resampling.LANCZOS
        )
    return [found.text for found in zxingcpp.read_barcodes(image)]


async def test_a_finished_case_links_to_its_certificate_page_to_view_and_save_it(
    api: Api, phone: Phone
) -> None:
    number = await issued(api, "demo-citizen", "失业保险")
    citizen = phone("demo-citizen")
    case_page = await (await citizen.get(f"/h5/cases/{number}")).text()
    assert f'href="/h5/cases/{number}/certificate"' in case_page

    page = await citizen.get(f"/h5/cases/{number}/certificate")
    html = await page.text()
    assert page.status == 200 and "失业保险待遇核定结果" in html
    assert f'<img src="/h5/cases/{number}/certificate.png"' in html
    assert f'href="/h5/cases/{number}/certificate.png?download=1" download=' in html
    assert "保存到手机" in html and "核验二维码" in html

    shown = await citizen.get(f"/h5/cases/{number}/certificate.png")
    assert shown.content_type == "image/png" and "private" in shown.headers["Cache-Control"]
    assert (await shown.read()).startswith(b"\x89PNG")
    saved = await citizen.get(f"/h5/cases/{number}/certificate.png?download=1")
    assert saved.headers["Content-Disposition"].startswith("attachment;")
    assert f"DZZZ{number[2:]}.png" in saved.headers["Content-Disposition"]


async def test_the_check_code_on_the_certificate_reads_and_opens_its_check_page(
    api: Api, phone: Phone
) -> None:
    number = await issued(api, "demo-citizen", "失业保险")
    png = await (await phone("demo-citizen").get(f"/h5/cases/{number}/certificate.png")).read()
    check = api.client.app[keys.CERTIFICATES].verify_path(f"DZZZ{number[2:]}")
    [read] = qr_texts(png)
    assert URL(read).path == check
    assert qr_texts(png, width=780) == [read]  # at a 390 px phone's width, two pixels a point
    async with aiohttp.ClientSession() as stranger:  # anyone who scans it
        verified = await (await stranger.get(api.client.make_url(URL(read).path))).text()
    assert "核验通过" in verified and "失业保险待遇核定结果" in verified


def test_the_seal_never_covers_the_check_code_however_long_the_link() -> None:
    for base in ("http://127.0.0.1:8080", "https://zwfw.fuzhou.example.gov.cn:8443/buchumen/h5"):
        url = f"{base}/verify/DZZZ2026110200001/0123456789abcdef0123"
        face = CertificateFace(
            "中华人民共和国道路运输从业人员从业资格证", "DZZZ2026110200001",
            "福州示例科技有限公司", "福州市市场监督管理局", "2026-11-02", "2032-11-02", url,
        )  # fmt: skip
        png = render(face)
        assert qr_texts(png) == [url]
        assert qr_texts(png, width=780) == [url]


async def test_only_the_holder_side_opens_a_certificate(api: Api, phone: Phone) -> None:
    mine = await issued(api, "demo-citizen", "失业保险")
    firms = await issued(api, "demo-agent", "食品经营许可")  # 李四 for the firm

    async def opens(who: str, number: str) -> bool:
        session = phone(who)
        page = await session.get(f"/h5/cases/{number}/certificate")
        picture = await session.get(f"/h5/cases/{number}/certificate.png")
        saved = await session.get(f"/h5/cases/{number}/certificate.png?download=1")
        statuses = {page.status, picture.status, saved.status}
        assert statuses in ({200}, {404}), statuses
        if page.status == 404:  # as if there were no such case
            assert "未找到该办件" in await page.text()
            assert "DZZZ" not in await page.text() + await picture.text()
        return statuses == {200}

    assert await opens("demo-citizen", mine)
    assert not await opens("demo-agent", mine) and not await opens("demo-legal-rep", mine)
    assert await opens("demo-agent", firms)  # the agent under the firm's mandate
    assert await opens("demo-legal-rep", firms)  # the firm's legal representative
    assert not await opens("demo-citizen", firms)


async def test_before_it_is_issued_the_page_says_when_it_will_come(api: Api, phone: Phone) -> None:
    case = await open_case(api)
    resp = await phone("demo-citizen").get(f"/h5/cases/{case['number']}/certificate")
    assert resp.status == 404 and "签发后会在公众号通知您" in await resp.text()
    assert f'href="/h5/cases/{case["number"]}"' in await resp.text()  # and leads back


async def test_the_certificate_page_needs_a_signed_in_applicant(api: Api) -> None:
    number = (await open_case(api))["number"]
    for path in (f"/h5/cases/{number}/certificate", f"/h5/cases/{number}/certificate.png"):
        resp = await api.client.get(path, allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"].startswith("/h5/login")
