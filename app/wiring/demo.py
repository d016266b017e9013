"""Demo mode's data: the catalog shipped with the code, demo accounts of every role, a demo
enterprise with its legal representative and agent, and the departments' courier counters."""

from __future__ import annotations

from datetime import datetime

from app.domain.actors import Role
from app.domain.errors import StaleVersion
from app.services import catalog
from app.services.accounts import demo_accounts, seed_accounts, seed_demo_enterprise
from app.services.counters import demo_counters, seed_counters
from app.services.staff import STAFF_ROLES, demo_password_hash
from app.settings import Settings
from storage.documents import DocumentStore


async def load_demo_data(store: DocumentStore, settings: Settings, now: datetime) -> None:
    matters = catalog.load_catalog([settings.catalog_dir])
    try:
        await catalog.import_catalog(store, matters, actor="demo", now=now)
    except StaleVersion:
        # Instances started together on an empty store import at once and one commit loses;
        # the winner's catalog is the same one, so importing again finds it all in place.
        await catalog.import_catalog(store, matters, actor="demo", now=now)
    departments = sorted({m.department for m in matters})
    accounts = demo_accounts(departments)
    for account in accounts:  # staff sign in on /staff with the documented demo password
        if Role(account["role"]) in STAFF_ROLES:
            account["password_hash"] = demo_password_hash()
    await seed_accounts(store, accounts, now)
    await seed_demo_enterprise(store, now)
    await seed_counters(store, demo_counters(departments))
