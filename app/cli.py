"""The ``buchumen`` command: serve, catalog validate|import, token, calendar, bench."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date, time
from pathlib import Path

from rich.console import Console

from app.settings import Settings, SettingsError, load_settings

console = Console(stderr=True)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {"demo": True} if getattr(args, "demo", False) else {}
    return load_settings(**overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from app.logging import configure_logging
    from app.main import create_app
    from app.services.staff import DEMO_STAFF_PASSWORD

    settings = _settings(args)
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
    settings.data_dir.mkdir(parents=True, exist_ok=True)
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
    web.run_app(app, host=settings.host, port=settings.port, print=None)
    return 0


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


def cmd_catalog(args: argparse.Namespace) -> int:
    from app.domain.catalog import CatalogInvalid
    from app.services.catalog import load_catalog

    paths = [Path(p) for p in args.paths]
    try:
        matters = load_catalog(paths)
    except CatalogInvalid as exc:
        console.print(
            f"[bold red]catalog rejected[/]: {len(exc.problems)} problem(s); nothing imported"
        )
        for problem in exc.problems:
            console.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
        return 1
    for m in matters:
        console.print(f"  [green]ok[/] {m.code}  {m.name}  ({m.department_name})", highlight=False)
    if args.action == "validate":
        console.print(f"{len(matters)} matter(s) valid")
        return 0
    return asyncio.run(_import(_settings(args), matters))


async def _import(settings: Settings, matters: list) -> int:  # type: ignore[type-arg]
    from app.main import open_documents, utcnow
    from app.services.catalog import import_catalog

    async with open_documents(settings) as store:
        report = await import_catalog(store, matters, actor="cli", now=utcnow())
    console.print(
        f"imported: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged"
    )
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from app.api.tokens import TokenIssuer
    from app.main import open_documents
    from app.services.accounts import actor_for

    settings = _settings(args)

    async def issue() -> str:
        async with open_documents(settings) as store:
            actor = await actor_for(store, args.username)
        issuer = TokenIssuer(
            settings.jwt_key, issuer=settings.jwt_issuer, ttl=timedelta(hours=args.hours)
        )
        return issuer.issue(actor)

    print(asyncio.run(issue()))
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    """Create a staff account, or set a new password; the password is read without echo."""
    import getpass

    from app.main import open_documents, utcnow
    from app.services.staff import set_staff_account

    # Typed without echo; a script pipes it on standard input instead.
    password = getpass.getpass("新密码：") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if len(password) < 10:
        console.print("[red]密码至少 10 个字符[/]")
        return 2
    settings = _settings(args)

    async def save() -> str:
        async with open_documents(settings) as store:
            return await set_staff_account(
                store,
                args.username,
                role=args.role,
                department=args.department,
                name=args.name or args.username,
                password=password,
                now=utcnow(),
            )

    outcome = asyncio.run(save())
    console.print(f"[green]{outcome}[/]: {args.username} ({args.role})")
    return 0


def cmd_enterprise(args: argparse.Namespace) -> int:
    """An administrator records an enterprise's legal representative (audited, with the basis)."""
    from app.domain.errors import DomainError
    from app.main import _object_store, open_documents, utcnow
    from app.services.accounts import actor_for
    from app.services.mandates import MandateService

    settings = _settings(args)

    async def appoint() -> str:
        async with open_documents(settings) as store:
            mandates = MandateService(store, _object_store(settings, utcnow), clock=utcnow)
            admin = await actor_for(store, args.admin)
            doc = await mandates.appoint(
                admin, args.uscc, args.id_number, name=args.name, reason=args.reason
            )
            return f"{doc['name'] or args.uscc}: 法定代表人 {doc['legal_rep_name']}"

    try:
        console.print(f"[green]{asyncio.run(appoint())}[/]")
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/]")
        return 2
    return 0


def cmd_hall(args: argparse.Namespace) -> int:
    """Administrators: a hall's capacity, cut-off and closed days; lift a booking restriction."""
    from app.domain.actors import Actor, Role
    from app.domain.cases import CHINA
    from app.domain.errors import DomainError
    from app.main import build_appointments, open_documents

    settings = _settings(args)
    admin = Actor("cli-admin", Role.ADMIN)  # whoever runs the command on the server

    async def run() -> str:
        async with open_documents(settings) as store:
            hall = build_appointments(store, settings)
            if args.action == "lift":
                await hall.admin.lift_restriction(admin, args.target)
                return f"{args.target} 可以重新在线预约"
            if args.action == "restricted":
                lines = [
                    f"{who}（{department} 大厅）：多次预约未到，"
                    f"{until.astimezone(CHINA):%Y-%m-%d %H:%M} 前不能在线预约"
                    for who, department, until in await hall.admin.restrictions()
                ]
                return "\n".join(lines) or "目前没有被限制在线预约的申请人"
            rules = await hall.admin.set_rules(
                admin,
                args.target,
                capacity=args.capacity,
                cutoff_hours=args.cutoff_hours,
                close=args.close,
                reopen=args.reopen,
                slots=dict(args.slot),
                no_show_limit=args.no_show_limit,
                no_show_days=args.no_show_days,
                restrict_days=args.restrict_days,
            )
            closed = "、".join(sorted(d.isoformat() for d in rules.closures)) or "无"
            own = "、".join(f"{t:%H:%M} {n} 人" for t, n in rules.slot_capacity)
            return (
                f"{args.target}：每时段 {rules.capacity} 人{f'（{own}）' if own else ''}，"
                f"提前 {rules.cutoff.total_seconds() / 3600:g} 小时截止取消，闭厅日：{closed}\n"
                f"未到规则：{rules.no_show_window.days} 天内未到 {rules.no_show_limit} 次，"
                f"暂停在线预约 {rules.restriction.days} 天"
            )

    try:
        console.print(asyncio.run(run()), soft_wrap=True)  # one line per hall, uncut
    except DomainError as exc:
        console.print(f"[bold red]{exc.message}[/]", highlight=False)
        return 1
    return 0


def _slot_places(text: str) -> tuple[time, int | None]:
    """``HH:MM=N`` (N places in that half-hour, 0 closes it) or ``HH:MM=default``."""
    from app.domain.appointments import slot_places

    try:
        return slot_places(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected HH:MM=N or HH:MM=default, got {text!r}"
        ) from exc


def cmd_counter(args: argparse.Namespace) -> int:
    """Administrators: the counter where a department receives originals by courier."""
    from app.domain.errors import ValidationFailed
    from app.domain.shipments import MailingAddress
    from app.main import open_documents
    from app.services.counters import list_counters, set_counter

    settings = _settings(args)

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


def cmd_calendar(args: argparse.Namespace) -> int:
    from app.domain.actors import Actor, Role
    from app.main import open_documents, utcnow
    from app.services.calendar import CalendarService

    settings = _settings(args)

    async def run() -> None:
        async with open_documents(settings) as store:
            service = CalendarService(store)
            if args.action == "set":
                admin = Actor("cli-admin", Role.ADMIN)
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
            missing = await service.uncovered_years(utcnow().date())
            for year in missing:
                console.print(
                    f"[yellow]warning[/]: no statutory holiday data for {year}; "
                    "enter the State Council's schedule with `calendar set`"
                )

    asyncio.run(run())
    return 0


def cmd_wechat(args: argparse.Namespace) -> int:
    import aiohttp

    from app.main import open_documents
    from app.wechat_wiring import configured_credentials, wechat_client
    from bot.menu import account_menu

    settings = _settings(args)
    if not settings.wechat_configured:
        raise SettingsError(["BUCHUMEN_WECHAT_TOKEN: set the account's BUCHUMEN_WECHAT_* first"])
    creds = configured_credentials(settings)

    async def run() -> None:
        async with open_documents(settings) as store, aiohttp.ClientSession() as session:
            client = wechat_client(session, store, creds)
            await client.create_menu(account_menu(settings.public_base_url))

    asyncio.run(run())
    console.print("[green]menu created[/]: 我要办 · 查询进度 · 我的（我的办件、我的材料、帮助）")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.target == "ocr":
        from app.bench_ocr import ENGINES, run_ocr_bench
        from app.bench_precheck import run_precheck_bench

        engines = args.engines.split(",") if args.engines else list(ENGINES)
        status = asyncio.run(
            run_ocr_bench(count=args.images, engines=engines, console=console, smoke=args.smoke)
        )
        for engine in [] if args.smoke else engines:  # the same engines through the service
            count = min(args.images, 20)
            status |= asyncio.run(run_precheck_bench(count=count, engine=engine, console=console))
        return status
    if args.target == "upload":
        from app.bench_upload import run_upload_bench

        return asyncio.run(run_upload_bench(rounds=args.rounds, console=console))
    if args.target == "booking":
        from app.bench_booking import run_booking_bench

        return asyncio.run(
            run_booking_bench(existing=10_000, bookings=args.bookings, console=console)
        )
    if args.target == "wechat":
        from app.bench_wechat import run_wechat_bench

        return asyncio.run(
            run_wechat_bench(messages=args.messages, concurrency=args.concurrency, console=console)
        )
    if args.target == "pay":
        from app.bench_pay import run_pay_bench
        from app.logging import configure_logging

        configure_logging("WARNING", "console")  # a line per settled order would drown the table

        return asyncio.run(run_pay_bench(notices=args.notices, console=console))
    from app.bench import run_store_bench

    return asyncio.run(run_store_bench(cases=args.cases, console=console))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="buchumen", description="不出门办 service")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--demo", action="store_true", help="load the demo catalog and accounts")
    serve.set_defaults(func=cmd_serve)

    cat = sub.add_parser("catalog", help="validate or import matter catalog files")
    cat.add_argument("action", choices=["validate", "import"])
    cat.add_argument("paths", nargs="+", help="YAML/JSON files or directories")
    cat.set_defaults(func=cmd_catalog)

    tok = sub.add_parser("token", help="print a JWT for an account (e.g. demo-citizen)")
    tok.add_argument("username")
    tok.add_argument("--hours", type=int, default=12)
    tok.add_argument("--demo", action="store_true", help="use the demo data directory's secret")
    tok.set_defaults(func=cmd_token)

    staff = sub.add_parser("staff", help="create a staff account or set its password")
    staff.add_argument("username")
    staff.add_argument(
        "--role", required=True, choices=["reviewer", "supervisor", "admin", "courier", "kiosk"]
    )
    staff.add_argument("--department", help="the reviewer's department code, e.g. scjg")
    staff.add_argument("--name", help="the name shown on pages")
    staff.add_argument("--demo", action="store_true", help="the demo data directory")
    staff.set_defaults(func=cmd_staff)

    hall = sub.add_parser(
        "hall", help="a hall's booking rules; who is restricted for no-shows, and lifting it"
    )
    hall.add_argument("action", choices=["set", "lift", "restricted"])
    hall.add_argument(
        "target", nargs="?", default="", help="set: a department code (e.g. mz); lift: a username"
    )
    hall.add_argument("--capacity", type=int, help="applicants per half-hour slot")
    hall.add_argument("--cutoff-hours", type=float, help="no cancelling closer than this")
    hall.add_argument(
        "--close",
        action="append",
        default=[],
        type=date.fromisoformat,
        help="YYYY-MM-DD, repeatable",
    )
    hall.add_argument(
        "--reopen",
        action="append",
        default=[],
        type=date.fromisoformat,
        help="YYYY-MM-DD, repeatable",
    )
    hall.add_argument(
        "--slot",
        action="append",
        default=[],
        type=_slot_places,
        help="HH:MM=N: places in that half-hour (0 closes it; HH:MM=default undoes), repeatable",
    )
    hall.add_argument(
        "--no-show-limit", type=int, help="missed visits that pause online booking (e.g. 3)"
    )
    hall.add_argument("--no-show-days", type=int, help="... counted over this many days (30)")
    hall.add_argument("--restrict-days", type=int, help="... pausing it for this many days (30)")
    hall.add_argument("--demo", action="store_true", help="the demo data directory")
    hall.set_defaults(func=cmd_hall)

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
    counter.set_defaults(func=cmd_counter)

    firm = sub.add_parser("enterprise", help="record an enterprise's legal representative")
    firm.add_argument("action", choices=["appoint"])
    firm.add_argument("uscc", help="the enterprise's unified social credit code")
    firm.add_argument("id_number", help="the legal representative's ID number (already bound)")
    firm.add_argument("--reason", required=True, help="the basis, e.g. 变更登记通知书编号")
    firm.add_argument("--name", help="the enterprise's name as registered")
    firm.add_argument("--admin", default="demo-admin", help="the administrator's account")
    firm.add_argument("--demo", action="store_true", help="the demo data directory")
    firm.set_defaults(func=cmd_enterprise)

    cal = sub.add_parser("calendar", help="list or set working-day overrides")
    cal.add_argument("action", choices=["list", "set"])
    cal.add_argument("day", nargs="?", help="YYYY-MM-DD (for set)")
    cal.add_argument("workday", nargs="?", choices=["work", "off"], help="(for set)")
    cal.add_argument("--note", default="", help="basis, e.g. 国办发明电〔2026〕7号")
    cal.add_argument("--year", type=int)
    cal.set_defaults(func=cmd_calendar)

    wechat = sub.add_parser("wechat", help="official-account administration")
    wechat.add_argument("action", choices=["menu"], help="menu: create the account's menu")
    wechat.set_defaults(func=cmd_wechat)

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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "calendar" and args.action == "set" and not (args.day and args.workday):
        parser().error("calendar set needs DAY and work|off")
    if args.command == "hall" and args.action != "restricted" and not args.target:
        parser().error("hall set needs a department code, hall lift a username")
    if args.command == "counter" and args.action == "set" and not args.department:
        parser().error("counter set needs DEPARTMENT")
    try:
        return int(args.func(args))
    except SettingsError as exc:
        console.print(f"[bold red]configuration error[/]\n{exc}", highlight=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())
