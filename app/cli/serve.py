"""``buchumen serve``: the HTTP service (and, in demo mode, its local simulators)."""

from __future__ import annotations

import argparse

from app.cli.common import console, settings_of
from app.settings import Settings
from storage.pairing import StoresNotPaired


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--demo", action="store_true", help="load the demo catalog and accounts")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from app.logs import configure_logging
    from app.main import create_app
    from app.services.staff import DEMO_STAFF_PASSWORD

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
    # Demo: a parcel a courier took travels by itself, one SF scan every 5 seconds.
    app = create_app(settings, warm_ocr=True, demo_parcels=5.0 if settings.demo else 0)
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None)
    except StoresNotPaired as exc:  # one clear line, not a traceback
        console.print(f"[bold red]cannot start[/]: {exc}", highlight=False, soft_wrap=True)
        return 1
    return 0


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
