"""The real app served on a free local port for a bench, with or without its background jobs."""

from __future__ import annotations

from aiohttp import web


def without_background_jobs(app: web.Application) -> web.Application:
    """``app`` without its outbox dispatchers and periodic jobs (nothing queued is worked)."""
    # The context is the function background_ctx returns: known by where it was defined.
    kept = [
        c
        for c in app.cleanup_ctx
        if not getattr(c, "__qualname__", "").startswith("background_ctx.")
    ]
    if len(kept) != len(app.cleanup_ctx) - 1:
        raise RuntimeError("create_app has no background_ctx any more: update app/bench/serving.py")
    app.cleanup_ctx[:] = kept
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """``app`` listening on 127.0.0.1 (its cleanup contexts entered); the runner and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"
