"""The applicant's electronic certificate: a page to view it at phone width, save it, show its
check code; the picture itself only to the case's holder side, never through a shareable link."""

from __future__ import annotations

from urllib.parse import quote

import aiohttp_jinja2
import segno
from aiohttp import web
from markupsafe import Markup

from app import keys
from app.edge.errors import back
from app.web.session import signed_in

routes = web.RouteTableDef()


@routes.get("/h5/cases/{number}/certificate")
@back("/h5/cases/{number}")
async def certificate_page(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    number = request.match_info["number"]
    certificates = request.config_dict[keys.CERTIFICATES]
    record = await certificates.of_holder(actor, number)
    check = request.config_dict[keys.SETTINGS].public_base_url + certificates.verify_path(
        record["_id"]
    )
    svg = segno.make(check, error="m").svg_inline(scale=4, border=2, omitsize=True)
    context = {
        "number": number,
        "cert": record,
        "check": check,
        "qr": Markup(svg),  # noqa: S704 - segno's own markup
    }
    return aiohttp_jinja2.render_template("h5_certificate.html", request, context)


@routes.get("/h5/cases/{number}/certificate.png")
@back("/h5/cases/{number}")
async def certificate_png(request: web.Request) -> web.Response:
    """The picture, checked against the session at every request; ``?download=1`` saves it."""
    actor = await signed_in(request)
    number = request.match_info["number"]
    record, png = await request.config_dict[keys.CERTIFICATES].picture(actor, number)
    headers = {"Cache-Control": "private, no-store"}
    if request.query.get("download"):
        name = f"电子证照-{record['_id']}.png"
        headers["Content-Disposition"] = (
            f"attachment; filename=\"{record['_id']}.png\"; filename*=UTF-8''{quote(name)}"
        )
    return web.Response(body=png, content_type="image/png", headers=headers)
