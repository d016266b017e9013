"""``/guides/<code>``: a matter's whole 办事指南 on a phone page, open to anyone (no sign-in).

The chat sends a guide too long for one WeChat message as its essentials and a link here.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from app import keys

routes = web.RouteTableDef()


@routes.get("/guides/{code}")
async def guide(request: web.Request) -> web.Response:
    matter = await request.config_dict[keys.CATALOG].get(request.match_info["code"])
    sections: list[tuple[str, list[str]]] = []
    for line in matter.guide_text().splitlines():
        if line.startswith("【"):
            heading, _, rest = line[1:].partition("】")
            sections.append((heading, [rest] if rest else []))
        elif sections:
            sections[-1][1].append(line)
    # GB/T 36114 办理地点和时间: the department's hall, as the booking pages give it.
    context = {
        "matter": matter,
        "sections": sections,
        "hall": await request.config_dict[keys.APPOINTMENTS].hall(matter),
    }
    return aiohttp_jinja2.render_template("h5_guide.html", request, context)
