"""What the account answers: routes words, menu clicks and events to use cases, in Chinese."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import datetime

from app.domain.actors import Actor, enterprise, person
from app.domain.case_states import LABELS_ZH, State
from app.domain.cases import RATEABLE, RATINGS, Case, china_date
from app.domain.catalog import Matter
from app.domain.errors import DomainError
from app.domain.identity import (
    mask_id_number,
    mask_uscc,
    number_kind,
    parse_citizen_id,
    parse_uscc,
)
from app.domain.legal_clock import Period
from app.domain.matching import best_matters
from app.domain.payments import fee_lines
from app.services.accounts import USERS, account_of_openid, person_of_openid
from app.services.appointments import AppointmentService
from app.services.calendar import CalendarService
from app.services.case_reads import CaseLine
from app.services.cases import CaseService
from app.services.catalog import CatalogCache
from app.services.space import SpaceService
from bot import reuse, texts
from bot.active_case import active_case, case_for
from bot.booking import BookingDialogue
from bot.conversations import Conversation, Conversations
from bot.identity import IdentityDialogue
from bot.links import fits, link
from bot.parser import Inbound
from storage.documents import DocumentStore

CASE_NUMBER = re.compile(r"^BC\d{14}$")
# The running limit, in the words of 行政许可法 Art. 32, 42 and 44.
CLOCK_WORDS = {
    Period.ACCEPTANCE: "受理期限（收到材料后五个工作日内）",
    Period.DECISION: "作出决定期限",
    Period.ISSUING: "颁发证件期限",
}
MENU_WORDS = {
    "MENU_APPLY": "我要办",
    "MENU_BOOK": "我要预约",
    "MENU_QUERY": "查询进度",
    "MENU_SPACE": "我的材料",
    "MENU_HELP": "帮助",
}
Handler = Callable[[Conversation, str], Awaitable[str]]


def normalise(text: str) -> str:
    """Full-width digits and letters to ASCII, spaces trimmed: phones type both."""
    return unicodedata.normalize("NFKC", text).strip()


class Dialogues:
    """One call per inbound message; returns the passive reply text, or None for none."""

    def __init__(
        self,
        store: DocumentStore,
        cases: CaseService,
        calendars: CalendarService,
        space: SpaceService,
        appointments: AppointmentService,
        identity: IdentityDialogue,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._cases = cases
        self._space = space
        self._calendars = calendars
        self._conversations = Conversations(store)
        self._catalog = CatalogCache(store)
        self._booking = BookingDialogue(appointments, self._catalog)
        self._identity = identity
        self._clock = clock
        self._words: dict[str, Handler] = {
            "我要办": self._pick_matter,
            "办理": self._open_case,
            "提交": self._submit,
            "查询进度": self._my_cases,
            "查询": self._my_cases,
            "我的材料": self._my_materials,
            "调用": self._reuse,
            "换证": self._renew,
            "我要预约": self._start_booking,
            "预约": self._start_booking,
            "改约": self._start_move,
            "取消预约": self._start_cancel_booking,
            "绑定": self._start_binding,
            "实名绑定": self._start_binding,
            "企业认证": self._start_claim,
            "企业授权": self._start_enterprise_request,
            "企业绑定": self._start_enterprise_request,  # the word before authorisations existed
            "代办": self._start_proxy_request,
            "我的授权": self._my_authorities,
            "我的信息": self._my_information,
            "授权管理": self._my_authorities,
            "评价": self._start_rating,
            "缴费": self._fees_due,
            "帮助": self._help,
            "人工": self._help,
            "取消": self._cancel,
        }

    async def handle(self, msg: Inbound, *, receipt: str | None = None) -> str | None:
        """Answer ``msg``; if it changed anything, record ``receipt`` (and the reply) with it.

        A message that changed nothing leaves no receipt: answering a retry of it again is
        harmless, and the commonest messages (queries) then cost no write. Raises
        DuplicateKey when a receipt for this message exists: another delivery won.
        """
        conv = await self._conversations.load(msg.from_user)
        before = self._conversations.snapshot(conv)
        try:
            reply = await self._route(msg, conv)
        except DomainError as exc:
            reply = exc.message  # already a polite Chinese sentence saying what to do
        now = self._clock()
        changed = self._conversations.snapshot(conv) != before
        record = None
        if receipt is not None and (changed or conv.effect):
            record = {"_id": receipt, "status": "done", "reply": reply, "at": now.isoformat()}
        await self._conversations.save(conv, now, changed=changed, receipt=record)
        return reply

    async def _route(self, msg: Inbound, conv: Conversation) -> str | None:
        if msg.kind == "text":
            return await self._text(conv, normalise(msg.content or ""))
        if msg.kind != "event":
            return texts.UNSUPPORTED
        if msg.event == "subscribe":
            return texts.WELCOME
        if msg.event == "click" and msg.event_key in MENU_WORDS:
            return await self._text(conv, MENU_WORDS[msg.event_key])
        return None  # unsubscribe, view, template receipts: nothing to say

    async def _text(self, conv: Conversation, text: str) -> str:
        if text in self._words:
            return await self._words[text](conv, text)
        if conv.step.startswith("binding_"):
            return await self._identity.binding_step(conv, text)
        if conv.step.startswith(("mandate_", "proxy_")):
            return await self._identity.mandate_step(conv, await self._actor(conv), text)
        if conv.step == "claim_licence":
            return texts.SEND_LICENCE_PHOTO
        if conv.step == "principal" and text.isdigit():
            return await self._open_for(conv, int(text))
        if conv.step == "picking" and text.isdigit():
            return await self._show_guide(conv, text)
        if conv.step == "rating":
            return await self._rate(conv, text)
        if conv.step.startswith("booking_"):
            return await self._booking.step(conv, await self._actor(conv), text)
        if CASE_NUMBER.match(text.upper()):
            return await self._case_detail(conv, text.upper())
        if kind := number_kind(text):
            return await self._cases_of(conv, text, kind)
        return await self._guess(conv, text)

    async def _guess(self, conv: Conversation, text: str) -> str:
        """Free text ("驾驶证到期了"): offer the matters it most likely means, to pick by number."""
        found = best_matters(text, await self._catalog.matters())
        if not found:
            return texts.NOT_UNDERSTOOD
        return texts.DID_YOU_MEAN.format(items=_offer(conv, found))

    # -- binding ---------------------------------------------------------------------------

    async def _start_binding(self, conv: Conversation, _: str) -> str:
        if reply := await self._already_bound(conv):
            return reply
        return self._identity.start_binding(conv)

    async def _already_bound(self, conv: Conversation) -> str | None:
        doc = await person_of_openid(self._store, conv.openid)
        if doc is None:
            return None
        who = f"{doc.get('name')}（身份证 {mask_id_number(str(doc.get('id_number', '')))}）"
        return texts.ALREADY_BOUND.format(who=who)

    async def _start_claim(self, conv: Conversation, _: str) -> str:
        await self._actor(conv)
        return self._identity.start_claim(conv)

    async def _start_enterprise_request(self, conv: Conversation, _: str) -> str:
        await self._actor(conv)
        return self._identity.start_enterprise_request(conv)

    async def _start_proxy_request(self, conv: Conversation, _: str) -> str:
        await self._actor(conv)
        return self._identity.start_proxy_request(conv)

    async def _my_information(self, conv: Conversation, _: str) -> str:
        await self._actor(conv)
        return texts.MY_INFORMATION.format(link=link(self._identity.page("/h5/me"), "打开我的信息"))

    async def _my_authorities(self, conv: Conversation, _: str) -> str:
        return await self._identity.my_authorities(await self._actor(conv))

    # -- applying --------------------------------------------------------------------------

    async def _pick_matter(self, conv: Conversation, _: str) -> str:
        # Anyone may read the guides; a bound person also sees what they may apply for others.
        actor = await account_of_openid(self._store, conv.openid, china_date(self._clock()))
        matters = (
            await self._catalog.matters_for(actor)
            if actor
            else await self._catalog.matters(target="citizen")
        )
        if not matters:
            return texts.NO_MATTERS
        return texts.PICK_MATTER.format(items=_offer(conv, matters))

    async def _show_guide(self, conv: Conversation, text: str) -> str:
        choices: list[str] = conv.data.get("choices", [])
        index = int(text) - 1
        if not 0 <= index < len(choices):
            return texts.BAD_PICK.format(n=len(choices))
        matter = await self._catalog.get(choices[index])
        conv.step = "guide"
        conv.data["matter"] = matter.code
        whole = matter.guide_text() + texts.GUIDE_FOOTER
        if fits(whole):
            return whole
        # Too long for one message: the essentials here, the whole guide on its page.
        more = link(self._identity.page(f"/guides/{matter.code}"), "查看完整办事指南")
        return matter.guide_summary() + texts.GUIDE_MORE.format(link=more) + texts.GUIDE_FOOTER

    async def _open_case(self, conv: Conversation, _: str) -> str:
        code = conv.data.get("matter")
        if not code:
            return await self._pick_matter(conv, "")
        actor = await self._actor(conv)
        matter = await self._catalog.get(code)
        principals = await self._principals(actor, matter)
        if len(principals) > 1:
            conv.step = "principal"
            conv.data = {"matter": code, "principals": [p for p, _ in principals]}
            items = "\n".join(f"{n}. {label}" for n, (_, label) in enumerate(principals, 1))
            return texts.PICK_PRINCIPAL.format(matter=matter.name, items=items)
        return await self._open(conv, actor, code, principals[0][0] if principals else None)

    async def _open_for(self, conv: Conversation, pick: int) -> str:
        choices: list[str] = conv.data.get("principals", [])
        if not 1 <= pick <= len(choices):
            return texts.BAD_PICK.format(n=len(choices))
        actor = await self._actor(conv)
        return await self._open(conv, actor, str(conv.data.get("matter")), choices[pick - 1])

    async def _principals(self, actor: Actor, matter: Matter) -> list[tuple[str | None, str]]:
        """For whom ``actor`` could open ``matter``: themselves, enterprises, family (代办)."""
        found: list[tuple[str | None, str]] = []
        if "citizen" in matter.targets:
            found.append((None, "本人办理"))
        for a in actor.authorities:
            is_firm = a.uscc is not None
            if a.covers(matter.code) and ("enterprise" if is_firm else "citizen") in matter.targets:
                found.append((a.principal, ""))
        names = await self._identity.names([p for p, _ in found if p])
        return [(p, label or f"代{names.get(p or '', '')}办理") for p, label in found]

    async def _open(
        self, conv: Conversation, actor: Actor, code: str, principal: str | None
    ) -> str:
        conv.effect = True
        case = await self._cases.open(actor, code, on_behalf_of=principal)
        conv.step, conv.data = "filling", {"case": case.number}
        checklist = "\n".join(
            f"{n}. {s.name}{'' if s.required else '（可选）'}"
            for n, s in enumerate(case.slots, start=1)
        )
        missing = case.missing_materials()
        return texts.CASE_OPENED.format(
            number=case.number,
            matter=case.terms.name,
            checklist=checklist,
            next=missing[0].name if missing else "无",
        ) + await reuse.offer(self._space, case)

    async def _renew(self, conv: Conversation, _: str) -> str:
        """Start the matter that renews the applicant's soonest-expiring document, prefilled."""
        actor = await self._actor(conv)
        found = await self._space.renewal_for(actor)
        if found is None:
            return texts.NOTHING_TO_RENEW
        doc, matter = found
        conv.effect = True
        case = await self._cases.open(actor, matter.code)
        case, taken = await reuse.prefill(self._space, self._cases, actor, case)
        conv.step, conv.data = "filling", {"case": case.number}
        return texts.RENEWAL_OPENED.format(
            number=case.number,
            matter=case.terms.name,
            title=doc.title,
            taken="、".join(taken) if taken else "无",
            rest=reuse.still_needed(case),
        )

    async def _reuse(self, conv: Conversation, _: str) -> str:
        found = await active_case(self._store, self._cases, conv.openid)
        if found is None:
            await self._actor(conv)  # unbound users are told to bind first
            return texts.NO_OPEN_CASE
        actor, case = found
        match = await reuse.reusable_for(self._space, case)
        if match is None:
            slot = case.next_slot_for_photo()
            return texts.NOTHING_TO_REUSE.format(slot=slot.name if slot else "当前材料")
        slot, doc = match
        conv.effect = True
        case = await self._cases.attach_from_space(
            actor, case.number, slot.id, doc.id, version=None
        )
        return texts.REUSED.format(
            title=doc.title, slot=slot.name, rest=reuse.still_needed(case)
        ) + await reuse.offer(self._space, case)

    async def expects_licence(self, openid: str) -> bool:
        """Whether this user's next photo is a business licence for 企业认证."""
        return (await self._conversations.load(openid)).step == "claim_licence"

    async def active_case(self, openid: str) -> Case | None:
        found = await active_case(self._store, self._cases, openid)
        return found[1] if found else None

    async def _submit(self, conv: Conversation, _: str) -> str:
        found = await active_case(self._store, self._cases, conv.openid)
        if found is None:
            await self._actor(conv)  # unbound users are told to bind first
            return texts.NO_OPEN_CASE
        actor, case = found
        conv.effect = True
        case = await self._cases.submit(actor, case.number, version=None)
        conv.step, conv.data = "idle", {}
        reply = texts.SUBMITTED.format(number=case.number)
        retake = case.slots_to_retake()
        if retake:  # the machine never blocks a submission, but the applicant should know
            reply += texts.SUBMITTED_WITH_FINDINGS.format(names="、".join(s.name for s in retake))
        return reply

    # -- reading ---------------------------------------------------------------------------

    async def _my_cases(self, conv: Conversation, _: str) -> str:
        actor = await self._actor(conv)
        cases = await self._cases.lines_for(actor, size=10)
        if not cases:
            return texts.NO_CASES
        return texts.MY_CASES.format(lines=_case_lines(cases))

    async def _cases_of(self, conv: Conversation, code: str, kind: str) -> str:
        """The cases of an ID number or a credit code: one's own, or those of whom one acts for.

        Anyone may type anyone's number, so the reply for any other says nothing of them, not
        even whether they exist or have cases.
        """
        actor = await self._actor(conv)
        if kind == "citizen_id":
            number = parse_citizen_id(code, today=china_date(self._clock())).number
            principal = await self._person_numbered(actor, number)
            if principal is None:
                return texts.NOT_YOUR_PERSON
            who = f"身份证 {mask_id_number(number)} "
        else:
            uscc = parse_uscc(code).code
            principal = enterprise(uscc)
            if not any(a.principal == principal for a in actor.authorities):
                return texts.NOT_YOUR_ENTERPRISE
            who = f"统一社会信用代码 {mask_uscc(uscc)} "
        cases = await self._cases.lines_for(actor, size=10, principal=principal)
        if not cases:
            return texts.NO_CASES_OF.format(who=who)
        return texts.CASES_OF.format(who=who, lines=_case_lines(cases))

    async def _person_numbered(self, actor: Actor, number: str) -> str | None:
        """The principal with this ID number: the actor, or a person they act for; or None."""
        for principal in (person(actor.id), *(a.principal for a in actor.authorities)):
            kind, _, ref = principal.partition(":")
            if kind == "person":
                doc = await self._store.get(USERS, ref)
                if doc is not None and doc.get("id_number") == number:
                    return principal
        return None

    async def _fees_due(self, conv: Conversation, _: str) -> str:
        """What the applicant's cases wait to be paid, item by item with its basis."""
        actor = await self._actor(conv)
        page = await self._cases.list_for(actor, state=State.AWAITING_PAYMENT.value, size=10)
        if not page.items:
            return texts.NO_FEES_DUE
        parts = [
            f"办件 {c.number}（{c.terms.name}）待缴费：\n" + "\n".join(fee_lines(c))
            for c in page.items
        ]
        return texts.FEES_DUE.format(cases="\n\n".join(parts))

    async def _case_detail(self, conv: Conversation, number: str) -> str:
        person = await account_of_openid(self._store, conv.openid)  # authorities only if needed
        if person is None:
            raise NeedsBinding(texts.BIND_FIRST)
        _, case = await case_for(self._store, self._cases, person, number)
        return await self.describe(case)

    async def describe(self, case: Case) -> str:
        return texts.CASE_DETAIL.format(
            number=case.number,
            matter=case.terms.name,
            state=LABELS_ZH[case.state],
            clock=await self._clock_line(case),
            missing=self._missing_line(case),
            notice=self._notice_part(case),
        )

    async def _clock_line(self, case: Case) -> str:
        """The limit running now, as it stands: every figure true of the case today."""
        if case.submitted_on is None:
            return ""
        clock = case.legal_clock()
        if clock is None:
            done = case.finished_on
            return f"\n已于 {done.isoformat()} 办结" if done is not None else ""
        if clock.period is Period.DECISION and clock.limit_days == 0:
            return "\n即办件：材料齐全当场办结"
        calendar = await self._calendars.calendar()
        today = china_date(self._clock())
        due, left = clock.due(calendar, today), clock.remaining(calendar, today)
        line = f"\n{CLOCK_WORDS[clock.period]}：{due.isoformat()} 前"
        line += f"（剩余 {left} 个工作日）" if left >= 0 else f"（已超期 {-left} 个工作日）"
        if case.extension:
            line += "，已依法延长十个工作日"
        return line + ("；" + case.pauses[-1].reason + "，暂停计时" if case.paused else "")

    def _missing_line(self, case: Case) -> str:
        missing = "、".join(s.name for s in case.missing_materials())
        return f"\n待补充材料：{missing}" if missing and case.state is State.DRAFT else ""

    def _notice_part(self, case: Case) -> str:
        if not case.notices or case.state is not State.RETURNED:
            return ""
        return "\n\n" + case.notice_text(len(case.notices))

    async def _my_materials(self, conv: Conversation, _: str) -> str:
        actor = await self._actor(conv)
        docs = await self._space.documents(actor)
        if not docs:
            return texts.NO_MATERIALS
        lines = []
        for n, doc in enumerate(docs, start=1):
            until = doc.current.valid_to
            valid = f"，有效期至 {until}" if until else ""
            lines.append(f"{n}. {doc.title}（第 {doc.current.n} 版{valid}）")
        return texts.MY_MATERIALS.format(count=len(docs), lines="\n".join(lines))

    # -- rating (好差评) ----------------------------------------------------------------------

    async def _start_rating(self, conv: Conversation, _: str) -> str:
        actor = await self._actor(conv)
        page = await self._cases.list_for(actor, size=50)
        open_to_rate = [c for c in page.items if c.state in RATEABLE and c.rating is None][:9]
        if not open_to_rate:
            return texts.NOTHING_TO_RATE
        conv.step, conv.data = "rating", {"choices": [c.number for c in open_to_rate]}
        items = "\n".join(
            f"{n}. {c.number} {c.terms.name}" for n, c in enumerate(open_to_rate, start=1)
        )
        return texts.RATE_PICK.format(items=items)

    async def _rate(self, conv: Conversation, text: str) -> str:
        choices: list[str] = conv.data.get("choices", [])
        parts = text.replace(",", " ").replace("，", " ").split()
        if len(parts) == 1 and len(choices) == 1:
            parts = ["1", *parts]
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            return texts.RATE_BAD_INPUT
        pick, grade = int(parts[0]) - 1, int(parts[1]) - 1
        if not (0 <= pick < len(choices) and 0 <= grade < len(RATINGS)):
            return texts.RATE_BAD_INPUT
        actor = await self._actor(conv)
        level = RATINGS[grade]
        conv.effect = True
        case = await self._cases.rate(actor, choices[pick], level, version=None)
        conv.step, conv.data = "idle", {}
        if grade >= 3:  # 不满意 / 非常不满意
            return texts.RATE_SORRY.format(level=level)
        return texts.RATE_THANKS.format(number=case.number, level=level)

    async def _start_booking(self, conv: Conversation, _: str) -> str:
        return await self._booking.start(conv, await self._actor(conv))

    async def _start_move(self, conv: Conversation, _: str) -> str:
        return await self._booking.start_move(conv, await self._actor(conv))

    async def _start_cancel_booking(self, conv: Conversation, _: str) -> str:
        return await self._booking.start_cancel(conv, await self._actor(conv))

    async def _help(self, conv: Conversation, _: str) -> str:
        return texts.HELP

    async def _cancel(self, conv: Conversation, _: str) -> str:
        conv.step, conv.data = "idle", {}
        return texts.CANCELLED

    async def _actor(self, conv: Conversation) -> Actor:
        actor = await account_of_openid(self._store, conv.openid, china_date(self._clock()))
        if actor is None:
            raise NeedsBinding(texts.BIND_FIRST)
        return actor


class NeedsBinding(DomainError):
    code = "needs_binding"


def _case_lines(cases: list[CaseLine]) -> str:
    return "\n".join(
        texts.CASE_LINE.format(number=c.number, matter=c.matter_name, state=LABELS_ZH[c.state])
        for c in cases
    )


def _offer(conv: Conversation, matters: list[Matter]) -> str:
    """The matters as a numbered list to pick from; the next number typed opens its guide."""
    conv.step, conv.data = "picking", {"choices": [m.code for m in matters]}
    return "\n".join(f"{n}. {m.name}（{m.department_name}）" for n, m in enumerate(matters, 1))
