"""``buchumen bench ...``: benchmarks that print figures and goals, and fail when one is missed."""

from __future__ import annotations

import argparse

from rich.console import Console

from app.bench.goals import status

TARGETS = ("all", "store", "booking", "pay", "wechat", "upload", "precheck", "ocr", "scale", "soak")


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = sub.add_parser("bench", help="benchmarks that print figures and goals")
    bench.add_argument("target", choices=TARGETS)
    bench.add_argument(
        "--smoke",
        action="store_true",
        help="a small size that checks correctness only, in seconds (what CI runs)",
    )
    bench.add_argument(
        "--cases",
        type=int,
        help="store: size to measure at (100,000); scale: cases of 4 photos (12)",
    )
    bench.add_argument("--bookings", type=int, help="booking: bookings to time (2,000)")
    bench.add_argument("--notices", type=int, help="pay: notices per run (2,000)")
    bench.add_argument("--messages", type=int, help="wechat: messages per handler (10,000)")
    bench.add_argument("--concurrency", type=int, help="wechat: requests in flight (32)")
    bench.add_argument("--rounds", type=int, help="upload: rounds of uploads each way (5)")
    bench.add_argument("--images", type=int, help="ocr: corpus images per set (40)")
    bench.add_argument("--engines", default="", help="ocr: comma-separated, default rapidocr")
    bench.add_argument("--minutes", type=float, help="soak: minutes of mixed traffic (60)")
    bench.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from app.bench.suite import run_all, run_one

    out = Console()  # figures and goals on stdout, to keep or compare
    if args.target == "all":
        return status(run_all(out, smoke=args.smoke))
    if args.target == "soak":  # an hour by default: not one of bench all's
        import asyncio

        from app.bench.soak import run_soak_bench

        minutes = args.minutes or 60.0
        soak = asyncio.run(run_soak_bench(minutes=minutes, console=out, smoke=args.smoke))
        out.print(soak.table())
        return status([soak])
    engines = [e for e in args.engines.split(",") if e]
    sizes = {
        "store": {"cases": args.cases},
        "booking": {"bookings": args.bookings},
        "pay": {"notices": args.notices},
        "wechat": {"messages": args.messages, "concurrency": args.concurrency},
        "upload": {"rounds": args.rounds},
        "precheck": {"images": args.images, "engine": engines[0] if engines else ""},
        "ocr": {"images": args.images, "engines": engines},
        "scale": {"cases": args.cases},
    }[args.target]
    reports = [run_one(args.target, out, smoke=args.smoke, **sizes)]
    if args.target == "ocr" and not args.smoke:
        # Then the same engines through the service: upload, outbox job, pool, verdict.
        for engine in engines or [""]:
            precheck = {"images": args.images, "engine": engine}
            reports.append(run_one("precheck", out, smoke=False, **precheck))
    for report in reports:
        out.print(report.table())
    return status(reports)
