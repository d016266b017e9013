"""``/wechat``: where WeChat's servers deliver the account's messages (POST) and check the
server's address when it is configured (GET). The endpoint itself lives in bot/."""

from __future__ import annotations

from aiohttp import web

from app import keys

routes = web.RouteTableDef()


@routes.route("*", "/wechat")
async def wechat(request: web.Request) -> web.StreamResponse:
    endpoint = request.config_dict[keys.WECHAT]
    if request.method == "GET":
        return await endpoint.verify(request)
    if request.method == "POST":
        return await endpoint.receive(request)
    raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST"])
