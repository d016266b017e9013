"""What ``buchumen serve`` and ``buchumen worker`` share: the checks before start, and serving an
app until SIGTERM or SIGINT, then stopping within ``BUCHUMEN_SHUTDOWN_GRACE`` seconds.

The stop: stop listening, close idle connections, answer the requests in flight while the
background work winds down (``app/edge/inflight.py``; the outbox dispatchers release what they
could not finish), then close the rest and the resources. aiohttp's own stop would close every
connection first, and an upload in flight would never complete (aiohttp#2298).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence

import structlog
from aiohttp import web

from app import keys
from app.cli.common import console
from app.settings import Settings
from storage.pairing import StoresNotPaired

log = structlog.get_logger(__name__)
# Of the grace, what closing the connections and the resources is left (the stores, the OCR
# pool, the local simulators); the requests in flight have the rest.
CLOSING = 2.0


def cannot_start(settings: Settings, listens: Sequence[tuple[str, int, str]]) -> bool:
    """Say in one line why the process cannot start (a port taken, a directory it cannot
    write to); ``listens`` holds (host, port, the variable that sets it)."""
    for host, port, variable in listens:
        if not _free(host, port):
            console.print(
                f"[bold red]cannot start[/]: port {port} is in use (perhaps by another buchumen). "
                f"Stop that program, or choose another port with {variable}=...",
                highlight=False,
            )
            return True
    if problem := _unwritable(settings):
        console.print(f"[bold red]cannot start[/]: {problem}", highlight=False, soft_wrap=True)
        return True
    return False


def serve_until_stopped(
    app: web.Application, host: str, port: int, *, announce: Callable[[], None]
) -> int:
    """``run_until_stopped`` as a command's exit status: 0, or 1 after one clear line when the
    stores are not the pair this deployment made (``storage/pairing.py``)."""
    try:
        asyncio.run(run_until_stopped(app, host, port, announce=announce))
    except StoresNotPaired as exc:  # one clear line, not a traceback
        console.print(f"[bold red]cannot start[/]: {exc}", highlight=False, soft_wrap=True)
        return 1
    return 0


async def run_until_stopped(
    app: web.Application, host: str, port: int, *, announce: Callable[[], None]
) -> None:
    """Serve ``app`` on ``host:port`` until SIGTERM or SIGINT, then stop within the grace.

    ``announce`` is called once the port really listens (start-up is done by then).
    """
    grace = app[keys.SETTINGS].shutdown_grace
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=CLOSING / 2)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, host, port).start()
        announce()  # only now: start-up (stores, migrations, demo data) is done
        await stop.wait()
        _overrun_ends_it(grace)
        await _answer_in_flight(runner, app, grace - CLOSING)
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
