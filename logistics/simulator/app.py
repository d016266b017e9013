"""The SF simulator as an aiohttp app on 127.0.0.1, shared by tests and demo mode."""

from __future__ import annotations

from aiohttp import web

from logistics.simulator import api
from logistics.simulator.push import PUSH_ATTEMPTS
from logistics.simulator.simulator import SF_SIMULATOR, SfSimulator
from logistics.simulator.state import Clock, utcnow

MAX_REQUEST_BYTES = 256 * 1024  # SF caps a request far below this; orders are small


def create_sf_simulator(
    *,
    partner_id: str,
    check_word: str,
    callback_url: str,
    clock: Clock = utcnow,
    seed: int | None = None,
    push_attempts: int = PUSH_ATTEMPTS,
    push_retry_delay: float = 1.0,
) -> web.Application:
    """SF's gateway at ``/std/service`` and its route pushes to ``callback_url``."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SF_SIMULATOR] = SfSimulator(
        partner_id=partner_id,
        check_word=check_word,
        callback_url=callback_url,
        clock=clock,
        seed=seed,
        push_attempts=push_attempts,
        push_retry_delay=push_retry_delay,
    )
    app.add_routes(api.routes)

    async def close_pushes(app: web.Application) -> None:
        await app[SF_SIMULATOR].close()

    app.on_cleanup.append(close_pushes)
    return app


async def start_sf_simulator(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on ``host:port`` (0: a free port); returns the runner and the gateway URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    app[SF_SIMULATOR].base_url = f"http://{host}:{bound}"
    return runner, app[SF_SIMULATOR].service_url
