"""The public check of an electronic certificate, opened from the QR code printed on it."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from app import keys

routes = web.RouteTableDef()


@routes.get("/verify/{number:[A-Z0-9]{6,40}}/{sig:[0-9a-f]{20}}")
async def verify(request: web.Request) -> web.Response:
    record = await request.config_dict[keys.CERTIFICATES].verified(
        request.match_info["number"], request.match_info["sig"]
    )
    context = {"cert": record}
    status = 200 if record else 404
    return aiohttp_jinja2.render_template("verify.html", request, context, status=status)
