"""``buchumen counter``: the counter where a department receives originals by courier."""

from __future__ import annotations

import argparse
import asyncio

from app.cli.common import console, settings_of


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    counter = sub.add_parser("counter", help="list or set a department's courier counter")
    counter.add_argument("action", choices=["list", "set"])
    counter.add_argument("department", nargs="?", help="set: a department code, e.g. jtys")
    counter.add_argument("--name", help="the counter's name, e.g. 市交通运输局政务服务窗口")
    counter.add_argument("--mobile", help="the counter's mobile number (11 digits)")
    counter.add_argument("--province", help="e.g. 福建省")
    counter.add_argument("--city", help="e.g. 福州市")
    counter.add_argument("--district", help="e.g. 晋安区")
    counter.add_argument("--address", help="street and number")
    counter.add_argument("--demo", action="store_true", help="the demo data directory")
    counter.set_defaults(func=cmd_counter, parser=counter)


def cmd_counter(args: argparse.Namespace) -> int:
    """Administrators: the counter where a department receives originals by courier."""
    from app.domain.errors import ValidationFailed
    from app.domain.shipments import MailingAddress
    from app.services.counters import list_counters, set_counter
    from app.wiring.stores import open_documents

    if args.action == "set" and not args.department:
        args.parser.error("counter set needs DEPARTMENT")
    settings = settings_of(args)

    async def run() -> list[str]:
        async with open_documents(settings) as store:
            if args.action == "set":
                address = MailingAddress.parse(
                    {
                        "name": args.name or "",
                        "mobile": args.mobile or "",
                        "province": args.province or "",
                        "city": args.city or "",
                        "district": args.district or "",
                        "detail": args.address or "",
                    }
                )
                await set_counter(store, args.department, address)
            return [
                f"{c.department}：{c.name} {c.mobile} {c.province}{c.city}{c.district}{c.detail}"
                for c in await list_counters(store)
            ]

    try:
        lines = asyncio.run(run())
    except ValidationFailed as exc:
        console.print(f"[red]{exc.message}[/]")
        return 2
    console.print("\n".join(lines) or "还没有设置任何收件窗口", highlight=False)
    return 0
