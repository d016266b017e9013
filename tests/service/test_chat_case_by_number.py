"""A case asked for by number in the chat: one's own at once; a principal's only while the
authority to act for them lives (read at that message); anyone else's is not found."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.actors import Actor, Role
from app.services.accounts import USERS, WECHAT_LINKS
from app.services.binding import BindingService
from app.services.catalog import list_matters
from app.wiring.services import Services
from bot.conversations import Conversation, Conversations
from bot.dialogues import Dialogues
from bot.identity import IdentityDialogue
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock
from tests.service.test_dialogues import text

PEOPLE = {  # openid -> (account, name, ID number)
    "oPrincipal": ("p-principal", "王芳", "11010519491231002X"),
    "oAgent": ("p-agent", "李四", "110105198001010032"),
    "oStranger": ("p-stranger", "赵六", "110105198001010016"),
}


@pytest.fixture
async def bot(services: Services, store: SqliteDocumentStore, clock: Clock) -> Dialogues:
    async with store.transaction() as tx:
        for openid, (account, name, number) in PEOPLE.items():
            await tx.insert(
                USERS,
                {
                    "_id": account,
                    "username": account,
                    "role": "applicant",
                    "name": name,
                    "id_number": number,
                    "openid": openid,
                },
            )
            await tx.insert(WECHAT_LINKS, {"_id": openid, "person": account})
    s = services
    identity = IdentityDialogue(
        BindingService(store, None, clock=clock), s.mandates, "http://h5.test"
    )
    return Dialogues(store, s.cases, s.calendars, s.space, s.appointments, identity, clock=clock)


def actor(openid: str) -> Actor:
    return Actor(PEOPLE[openid][0], Role.APPLICANT)


async def ask(bot: Dialogues, openid: str, words: str) -> str:
    return await bot.handle(text(words, openid)) or ""


async def test_a_principals_case_is_shown_to_the_agent_only_while_the_authority_lives(
    bot: Dialogues, services: Services, store: SqliteDocumentStore, clock: Clock
) -> None:
    matter = next(m for m in await list_matters(store) if "citizen" in m.targets)
    case = await services.cases.open(actor("oPrincipal"), matter.code)
    assert case.number in await ask(bot, "oPrincipal", case.number)  # one's own
    assert "未找到该办件" in await ask(bot, "oAgent", case.number)

    name, number = PEOPLE["oPrincipal"][1:]
    mandate = await services.mandates.request_for_person(actor("oAgent"), name, number)
    assert mandate is not None
    until = clock().date() + timedelta(days=30)
    await services.mandates.grant(actor("oPrincipal"), mandate.id, matters=None, expires_on=until)
    assert case.number in await ask(bot, "oAgent", case.number)
    assert "未找到该办件" in await ask(bot, "oStranger", case.number)
    # The agent filling the principal's draft from the chat: their photos go to it.
    conv = Conversation("oAgent", "filling", {"case": case.number})
    await Conversations(store).save(conv, clock(), changed=True, receipt=None)
    filling = await bot.active_case("oAgent")
    assert filling is not None and filling.number == case.number

    await services.mandates.revoke(actor("oPrincipal"), mandate.id)
    assert "未找到该办件" in await ask(bot, "oAgent", case.number)
