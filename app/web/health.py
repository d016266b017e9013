"""Health for the orchestrator: ``/healthz`` (the process answers) and ``/readyz`` (its stores
answer too, so traffic may come; for ``buchumen worker``, its OCR models are loaded too).
``/readyz`` names each store that fails and how: ``full`` when it has no room to write (a full
disk). Nothing is remembered here, so the answer turns ready by itself once the store
recovers."""

from __future__ import annotations

import asyncio

from aiohttp import web

from app import keys
from app.edge.errors import storage_full

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
            checks[name] = "full" if storage_full(exc) else f"unavailable: {type(exc).__name__}"
    if (warm := request.app.get(keys.OCR_WARM)) is not None:  # a worker: warm before work
        checks["ocr"] = "ok" if warm.is_set() else "warming up"
    failing = [name for name, check in checks.items() if check != "ok"]
    body = {"status": "not_ready" if failing else "ready", "checks": checks, "failing": failing}
    return web.json_response(body, status=503 if failing else 200)
