"""``buchumen catalog validate|import``: matter catalog files checked, then imported."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from app.cli.common import console, settings_of
from app.settings import Settings


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cat = sub.add_parser("catalog", help="validate or import matter catalog files")
    cat.add_argument("action", choices=["validate", "import"])
    cat.add_argument("paths", nargs="+", help="YAML/JSON files or directories")
    cat.set_defaults(func=cmd_catalog)


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
    return asyncio.run(_import(settings_of(args), matters))


async def _import(settings: Settings, matters: list) -> int:  # type: ignore[type-arg]
    from app.main import utcnow
    from app.services.catalog import import_catalog
    from app.wiring.stores import open_documents

    async with open_documents(settings) as store:
        report = await import_catalog(store, matters, actor="cli", now=utcnow())
    console.print(
        f"imported: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged"
    )
    return 0
