"""The 受理通知书 (行政许可法 Art. 32): the dated notice of acceptance the applicant keeps, with
the department's seal and the case number, shown to the case's applicant side only."""

from __future__ import annotations

import math

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.case_states import Action
from app.domain.errors import NotFoundError
from app.edge.errors import back
from app.edge.views import case_views
from app.web.session import signed_in

routes = web.RouteTableDef()
NOT_YET = "该办件尚未受理，受理后即可在此查看受理通知书。"


@routes.get("/h5/cases/{number}/acceptance")
@back("/h5/cases/{number}")
async def acceptance_notice(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    number = request.match_info["number"]
    cases = request.config_dict[keys.CASES]
    case = await cases.get(actor, number)  # the applicant's side only
    if case.accepted_on is None:
        raise NotFoundError(NOT_YET)
    history = await cases.history(actor, number)
    [view] = await case_views(request, [case])
    matter = await request.config_dict[keys.CATALOG].get(case.terms.code)
    applicant = await request.config_dict[keys.ACCOUNTS].applicant_label(
        case.applicant_id, case.enterprise_uscc
    )
    context = {
        "case": view,
        "department": matter.department_name,
        "applicant": applicant,
        "deemed": any(e.action == Action.DEEM_ACCEPTED.value for e in history),
        "limit_days": case.terms.limit_days,
        "seal": seal_letters(matter.department_name),
    }
    return aiohttp_jinja2.render_template("h5_acceptance.html", request, context)


def seal_letters(
    name: str, *, radius: float = 66, spread: float = 200
) -> list[dict[str, float | str]]:
    """Each character of ``name`` on the seal's upper arc: its place and its turn, in degrees,
    centred on the top of a 200 × 200 seal and spread over at most ``spread`` degrees."""
    step = min(spread / max(len(name), 1), 40)
    first = -step * (len(name) - 1) / 2
    letters: list[dict[str, float | str]] = []
    for i, char in enumerate(name):
        turn = first + i * step  # 0 is straight up, negative to the left
        rad = math.radians(turn)
        x, y = 100 + radius * math.sin(rad), 100 - radius * math.cos(rad)
        letters.append({"char": char, "x": round(x, 1), "y": round(y, 1), "turn": round(turn, 1)})
    return letters
