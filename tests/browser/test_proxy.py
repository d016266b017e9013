"""A son applies for his mother, who has no WeChat, and a reviewer decides on her phone.

李四 binds in the chat, sends 代办 and opens the link it gives for a person without WeChat. He
fills in his mother's name and number and photographs her ID card and the household register
(户口簿). The 民政局 reviewer opens 代办审核 on her phone, sees the machine has matched the card
to what he typed, looks at both photos and grants. 李四 is told, and 我要办 now offers to apply
for his mother; the case he opens is hers.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from playwright.async_api import Browser

from app import keys
from ocr.corpus import generate
from tests.browser.conftest import Live, shot, staff_phone
from tests.browser.test_authority import (
    AGENT,
    account_rows,
    ask,
    bind,
    chat,
    heard,
    numbered,
    tap,
)

MATTER = "老年人优待证"
# 李四's request with evidence (the demo data also gives him an enterprise grant without any).
WITH_EVIDENCE = {"agent_name": AGENT[0], "evidence": {"$ne": None}}


def elders_card(directory: Path) -> tuple[Path, dict[str, str]]:
    """A generated ID card of someone born before 1966 (old enough for the matter), saved."""
    card = next(
        s
        for s in generate(420, 12, kinds=("id_card_front",))
        if s.truth["id_number"][6:10] < "1966"
    )
    path = directory / "mother.png"
    card.image.save(path)
    return path, card.truth


async def read_by_the_machine(live: Live) -> None:
    """Wait for the ID card's pre-check (the OCR pool's first job may take a while)."""
    store = live.app[keys.DOCUMENTS]
    for _ in range(600):
        found = await store.find("mandates", WITH_EVIDENCE)
        if found and found[0]["evidence"]["findings"] is not None:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the ID card was not read in two minutes")


async def test_a_handler_brings_evidence_and_a_reviewer_grants(
    live: Live, browser: Browser, tmp_path: Path
) -> None:
    card, mother = elders_card(tmp_path)
    proof = tmp_path / "hukou.png"
    generate(7, 1, kinds=("certificate",)).__next__().image.save(proof)

    son = await chat(browser, live, "proxy-son")
    await bind(son, *AGENT)
    await ask(son, "代办", "委托人没有微信")
    page = await tap(son, "委托人没有微信", "上传委托人身份证和关系证明")  # signed in on the way
    await ask(son, "取消", "")
    option = page.locator("select[name=matter] option", has_text=MATTER)
    await page.select_option("select[name=matter]", value=await option.get_attribute("value"))
    await page.fill("input[name=name]", mother["name"])
    await page.fill("input[name=id_number]", mother["id_number"])
    await page.select_option("select[name=relation]", label="子女")
    await page.set_input_files("input[name=id_card]", str(card))
    await page.set_input_files("input[name=proof]", str(proof))
    await shot(page, "proxy-01-form")
    before = await account_rows(son)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert "已提交代办申请" in await page.inner_text("main")
    await heard(son, "市民政局审核人员核对", after=before)

    reviewer = await staff_phone(browser, live, "reviewer-mz", then="/staff/queue")
    await reviewer.wait_for_selector("text=代办申请待审核（1）")
    async with reviewer.expect_navigation():
        await reviewer.click("text=代办申请待审核（1）")
    await read_by_the_machine(live)
    await reviewer.reload()
    assert "身份证姓名、号码与填写一致" in await reviewer.inner_text("main")
    text = await reviewer.inner_text("main")
    assert mother["name"] in text and "子女" in text and MATTER in text
    assert mother["id_number"] not in text  # masked, even for the reviewer
    await shot(reviewer, "proxy-02-review")
    photo = await reviewer.request.get(
        f"{live.base}/staff/mandates/"
        + (await live.app[keys.DOCUMENTS].find("mandates", WITH_EVIDENCE))[0]["_id"]
        + "/proof",
        max_redirects=0,
    )
    assert photo.status == 302  # a short-lived link to the photo; the look is audited
    before = await account_rows(son)
    async with reviewer.expect_navigation():
        await reviewer.click("text=核对无误，同意授权")
    assert "当前没有待审核的代办申请" in await reviewer.inner_text("main")

    granted = await heard(son, "审核通过", after=before)
    assert MATTER in granted and mother["name"] not in granted  # her name masked in the chat
    listing = await ask(son, "我要办", "请回复序号")
    pick = numbered(listing, MATTER + "办理")
    assert pick is not None, listing
    await ask(son, pick, f"【事项名称】{MATTER}")
    whom = await ask(son, "办理", "为谁办理")
    choice = next(
        ln.split(".")[0] for ln in whom.splitlines() if mother["name"][0] in ln and "." in ln
    )
    opened = await ask(son, choice, "已为您创建办件")
    number = re.search(r"BC\d{14}", opened)
    assert number, opened
    case = await live.app[keys.DOCUMENTS].get("cases", number[0])
    assert case is not None and case["handler_id"] != case["applicant_id"]  # hers, by him
