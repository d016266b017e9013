"""``buchumen worker``: the OCR pre-check work, apart from the web instances.

It runs the pre-check dispatcher and its OCR pool (warmed at start) over the same settings and
stores as ``buchumen serve``, which then runs with ``BUCHUMEN_OCR_IN_WEB=false``. It serves no
public route: only ``/healthz`` and ``/readyz`` on ``BUCHUMEN_WORKER_PORT``, for the
orchestrator. Any number may run; each photo's job is leased by one of them (storage/outbox.py),
found within half a second of being queued by any process. It stops as serve does.
"""

from __future__ import annotations

import argparse
import functools

from app.cli.common import console, settings_of
from app.cli.running import cannot_start, serve_until_stopped
from app.settings import Settings


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    worker = sub.add_parser("worker", help="run the OCR pre-check work (no public HTTP)")
    worker.add_argument(
        "--demo", action="store_true", help="on the demo's stores and secret (serve --demo's)"
    )
    worker.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    from app.logs import configure_logging
    from app.main import create_worker_app

    settings = settings_of(args)
    configure_logging(settings.log_level, settings.log_format)
    if cannot_start(settings, [(settings.host, settings.worker_port, "BUCHUMEN_WORKER_PORT")]):
        return 1
    app = create_worker_app(settings, warm_ocr=True)
    announce = functools.partial(_announce, settings)
    return serve_until_stopped(app, settings.host, settings.worker_port, announce=announce)


def _announce(settings: Settings) -> None:
    console.print(
        f"[bold green]buchumen worker[/] running the OCR pre-check "
        f"({settings.ocr_workers} × {settings.ocr_engine}; documents: {settings.document_store}, "
        f"objects: {settings.object_store}); health on "
        f"http://{settings.host}:{settings.worker_port}/healthz and /readyz"
    )
