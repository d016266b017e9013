"""``buchumen calendar``: working-day overrides (the State Council's holiday schedule)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date

from app.cli.common import console, settings_of


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cal = sub.add_parser(
        "calendar", help="list or set working-day overrides; confirm a year entered in full"
    )
    cal.add_argument("action", choices=["list", "set", "confirm"])
    cal.add_argument("day", nargs="?", help="YYYY-MM-DD (for set)")
    cal.add_argument("workday", nargs="?", choices=["work", "off"], help="(for set)")
    cal.add_argument("--note", default="", help="basis, e.g. 国办发明电〔2026〕7号")
    cal.add_argument("--year", type=int, help="the year to list, or to confirm")
    cal.set_defaults(func=cmd_calendar, parser=cal)


def cmd_calendar(args: argparse.Namespace) -> int:
    from app.domain.actors import Actor, Role
    from app.domain.errors import DomainError
    from app.main import utcnow
    from app.services.calendar import CalendarService
    from app.wiring.stores import open_documents

    if args.action == "set" and not (args.day and args.workday):
        args.parser.error("calendar set needs DAY and work|off")
    if args.action == "confirm" and not args.year:
        args.parser.error("calendar confirm needs --year (and --note, the notice's number)")
    settings = settings_of(args)

    async def run() -> None:
        async with open_documents(settings) as store:
            service = CalendarService(store)
            admin = Actor("cli-admin", Role.ADMIN)
            if args.action == "confirm":
                await service.confirm_year(admin, args.year, note=args.note, now=utcnow())
            if args.action == "set":
                await service.set_override(
                    admin,
                    date.fromisoformat(args.day),
                    workday=args.workday == "work",
                    note=args.note,
                    now=utcnow(),
                )
            for doc in await service.overrides(args.year):
                kind = "working day" if doc["workday"] else "day off"
                console.print(f"{doc['_id']}  {kind:11}  {doc['note']}", highlight=False)
            for year in await service.years(utcnow().date()):
                if year["status"] == "provisional":
                    console.print(
                        f"[yellow]{year['year']} is provisional[/]: no State Council schedule "
                        "yet, so only the festivals the law fixes are off (no 调休 swaps). "
                        "Enter the schedule day by day with `calendar set`, then "
                        f"`calendar confirm --year {year['year']} --note <notice number>`"
                    )
                else:
                    console.print(f"{year['year']}: {year['status']}", highlight=False)

    try:
        asyncio.run(run())
    except DomainError as exc:
        console.print(f"[bold red]not done[/]: {exc}", highlight=False)
        return 1
    return 0
