"""``buchumen bench ...``: benchmarks that print figures."""

from __future__ import annotations

import argparse
import asyncio

from app.cli.common import console


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bench.add_argument("target", choices=["store", "wechat", "ocr", "upload", "booking", "pay"])
    bench.add_argument("--bookings", type=int, default=2_000, help="booking: bookings to time")
    bench.add_argument("--notices", type=int, default=2_000, help="pay: notices per run")
    bench.add_argument("--images", type=int, default=40, help="ocr: corpus images per set")
    bench.add_argument("--engines", default="", help="ocr: comma-separated, default rapidocr")
    bench.add_argument(
        "--smoke", action="store_true", help="ocr: a few photos, correctness only, in seconds"
    )
    bench.add_argument("--cases", type=int, default=100_000, help="store: size to measure at")
    bench.add_argument("--messages", type=int, default=10_000, help="wechat: messages per handler")
    bench.add_argument("--concurrency", type=int, default=32, help="wechat: requests in flight")
    bench.add_argument(
        "--rounds", type=int, default=5, help="upload: rounds of 50 uploads each way"
    )
    bench.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.target == "ocr":
        from app.bench.ocr import ENGINES, run_ocr_bench
        from app.bench.precheck import run_precheck_bench

        engines = args.engines.split(",") if args.engines else list(ENGINES)
        status = asyncio.run(
            run_ocr_bench(count=args.images, engines=engines, console=console, smoke=args.smoke)
        )
        for engine in [] if args.smoke else engines:  # the same engines through the service
            count = min(args.images, 20)
            status |= asyncio.run(run_precheck_bench(count=count, engine=engine, console=console))
        return status
    if args.target == "upload":
        from app.bench.upload import run_upload_bench

        return asyncio.run(run_upload_bench(rounds=args.rounds, console=console))
    if args.target == "booking":
        from app.bench.booking import run_booking_bench

        return asyncio.run(
            run_booking_bench(existing=10_000, bookings=args.bookings, console=console)
        )
    if args.target == "wechat":
        from app.bench.wechat import run_wechat_bench

        return asyncio.run(
            run_wechat_bench(messages=args.messages, concurrency=args.concurrency, console=console)
        )
    if args.target == "pay":
        from app.bench.pay import run_pay_bench
        from app.logs import configure_logging

        configure_logging("WARNING", "console")  # a line per settled order would drown the table

        return asyncio.run(run_pay_bench(notices=args.notices, console=console))
    from app.bench.store import run_store_bench

    return asyncio.run(run_store_bench(cases=args.cases, console=console))
