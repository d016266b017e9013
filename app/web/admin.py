"""The administrator's phone page: each hall's booking rules, who is paused for missed visits
(with 解除), and the working-day calendar's overrides.

Every form posts back, and a success redirects with a fixed key (never text from the URL); a
refusal shows the page again with the reason in Chinese and changes nothing.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.actors import Actor, Role
from app.domain.appointments import HallRules, slot_places, span_zh
from app.domain.cases import CHINA, china_date
from app.domain.errors import DomainError, ValidationFailed
from app.edge.errors import Refusal, on_refusal, status_of
from app.web.session import checked_form, csrf_token
from app.web.staff import STAFF, staff_actor

routes = web.RouteTableDef()
PAGE = "/staff/admin"
DONE = {
    "hall": "大厅规则已保存",
    "lift": "已解除限制，该申请人可以重新在线预约",
    "calendar": "工作日历已调整",
    "year": "该年放假安排已确认，到期日按录入的安排计算",
}
NUMBERS = {  # form field -> (set_rules keyword, parse)
    "capacity": ("capacity", int),
    "cutoff_hours": ("cutoff_hours", float),
    "no_show_limit": ("no_show_limit", int),
    "no_show_days": ("no_show_days", int),
    "restrict_days": ("restrict_days", int),
}


def _admin(request: web.Request) -> Actor:
    actor = staff_actor(request)
    if actor.role is not Role.ADMIN:
        raise web.HTTPForbidden(text="管理页面仅供系统管理员使用。")
    return actor


@routes.get(PAGE)
async def page(request: web.Request) -> web.Response:
    _admin(request)
    done = request.query.get("done", "")
    where = {"hall": request.query.get("at", ""), "lift": "restrictions", "year": "calendar"}.get(
        done, done
    )
    return await _render(request, done=(where, DONE[done]) if done in DONE else None)


def _refused_at(where: str) -> Refusal:
    """The page again, the reason beside the form at ``where`` (the route's names filled in)."""

    async def render(request: web.Request, exc: DomainError) -> web.Response:
        return await _render(request, refused=(where.format_map(request.match_info), exc))

    return render


@routes.post(PAGE + "/hall/{department}")
@on_refusal(_refused_at("{department}"))
async def set_hall(request: web.Request) -> web.Response:
    actor = _admin(request)
    form = await checked_form(request, STAFF)
    department = request.match_info["department"]
    await request.config_dict[keys.APPOINTMENTS].admin.set_rules(
        actor, department, **_hall_changes(form)
    )
    raise web.HTTPSeeOther(f"{PAGE}?done=hall&at={department}#hall-{department}")


@routes.post(PAGE + "/restrictions/{username}/lift")
@on_refusal(_refused_at("restrictions"))
async def lift(request: web.Request) -> web.Response:
    actor = _admin(request)
    await checked_form(request, STAFF)
    await request.config_dict[keys.APPOINTMENTS].admin.lift_restriction(
        actor, request.match_info["username"]
    )
    raise web.HTTPSeeOther(f"{PAGE}?done=lift#restrictions")


@routes.post(PAGE + "/calendar")
@on_refusal(_refused_at("calendar"))
async def set_day(request: web.Request) -> web.Response:
    actor = _admin(request)
    form = await checked_form(request, STAFF)
    day = _date(form.get("day", ""), "日期")
    if day is None:
        raise ValidationFailed("请选择要调整的日期")
    await request.config_dict[keys.CALENDAR].set_override(
        actor,
        day,
        workday=form.get("workday") == "work",
        note=form.get("note", ""),
        now=request.config_dict[keys.CASES].now(),
    )
    raise web.HTTPSeeOther(f"{PAGE}?done=calendar#calendar")


@routes.post(PAGE + "/calendar/confirm")
@on_refusal(_refused_at("calendar"))
async def confirm_year(request: web.Request) -> web.Response:
    actor = _admin(request)
    form = await checked_form(request, STAFF)
    year = form.get("year", "")
    if not (year.isdigit() and len(year) == 4):
        raise ValidationFailed("请选择要确认的年份")
    await request.config_dict[keys.CALENDAR].confirm_year(
        actor, int(year), note=form.get("note", ""), now=request.config_dict[keys.CASES].now()
    )
    raise web.HTTPSeeOther(f"{PAGE}?done=year#calendar")


def _hall_changes(form: dict[str, str]) -> dict[str, Any]:
    """What the administrator filled in; a blank field keeps its current value."""
    changes: dict[str, Any] = {}
    for field, (keyword, parse) in NUMBERS.items():
        text = form.get(field, "").strip()
        if text:
            try:
                changes[keyword] = parse(text)
            except ValueError:
                raise ValidationFailed(f"“{text}”不是数字，请重新填写") from None
    if (close := _date(form.get("close", ""), "闭厅日期")) is not None:
        changes["close"] = [close]
    if (reopen := _date(form.get("reopen", ""), "恢复开放日期")) is not None:
        changes["reopen"] = [reopen]
    if slots := form.get("slots", "").split():
        changes["slots"] = dict(map(_slot_places, slots))
    return changes


def _date(text: str, what: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"{what}“{text}”格式不对，请按 2026-12-31 的格式填写") from None


def _slot_places(text: str) -> tuple[time, int | None]:
    try:
        return slot_places(text)
    except ValueError:
        raise ValidationFailed(
            f"时段“{text}”格式不对，请写成 11:30=2（0 表示关闭，默认 表示恢复）"
        ) from None


async def _render(
    request: web.Request,
    *,
    done: tuple[str, str] | None = None,
    refused: tuple[str, DomainError] | None = None,
) -> web.Response:
    """The page; ``done`` and ``refused`` say (where, what) next to the form concerned."""
    accounts = request.config_dict[keys.ACCOUNTS]
    hall = request.config_dict[keys.APPOINTMENTS]
    calendars = request.config_dict[keys.CALENDAR]
    today = china_date(request.config_dict[keys.CASES].now())
    names: dict[str, str] = {}
    for matter in await request.config_dict[keys.CATALOG].matters():
        names.setdefault(matter.department, matter.department_name)
    halls = [
        {"code": code, "name": name, "rules": await hall.rules(code)}
        for code, name in sorted(names.items())
    ]
    paused = []
    for r in await hall.admin.restrictions():
        paused.append({
            "person": r.person, "name": await accounts.name_of(r.person),
            "hall": names.get(r.department, r.department),
            "until": r.until.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
        })  # fmt: skip
    overrides = [
        d for year in (today.year, today.year + 1) for d in await calendars.overrides(year)
    ]
    context = {
        "csrf": csrf_token(request, STAFF),
        "done": {"where": done[0], "text": done[1]} if done else None,
        "refused": {"where": refused[0], "text": refused[1].message} if refused else None,
        "halls": halls,
        "places": [h["code"] for h in halls] + ["restrictions", "calendar"],  # where forms are
        "describe": _describe,
        "paused": paused,
        "overrides": overrides,
        "uncovered": await calendars.uncovered_years(today),
    }
    status = status_of(refused[1]) if refused else 200
    return aiohttp_jinja2.render_template("staff_admin.html", request, context, status=status)


def _describe(rules: HallRules) -> list[str]:
    """The hall's rules in a few plain lines."""
    own = "、".join(f"{t:%H:%M} {n} 人" for t, n in rules.slot_capacity)
    closed = "、".join(sorted(d.isoformat() for d in rules.closures)) or "无"
    return [
        f"每个半小时 {rules.capacity} 人" + (f"（{own}）" if own else ""),
        f"预约前 {span_zh(rules.cutoff)}截止改约和取消",
        f"{rules.no_show_window.days} 天内未到 {rules.no_show_limit} 次，"
        f"暂停在线预约 {rules.restriction.days} 天",
        f"闭厅日：{closed}",
    ]
