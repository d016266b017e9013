"""The department pre-reviewer's phone pages: the queue, a case with its photos, the decisions.

Every form carries the session's token and the case version the reviewer saw: if a colleague
decided first, the second decision is refused with a sentence saying so, nothing overwritten.
The case page offers only the actions the case's state allows (``actions_open``); after each
one it says what happened, from a fixed message key in the redirect (never text from the URL).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.actors import Actor, Role
from app.domain.case_states import (
    DECIDING,
    DEPARTMENT_TURN,
    LABELS_ZH,
    Action,
    actions_open,
    may_take,
)
from app.domain.cases import Case
from app.domain.errors import ValidationFailed
from app.domain.legal_clock import ART45_KINDS
from app.domain.notices import DEFECTS, Correction, defects_for
from app.edge.bounds import MAX_PAGE, query_int
from app.edge.errors import back, back_to
from app.edge.views import case_views
from app.services.case_reads import NEEDS_A_REASON
from app.services.cases import CaseService
from app.web.pickup import courier_view
from app.web.session import checked_form, csrf_token
from app.web.staff import STAFF, staff_actor

routes = web.RouteTableDef()
PAGE_SIZE = 20
# The case page's forms and the action each takes; a form shows only while its action is open.
FORMS = {
    "return": Action.RETURN,
    "accept": Action.ACCEPT,
    "refuse": Action.REFUSE,
    "approve": Action.APPROVE,
    "reject": Action.REJECT,
    "issue": Action.ISSUE_CERTIFICATE,
}
# What the page says after an action, by the key its redirect carries, with the action it
# reports: while that action is still open it cannot have been done, and the page stays quiet.
DONE: dict[str, tuple[str, Action | None]] = {
    "approved": ("已预审通过，已通知申请人。", Action.APPROVE),
    "returned": ("已一次性告知申请人补正，共 {items} 项。", Action.RETURN),
    "rejected": ("已作出不予许可决定，已通知申请人。", Action.REJECT),
    "accepted": ("已受理，受理通知书已发送申请人。", Action.ACCEPT),
    "refused": ("已作出不予受理决定，已通知申请人。", Action.REFUSE),
    "extended": ("已延长办理期限十个工作日，已告知申请人延期理由。", None),
    "paused": ("已暂停计时，已书面告知申请人所需时间。", None),
    "resumed": ("已恢复计时，已告知申请人。", None),
    "issued": (
        "已出证，电子证照生成后存入申请人的个人空间，并通知申请人。",
        Action.ISSUE_CERTIFICATE,
    ),
    "retry-pickup": ("已重新预约上门取件。", None),
    "retry-delivery": ("已重新预约证照寄回。", None),
}


def _reviewer(request: web.Request) -> Actor:
    actor = staff_actor(request)
    if actor.department is None:
        raise web.HTTPForbidden(text="预审工作台仅供部门预审人员使用。")
    return actor


@routes.get("/staff/queue")
async def queue(request: web.Request) -> web.Response:
    actor = _reviewer(request)
    state = request.query.get("state") or None
    matter = request.query.get("matter") or None
    page_no = query_int(request, "page", low=1, high=MAX_PAGE, default=1)
    page = await request.config_dict[keys.CASES].list_for(
        actor, state=state, matter=matter, page=page_no, size=PAGE_SIZE
    )
    matters = await request.config_dict[keys.CATALOG].matters(department=actor.department)
    context = {
        "cases": await case_views(request, page.items),
        "page": page,
        "pages": max(1, -(-page.total // PAGE_SIZE)),
        "matters": [(m.code, m.name) for m in matters],
        "states": [(s.value, LABELS_ZH[s]) for s in sorted(DEPARTMENT_TURN, key=str)],
        "chosen": {"state": state or "", "matter": matter or ""},
        "csrf": csrf_token(request, STAFF),
        "troubles": await request.config_dict[keys.SHIPMENTS].troubles(actor.department or ""),
        "proxies": len(await request.config_dict[keys.PROXIES].pending_for(actor)),
        "urged": await request.config_dict[keys.URGING].standing_cards(actor.department or ""),
        "unreached": await request.config_dict[keys.DEAD_LETTERS].unreached(actor.department or ""),
    }
    return aiohttp_jinja2.render_template("staff_queue.html", request, context)


@routes.get("/staff/cases/{number}")
@back("/staff/queue")
async def case_page(request: web.Request) -> web.Response:
    return await _case_page(request, staff_actor(request), {}, done=request.query.get("done", ""))


@routes.post("/staff/cases/{number}/edit")
async def edit(request: web.Request) -> web.Response:
    """返回修改 from the preview: the case page again, every tick and remark as it was left."""
    actor, number, form, _ = await _decide(request)
    case = await request.config_dict[keys.CASES].get(actor, number)
    return await _case_page(request, actor, _draft(form, [s.id for s in case.slots]))


async def _case_page(
    request: web.Request, actor: Actor, draft: dict[str, str], *, done: str = ""
) -> web.Response:
    """The case as ``actor`` may see it; ``draft`` fills the correction form (with the version
    it was begun on, so a colleague's decision since still refuses it), ``done`` the banner."""
    number = request.match_info["number"]
    case = await request.config_dict[keys.CASES].view(actor, number, purpose="review")
    [view] = await case_views(request, [case])
    open_ = actions_open(case.state, actor.role)
    deciding = case.state in DECIDING and actor.role is Role.REVIEWER
    context = {
        "case": view,
        "version": draft.get("version") or case.version,
        "draft": draft,
        "done": _banner(done, case),
        "applicant": await request.config_dict[keys.ACCOUNTS].applicant_label(
            case.applicant_id, case.enterprise_uscc
        ),
        "defects": DEFECTS,
        "defect_sets": {s.id: defects_for(s.expected_kind) for s in case.slots},
        "csrf": csrf_token(request, STAFF),
        "may": {form: action in open_ for form, action in FORMS.items()}
        | {
            "extend": deciding and case.extension is None,
            "pause": deciding and not case.paused,
            "resume": deciding and case.paused,
        },
        "art45": ART45_KINDS,
        "idle": not open_,
        "courier": await courier_view(request, case, actor),
        "needs_reason": actor.role in NEEDS_A_REASON,
        "unreached": await request.config_dict[keys.DEAD_LETTERS].unreached_case(case.number),
    }
    return aiohttp_jinja2.render_template("staff_case.html", request, context)


def _banner(done: str, case: Case) -> str:
    """The sentence for the ``done`` key from the query, if it is one and still true."""
    text, action = DONE.get(done, ("", None))
    if action is not None and may_take(action, case.state):
        return ""  # still to be done: a stale or made-up link
    if action is Action.RETURN:
        return text.format(items=len(case.notices[-1].items)) if case.notices else ""
    return text


@routes.get("/staff/cases/{number}/materials/{slot}/photo")
async def photo(request: web.Request) -> web.Response:
    """The photo through a five-minute link; the look (with its reason) is recorded."""
    actor = staff_actor(request)
    ref = await request.config_dict[keys.CASES].open_material(
        actor,
        request.match_info["number"],
        request.match_info["slot"],
        reason=request.query.get("reason", ""),
    )
    url = await request.config_dict[keys.OBJECTS].download_url(ref.object_key)
    raise web.HTTPFound(url)


def _corrections(form: dict[str, Any], slots: list[str]) -> tuple[list[Correction], frozenset[str]]:
    """The reviewer's one-tap defects and remarks per material, and the findings overruled."""
    items = []
    for slot in [*slots, ""]:
        defects = tuple(d for d in DEFECTS if form.get(f"defect:{slot}:{d}"))
        remark = str(form.get(f"remark:{slot}", "")).strip()
        if remark and not defects and slot:
            defects = ("other",)
        if defects or remark:
            items.append(Correction(slot or None, defects, remark[:500]))
    dismissed = frozenset(s for s in slots if form.get(f"dismiss:{s}"))
    return items, dismissed


def _draft(form: dict[str, str], slots: list[str]) -> dict[str, str]:
    """The correction form's own fields, as posted: what the preview carries and 返回修改 shows."""
    names = ["version"]
    for slot in [*slots, ""]:
        names += [f"defect:{slot}:{d}" for d in DEFECTS] + [f"remark:{slot}", f"dismiss:{slot}"]
    return {name: form[name] for name in names if form.get(name)}


async def _decide(request: web.Request) -> tuple[Actor, str, dict[str, Any], int | None]:
    """The reviewer, the form and the version they saw; a refusal leads back to the case."""
    number = request.match_info["number"]
    back_to(request, f"/staff/cases/{number}")
    actor = _reviewer(request)
    form = await checked_form(request, STAFF)
    try:
        version = int(form.get("version", ""))
    except ValueError:
        version = None
    return actor, number, form, version


@routes.post("/staff/cases/{number}/preview")
async def preview(request: web.Request) -> web.Response:
    """The notice exactly as the applicant would read it, before it is sent."""
    actor, number, form, _ = await _decide(request)
    cases = request.config_dict[keys.CASES]
    case = await cases.get(actor, number)
    slots = [s.id for s in case.slots]
    items, dismissed = _corrections(form, slots)
    text = await cases.preview_return(actor, number, items, dismissed=dismissed)
    context = {"number": number, "text": text, "draft": _draft(form, slots),
               "csrf": csrf_token(request, STAFF)}  # fmt: skip
    return aiohttp_jinja2.render_template("staff_preview.html", request, context)


Decide = Callable[[CaseService, Actor, str, dict[str, Any], int | None], Awaitable[object]]


async def _decision(request: web.Request, done: str, decide: Decide) -> web.Response:
    """Sign-in, token and version checked; the decision taken; back to the case saying so
    (``done``, a key of ``DONE``), or a page saying why not."""
    actor, number, form, version = await _decide(request)
    await decide(request.config_dict[keys.CASES], actor, number, form, version)
    raise web.HTTPSeeOther(_done(number, done))


def _done(number: str, key: str) -> str:
    return f"/staff/cases/{quote(number, safe='')}?done={key}"


@routes.post("/staff/cases/{number}/return")
async def return_case(request: web.Request) -> web.Response:
    async def decide(
        cases: CaseService, actor: Actor, number: str, form: dict[str, Any], version: int | None
    ) -> object:
        case = await cases.get(actor, number)
        items, dismissed = _corrections(form, [s.id for s in case.slots])
        return await cases.return_for_correction(
            actor, number, items, version=version, dismissed=dismissed
        )

    return await _decision(request, "returned", decide)


@routes.post("/staff/cases/{number}/courier/{kind:pickup|delivery}/retry")
async def retry_courier(request: web.Request) -> web.Response:
    """Book a failed pickup or delivery again (after checking with the applicant)."""
    actor, number, _, _ = await _decide(request)
    kind = request.match_info["kind"]
    await request.config_dict[keys.SHIPMENTS].retry(actor, number, kind)
    raise web.HTTPSeeOther(_done(number, f"retry-{kind}"))


def _days(value: object) -> int:
    text = str(value or "").strip()
    if not text.isdigit():
        raise ValidationFailed("请填写预计所需的天数（1 至 365 天）")
    return int(text)


def _text(form: dict[str, Any], name: str) -> str:
    return str(form.get(name, ""))


# The one-tap decisions on the case page: the step in the path, the banner key it reports,
# and what it calls with the form's fields.
STEPS: dict[str, tuple[str, Decide]] = {
    "approve": ("approved", lambda c, a, n, _, v: c.approve(a, n, version=v)),
    "accept": ("accepted", lambda c, a, n, _, v: c.accept(a, n, version=v)),
    "resume": ("resumed", lambda c, a, n, _, v: c.resume(a, n, version=v)),
    "issue": (  # 出证: the electronic certificate follows
        "issued",
        lambda c, a, n, _, v: c.act(a, n, Action.ISSUE_CERTIFICATE, version=v, reason=None),
    ),
    "reject": (
        "rejected",
        lambda c, a, n, f, v: c.reject(a, n, _text(f, "reason"), _text(f, "basis"), version=v),
    ),
    "refuse": (
        "refused",
        lambda c, a, n, f, v: c.refuse_acceptance(
            a, n, _text(f, "reason"), _text(f, "basis"), version=v
        ),
    ),
    "extend": (  # Art. 42: ten more working days, the approving head named
        "extended",
        lambda c, a, n, f, v: c.extend(
            a, n, _text(f, "approved_by"), _text(f, "reason"), version=v
        ),
    ),
    "pause": (  # Art. 45: a hearing, testing, expert review… the limit leaves out
        "paused",
        lambda c, a, n, f, v: c.pause_for(
            a, n, _text(f, "kind"), _days(f.get("expected_days")), version=v
        ),
    ),
}


async def step(request: web.Request) -> web.Response:
    done, decide = STEPS[request.path.rsplit("/", 1)[1]]
    return await _decision(request, done, decide)


for _name in STEPS:
    routes.post(f"/staff/cases/{{number}}/{_name}")(step)
