"""Thin /api/v1 handlers: parse, call one service, render."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import MAXYEAR, MINYEAR, date
from typing import Any

from aiohttp import web

from app.api.common import actor_of, read_model, reply
from app.api.schemas import (
    ActionBody,
    CalendarOverride,
    CreateCase,
    ExtendBody,
    PauseBody,
    RejectBody,
    ReturnBody,
    Versioned,
    YearConfirmation,
)
from app.domain.actors import Actor, enterprise
from app.domain.case_states import Action
from app.domain.cases import Case, china_date
from app.domain.errors import ValidationFailed
from app.domain.notices import DEFECTS, Correction
from app.edge.bounds import INT64, MAX_PAGE, query_int
from app.edge.errors import error_response
from app.edge.views import case_views, event_view, matter_view, payments_view
from app.keys import CALENDAR, CASES, CATALOG, MATERIALS, OBJECTS, OPENINGS, PAYMENT_SERVICE
from app.services.cases import CaseService
from app.services.materials import MAX_MATERIAL_BYTES, TOO_LARGE
from storage.objects import LINK_LIFETIME

routes = web.RouteTableDef()
Step = Callable[[CaseService, Actor, str, Any], Awaitable[Case]]

# Actions that need no more than a reason; the others have their own body and endpoint.
# Hand-overs of originals and certificates are not here: each needs its scanned code (the
# courier and counter pages) or the courier's signed route push (/sf/routes).
SIMPLE_ACTIONS = {
    Action.START_REVIEW,
    Action.WITHDRAW,
    Action.ISSUE_CERTIFICATE,
    Action.CLOSE,
}


async def _render(request: web.Request, case: Case, *, status: int = 200) -> web.Response:
    [view] = await case_views(request, [case])
    return reply(view, status=status)


@routes.get("/matters")
async def list_matters(request: web.Request) -> web.Response:
    matters = await request.config_dict[CATALOG].matters(
        department=request.query.get("department"),
        target=request.query.get("target"),
    )
    return reply({"items": [matter_view(m, full=False) for m in matters]})


@routes.get("/matters/{code}")
async def get_matter(request: web.Request) -> web.Response:
    matter = await request.config_dict[CATALOG].get(request.match_info["code"])
    return reply(matter_view(matter, full=True) | {"guide": matter.guide_text()})


@routes.get("/defects")
async def list_defects(request: web.Request) -> web.Response:
    return reply({"items": [{"code": k, "text": v} for k, v in DEFECTS.items()]})


@routes.post("/cases")
async def create_case(request: web.Request) -> web.Response:
    """201 with the new case; 200 with the same case for a retry with its ``Idempotency-Key``."""
    actor = await actor_of(request)
    body = await read_model(request, CreateCase)
    principal = enterprise(body.enterprise) if body.enterprise else None
    case, opened = await request.config_dict[OPENINGS].open(
        actor,
        body.matter_code,
        on_behalf_of=principal,
        key=request.headers.get("Idempotency-Key"),
    )
    response = await _render(request, case, status=201 if opened else 200)
    response.headers["Location"] = f"/api/v1/cases/{case.number}"
    return response


@routes.get("/cases")
async def list_cases(request: web.Request) -> web.Response:
    actor = await actor_of(request)
    page = await request.config_dict[CASES].list_for(
        actor,
        state=request.query.get("state"),
        matter=request.query.get("matter"),
        page=query_int(request, "page", low=1, high=MAX_PAGE, default=1),
        size=query_int(request, "size", low=1, high=100, default=20),
    )
    return reply(
        {
            "items": await case_views(request, page.items),
            "total": page.total,
            "page": page.page,
            "size": page.size,
        }
    )


@routes.get("/cases/{number}")
async def get_case(request: web.Request) -> web.Response:
    case = await request.config_dict[CASES].view(
        await actor_of(request), request.match_info["number"], purpose="api"
    )
    return await _render(request, case)


@routes.get("/cases/{number}/history")
async def case_history(request: web.Request) -> web.Response:
    events = await request.config_dict[CASES].history(
        await actor_of(request), request.match_info["number"]
    )
    return reply({"items": [event_view(e) for e in events]})


@routes.put("/cases/{number}/materials/{slot}")
async def upload_material(request: web.Request) -> web.Response:
    actor = await actor_of(request)
    if (request.content_length or 0) > MAX_MATERIAL_BYTES:
        return error_response(413, "payload_too_large", TOO_LARGE)
    case = await request.config_dict[MATERIALS].upload(
        actor,
        request.match_info["number"],
        request.match_info["slot"],
        request.content.iter_chunked(64 * 1024),
        version=query_int(request, "version", low=0, high=INT64 - 1),
    )
    return await _render(request, case)


@routes.get("/cases/{number}/materials/{slot}/link")
async def material_link(request: web.Request) -> web.Response:
    ref = await request.config_dict[CASES].open_material(
        await actor_of(request),
        request.match_info["number"],
        request.match_info["slot"],
        reason=request.query.get("reason", ""),  # required of supervisors and administrators
    )
    url = await request.config_dict[OBJECTS].download_url(ref.object_key)
    expires_in = int(LINK_LIFETIME.total_seconds())  # the port's default lifetime
    return reply({"url": url, "content_type": ref.content_type, "expires_in": expires_in})


@routes.get("/cases/{number}/payments")
async def case_payments(request: web.Request) -> web.Response:
    statement = await request.config_dict[PAYMENT_SERVICE].statement(
        await actor_of(request), request.match_info["number"]
    )
    return reply(payments_view(statement))


@routes.post("/cases/{number}/payments")
async def start_payment(request: web.Request) -> web.Response:
    """A cashier URL for the case's fee (the amount is the catalog's; nothing is sent)."""
    checkout = await request.config_dict[PAYMENT_SERVICE].checkout(
        await actor_of(request), request.match_info["number"]
    )
    order = checkout.order
    body = {
        "cashier_url": checkout.cashier_url,
        "out_trade_no": order.out_trade_no,
        "amount_fen": order.amount_fen,
        "expires_at": order.expires_at.isoformat(),
    }
    return reply(body, status=201)


@routes.post("/cases/{number}/submit")
async def submit_case(request: web.Request) -> web.Response:
    actor = await actor_of(request)
    body = await read_model(request, Versioned)
    case = await request.config_dict[CASES].submit(
        actor, request.match_info["number"], version=body.version
    )
    return await _render(request, case)


@routes.post("/cases/{number}/return")
async def return_case(request: web.Request) -> web.Response:
    actor = await actor_of(request)
    body = await read_model(request, ReturnBody)
    items = [Correction(c.slot_id, tuple(c.defects), c.remark) for c in body.corrections]
    case = await request.config_dict[CASES].return_for_correction(
        actor,
        request.match_info["number"],
        items,
        version=body.version,
        dismissed=frozenset(body.dismiss_findings),
    )
    return await _render(request, case)


# The department's steps on a case: each reads its body, calls one service method, renders.
STEPS: dict[str, tuple[type[Versioned], Step]] = {
    "approve": (Versioned, lambda c, a, n, b: c.approve(a, n, version=b.version)),
    "accept": (Versioned, lambda c, a, n, b: c.accept(a, n, version=b.version)),
    "resume": (Versioned, lambda c, a, n, b: c.resume(a, n, version=b.version)),
    "reject": (
        RejectBody,
        lambda c, a, n, b: c.reject(a, n, b.reason, b.basis, version=b.version),
    ),
    "refuse": (
        RejectBody,
        lambda c, a, n, b: c.refuse_acceptance(a, n, b.reason, b.basis, version=b.version),
    ),
    "extend": (
        ExtendBody,
        lambda c, a, n, b: c.extend(a, n, b.approved_by, b.reason, version=b.version),
    ),
    "pause": (
        PauseBody,
        lambda c, a, n, b: c.pause_for(a, n, b.kind, b.expected_days, version=b.version),
    ),
}


async def case_step(request: web.Request) -> web.Response:
    """受理, 不予受理, 准予, 不予许可, the Art. 42 extension and the Art. 45 pause and resume."""
    actor = await actor_of(request)
    model, step = STEPS[request.path.rsplit("/", 1)[1]]
    body = await read_model(request, model)
    case = await step(request.config_dict[CASES], actor, request.match_info["number"], body)
    return await _render(request, case)


for _name in STEPS:
    routes.post(f"/cases/{{number}}/{_name}")(case_step)


@routes.post("/cases/{number}/actions/{action}")
async def act_on_case(request: web.Request) -> web.Response:
    actor = await actor_of(request)
    try:
        action = Action(request.match_info["action"])
    except ValueError:
        action = None
    if action not in SIMPLE_ACTIONS:
        names = "、".join(sorted(a.value for a in SIMPLE_ACTIONS))
        raise ValidationFailed(f"不支持的操作。可用操作：{names}")
    body = await read_model(request, ActionBody)
    case = await request.config_dict[CASES].act(
        actor, request.match_info["number"], action, version=body.version, reason=body.reason
    )
    return await _render(request, case)


@routes.get("/calendar/overrides")
async def list_overrides(request: web.Request) -> web.Response:
    await actor_of(request)
    items = await request.config_dict[CALENDAR].overrides(
        query_int(request, "year", low=MINYEAR, high=MAXYEAR)
    )
    return reply({"items": [{k: v for k, v in d.items() if k != "_version"} for d in items]})


@routes.put("/calendar/overrides/{day}")
async def put_override(request: web.Request) -> web.Response:
    actor = await actor_of(request)
    body = await read_model(request, CalendarOverride)
    try:
        day = date.fromisoformat(request.match_info["day"])
    except ValueError as exc:
        raise ValidationFailed("日期格式须为 YYYY-MM-DD") from exc
    saved = await request.config_dict[CALENDAR].set_override(
        actor, day, workday=body.workday, note=body.note, now=request.config_dict[CASES].now()
    )
    return reply({k: v for k, v in saved.items() if k != "_version"})


@routes.get("/calendar/years")
async def list_years(request: web.Request) -> web.Response:
    await actor_of(request)
    today = china_date(request.config_dict[CASES].now())
    return reply({"items": await request.config_dict[CALENDAR].years(today)})


@routes.put("/calendar/years/{year}")
async def confirm_year(request: web.Request) -> web.Response:
    actor = await actor_of(request)
    body = await read_model(request, YearConfirmation)
    year = request.match_info["year"]
    if not (year.isdigit() and MINYEAR <= int(year) <= MAXYEAR):
        raise ValidationFailed("年份须为四位数字，例如 2027")
    saved = await request.config_dict[CALENDAR].confirm_year(
        actor, int(year), note=body.note, now=request.config_dict[CASES].now()
    )
    return reply({k: v for k, v in saved.items() if k != "_version"})
