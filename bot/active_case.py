"""Which case a chat photo or "提交" is about: the one being filled, or one awaiting correction."""

from __future__ import annotations

from app.domain.actors import Actor
from app.domain.case_states import State
from app.domain.cases import Case, china_date
from app.services.accounts import account_of_openid
from app.services.cases import CaseService
from bot.conversations import Conversations
from storage.documents import DocumentStore


async def active_case(
    store: DocumentStore, cases: CaseService, openid: str
) -> tuple[Actor, Case] | None:
    actor = await account_of_openid(store, openid, china_date(cases.now()))
    if actor is None:
        return None
    conv = await Conversations(store).load(openid)
    number = conv.data.get("case") if conv.step == "filling" else None
    if number:
        case = await cases.get(actor, number)
        if case.state in {State.DRAFT, State.RETURNED}:
            return actor, case
    returned = await cases.list_for(actor, state=State.RETURNED.value, size=1)
    return (actor, returned.items[0]) if returned.items else None
