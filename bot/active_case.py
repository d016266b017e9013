"""Which case a chat message is about: the one being filled, one awaiting correction, or one
asked for by number.

What a person may act for (their authorities: two queries) is read only when the case is not
their own: most chats are about one's own cases, and those need none.
"""

from __future__ import annotations

from app.domain.actors import Actor
from app.domain.case_states import State
from app.domain.cases import Case, china_date
from app.domain.errors import NotFoundError
from app.services.accounts import account_of_openid, with_authorities
from app.services.cases import CaseService
from bot.conversations import Conversations
from storage.documents import DocumentStore


async def case_for(
    store: DocumentStore, cases: CaseService, person: Actor, number: str
) -> tuple[Actor, Case]:
    """The case numbered ``number`` if ``person`` may see it, and the actor they see it as:
    themselves for their own, with their authorities read now for another's."""
    try:
        return person, await cases.get(person, number)
    except NotFoundError:
        actor = await with_authorities(store, person, china_date(cases.now()))
        if not actor.authorities:
            raise
        return actor, await cases.get(actor, number)


async def active_case(
    store: DocumentStore, cases: CaseService, openid: str
) -> tuple[Actor, Case] | None:
    person = await account_of_openid(store, openid)
    if person is None:
        return None
    conv = await Conversations(store).load(openid)
    number = conv.data.get("case") if conv.step == "filling" else None
    if number:
        actor, case = await case_for(store, cases, person, number)
        if case.state in {State.DRAFT, State.RETURNED}:
            return actor, case
    actor = await with_authorities(store, person, china_date(cases.now()))
    returned = await cases.list_for(actor, state=State.RETURNED.value, size=1)
    return (actor, returned.items[0]) if returned.items else None
