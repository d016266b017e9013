"""API documents and demo helpers: the OpenAPI JSON, its human-readable page, demo tokens."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import version

import aiohttp_jinja2
from aiohttp import web

from app.api.common import reply
from app.api.openapi import ERRORS, build_openapi
from app.domain.errors import NotFoundError
from app.keys import DOCUMENTS, SETTINGS, TOKENS
from app.services.accounts import actor_for, list_accounts
from app.services.sessions import Use

routes = web.RouteTableDef()


def _spec() -> dict[str, object]:
    return build_openapi(version("buchumen"))


@routes.get("/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return reply(_spec())


@routes.get("/docs")
async def api_docs(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template(
        "api_docs.html", request, {"spec": _spec(), "errors": ERRORS}
    )


@routes.get("/demo/tokens")
async def demo_tokens(request: web.Request) -> web.Response:
    """Demo mode only: an API token for each demo account, so anyone can try the API with curl
    (an API token opens neither the staff pages nor the H5 pages)."""
    if not request.config_dict[SETTINGS].demo:
        raise NotFoundError("没有这个地址，请检查链接")
    store = request.config_dict[DOCUMENTS]
    issuer = request.config_dict[TOKENS]
    items = []
    for account in await list_accounts(store):
        if account.get("deleted_at"):
            continue  # a closed account has no token to hand out
        actor = await actor_for(store, account["_id"])
        items.append(
            {
                "username": account["_id"],
                "name": account.get("name"),
                "role": actor.role.value,
                "department": actor.department,
                "token": issuer.issue(actor, use=Use.API, ttl=timedelta(hours=12)),
            }
        )
    return reply({"items": items})
