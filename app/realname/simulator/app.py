"""The local FaceID as an aiohttp app on 127.0.0.1, shared by tests and demo mode."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from app.realname.simulator.faceid import (
    FACEID_SIMULATOR,
    MAX_REQUEST_BYTES,
    FaceIdSimulator,
    routes,
)
from app.realname.simulator.register import DEMO_REGISTER


def create_faceid_simulator(
    *,
    credentials: Mapping[str, str],
    register: Mapping[str, str] = DEMO_REGISTER,
    clock: Callable[[], float] = time.time,
    slow_seconds: float = 30.0,
) -> web.Application:
    """FaceID's API at ``/`` for the given accounts (SecretId -> SecretKey) and register."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[FACEID_SIMULATOR] = FaceIdSimulator(
        credentials=credentials, register=register, clock=clock, slow_seconds=slow_seconds
    )
    app.add_routes(routes)

    async def release_hanging_calls(app: web.Application) -> None:
        app[FACEID_SIMULATOR].release()

    app.on_shutdown.append(release_hanging_calls)
    return app


async def start_faceid_simulator(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on ``host:port`` (0: a free port); returns the runner and the endpoint."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner, f"http://{host}:{runner.addresses[0][1]}"


def new_credentials() -> tuple[str, str]:
    """A SecretId and SecretKey shaped like Tencent's (AKID + 32 characters; 32 characters)."""
    return "AKID" + secrets.token_hex(16), secrets.token_urlsafe(24)


@dataclass(frozen=True)
class RunningFaceId:
    """A local FaceID being served: where, with which key pair, and its state."""

    endpoint: str
    secret_id: str
    secret_key: str = field(repr=False)
    simulator: FaceIdSimulator


@asynccontextmanager
async def running_faceid_simulator(
    *,
    register: Mapping[str, str] = DEMO_REGISTER,
    port: int = 0,
    clock: Callable[[], float] = time.time,
    slow_seconds: float = 30.0,
) -> AsyncIterator[RunningFaceId]:
    """A local FaceID on 127.0.0.1 (a free port unless given) with a fresh key pair."""
    secret_id, secret_key = new_credentials()
    app = create_faceid_simulator(
        credentials={secret_id: secret_key},
        register=register,
        clock=clock,
        slow_seconds=slow_seconds,
    )
    runner, endpoint = await start_faceid_simulator(app, port=port)
    try:
        yield RunningFaceId(endpoint, secret_id, secret_key, app[FACEID_SIMULATOR])
    finally:
        await runner.cleanup()
