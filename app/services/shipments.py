"""Courier bookings of a case: the applicant's address and time, pickup and delivery orders.

Every call to the courier happens in an outbox job, never in a request: the applicant's form
writes the leg and its ``courier.book`` job in one transaction. A job books the leg's current
order id (a repeat returns the waybill already made), keeps the waybill and queues the chat
message in one transaction. A courier that cannot be reached is retried with the outbox's
backoff; after ``FLAG_AFTER_FAILURES`` failures, or at once when the courier refuses the order,
the reviewer's queue shows the case. Couriers are optional: without one, no job is handled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from app.domain.actors import Actor
from app.domain.case_states import State
from app.domain.cases import Case
from app.domain.errors import InvalidTransition, NotFoundError
from app.domain.shipments import (
    DELIVERY,
    LEAD_TIME,
    PICKUP,
    Counter,
    Leg,
    LegStatus,
    MailingAddress,
    TimeWindow,
    chosen_window,
    first_window,
    new_leg,
    offered_windows,
)
from app.services.case_reads import NOT_FOUND
from app.services.cases import CaseService
from app.services.counters import counter_of
from app.services.notify import NOTIFY_TOPIC
from app.services.shipment_effects import (
    BOOK_TOPIC,
    CANCEL_TOPIC,
    DELIVER_TOPIC,
    WITHDRAWN_TOPIC,
)
from app.services.shipment_records import (
    SHIPMENTS,
    leg_from_doc,
    leg_id,
    leg_to_doc,
)
from logistics.port import (
    CannotCancel,
    Cargo,
    Contact,
    Courier,
    CourierRefused,
    CourierUnavailable,
    InvalidContact,
    OrderNotFound,
    PickupOrder,
    PickupWindow,
)
from storage.documents import DocumentStore, DuplicateKey, Transaction, VersionConflict
from storage.outbox import Handler, OutboxMessage, enqueue

log = structlog.get_logger(__name__)
NO_COURIER = "本地暂未开通快递上门取件，请携带原件到部门窗口递交。"
NO_COUNTER = "department counter address not set (buchumen counter set)"
CARGO = {PICKUP: Cargo("政务材料原件"), DELIVERY: Cargo("证照及原件")}


class ShipmentService:
    def __init__(
        self,
        store: DocumentStore,
        cases: CaseService,
        courier: Courier | None,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._cases = cases
        self._courier = courier
        self._clock = clock

    @property
    def available(self) -> bool:
        return self._courier is not None

    def handlers(self) -> dict[str, Handler]:
        """The outbox jobs that talk to the courier (none without one: they wait)."""
        if self._courier is None:
            return {}
        return {
            BOOK_TOPIC: self.book,
            CANCEL_TOPIC: self.cancel_order,
            DELIVER_TOPIC: self.deliver,
            WITHDRAWN_TOPIC: self.withdrawn,
        }

    # -- reads -------------------------------------------------------------------------------

    async def leg(self, number: str, kind: str) -> Leg | None:
        doc = await self._store.get(SHIPMENTS, leg_id(number, kind))
        return leg_from_doc(doc) if doc else None

    async def legs_of(self, actor: Actor, number: str) -> dict[str, Leg]:
        """The case's legs, for anyone who may see the case."""
        await self._cases.get(actor, number)
        docs = await self._store.find(SHIPMENTS, {"case": number})
        return {doc["kind"]: leg_from_doc(doc) for doc in docs}

    async def last_address(self, actor: Actor) -> MailingAddress | None:
        """The address this applicant gave last, to fill the form in again."""
        docs = await self._store.find(
            SHIPMENTS,
            {"applicant_id": actor.id, "kind": PICKUP},
            sort=[("updated_at", -1)],
            limit=1,
        )
        return MailingAddress(**docs[0]["address"]) if docs else None

    def windows(self) -> list[TimeWindow]:
        return offered_windows(self._clock())

    async def troubles(self, department: str) -> list[Leg]:
        """Legs of the department whose booking failed: the reviewer's queue shows them."""
        docs = await self._store.find(
            SHIPMENTS,
            {"department": department, "trouble": {"$ne": None}},
            sort=[("updated_at", 1)],
            limit=50,
        )
        return [leg_from_doc(doc) for doc in docs]

    async def counter(self, department: str) -> Counter | None:
        return await counter_of(self._store, department)

    # -- the applicant -----------------------------------------------------------------------

    async def request_pickup(
        self, actor: Actor, number: str, address: MailingAddress, window_key: str
    ) -> Leg:
        """Book (or rebook with a new address or time) the pickup of the case's originals."""
        case = await self._owned(actor, number)
        if case.state is not State.AWAITING_PICKUP:
            raise InvalidTransition("办件当前不需要预约上门取件。")
        if self._courier is None:
            raise InvalidTransition(NO_COURIER)
        now = self._clock()
        window = chosen_window(window_key, now)
        leg = await self.leg(number, PICKUP)
        old = None
        if leg is None:
            leg = new_leg(
                number,
                PICKUP,
                department=case.terms.department,
                applicant_id=case.applicant_id,
                address=address,
                window=window,
                at=now,
            )
        else:
            old = leg.rebook(address, window, now)
        await self._save_booking(leg, old, now)
        return leg

    async def cancel_pickup(self, actor: Actor, number: str) -> Leg:
        """The applicant calls the courier off (before collection); a new request rebooks."""
        case = await self._owned(actor, number)
        leg = await self.leg(number, PICKUP)
        if leg is None or case.state is not State.AWAITING_PICKUP:
            raise InvalidTransition("当前没有可取消的上门取件预约。")
        now = self._clock()
        old = leg.cancel(now)
        async with self._store.transaction() as tx:
            await self._write(tx, leg)
            await _queue(tx, CANCEL_TOPIC, f"courier.cancel:{old}", _job(leg, old), now)
        return leg

    async def retry(self, actor: Actor, number: str, kind: str) -> Leg:
        """A reviewer books a failed leg again (same address; its time, or the next one)."""
        case = await self._cases.get(actor, number)
        if actor.department != case.terms.department:
            raise NotFoundError(NOT_FOUND)
        leg = await self.leg(number, kind)
        if leg is None or leg.trouble is None:
            raise InvalidTransition("该快递没有需要重新预约的异常。")
        if self._courier is None:
            raise InvalidTransition(NO_COURIER)
        now = self._clock()
        window = leg.window if leg.window.start >= now + LEAD_TIME else first_window(now)
        old = leg.rebook(leg.address, window, now)
        await self._save_booking(leg, old, now)
        return leg

    async def _save_booking(self, leg: Leg, old: str | None, now: datetime) -> None:
        """The leg with its new order, the booking job and the old order's cancel: together."""
        async with self._store.transaction() as tx:
            await self._write(tx, leg)
            await self._queue_booking(tx, leg, now)
            if old is not None:
                await _queue(tx, CANCEL_TOPIC, f"courier.cancel:{old}", _job(leg, old), now)

    # -- outbox jobs -------------------------------------------------------------------------

    async def book(self, msg: OutboxMessage) -> None:
        """``courier.book``: book the leg's current order once; superseded orders are skipped."""
        assert self._courier is not None
        order_id = msg.payload["order_id"]
        leg = await self.leg(msg.payload["case"], msg.payload["kind"])
        if leg is None or leg.order_id != order_id or leg.status is not LegStatus.REQUESTED:
            return  # rebooked, cancelled or booked meanwhile
        counter = await self.counter(leg.department)
        if counter is None:
            await self._failed(leg, order_id, NO_COUNTER)
            raise RuntimeError(NO_COUNTER)  # retried: an administrator can still set it
        try:
            order = _order(leg, counter)
        except InvalidContact as exc:
            await self._refused(leg, order_id, f"{exc.field}: {exc.message}", exc.message)
            return
        try:
            booking = await self._courier.book_pickup(order)
        except CourierUnavailable as exc:
            await self._failed(leg, order_id, exc.detail)
            raise  # the outbox tries again after its backoff
        except CourierRefused as exc:
            await self._refused(leg, order_id, exc.detail, exc.message)
            return
        await self._booked(leg, order_id, booking.waybill_no)

    async def cancel_order(self, msg: OutboxMessage) -> None:
        """``courier.cancel``: call an order off; one that never got booked needs nothing."""
        assert self._courier is not None
        try:
            await self._courier.cancel(msg.payload["order_id"])
        except OrderNotFound:
            return
        except CannotCancel:
            log.warning("courier_cancel_too_late", order_id=msg.payload["order_id"])

    async def deliver(self, msg: OutboxMessage) -> None:
        """``courier.deliver``: the certificate goes home to the address the originals left from."""
        number = msg.payload["case"]
        pickup = await self.leg(number, PICKUP)
        if pickup is None:
            log.warning("courier_deliver_without_pickup", case=number)
            return  # the originals came another way; the counter hands the certificate over
        now = self._clock()
        leg = new_leg(
            number,
            DELIVERY,
            department=pickup.department,
            applicant_id=pickup.applicant_id,
            address=pickup.address,
            window=first_window(now),
            at=now,
        )
        try:
            async with self._store.transaction() as tx:
                await self._write(tx, leg)
                await self._queue_booking(tx, leg, now)
        except DuplicateKey:
            return  # an earlier run made the leg and its job

    async def withdrawn(self, msg: OutboxMessage) -> None:
        """``courier.withdrawn``: a case withdrawn while awaiting pickup calls the courier off."""
        leg = await self.leg(msg.payload["case"], PICKUP)
        if leg is None or leg.status is LegStatus.CANCELLED:
            return
        now = self._clock()
        old = leg.close(now)
        async with self._store.transaction() as tx:
            await self._write(tx, leg)
            if old is not None:
                await _queue(tx, CANCEL_TOPIC, f"courier.cancel:{old}", _job(leg, old), now)

    # -- internals ---------------------------------------------------------------------------

    async def _owned(self, actor: Actor, number: str) -> Case:
        case = await self._cases.get(actor, number)
        if not case.is_owner(actor):
            raise NotFoundError(NOT_FOUND)
        return case

    async def _write(self, tx: Transaction, leg: Leg) -> None:
        if leg.version:
            await tx.replace(SHIPMENTS, leg_to_doc(leg), expected_version=leg.version)
        else:
            await tx.insert(SHIPMENTS, leg_to_doc(leg))

    async def _queue_booking(self, tx: Transaction, leg: Leg, now: datetime) -> None:
        await _queue(tx, BOOK_TOPIC, f"courier.book:{leg.order_id}", _job(leg), now)

    async def _booked(self, leg: Leg, order_id: str, waybill: str) -> None:
        now = self._clock()
        if not leg.booked(order_id, waybill, now):
            return
        if leg.kind == PICKUP:
            text = (
                f"已为您预约快递上门取件（办件 {leg.case}）：{leg.window.label()}，运单号 "
                f"{waybill}。快递员上门时，请打开办件页面出示取件码，由快递员扫码收取原件。"
            )
            label = "出示取件码"
        else:
            text = (
                f"您的证照已预约快递寄送（办件 {leg.case}），运单号 {waybill}，"
                "窗口交寄后即可在办件页面查看物流。"
            )
            label = "查看办件"
        path = f"/h5/cases/{leg.case}"
        await self._save_and_tell(leg, text, label, path, key=f"courier-booked:{order_id}")

    async def _failed(self, leg: Leg, order_id: str, detail: str) -> None:
        flagged = leg.failed(order_id, detail, self._clock())
        log.warning(
            "courier_booking_failed",
            case=leg.case,
            order_id=order_id,
            failures=leg.failures,
            flagged=flagged,
        )
        await self._save_quietly(leg)

    async def _refused(self, leg: Leg, order_id: str, detail: str, why: str) -> None:
        if not leg.refused(order_id, detail, self._clock()):
            return
        log.warning("courier_booking_refused", case=leg.case, order_id=order_id)
        if leg.kind == PICKUP:
            text = f"上门取件预约未成功（办件 {leg.case}）：{why}请修改取件信息后重新预约。"
            path = f"/h5/cases/{leg.case}/pickup"
            key = f"courier-refused:{order_id}"
            await self._save_and_tell(leg, text, "修改取件信息", path, key=key)
        else:
            await self._save_quietly(leg)  # the department sees it and arranges the delivery

    async def _save_and_tell(self, leg: Leg, text: str, label: str, path: str, *, key: str) -> None:
        """The leg and its chat message together (a rerun finds the message queued)."""
        now = self._clock()
        payload = {
            "case": leg.case,
            "applicant_id": leg.applicant_id,
            "state": "",
            "text": text,
            "path": path,
            "link_label": label,
        }
        try:
            async with self._store.transaction() as tx:
                await self._write(tx, leg)
                await _queue(tx, NOTIFY_TOPIC, key, payload, now)
        except VersionConflict:
            return  # the applicant rebooked meanwhile: this order is history

    async def _save_quietly(self, leg: Leg) -> None:
        try:
            async with self._store.transaction() as tx:
                await self._write(tx, leg)
        except VersionConflict:
            pass  # changed meanwhile; the next attempt reads it again


def _job(leg: Leg, order_id: str | None = None) -> dict[str, Any]:
    return {"case": leg.case, "kind": leg.kind, "order_id": order_id or leg.order_id}


async def _queue(
    tx: Transaction, topic: str, key: str, payload: dict[str, Any], now: datetime
) -> None:
    await enqueue(tx, topic=topic, key=key, payload=payload, now=now, once=True)


def _contact(address: MailingAddress, company: str = "") -> Contact:
    return Contact(
        address.name,
        address.mobile,
        address.province,
        address.city,
        address.district,
        address.detail,
        company=company,
    )


def _order(leg: Leg, counter: Counter) -> PickupOrder:
    applicant, desk = _contact(leg.address), _contact(counter.address(), company=counter.name)
    sender, receiver = (applicant, desk) if leg.kind == PICKUP else (desk, applicant)
    return PickupOrder(
        leg.order_id,
        sender,
        receiver,
        PickupWindow(leg.window.start, leg.window.end),
        cargo=(CARGO[leg.kind],),
        remark=f"政务办件 {leg.case}",
    )
