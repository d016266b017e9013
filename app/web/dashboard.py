"""The supervisor's dashboard (电子监察): figures with server-drawn charts, the CSV, follow-ups,
and the background work that failed, sent back to work from here."""

from __future__ import annotations

import csv
import io
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.actors import Actor, Role
from app.domain.cases import RATINGS, china_date
from app.domain.identity import mask_sensitive
from app.domain.targets import TARGETS
from app.edge.bounds import query_int
from app.edge.errors import back
from app.services import supervision
from app.web.session import checked_form, csrf_token
from app.web.staff import STAFF, staff_actor

routes = web.RouteTableDef()
BAD = frozenset(RATINGS[3:])  # shown in red on the ratings chart


def _supervisor(request: web.Request) -> Actor:
    """The signed-in supervisor, or the page refusing anyone else (strangers sign in first)."""
    actor = staff_actor(request)
    if actor.role is not Role.SUPERVISOR:
        raise web.HTTPForbidden(text=supervision.NOT_SUPERVISOR)  # shown as a page, in Chinese
    return actor


def _days(request: web.Request) -> int:
    periods = supervision.PERIODS
    days = query_int(request, "days", low=1, high=max(periods), default=periods[1])
    return days if days in periods else periods[1]


@routes.get("/staff/dashboard")
async def dashboard(request: web.Request) -> web.Response:
    actor = _supervisor(request)
    figures = await request.config_dict[keys.SUPERVISION].dashboard(actor, days=_days(request))
    names = {c.key: c.label for c in figures.by_department}
    context = {
        "d": figures,
        "periods": supervision.PERIODS,
        "live": sum(c.count for c in figures.by_department),
        "red": sum(c.warning == "red" for c in figures.cards),
        "yellow": sum(c.warning == "yellow" for c in figures.cards),
        "rated": sum(c.count for c in figures.ratings),
        "bad": BAD,
        "follow_ups": [_follow_up(f, figures.today.isoformat(), names) for f in figures.follow_ups],
        "csrf": csrf_token(request, STAFF),
        "hall": (hall := await request.config_dict[keys.APPOINTMENTS].hall_figures(_days(request))),
        "pay": await request.config_dict[keys.PAYMENT_SERVICE].figures(_days(request)),
        "names": names,
        "hall_waits": _waits(hall, names),
        "targets": await request.config_dict[keys.SUPERVISION].targets(actor),
        "target_heads": TARGETS,
        "provisional": await request.config_dict[keys.CALENDAR].uncovered_years(figures.today),
        "dead": await request.config_dict[keys.DEAD_LETTERS].listing(actor),
        "requeued": query_int(request, "requeued", low=0, high=100_000, default=0),
    }
    return aiohttp_jinja2.render_template("staff_dashboard.html", request, context)


def _waits(hall: list[dict[str, object]], names: dict[str, str]) -> list[dict[str, object]]:
    """Average waits as chart bars, for the departments whose visitors were called."""
    return [
        {"key": h["department"], "label": names.get(str(h["department"]), h["department"]),
         "count": h["wait"]}
        for h in hall if h["wait"] is not None
    ]  # fmt: skip


def _follow_up(doc: dict[str, Any], today: str, names: dict[str, str]) -> dict[str, Any]:
    # The applicant's words may carry an ID number or phone: masked like everywhere (PIPL).
    return doc | {
        "comment": mask_sensitive(doc.get("comment") or ""),
        "overdue": doc["due_on"] < today,
        "department_name": names.get(doc["department"], doc["department"]),
    }


@routes.get("/staff/dashboard.csv")
async def export(request: web.Request) -> web.StreamResponse:
    """Per-case figures as CSV, UTF-8 with a BOM so that Excel reads the Chinese right."""
    actor = _supervisor(request)
    now = request.config_dict[keys.CASES].now()
    rows = request.config_dict[keys.SUPERVISION].case_rows(actor, now)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="buchumen-{china_date(now):%Y%m%d}.csv"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    await response.write(_csv_line(supervision.CSV_HEADER, bom=True))
    async for row in rows:
        await response.write(_csv_line(row))
    await response.write_eof()
    return response


def _csv_line(row: Any, *, bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow(row)  # RFC 4180 line endings, quoting as needed
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


@routes.post("/staff/dashboard/payments/retry")
@back("/staff/dashboard")
async def retry_payment_job(request: web.Request) -> web.Response:
    actor = _supervisor(request)
    form = await checked_form(request, STAFF)
    await request.config_dict[keys.PAYMENT_SERVICE].retry(actor, form.get("key", ""))
    raise web.HTTPSeeOther("/staff/dashboard#payments")


@routes.post("/staff/dashboard/dead/retry")
@back("/staff/dashboard#dead-work")
async def retry_dead(request: web.Request) -> web.Response:
    """One message the outbox gave up on, back to work once its cause is fixed."""
    actor = _supervisor(request)
    form = await checked_form(request, STAFF)
    await request.config_dict[keys.DEAD_LETTERS].retry(actor, form.get("key", ""))
    raise web.HTTPSeeOther("/staff/dashboard?requeued=1#dead-work")


@routes.post("/staff/dashboard/dead/retry-topic")
@back("/staff/dashboard#dead-work")
async def retry_dead_topic(request: web.Request) -> web.Response:
    """Every message of one topic the outbox gave up on, back to work at once."""
    actor = _supervisor(request)
    form = await checked_form(request, STAFF)
    sent = await request.config_dict[keys.DEAD_LETTERS].retry_topic(actor, form.get("topic", ""))
    raise web.HTTPSeeOther(f"/staff/dashboard?requeued={sent}#dead-work")


@routes.post("/staff/dashboard/follow-ups/{number}/close")
@back("/staff/dashboard")
async def close_follow_up(request: web.Request) -> web.Response:
    actor = _supervisor(request)
    form = await checked_form(request, STAFF)
    await request.config_dict[keys.SUPERVISION].close_follow_up(
        actor, request.match_info["number"], form.get("resolution", "")
    )
    raise web.HTTPSeeOther("/staff/dashboard#follow-ups")
