"""The side effects each case change implies, as outbox messages written in the same transaction.

(topic, idempotency key, payload) triples: a chat notice for a state change, a pre-check job for
an attached photo, a certificate job for 出证, and for a kept verdict its chat message and the
deposit into the space. The keys make a rerun of the same change queue nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.domain.case_states import LABELS_ZH, Action, State
from app.domain.cases import Case, CaseEvent
from app.domain.payments import paid_text, payment_request_text
from app.domain.prechecks import PASS
from app.services.notify import NOTIFY_TOPIC
from app.services.shipment_effects import courier_jobs, courier_notice

PRECHECK_TOPIC = "ocr.precheck"
DEPOSIT_TOPIC = "space.deposit"
CERTIFICATE_TOPIC = "certificate.issue"
SETTLE_TOPIC = "payment.settle"  # bring the case's ledger to what it owes (confirm or refund)
HANDLER_NOTE = "【您代办的办件】"
Effect = tuple[str, str, dict[str, Any]]


def _with_handler(case: Case, effects: list[Effect]) -> list[Effect]:
    """In a 代办 case the handler hears what the applicant hears: they act, and are told."""
    if not case.handler_id:
        return effects
    copies = [
        (
            topic,
            f"{key}:handler",
            p | {"applicant_id": case.handler_id, "text": HANDLER_NOTE + p["text"]},
        )
        for topic, key, p in effects
        if topic == NOTIFY_TOPIC
    ]
    return effects + copies


def precheck_effects(case: Case, slot_id: str) -> list[Effect]:
    """The chat message a kept verdict implies, and the space deposit when it passed."""
    slot, check = case.slot(slot_id), case.prechecks[slot_id]
    replaces = case.next_slot_for_photo() == slot
    text = check.message(slot.name, case.number, next_photo_replaces=replaces)
    if after := case.what_next():
        text += "\n" + after
    notify = {"case": case.number, "applicant_id": case.applicant_id, "state": case.state.value}
    effects = [(NOTIFY_TOPIC, f"verdict:{case.number}:{slot_id}", notify | {"text": text})]
    from_space = case.materials[slot_id].source.startswith("space:")
    if slot.reusable and check.status == PASS and not from_space:
        # Kept once, never asked for again (少交免交): the owner's space gets a copy.
        job = {"case": case.number, "slot": slot_id, "object_key": check.object_key}
        effects.append((DEPOSIT_TOPIC, f"deposit:{case.number}:{slot_id}", job))
    return _with_handler(case, effects)


def acceptance_text(case: Case, *, deemed: bool) -> str:
    """受理 told to the applicant: from when the decision's limit runs, and how long it is."""
    on = case.accepted_on.isoformat() if case.accepted_on else ""
    how = (
        f"收到申请材料后五个工作日内未被告知补正，依照《中华人民共和国行政许可法》第三十二条，"
        f"自 {on}（收到材料之日）起视为受理"
        if deemed
        else f"已于 {on} 受理"
    )
    days = case.terms.limit_days
    return f"【受理通知】您的办件 {case.number}（{case.terms.name}）{how}，" + (
        f"审批部门将在受理后 {days} 个工作日内作出决定。" if days else "将当场作出决定。"
    )


def _extended(case: Case, event: CaseEvent) -> str:
    return (
        f"【延长办理期限】您的办件 {case.number}（{case.terms.name}）经本机关负责人批准，"
        f"办理期限延长十个工作日，至 {event.detail.get('new_due', '')}"
        f"（《中华人民共和国行政许可法》第四十二条）。延期理由：{event.reason}"
    )


def _paused(case: Case, event: CaseEvent) -> str:
    return (
        f"【暂停计时】您的办件 {case.number}（{case.terms.name}）需要{event.reason}；"
        "所需时间不计入办理期限，结束后恢复计时。"
    )


def _resumed(case: Case, event: CaseEvent) -> str:
    what = (event.reason or "").split("，")[0]
    return (
        f"【恢复计时】您的办件 {case.number}（{case.terms.name}）{what}已结束，办理期限恢复计算。"
    )


CLOCK_NEWS: dict[str, Callable[[Case, CaseEvent], str]] = {
    "extend": _extended,
    "pause": _paused,
    "resume": _resumed,
}


def side_effects(case: Case, event: CaseEvent) -> list[Effect]:
    """(topic, idempotency key, payload) of the outbox messages ``event`` implies."""
    notify = {"case": case.number, "applicant_id": case.applicant_id, "state": case.state.value}
    slot_id = event.detail.get("slot")
    if event.action == "attach" and slot_id in case.materials:
        ref = case.materials[slot_id]
        job = {"case": case.number, "slot": slot_id, "object_key": ref.object_key}
        return [(PRECHECK_TOPIC, f"precheck:{case.number}:{event.seq}", job)]
    if event.action in CLOCK_NEWS:  # the limit changed: extended, paused, running again
        text = CLOCK_NEWS[event.action](case, event)
        return _with_handler(
            case, [(NOTIFY_TOPIC, f"notify:{case.number}:{event.seq}", notify | {"text": text})]
        )
    if event.from_state == event.to_state or event.to_state is State.DRAFT:
        return []  # a new draft or other history that is not news to push
    if event.action == Action.ACCEPT.value and event.detail.get("with_decision"):
        return []  # accepted and decided at once: the decision is the news
    if event.action == Action.QUEUE_FOR_REVIEW.value:
        return []  # told with the payment: "paid, now under review"
    effects = courier_jobs(case, event)
    if event.action == Action.ISSUE_CERTIFICATE.value:
        job = {"case": case.number}
        effects.append((CERTIFICATE_TOPIC, f"certificate:{case.number}", job))
    if event.to_state in {State.WITHDRAWN, State.REJECTED} and case.terms.fee_fen:
        # Paid, or a cashier page still open: refund or close, whatever the ledger holds.
        job = {"case": case.number}
        effects.append((SETTLE_TOPIC, f"settle:{case.number}:{event.seq}", job))
    if event.action == Action.RETURN.value:
        number = event.detail["notice"]
        text = case.notice_text(number)
        path = f"/h5/cases/{case.number}/notices/{number}"
        payload = notify | {"text": text, "path": path}
    elif event.to_state is State.AWAITING_PAYMENT:
        path = f"/h5/cases/{case.number}/pay"
        text = payment_request_text(case)
        payload = notify | {"text": text, "path": path, "link_label": "去缴费"}
    elif event.action == Action.CONFIRM_PAYMENT.value:
        payload = notify | {"text": paid_text(case)}
    elif event.action in {Action.REJECT.value, Action.REFUSE.value}:
        path = f"/h5/cases/{case.number}#decision"
        payload = notify | {"text": case.refusal_text(), "path": path, "link_label": "查看决定书"}
    elif event.action in {Action.ACCEPT.value, Action.DEEM_ACCEPTED.value}:
        path = f"/h5/cases/{case.number}/acceptance"
        text = acceptance_text(case, deemed=event.action == Action.DEEM_ACCEPTED.value)
        payload = notify | {"text": text, "path": path, "link_label": "查看受理通知书"}
    else:
        label = LABELS_ZH[event.to_state]
        text = f"您的办件 {case.number}（{case.terms.name}）状态更新为：{label}"
        courier = courier_notice(case, event)
        payload = notify | {"text": text + courier.pop("more", "")} | courier
    effects.append((NOTIFY_TOPIC, f"notify:{case.number}:{event.seq}", payload))
    return _with_handler(case, effects)
