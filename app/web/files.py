"""``GET /files/<key>?exp=&sig=``: serve one object to whoever holds a valid signed link.

This is where the filesystem object store's download URLs lead (``storage.links``). The link is
checked (constant-time signature, then expiry) before the store is touched; a forged or expired
link gets 403 with a short Chinese message. Nothing is cached on the way: links are short-lived
and the bytes are personal information.
"""

from __future__ import annotations

from aiohttp import web

from app import keys
from storage.links import LINK_PATH, LinkRefused, LinkSigner
from storage.objects import InvalidKey, ObjectNotFound, validate_key

NO_STORE = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",  # the link is a bearer token: keep it out of Referer
    "X-Content-Type-Options": "nosniff",
}
REFUSED = "链接无效或已过期，请回到页面重新打开。"
GONE = "文件不存在或已被删除。"


def file_routes(signer: LinkSigner) -> list[web.RouteDef]:
    """The download route, verifying links with ``signer`` (same secret as the store's)."""

    async def download(request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        try:
            validate_key(key)
            signer.verify(key, request.query.get("exp"), request.query.get("sig"))
        except (InvalidKey, LinkRefused):
            return _text(403, REFUSED)
        objects = request.config_dict[keys.OBJECTS]
        try:
            info = await objects.stat(key)
            chunks = objects.get(key)
            first = await anext(chunks, b"")  # a missing object is found out before any header
        except ObjectNotFound:
            return _text(404, GONE)
        response = web.StreamResponse(headers=NO_STORE)
        response.content_type = info.content_type
        await response.prepare(request)
        await response.write(first)
        async for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
        return response

    return [web.get(LINK_PATH + "{key:.+}", download, allow_head=False)]


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message, charset="utf-8", headers=NO_STORE)
