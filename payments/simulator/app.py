"""The Alipay simulator as an aiohttp app on 127.0.0.1, shared by tests and demo mode."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.signing import new_key_pair
from payments.simulator.gateway import MAX_REQUEST_BYTES, SIMULATOR, AlipaySimulator, routes
from payments.simulator.ledger import Clock, Ledger, utcnow
from payments.simulator.notifier import ALIPAY_SCHEDULE, ATTEMPT_TIMEOUT, Notifier

SELLER_ID = "2088102180123456"


def create_alipay_simulator(
    *,
    app_id: str,
    app_public_key: rsa.RSAPublicKey,
    seller_id: str = SELLER_ID,
    alipay_private_key: rsa.RSAPrivateKey | None = None,
    clock: Clock = utcnow,
    notify_schedule: Sequence[float] = ALIPAY_SCHEDULE,
    notify_timeout: float = ATTEMPT_TIMEOUT,
) -> web.Application:
    """Alipay's gateway for one app; makes Alipay's own key pair unless given one."""
    alipay_key = alipay_private_key or new_key_pair()
    simulator = AlipaySimulator(
        app_id=app_id,
        app_public_key=app_public_key,
        seller_id=seller_id,
        alipay_private_key=alipay_key,
        ledger=Ledger(clock=clock),
        notifier=Notifier(
            private_key=alipay_key, schedule=notify_schedule, timeout=notify_timeout, clock=clock
        ),
    )
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SIMULATOR] = simulator
    app.add_routes(routes)

    async def stop_notifying(app: web.Application) -> None:
        await app[SIMULATOR].notifier.close()

    app.on_cleanup.append(stop_notifying)
    return app


async def start_alipay_simulator(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on ``host:port`` (0: a free port); returns the runner and the gateway URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    base_url = f"http://{host}:{runner.addresses[0][1]}"
    app[SIMULATOR].base_url = base_url
    return runner, f"{base_url}/gateway.do"
