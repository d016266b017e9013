"""Collections and their indexes, as versioned migrations every document-store adapter applies."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Index:
    """An index over dotted field paths; ``unique`` makes inserts of a duplicate key fail.

    Documents lacking every field of a unique index never collide (SQLite's NULLs are distinct;
    the MongoDB adapter makes unique indexes partial on the fields existing).
    """

    collection: str
    fields: tuple[tuple[str, int], ...]
    unique: bool = False

    @property
    def name(self) -> str:
        parts = "_".join(
            f"{f.replace('.', '_')}{'' if d == 1 else '_desc'}" for f, d in self.fields
        )
        return f"ix_{self.collection}_{parts}"

    @property
    def keys(self) -> tuple[tuple[str, int], ...]:
        """The keys an adapter indexes: a non-unique index ends with the ``_id`` sort tie-break."""
        if self.unique:
            return self.fields
        return (*self.fields, ("_id", self.fields[-1][1]))


# Each migration is the list of indexes it adds. Append a new migration; never edit an applied one.
# Collections exist implicitly (SQLite creates the table on first use of a migration or write).
MIGRATIONS: list[list[Index]] = [
    [
        Index("matters", (("department", 1),)),
        Index("cases", (("applicant_id", 1), ("created_at", -1))),
        Index("cases", (("department", 1), ("state", 1), ("due_date", 1))),
        Index("cases", (("state", 1), ("accept_by", 1))),
        Index("cases", (("enterprise_uscc", 1),)),
        Index("case_events", (("case_number", 1), ("seq", 1)), unique=True),
        Index("users", (("username", 1),), unique=True),
        Index("outbox", (("status", 1), ("next_attempt_at", 1))),
        Index("audit", (("subject", 1), ("at", 1))),
    ],
    [
        Index("wechat_inbound", (("at", 1),)),  # receipts are purged by age
    ],
    [
        # A space's listing and the bot's "a matching document" lookup.
        Index("space_documents", (("owner", 1), ("deleted_at", 1), ("updated_at", -1))),
        Index("space_documents", (("owner", 1), ("kind", 1), ("identifier", 1))),
        Index("space_documents", (("deleted_at", 1),)),  # the purge sweep
    ],
    [
        Index("prechecks", (("case", 1),)),  # a case's verdicts, read with the case
    ],
    [
        # Bad-rating follow-ups: the open ones by due date, and per department.
        Index("follow_ups", (("closed_at", 1), ("due_on", 1))),
        Index("follow_ups", (("department", 1), ("closed_at", 1), ("due_on", 1))),
    ],
    [
        # Hall appointments: a person's bookings, a day's slot ledgers for the next free slot.
        Index("bookings", (("person", 1), ("state", 1))),
        Index("bookings", (("department", 1), ("day", 1), ("state", 1))),
        Index("bookings", (("short", 1),), unique=True),  # a check-in code typed
        Index("slot_ledgers", (("department", 1), ("day", 1))),
    ],
    [
        # Payments: a case's attempts in order; open ones for reconciliation; issues by time.
        Index("payment_orders", (("case", 1), ("created_at", 1))),
        Index("payment_orders", (("status", 1), ("created_at", 1))),
        Index("payment_issues", (("at", -1),)),
    ],
    [
        # Courier legs: a route push finds its leg by waybill; the reviewer's queue lists a
        # department's failed bookings; a courier's parcels; an applicant's last address.
        Index("shipments", (("waybill", 1),)),
        Index("shipments", (("department", 1), ("trouble", 1), ("updated_at", 1))),
        Index("shipments", (("kind", 1), ("status", 1), ("holder", 1), ("updated_at", 1))),
        Index("shipments", (("applicant_id", 1), ("kind", 1), ("updated_at", -1))),
        # A case's chain of custody: its scans and its courier route events.
        Index("custody_scans", (("case", 1), ("at", 1))),
        Index("route_events", (("case", 1), ("at", 1))),
        # A hand-over code typed in its short form; expired codes are purged.
        Index("handover_codes", (("short", 1),), unique=True),
        Index("handover_codes", (("expires_at", 1),)),
    ],
    [
        # Who may act for whom: one person per ID number; an agent's and a principal's
        # authorisations; the enterprises a person represents; a day's real-name attempts.
        Index("users", (("id_number", 1),), unique=True),
        Index("mandates", (("agent", 1), ("status", 1))),
        Index("mandates", (("principal", 1), ("status", 1))),
        Index("enterprises", (("legal_rep", 1),)),
        Index("identity_attempts", (("openid", 1), ("at", 1))),
        Index("identity_attempts", (("number", 1), ("at", 1))),
    ],
    [
        # Staff sign-in attempts, counted per name and per client address over a window, and
        # purged by age; ended sessions, read by id at every request, purged once expired.
        Index("sign_in_attempts", (("user", 1), ("at", 1))),
        Index("sign_in_attempts", (("addr", 1), ("at", 1))),
        Index("sign_in_attempts", (("at", 1),)),
        Index("sessions", (("expires_at", 1),)),
    ],
    [
        # 督办: a department's cards still standing; a periodic job's runs, purged by age.
        Index("urges", (("lifted_at", 1), ("department", 1))),
        Index("periodic_runs", (("at", 1),)),
    ],
]

COLLECTIONS: tuple[str, ...] = (
    "matters",
    "cases",
    "case_events",
    "users",
    "audit",
    "outbox",
    "idempotency",
    "calendar_overrides",
    "counters",
    "space_documents",
    "certificates",
    "prechecks",
    "follow_ups",
    "bookings",
    "slot_ledgers",
    "booking_locks",
    "hall_counters",
    "hall_rules",
    "payment_orders",
    "payment_ledgers",
    "payment_notices",
    "payment_issues",
    "shipments",
    "department_counters",
    "handover_codes",
    "custody_scans",
    "route_events",
    "wechat_links",
    "mandates",
    "enterprises",
    "identity_attempts",
    "payment_issues_unkept",
    "sign_in_attempts",
    "sessions",
    "pay_handoffs",
    "calendar_years",
    "urges",
    "periodic_runs",
    "store_marks",
)
