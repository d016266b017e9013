"""``buchumen serve``: the HTTP service (and, in demo mode, its local simulators).

By default one process does everything, the pre-check work and its OCR pool included; with
``BUCHUMEN_OCR_IN_WEB=false`` that is left to ``buchumen worker`` processes (app/cli/worker.py).
It stops on SIGTERM or SIGINT within ``BUCHUMEN_SHUTDOWN_GRACE`` seconds (app/cli/running.py).
"""

from __future__ import annotations

import argparse
import functools

from app.cli.common import console, settings_of
from app.cli.running import cannot_start, serve_until_stopped
from app.settings import Settings


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
    if cannot_start(settings, listens):
        return 1
    # Demo: a parcel a courier took travels by itself, one SF scan every 5 seconds.
    app = create_app(settings, warm_ocr=True, demo_parcels=5.0 if settings.demo else 0)
    announce = functools.partial(_announce, settings)
    return serve_until_stopped(app, settings.host, settings.port, announce=announce)


def _announce(settings: Settings) -> None:
    """Said once the port really listens: where the service is, and the demo's doors."""
    from app.services.staff import DEMO_STAFF_PASSWORD

    console.print(
        f"[bold green]buchumen[/] listening on http://{settings.host}:{settings.port} "
        f"({'demo' if settings.demo else 'production'} mode, "
        f"documents: {settings.document_store}, objects: {settings.object_store}"
        f"{'' if settings.ocr_in_web else ', OCR: left to buchumen worker'})"
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
