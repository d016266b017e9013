"""回访: the one who rated a case badly reads what was done about it and says if it helped."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.edge.errors import back
from app.services.follow_ups import NO_FOLLOW_UP
from app.web.session import checked_form, csrf_token, message, signed_in

routes = web.RouteTableDef()
ANSWERS = {"resolved": True, "unresolved": False}


@routes.get("/h5/cases/{number}/follow-up")
@back("/h5/cases/{number}")
async def follow_up_page(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    actor = await signed_in(request)
    item = await request.config_dict[keys.FOLLOW_UPS].of_case(number)
    if item is None or item.get("rater") != actor.id:  # nobody else learns it exists
        return message(request, NO_FOLLOW_UP + "。", status=404)
    context = {"f": item, "csrf": csrf_token(request)}
    return aiohttp_jinja2.render_template("h5_follow_up.html", request, context)


@routes.post("/h5/cases/{number}/follow-up")
@back("/h5/cases/{number}/follow-up")
async def reply(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    actor = await signed_in(request)
    form = await checked_form(request)
    answer = form.get("answer", "")
    if answer not in ANSWERS:
        return message(request, "请选择“问题已解决”或“仍未解决”。", status=422)
    service = request.config_dict[keys.FOLLOW_UPS]
    await service.reply(actor, number, ANSWERS[answer], request.config_dict[keys.CASES].now())
    raise web.HTTPSeeOther(f"/h5/cases/{number}/follow-up")
