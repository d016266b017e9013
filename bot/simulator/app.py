"""The simulator as an aiohttp app on 127.0.0.1, shared by tests and demo mode."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.simulator import chat, platform
from bot.simulator.faults import FAULTS, api_faults
from bot.simulator.push import PUSH_ATTEMPTS, PUSH_TIMEOUT, Mode
from bot.simulator.simulator import SIMULATOR, Simulator
from bot.simulator.state import Clock, utcnow

HERE = Path(__file__).parent
MAX_REQUEST_BYTES = platform.MAX_IMAGE_BYTES + 1024 * 1024  # a photo and its multipart framing


def create_simulator(
    *,
    token: str,
    encoding_aes_key: str,
    appid: str,
    secret: str,
    callback_url: str,
    mode: Mode = "safe",
    clock: Clock = utcnow,
    push_timeout: float = PUSH_TIMEOUT,
    push_attempts: int = PUSH_ATTEMPTS,
    history: Path | None = None,
) -> web.Application:
    """WeChat's API, its pushes to ``callback_url``, and a phone chat page at ``/chat``; with
    ``history`` (a file), the conversations the chat page shows survive a restart."""
    simulator = Simulator(
        token=token,
        encoding_aes_key=encoding_aes_key,
        appid=appid,
        secret=secret,
        callback_url=callback_url,
        mode=mode,
        clock=clock,
        push_timeout=push_timeout,
        push_attempts=push_attempts,
        history=history,
    )
    middlewares = [api_faults, platform.platform_errors]
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=middlewares)
    app[SIMULATOR] = simulator
    app[FAULTS] = simulator.faults
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
    )
    app.add_routes(platform.routes)
    app.add_routes(chat.routes)
    app.router.add_static("/chat/static", HERE / "static")

    async def release_slow_answers(app: web.Application) -> None:
        app[FAULTS].release()  # before the runner waits for the requests in flight

    async def close_pushes(app: web.Application) -> None:
        await app[SIMULATOR].close()

    app.on_shutdown.append(release_slow_answers)
    app.on_cleanup.append(close_pushes)
    return app


async def start_simulator(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on ``host:port`` (0: a free port); ``await runner.cleanup()`` stops it."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    base_url = f"http://{host}:{bound}"
    app[SIMULATOR].base_url = base_url
    return runner, base_url
