"""Health for the orchestrator: ``/healthz`` (the process answers) and ``/readyz`` (its stores
answer too, so traffic may come)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from app import keys

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    checks: dict[str, str] = {}
    for name, key in (("documents", keys.DOCUMENTS), ("objects", keys.OBJECTS)):
        try:
            await asyncio.wait_for(request.app[key].ping(), timeout=2)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status=200 if ready else 503,
    )
