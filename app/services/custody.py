"""The chain of custody: hand-over codes shown and scanned, and the courier's route events.

A scan is believed only through the code's HMAC (``PickupCodes``); it is recorded under the
code's nonce in the transaction that moves the case, so a replayed code fails as a duplicate
and changes nothing. A route event is recorded under its waybill and key in the transaction of
the change it implies (delivered: the case is delivered), so repeats and reordering give one
transition. Who showed a code is kept when it is shown, so each hand-over names both sides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from app.domain.actors import SYSTEM, Actor, Role
from app.domain.case_states import Action, State
from app.domain.cases import Case
from app.domain.custody import (
    LABELS_ZH,
    ROLE_ZH,
    Step,
    check_scan,
    due_step,
    may_show,
    mover,
)
from app.domain.errors import InvalidTransition, NotFoundError, StaleVersion
from app.domain.shipments import DELIVERY, PICKUP, Leg, LegStatus
from app.domain.short_codes import as_short_code, new_short_code, spaced
from app.services.accounts import USERS
from app.services.case_reads import NOT_FOUND
from app.services.cases import CaseService
from app.services.shipment_records import (
    CUSTODY,
    HANDOVER_CODES,
    ROUTES,
    SHIPMENTS,
    leg_from_doc,
    leg_to_doc,
)
from app.services.shipments import ShipmentService
from logistics.pickup_codes import HandOver, IssuedCode, PickupCodeRejected, PickupCodes
from logistics.port import RouteEvent, Stage
from storage.documents import DocumentStore, DuplicateKey, Transaction
from storage.purges import delete_each

log = structlog.get_logger(__name__)
PLACE_MAX = 60
STAGE_ZH = {
    Stage.COLLECTED: "快递已揽收",
    Stage.IN_TRANSIT: "运输中",
    Stage.OUT_FOR_DELIVERY: "派送中",
    Stage.DELIVERED: "已签收",
    Stage.FAILED: "派送未成功",
    Stage.OTHER: "物流更新",
}
LEG_ZH = {PICKUP: "原件", DELIVERY: "证照"}
ParcelHook = Callable[[Step, str], None]


@dataclass(frozen=True)
class Shown:
    """A code to show: the QR token, and the short form to type when the camera cannot read."""

    issued: IssuedCode
    short: str

    @property
    def typed(self) -> str:
        return spaced(self.short)


@dataclass(frozen=True)
class Scanned:
    """What the scanning person is told: which case, which hand-over, which waybill."""

    case: Case
    step: Step
    waybill: str

    @property
    def text(self) -> str:
        return f"交接成功：{LABELS_ZH[self.step]}（办件 {self.case.number}，运单号 {self.waybill}）"


class CustodyService:
    def __init__(
        self,
        store: DocumentStore,
        cases: CaseService,
        shipments: ShipmentService,
        codes: PickupCodes,
        *,
        clock: Callable[[], datetime],
        on_parcel: ParcelHook = lambda step, waybill: None,
    ) -> None:
        """``on_parcel`` hears of each parcel a courier takes (demo: the local SF moves it)."""
        self._store = store
        self._cases = cases
        self._shipments = shipments
        self._codes = codes
        self._clock = clock
        self._on_parcel = on_parcel

    # -- codes -------------------------------------------------------------------------------

    async def show_code(self, actor: Actor, number: str, step: Step) -> Shown:
        """A fresh code for the hand-over the case awaits, for the side that hands over."""
        case = await self._cases.get(SYSTEM, number)
        if due_step(case) is not step or not may_show(step, actor, case):
            raise NotFoundError(NOT_FOUND)
        leg = await self._shipments.leg(number, PICKUP if step is not Step.DISPATCH else DELIVERY)
        if step is Step.ARRIVAL and (leg is None or leg.holder != actor.id):
            raise NotFoundError(NOT_FOUND)  # only the courier who collected it hands it in
        if step is not Step.ARRIVAL and (leg is None or leg.status is not LegStatus.BOOKED):
            raise InvalidTransition(NOT_BOOKED_YET)
        shown_by = await self._party(actor)
        for _ in range(3):  # a short code taken already (never in practice): draw again
            issued, short = self._codes.issue(number, HandOver(step.value)), new_short_code()
            record = {
                "_id": issued.claim.nonce,
                "short": short,
                "token": issued.token,
                "case": number,
                "step": step.value,
                "shown_by": shown_by,
                "issued_at": self._clock().isoformat(),
                "expires_at": issued.claim.expires_at.isoformat(timespec="seconds"),
            }
            try:
                async with self._store.transaction() as tx:
                    await tx.insert(HANDOVER_CODES, record)
            except DuplicateKey:
                continue
            return Shown(issued, short)
        raise RuntimeError("no free short hand-over code")

    async def purge_codes(self, *, batch: int = 500) -> int:
        """Forget codes past their expiry (a page view shows a fresh one each time)."""
        now = self._clock().astimezone(UTC).isoformat(timespec="seconds")
        old = await self._store.find(
            HANDOVER_CODES, {"expires_at": {"$lt": now}}, sort=[("expires_at", 1)], limit=batch
        )
        return await delete_each(self._store, HANDOVER_CODES, old)

    async def courier_tasks(self, actor: Actor) -> dict[str, list[Leg]]:
        """A courier's parcels to hand in at a counter, and certificates waiting to be taken."""
        holding = await self._store.find(
            SHIPMENTS,
            {"holder": actor.id, "kind": PICKUP, "status": LegStatus.COLLECTED.value},
            sort=[("updated_at", 1)],
            limit=50,
        )
        waiting = await self._store.find(
            SHIPMENTS,
            {"kind": DELIVERY, "status": LegStatus.BOOKED.value},
            sort=[("updated_at", 1)],
            limit=50,
        )
        return {
            "hand_in": [leg_from_doc(d) for d in holding],
            "collect": [leg_from_doc(d) for d in waiting],
        }

    # -- scans -------------------------------------------------------------------------------

    async def scan(
        self, scanner: Actor, token: str, *, place: str, expect_case: str | None = None
    ) -> Scanned:
        """Record a hand-over from a scanned code or a typed one (the token or its short form);
        nothing changes unless it is due."""
        if short := as_short_code(token):
            found = await self._store.find(HANDOVER_CODES, {"short": short}, limit=1)
            if not found:
                raise PickupCodeRejected("forged")
            token = found[0]["token"]
        claim = self._codes.read(token)
        if expect_case and claim.case_number != expect_case:
            raise PickupCodeRejected("other_case")
        try:
            step = Step(claim.step.value)
        except ValueError:
            raise PickupCodeRejected("other_step") from None
        if await self._store.get(CUSTODY, claim.nonce) is not None:
            raise PickupCodeRejected.replayed()
        try:
            case = await self._cases.get(SYSTEM, claim.case_number)
        except NotFoundError:
            raise PickupCodeRejected("forged") from None
        action = check_scan(case, step, scanner)
        shown = await self._store.get(HANDOVER_CODES, claim.nonce)
        shown_by = _actor(shown["shown_by"]) if shown else None
        leg = await self._shipments.leg(case.number, DELIVERY if step is Step.DISPATCH else PICKUP)
        if leg is None or leg.waybill is None:
            raise InvalidTransition(NOT_BOOKED_YET)
        now = self._clock()
        if step is Step.ARRIVAL:
            if leg.status is not LegStatus.COLLECTED:
                raise InvalidTransition(NOT_BOOKED_YET)
            leg.arrived(now)
        else:
            courier = scanner if step is Step.PICKUP else shown_by
            leg.collected(courier.id if courier else None, now)
        record = {
            "_id": claim.nonce,
            "case": case.number,
            "step": step.value,
            "at": now.isoformat(),
            "by": await self._party(scanner),
            "from": shown["shown_by"] if shown else None,
            "place": " ".join(place.split())[:PLACE_MAX],
            "waybill": leg.waybill,
        }

        async def write(tx: Transaction) -> None:
            await tx.insert(CUSTODY, record)
            await tx.replace(SHIPMENTS, leg_to_doc(leg), expected_version=leg.version)

        detail = {"step": step.value, "waybill": leg.waybill, "scanned_by": scanner.id}
        try:
            case = await self._cases.hand_over(
                mover(step, scanner, shown_by), case.number, [action], write=write, detail=detail
            )
        except DuplicateKey:
            raise PickupCodeRejected.replayed() from None
        if step is not Step.ARRIVAL:
            self._on_parcel(step, leg.waybill)
        return Scanned(case, step, leg.waybill)

    # -- the courier's route events ------------------------------------------------------------

    async def record_routes(self, events: list[RouteEvent]) -> int:
        """Keep each route event once; a delivered certificate delivers the case, once."""
        kept = 0
        for event in events:
            for _ in range(3):  # a lost race re-reads; the event's key keeps it single
                try:
                    kept += await self._record(event)
                    break
                except StaleVersion:
                    continue
            else:
                raise StaleVersion("route event not recorded after three attempts")
        return kept

    async def _record(self, event: RouteEvent) -> int:
        found = await self._store.find(SHIPMENTS, {"waybill": event.waybill_no}, limit=1)
        if not found:
            log.info("route_event_unknown_waybill", op_code=event.op_code)
            return 0
        leg = leg_from_doc(found[0])
        doc = {
            "_id": f"{event.waybill_no}:{event.key}",
            "case": leg.case,
            "leg": leg.kind,
            "waybill": event.waybill_no,
            "op_code": event.op_code,
            "stage": event.stage.value,
            "at": event.at.isoformat(),
            "place": event.place[:PLACE_MAX],
            "remark": event.remark[:200],
            "received_at": self._clock().isoformat(),
        }
        if await self._store.get(ROUTES, doc["_id"]) is not None:
            return 0  # a repeat
        actions = await self._delivery_actions(leg, event)
        try:
            if actions:
                leg.arrived(self._clock())

                async def write(tx: Transaction) -> None:
                    await tx.insert(ROUTES, doc)
                    await tx.replace(SHIPMENTS, leg_to_doc(leg), expected_version=leg.version)

                detail = {"waybill": event.waybill_no, "route": event.key}
                await self._cases.hand_over(SYSTEM, leg.case, actions, write=write, detail=detail)
            else:
                async with self._store.transaction() as tx:
                    await tx.insert(ROUTES, doc)
        except DuplicateKey:
            return 0  # the same event, recorded by a push that arrived at the same moment
        return 1

    async def _delivery_actions(self, leg: Leg, event: RouteEvent) -> list[Action]:
        """Signed for at home: the case is delivered (dispatched first, if no one scanned it)."""
        if leg.kind != DELIVERY or event.stage is not Stage.DELIVERED:
            return []
        case = await self._cases.get(SYSTEM, leg.case)
        if case.state is State.DELIVERING:
            return [Action.CONFIRM_DELIVERY]
        if case.state is State.CERTIFICATE_ISSUED and case.terms.originals_required:
            return [Action.DISPATCH_DELIVERY, Action.CONFIRM_DELIVERY]
        return []

    # -- reads -------------------------------------------------------------------------------

    async def chain(self, actor: Actor, number: str) -> list[dict[str, str]]:
        """Every hand-over and courier event of the case, oldest first, for who may see it."""
        await self._cases.get(actor, number)
        scans = await self._store.find(CUSTODY, {"case": number}, sort=[("at", 1)])
        routes = await self._store.find(ROUTES, {"case": number}, sort=[("at", 1)])
        entries = [
            {
                "at": s["at"],
                "title": LABELS_ZH[Step(s["step"])],
                "who": _hands(Step(s["step"]), s["by"], s.get("from")),
                "place": s["place"],
                "waybill": s["waybill"],
                "kind": "scan",
            }
            for s in scans
        ]
        entries += [
            {
                "at": r["at"],
                "title": f"{LEG_ZH[r['leg']]}{STAGE_ZH[Stage(r['stage'])]}",
                "who": r["remark"],
                "place": r["place"],
                "waybill": r["waybill"],
                "kind": "route",
            }
            for r in routes
        ]
        return sorted(entries, key=lambda e: datetime.fromisoformat(e["at"]))

    async def _party(self, actor: Actor) -> dict[str, str]:
        user = await self._store.get(USERS, actor.id) or {}
        return {"id": actor.id, "role": actor.role.value, "name": str(user.get("name") or "")}


NOT_BOOKED_YET = "该办件当前没有待交接的快递，请核对后重试。"


def _actor(party: dict[str, str]) -> Actor:
    return Actor(party["id"], Role(party["role"]))


def _hands(step: Step, scanner: dict[str, str], shown_by: dict[str, str] | None) -> str:
    """Who gave, who took: the code's holder hands over, except at dispatch (the counter)."""
    if shown_by is None:
        return _who(scanner)
    giver, taker = (scanner, shown_by) if step is Step.DISPATCH else (shown_by, scanner)
    return f"{_who(giver)} → {_who(taker)}"


def _who(party: dict[str, str]) -> str:
    role = ROLE_ZH.get(Role(party["role"]), "")
    return f"{role} {party['name']}".strip() if party.get("name") else role
