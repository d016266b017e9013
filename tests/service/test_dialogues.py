"""The account's Chinese dialogues on the real store: binding, choosing a matter, applying."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from app.domain.actors import enterprise, person
from app.domain.cases import MaterialRef, china_date
from app.domain.mandates import Mandate, Status
from app.domain.space import Version, owner_of
from app.realname.demo import DemoVerifier, demo_verifier
from app.services.accounts import account_of_openid
from app.services.binding import BindingService
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.catalog import list_matters
from app.services.mandate_records import enterprise_doc, mandate_to_doc
from app.wiring.services import Services
from bot.dialogues import Dialogues
from bot.identity import IdentityDialogue
from bot.parser import Inbound
from storage.outbox import OutboxDispatcher
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

OPENID = "oUser-0001"
VALID_ID = "11010519491231002X"


def text(content: str, openid: str = OPENID) -> Inbound:
    return inbound("text", openid, content=content)


def inbound(kind: str, openid: str = OPENID, **fields: Any) -> Inbound:
    base: dict[str, Any] = {
        "kind": kind,
        "from_user": openid,
        "to_user": "gh_buchumen",
        "create_time": 1,
        "msg_id": None,
        "content": None,
        "media_id": None,
        "pic_url": None,
        "event": None,
        "event_key": None,
        "raw": {},
    }
    return Inbound(**(base | fields))


@pytest.fixture
async def verifier() -> AsyncIterator[DemoVerifier]:
    async with demo_verifier() as running:
        yield running


@pytest.fixture
async def binding(
    store: SqliteDocumentStore, clock: Clock, verifier: DemoVerifier
) -> BindingService:
    return BindingService(store, verifier.verifier, clock=clock)


@pytest.fixture
async def bot(
    services: Services, store: SqliteDocumentStore, clock: Clock, binding: BindingService
) -> Dialogues:
    s = services
    identity = IdentityDialogue(binding, s.mandates, "http://h5.test")
    return Dialogues(store, s.cases, s.calendars, s.space, s.appointments, identity, clock=clock)


async def say(bot: Dialogues, *lines: str, openid: str = OPENID) -> str:
    reply = ""
    for line in lines:
        reply = await bot.handle(text(line, openid)) or ""
    return reply


async def told(store: SqliteDocumentStore, openid: str = OPENID) -> list[str]:
    """What the outbox will send this WeChat user, oldest first."""
    docs = await store.find("outbox", {"topic": "wechat.text", "payload.openid": openid})
    return [d["payload"]["text"] for d in sorted(docs, key=lambda d: d["seq"])]


@pytest.fixture
def bind(
    bot: Dialogues, binding: BindingService, store: SqliteDocumentStore
) -> Callable[..., Awaitable[str]]:
    """Bind in the chat as a person would, run the real-name check, return what they are told."""

    async def run(name: str = "张三", number: str = VALID_ID, openid: str = OPENID) -> str:
        assert "个人信息处理告知" in await say(bot, "绑定", openid=openid)
        await say(bot, "同意", name, openid=openid)
        assert "正在核验" in await say(bot, number, openid=openid)
        jobs = OutboxDispatcher(store, binding.handlers(), topics=binding.handlers())
        assert await jobs.dispatch_once() == 1
        return (await told(store, openid))[-1]

    return run


async def test_a_new_follower_is_welcomed_with_what_the_account_can_do(bot: Dialogues) -> None:
    reply = await bot.handle(inbound("event", event="subscribe"))
    assert reply is not None and "我要办" in reply and "查询进度" in reply


async def test_binding_checks_the_id_number_and_masks_it_in_the_reply(
    bot: Dialogues, store: SqliteDocumentStore, bind: Callable[..., Awaitable[str]]
) -> None:
    assert "个人信息处理告知" in await say(bot, "绑定")
    assert "姓名" in await say(bot, "同意")
    assert "身份证" in await say(bot, "张三")
    wrong = VALID_ID[:-1] + "1"
    assert "校验位" in await say(bot, wrong)
    assert await account_of_openid(store, OPENID) is None  # a bad number binds nothing
    assert await store.count("outbox", {"topic": "identity.verify"}) == 0
    reply = await bind()
    assert "绑定成功" in reply and "1101**********002X" in reply
    assert VALID_ID not in reply
    actor = await account_of_openid(store, OPENID)
    assert actor is not None and actor.role.value == "applicant"
    [person] = await store.find("users", {"id_number": VALID_ID})
    assert person["consent"]["version"] and person["verified"]["request_id"]


async def test_my_information_links_to_the_page_of_ones_rights(
    bot: Dialogues, bind: Callable[..., Awaitable[str]]
) -> None:
    assert "绑定" in await say(bot, "我的信息")  # nobody's information before binding
    assert "我的信息" in await bind()  # the bound message offers the space opt-in there
    assert "http://h5.test/h5/me" in await say(bot, "我的信息")


async def test_without_consent_nothing_is_asked_or_kept(
    bot: Dialogues, store: SqliteDocumentStore
) -> None:
    await say(bot, "绑定")
    assert "未同意" in await say(bot, "不同意")
    assert "帮助" in await say(bot, "张三")  # the dialogue is over: a name is just a word now
    assert await store.count("identity_attempts") == 0


async def test_full_width_digits_and_spaces_are_understood(bot: Dialogues) -> None:
    await say(bot, "我要办")
    reply = await say(bot, " １ ")
    assert "办事指南" in reply or "依据" in reply


async def test_applying_needs_a_bound_identity_first(bot: Dialogues) -> None:
    await say(bot, "我要办", "1")
    reply = await say(bot, "办理")
    assert "绑定" in reply


async def test_choosing_a_matter_shows_its_guide_and_opens_a_case_with_its_checklist(
    bot: Dialogues, store: SqliteDocumentStore, bind: Callable[..., Awaitable[str]]
) -> None:
    await bind()
    listing = await say(bot, "我要办")
    assert "1." in listing
    guide = await say(bot, "1")
    assert "办理" in guide
    opened = await say(bot, "办理")
    assert "已为您创建办件 BC" in opened and "请先发送" in opened
    missing = await say(bot, "提交")
    assert "还缺少以下必交材料" in missing


async def test_every_guide_arrives_whole_and_a_long_one_links_to_its_page(
    bot: Dialogues, store: SqliteDocumentStore
) -> None:
    listing = await say(bot, "我要办")
    count = sum(1 for line in listing.splitlines() if re.match(r"^\d+\. ", line))
    summarised = 0
    for n in range(1, count + 1):
        guide = await say(bot, "我要办", str(n))
        assert len(guide.encode()) <= 2048, guide  # WeChat cuts a text message there
        assert guide.startswith("【事项名称】") and guide.endswith("回复“我要办”重新选择。")
        assert "【办理结果】" in guide
        if "查看完整办事指南" in guide:
            summarised += 1
            assert re.search(r'<a href="http://h5\.test/guides/[^"]+">查看完整办事指南</a>', guide)
    assert summarised >= 1  # the demo catalog has guides longer than one message


async def test_free_text_offers_the_matters_it_means_and_a_number_opens_the_guide(
    bot: Dialogues,
) -> None:
    offer = await say(bot, "我想换驾照")
    assert offer.startswith("您是不是要办理") and "1. 机动车驾驶证有效期满换证" in offer
    guide = await say(bot, "1")
    assert guide.startswith("【事项名称】机动车驾驶证有效期满换证")
    assert "没有理解" in await say(bot, "今天天气怎么样")


async def test_a_case_can_be_submitted_and_queried_by_number(
    bot: Dialogues, store: SqliteDocumentStore, clock: Clock, bind: Callable[..., Awaitable[str]]
) -> None:
    await bind()
    await say(bot, "我要办", "1")
    await say(bot, "办理")
    actor = await account_of_openid(store, OPENID)
    assert actor is not None
    calendars = CalendarService(store)
    cases = CaseService(store, calendars, clock=clock)
    page = await cases.list_for(actor)
    case = page.items[0]
    for slot in case.missing_materials():
        ref = MaterialRef(f"cases/{case.number}/{slot.id}.jpg", "image/jpeg", 3, "0" * 64)
        await cases.attach(actor, case.number, slot.id, ref, version=None)
    assert case.number in await say(bot, "提交")
    detail = await say(bot, case.number)
    # Submitted today: Art. 32's five working days to accept run from tomorrow, all left.
    assert "已提交" in detail and "受理期限" in detail and "剩余 5 个工作日" in detail
    clock.advance(days=1)  # a working day later, one of the five is used
    detail = await say(bot, case.number)
    [left] = map(int, re.findall(r"受理期限.*剩余 (\d+) 个工作日", detail))
    assert left == 4
    listing = await say(bot, "查询进度")
    assert case.number in listing


async def test_someone_elses_case_number_reveals_nothing(
    bot: Dialogues, store: SqliteDocumentStore, clock: Clock, bind: Callable[..., Awaitable[str]]
) -> None:
    await bind()
    await say(bot, "我要办", "1", "办理")
    actor = await account_of_openid(store, OPENID)
    assert actor is not None
    other = "oUser-0002"
    assert "绑定成功" in await bind("李四", "110105198001010032", other)
    calendars = CalendarService(store)
    page = await CaseService(store, calendars, clock=clock).list_for(actor)
    reply = await bot.handle(text(page.items[0].number, other))
    assert reply is not None and "未找到该办件" in reply


async def test_unknown_words_and_message_types_get_a_polite_hint(bot: Dialogues) -> None:
    assert "帮助" in await say(bot, "随便说点什么")
    reply = await bot.handle(inbound("location"))
    assert reply is not None and "暂不支持" in reply


async def test_a_menu_click_works_like_the_word(bot: Dialogues) -> None:
    reply = await bot.handle(inbound("event", event="click", event_key="MENU_APPLY"))
    assert reply is not None and "请回复序号" in reply


async def test_a_finished_case_is_rated_in_the_chat_once(
    bot: Dialogues, store: SqliteDocumentStore, clock: Clock, bind: Callable[..., Awaitable[str]]
) -> None:
    from app.domain.actors import Actor, Role
    from app.domain.case_states import Action

    await bind()
    assert "没有可以评价" in await say(bot, "评价")
    await say(bot, "我要办", "1", "办理")
    actor = await account_of_openid(store, OPENID)
    assert actor is not None
    cases = CaseService(store, CalendarService(store), clock=clock)
    case = (await cases.list_for(actor)).items[0]
    for slot in case.missing_materials():
        ref = MaterialRef(f"cases/{case.number}/{slot.id}.jpg", "image/jpeg", 3, "0" * 64)
        await cases.attach(actor, case.number, slot.id, ref, version=None)
    await cases.submit(actor, case.number, version=None)
    reviewer = Actor("r", Role.REVIEWER, department=case.terms.department)
    case = await cases.approve(reviewer, case.number, version=None)
    assert case.state.value == "approved"  # the first citizen matter is free, no originals
    await cases.act(reviewer, case.number, Action.ISSUE_CERTIFICATE, version=None, reason=None)

    listing = await say(bot, "评价")
    assert case.number in listing and "非常满意" in listing
    assert "感谢" in await say(bot, "2")
    rated = await cases.get(actor, case.number)
    assert rated.rating is not None and rated.rating["level"] == "满意"
    assert "没有可以评价" in await say(bot, "评价")


async def test_a_card_kept_in_the_space_is_offered_and_taken_with_one_word(
    bot: Dialogues, store: SqliteDocumentStore, clock: Clock, bind: Callable[..., Awaitable[str]]
) -> None:
    await bind()
    assert "个人空间还是空的" in await say(bot, "我的材料")
    actor = await account_of_openid(store, OPENID)
    assert actor is not None
    kept = Version(
        1,
        "cases/BC1/id_card_front/a.jpg",
        "image/jpeg",
        10,
        "1" * 64,
        "case:BC1",
        clock(),
        {"id_number": VALID_ID, "name": "张三"},
    )
    await bot._space.deposit(owner_of(actor), "id_card_front", "居民身份证人像面", kept)
    assert "1. 居民身份证人像面（第 1 版）" in await say(bot, "我的材料")

    listing = await say(bot, "我要办")
    pick = next(line.split(".")[0] for line in listing.splitlines() if "老年人优待证" in line)
    await say(bot, pick)
    opened = await say(bot, "办理")
    assert "个人空间里有“居民身份证人像面”" in opened and "回复“调用”" in opened
    taken = await say(bot, "调用")
    assert "已从个人空间调用“居民身份证人像面”" in taken
    assert "请继续拍照发送：居民身份证国徽面" in taken
    [case] = (await bot._cases.list_for(actor)).items
    assert case.materials["id_card_front"].source.startswith("space:")
    # Nothing in the space fits the back side: the applicant is asked for a photo.
    assert "请拍照发送" in await say(bot, "调用")


async def test_renewal_starts_the_right_matter_with_the_space_documents_brought_in(
    bot: Dialogues, store: SqliteDocumentStore, clock: Clock, bind: Callable[..., Awaitable[str]]
) -> None:
    await bind()
    assert "暂无" in await say(bot, "换证")
    actor = await account_of_openid(store, OPENID)
    assert actor is not None
    owner, soon = owner_of(actor), clock() + timedelta(days=10)

    def version(sha: str, fields: dict[str, str]) -> Version:
        return Version(1, f"space/{sha}.jpg", "image/jpeg", 10, sha * 64, "chat", clock(), fields)

    licence = {"certificate_number": "110105194912310021", "expiry_date": f"{soon:%Y-%m-%d}"}
    await bot._space.deposit(owner, "certificate", "机动车驾驶证", version("a", licence))
    await bot._space.deposit(owner, "id_card_front", "居民身份证人像面", version("b", {}))
    await bot._space.deposit(owner, "id_card_back", "居民身份证国徽面", version("c", {}))
    opened = await say(bot, "换证")
    assert "机动车驾驶证有效期满换证" in opened and "换领“机动车驾驶证”" in opened
    assert "已从个人空间带入：居民身份证人像面、居民身份证国徽面。" in opened
    [case] = (await bot._cases.list_for(actor)).items
    assert {s for s, m in case.materials.items() if m.source.startswith("space:")} == {
        "id_card_front",
        "id_card_back",
    }


async def test_a_hall_visit_is_booked_in_the_chat_by_matter_day_and_half_hour(
    bot: Dialogues, store: SqliteDocumentStore, bind: Callable[..., Awaitable[str]]
) -> None:
    await bind()
    matters = await say(bot, "我要预约")
    pick = next(line.split(".")[0] for line in matters.splitlines() if "老年人优待证" in line)
    days = await say(bot, pick)
    assert "地点：市民政局政务服务窗口，福建省福州市鼓楼区华林路 88 号民政服务中心一楼" in days
    assert 'href="https://uri.amap.com/search?keyword=' in days  # the hall on a public map
    assert "开放时间：工作日 09:00—12:00、13:30—17:00" in days
    offered = re.findall(r"^\d+\. (\d+)月(\d+)日（周.）余 \d+ 个$", days, re.M)
    assert len(offered) == 7  # the hall's next seven working days, this Monday first
    slots = await say(bot, "2")  # Tuesday
    assert slots.startswith("11月3日（周二）可预约的时段") and "1. 09:00（余 4 个）" in slots
    booked = await say(bot, "1")
    assert "预约成功：11月3日（周二）09:00，市民政局政务服务窗口" in booked
    [booking] = await store.find("bookings")
    assert (booking["state"], booking["day"], booking["slot"]) == ("booked", "2026-11-03", "09:00")
    [confirmation] = await store.find("outbox", {"_id": f"booked:{booking['_id']}"})
    assert confirmation["payload"]["path"] == f"/h5/bookings/{booking['_id']}"
    assert confirmation["payload"]["links"][0]["url"].startswith("https://uri.amap.com/search")


async def test_a_hall_visit_is_moved_in_the_chat_and_a_full_slot_offers_the_others(
    bot: Dialogues, store: SqliteDocumentStore, bind: Callable[..., Awaitable[str]]
) -> None:
    await bind()
    assert "没有可以改约" in await say(bot, "改约")
    matters = await say(bot, "我要预约")
    pick = next(line.split(".")[0] for line in matters.splitlines() if "老年人优待证" in line)
    await say(bot, pick, "1")  # today
    assert "回复“改约”或“取消预约”" in await say(bot, "9")  # 15:00 this afternoon
    [booked] = await store.find("bookings")
    days = await say(bot, "改约")  # one booking: straight to its new day
    assert "原预约：11月2日（周一）15:00" in days and "请回复序号选择新的日期" in days
    offer = await say(bot, "1")  # today again
    assert "11月2日（周一）可以改到的时段" in offer and "15:00" not in offer  # not where it is
    async with store.transaction() as tx:  # meanwhile someone takes the last place of choice 2
        second = next(line for line in offer.splitlines() if line.startswith("2. "))
        day, slot = booked["day"], second[3:8]  # "2. 10:00（余 4 个）"
        await tx.insert("slot_ledgers", {"_id": f"mz:{day}:{slot}", "department": "mz",
                                         "day": day, "taken": 4})  # fmt: skip
    full = await say(bot, "2")
    assert "该时段已约满" in full and "可以改到的时段" in full
    back = await say(bot, "0")  # another day after all? the days again
    assert "请回复序号选择新的日期" in back
    await say(bot, "1")
    moved = await say(bot, "1")  # 09:30 this morning: moving into it is fine ...
    assert "改约成功" in moved and "原二维码已失效" in moved
    states = sorted(b["state"] for b in await store.find("bookings"))
    assert states == ["booked", "rescheduled"]
    assert "请回复序号选择要取消的预约" in await say(bot, "取消预约")
    refused = await say(bot, "1")  # ... but it is now within the two-hour cut-off
    assert "不足 2 小时，不能取消或改约" in refused
    assert "不足 2 小时" in await say(bot, "改约")
    assert await store.count("bookings", {"state": "booked"}) == 1


async def test_fees_due_are_listed_with_their_basis_in_the_chat(
    bot: Dialogues, store: SqliteDocumentStore, clock: Clock, bind: Callable[..., Awaitable[str]]
) -> None:
    await bind()
    assert "没有待缴费" in await say(bot, "缴费")
    actor = await account_of_openid(store, OPENID)
    assert actor is not None
    cases = CaseService(store, CalendarService(store), clock=clock)
    [licence] = [m for m in await list_matters(store) if m.fees]
    case = await cases.open(actor, licence.code)
    for slot in case.missing_materials():
        ref = MaterialRef(f"cases/{case.number}/{slot.id}.jpg", "image/jpeg", 3, "0" * 64)
        await cases.attach(actor, case.number, slot.id, ref, version=None)
    await cases.submit(actor, case.number, version=None)  # paid before review: due now
    due = await say(bot, "缴费")
    assert case.number in due and "机动车驾驶证工本费 10.00 元（依据：" in due
    assert "清单之外不收取任何费用" in due


async def test_an_id_number_or_credit_code_shows_only_cases_one_may_see(
    bot: Dialogues,
    services: Services,
    store: SqliteDocumentStore,
    clock: Clock,
    bind: Callable[..., Awaitable[str]],
) -> None:
    # A stranger may type any company's credit code, a real one included: nothing is said.
    stranger = await say(bot, "91330100716105852F", openid="oStranger")
    assert "实名绑定" in stranger and "91330100716105852F" not in stranger
    await bind()
    await say(bot, "我要办", "1", "办理")
    me = await account_of_openid(store, OPENID)
    assert me is not None
    [own] = await services.cases.lines_for(me)
    # 张三 represents one enterprise (all digits, like many real codes) and has a case for it.
    uscc = "914403001922038216"
    async with store.transaction() as tx:
        await tx.insert(
            "enterprises", enterprise_doc(uscc, "某", me.id, "张三", how="t", at=clock())
        )
    me = await account_of_openid(store, OPENID, china_date(clock()))
    assert me is not None and me.authorities
    firm = next(m for m in await list_matters(store) if "enterprise" in m.targets)
    theirs = await services.cases.open(me, firm.code, on_behalf_of=enterprise(uscc))

    mine = await say(bot, VALID_ID)
    assert own.number in mine and theirs.number not in mine
    assert "1101**********002X" in mine and VALID_ID not in mine
    firms = await say(bot, uscc.lower())
    assert theirs.number in firms and own.number not in firms and uscc not in firms

    # Anyone else's number gets the same answer whether or not they use the service.
    assert "绑定成功" in await bind("李四", "110105198001010032", "oUser-0002")
    other, unknown = await say(bot, "110105198001010032"), await say(bot, "110105199001010037")
    assert other == unknown and "代办" in other and "110105" not in other
    li = await account_of_openid(store, "oUser-0002")
    assert li is not None
    grant = Mandate(
        "g1", person(li.id), me.id, "张三", Status.GRANTED, clock(), decided_at=clock()
    )  # 李四 lets 张三 act for them (代办): now 张三 may see their cases, none yet
    async with store.transaction() as tx:
        await tx.insert("mandates", mandate_to_doc(grant))
    assert "1101**********0032 暂无办件" in await say(bot, "110105198001010032")
    # The demo enterprise exists (王五 represents it); the other code is a real one never seen.
    known, unseen = await say(bot, "91350100M000100Y43"), await say(bot, "91330100716105852F")
    assert known == unseen and "企业授权" in known
    assert "校验位不正确" in await say(bot, VALID_ID[:-1] + "3")
