"""``POST /sf/routes``: SF's route pushes, believed only with SF's digest, each event kept once.

SF acknowledges with ``return_code`` 0000 and pushes again otherwise, so an answer of 0000 is
given only once every event is recorded; a failure answers 1000 and the repeat is harmless
(events are keyed). A forged push is refused with 403 and changes nothing.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from app import keys
from logistics.route_push import ACCEPTED, RETRY, PushRejected

routes = web.RouteTableDef()
log = structlog.get_logger(__name__)
MAX_PUSH_BYTES = 64 * 1024  # ten routes are a few kilobytes


@routes.post("/sf/routes")
async def route_push(request: web.Request) -> web.Response:
    account = request.config_dict.get(keys.SF_ACCOUNT)
    if account is None:
        raise web.HTTPNotFound()  # no courier configured
    if request.content_length is not None and request.content_length > MAX_PUSH_BYTES:
        return web.json_response(RETRY | {"return_msg": "报文过大"}, status=413)
    form = {name: str(value) for name, value in (await request.post()).items()}
    try:
        events = account.verify(form)
    except PushRejected as exc:
        log.warning("sf_push_rejected", reason=exc.detail)
        return web.json_response(RETRY | {"return_msg": "验证失败"}, status=403)
    try:
        kept = await request.config_dict[keys.CUSTODY].record_routes(events)
    except Exception:
        log.exception("sf_push_not_recorded", events=len(events))
        return web.json_response(RETRY)
    log.info("sf_push_recorded", events=len(events), new=kept)
    return web.json_response(ACCEPTED)
