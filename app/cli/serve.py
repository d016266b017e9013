"""``buchumen serve``: the HTTP service (and, in demo mode, its local simulators).

It stops on SIGTERM or SIGINT within ``BUCHUMEN_SHUTDOWN_GRACE`` seconds: it stops listening,
closes idle connections, answers the requests in flight while the background work winds down
(``app/edge/inflight.py``), then closes the rest and its resources. aiohttp's own stop would
close every connection first, and an upload in flight would never complete (aiohttp#2298).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import threading
import time

import structlog
from aiohttp import web

from app import keys
from app.cli.common import console, settings_of
from app.settings import Settings
from storage.pairing import StoresNotPaired

log = structlog.get_logger(__name__)
# Of the grace, what closing the connections and the resources is left (the stores, the OCR
# pool, the local simulators); the requests in flight have the rest.
CLOSING = 2.0


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--demo", action="store_true", help="load the demo catalog and accounts")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from app.logs import configure_logging
    from app.main import create_app

    settings = settings_of(args)
    configure_logging(settings.log_level, settings.log_format)
    listens = [(settings.host, settings.port, "BUCHUMEN_PORT")]
    if settings.demo and not settings.wechat_configured:  # the chat simulator, on loopback
        listens.append(
            ("127.0.0.1", settings.wechat_simulator_port, "BUCHUMEN_WECHAT_SIMULATOR_PORT")
        )
    for host, port, variable in listens:
        if not _free(host, port):
            console.print(
                f"[bold red]cannot start[/]: port {port} is in use (perhaps by another buchumen). "
                f"Stop that program, or choose another port with {variable}=...",
                highlight=False,
            )
            return 1
    if problem := _unwritable(settings):
        console.print(f"[bold red]cannot start[/]: {problem}", highlight=False, soft_wrap=True)
        return 1
    # Demo: a parcel a courier took travels by itself, one SF scan every 5 seconds.
    app = create_app(settings, warm_ocr=True, demo_parcels=5.0 if settings.demo else 0)
    try:
        asyncio.run(_serve(app, settings))
    except StoresNotPaired as exc:  # one clear line, not a traceback
        console.print(f"[bold red]cannot start[/]: {exc}", highlight=False, soft_wrap=True)
        return 1
    return 0


async def _serve(app: web.Application, settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, then stop within the grace."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=CLOSING / 2)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
        _announce(settings)  # only now: start-up (stores, migrations, demo data) is done
        await stop.wait()
        _overrun_ends_it(settings.shutdown_grace)
        await _answer_in_flight(runner, app, settings.shutdown_grace - CLOSING)
    finally:
        await runner.cleanup()  # what is still open is closed: connections, then resources
    log.info("stopped")


async def _answer_in_flight(runner: web.AppRunner, app: web.Application, seconds: float) -> None:
    """Stop listening and answer the requests in flight, for ``seconds`` at most, while the
    background work winds down (``app.on_shutdown``)."""
    inflight = app[keys.INFLIGHT]
    log.info("stopping", in_flight=inflight.count, grace_seconds=seconds + CLOSING)
    inflight.stopping = True  # every answer from now on ends its connection
    for site in list(runner.sites):
        await site.stop()  # no new connection: the port refuses
    await asyncio.sleep(0)  # requests already received reach their handler first
    for connection in runner.server.connections if runner.server else []:
        if not inflight.serving(connection):
            connection.force_close()  # idle keep-alive: nothing to answer on it
    winding_down = asyncio.create_task(app.shutdown())
    try:
        async with asyncio.timeout(seconds):
            await inflight.drained()
            await winding_down
    except TimeoutError:
        log.warning("stop_cut_requests", in_flight=inflight.count)


def _overrun_ends_it(grace: float) -> None:
    """A stop still going after the grace ends the process, before the container's SIGKILL:
    a step that cannot be interrupted (an OCR job the pool waits for) must not hold it."""
    started = time.monotonic()

    def end() -> None:
        log.error("stop_overran", seconds=round(time.monotonic() - started, 1))
        os._exit(1)

    watchdog = threading.Timer(grace, end)
    watchdog.daemon = True
    watchdog.start()


def _unwritable(settings: Settings) -> str | None:
    """What stops the service keeping its data (a read-only or full disk), in one sentence."""
    import tempfile

    places = [("BUCHUMEN_DATA_DIR", settings.data_dir)]
    if settings.document_store == "sqlite":
        places.append(("BUCHUMEN_SQLITE_PATH", settings.resolved_sqlite_path.parent))
    if settings.object_store == "filesystem":
        places.append(("BUCHUMEN_OBJECTS_DIR", settings.resolved_objects_dir))
    for variable, where in places:
        try:
            where.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=where) as probe:
                probe.write(b"ok")
        except OSError as e:
            return (
                f"cannot write to {where.resolve()} ({e.strerror or e}). "
                f"Make it writable, or choose another directory with {variable}=..."
            )
    return None


def _free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be listened on now (to say so plainly, not in a traceback)."""
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _announce(settings: Settings) -> None:
    """Said once the port really listens: where the service is, and the demo's doors."""
    from app.services.staff import DEMO_STAFF_PASSWORD

    console.print(
        f"[bold green]buchumen[/] listening on http://{settings.host}:{settings.port} "
        f"({'demo' if settings.demo else 'production'} mode, "
        f"documents: {settings.document_store}, objects: {settings.object_store})"
    )
    if settings.demo:
        base = f"http://{settings.host}:{settings.port}"
        console.print(
            f"  API docs:    {base}/api/v1/docs\n"
            f"  Demo tokens: {base}/api/v1/demo/tokens\n"
            f"  Reviewers:   {base}/staff/login  (reviewer-mz … / {DEMO_STAFF_PASSWORD})\n"
            f"  Supervisor:  {base}/staff/login  (demo-supervisor / {DEMO_STAFF_PASSWORD})\n"
            f"  Courier:     {base}/staff/login  (demo-courier / {DEMO_STAFF_PASSWORD})\n"
            f"  Hall kiosk:  {base}/staff/login  (demo-kiosk / {DEMO_STAFF_PASSWORD})\n"
            f"  Admin:       {base}/staff/login  (demo-admin / {DEMO_STAFF_PASSWORD})\n"
            f"  Data:        {settings.data_dir.resolve()}"
            + (
                ""
                if settings.wechat_configured
                else f"\n  WeChat chat: http://127.0.0.1:{settings.wechat_simulator_port}/chat"
                "  (a local WeChat simulator: chat with the account from a browser)"
            )
        )
