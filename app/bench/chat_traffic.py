"""The chat traffic ``bench wechat`` sends: bound people with 0-5 cases each, and their messages.

Each person is bound (a verified account and its WeChat link) and has ``n % 6`` cases opened,
filled and submitted through the real use cases, some of them decided; every other person with
cases is still filling the newest one. The messages follow what a chat account receives: mostly
queries (查询进度, a case number, 帮助, 缴费, a greeting) and 10 % that change something: a
photo of a material (acknowledged, its fetch queued) from someone filling a case, or a step
through the menu (我要办, then a number) from someone who is not.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.actors import Actor, Role
from app.domain.case_states import State
from app.domain.cases import MaterialRef
from app.domain.errors import DomainError
from app.domain.identity import citizen_id_check_char
from app.services.accounts import USERS, WECHAT_LINKS
from app.services.cases import CaseService
from app.services.catalog import list_matters
from bot.conversations import Conversation, Conversations
from bot.crypto import MessageCrypto, signature
from storage.documents import DocumentStore

TOKEN, AES_KEY, APPID = "bench-token", "B" * 43, "wxbench000000001"
Request = tuple[dict[str, str], bytes]
# Out of every 20 messages: what is sent. Two of them change something (10 %).
MIX = (
    ("photo",) + ("menu",) + ("查询进度",) * 8 + ("case",) * 4 + ("帮助",) * 2 + ("缴费",) * 2
    + ("你好",) * 2
)  # fmt: skip
CHANGING = frozenset({"photo", "menu"})


@dataclass
class Person:
    openid: str
    account: str
    cases: list[str] = field(default_factory=list)  # newest last
    filling: bool = False  # the newest case is a draft the chat is filling


def _id_number(n: int) -> str:
    first17 = f"11010519800101{n % 1000:03d}"
    return first17 + citizen_id_check_char(first17)


def _ref(n: int) -> MaterialRef:
    return MaterialRef(f"cases/bench/{n}.jpg", "image/jpeg", 1024, f"{n:064x}")


async def bind_people(
    store: DocumentStore, cases: CaseService, count: int, now: datetime
) -> list[Person]:
    """``count`` bound people, person n with n % 6 cases, as the bench's world."""
    matters = [m for m in await list_matters(store) if "citizen" in m.targets]
    people = []
    opened = 0
    async with store.transaction() as tx:
        for n in range(count):
            person = Person(f"oBench{n:05d}", f"bench-person-{n}")
            await tx.insert(USERS, {
                "_id": person.account, "username": person.account, "role": "applicant",
                "name": f"测试{n}", "id_number": _id_number(n), "openid": person.openid,
                "created_at": now.isoformat(),
            })  # fmt: skip
            await tx.insert(WECHAT_LINKS, {"_id": person.openid, "person": person.account})
            people.append(person)
    for n, person in enumerate(people):
        actor = Actor(person.account, Role.APPLICANT)
        wanted = n % 6
        person.filling = wanted > 0 and n % 2 == 0
        while len(person.cases) < wanted:
            matter = matters[opened % len(matters)]
            opened += 1
            try:
                case = await cases.open(actor, matter.code)
            except DomainError:
                continue  # a condition this person does not meet (an age, say)
            person.cases.append(case.number)
            if person.filling and len(person.cases) == wanted:
                break  # the newest stays a draft
            for slot in case.missing_materials():
                case = await cases.attach(actor, case.number, slot.id, _ref(opened), version=None)
            case = await cases.submit(actor, case.number, version=None)
            # A fee paid before review stays owed (缴费 then has something to list).
            if opened % 3 == 0 and case.state is not State.AWAITING_PAYMENT:
                reviewer = Actor("bench-r", Role.REVIEWER, department=case.terms.department)
                await cases.approve(reviewer, case.number, version=None)
        if person.filling:
            conv = Conversation(person.openid, "filling", {"case": person.cases[-1]})
            await Conversations(store).save(conv, now, changed=True, receipt=None)
    return people


@dataclass
class Traffic:
    """Messages by index, the same for every handler; what each kind was, counted."""

    people: list[Person]
    sent: Counter[str] = field(default_factory=Counter)
    _menu_turn: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._filling = [p for p in self.people if p.filling] or self.people
        self._idle = [p for p in self.people if not p.filling] or self.people
        self._with_cases = [p for p in self.people if p.cases] or self.people

    def message(self, i: int) -> tuple[str, str, str]:
        """Message ``i``: (openid, WeChat MsgType, text or media id)."""
        kind = MIX[i % len(MIX)]
        self.sent[kind] += 1
        turn = i // len(MIX)
        if kind == "photo":
            return self._filling[turn % len(self._filling)].openid, "image", f"media{i}"
        if kind == "menu":  # 我要办, then a number, each changing the dialogue's step
            who = self._idle[turn % len(self._idle)]
            self._menu_turn[who.openid] += 1
            return who.openid, "text", "我要办" if self._menu_turn[who.openid] % 2 else "1"
        who = self.people[(i * 7) % len(self.people)]
        if kind == "case":
            who = self._with_cases[turn % len(self._with_cases)]
            return who.openid, "text", who.cases[turn % len(who.cases)] if who.cases else "查询进度"
        return who.openid, "text", kind

    def changing(self) -> int:
        return sum(n for kind, n in self.sent.items() if kind in CHANGING)

    def requests(self, crypto: MessageCrypto, start: int, n: int) -> list[Request]:
        """Messages ``start``…``start + n - 1``, signed and encrypted as WeChat pushes them."""
        return [push(crypto, i, *self.message(i)) for i in range(start, start + n)]


def push(crypto: MessageCrypto, i: int, openid: str, kind: str, content: str) -> Request:
    ts, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    body = (
        f"<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://127.0.0.1:9/{content}]]>"
        f"</PicUrl><MediaId><![CDATA[{content}]]></MediaId>"
        if kind == "image"
        else f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
    )
    inner = (
        f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{ts}</CreateTime>{body}<MsgId>{10**12 + i}</MsgId></xml>"
    )
    encrypted, msg_signature = crypto.encrypt_push(inner, nonce=nonce, timestamp=ts)
    query = {
        "signature": signature(TOKEN, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": msg_signature,
    }
    return query, encrypted.encode()
