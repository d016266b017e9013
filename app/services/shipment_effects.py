"""What the courier steps of a case add to its outbox: the delivery job and the chat's words."""

from __future__ import annotations

from typing import Any

from app.domain.case_states import Action, State
from app.domain.cases import Case, CaseEvent

BOOK_TOPIC = "courier.book"
CANCEL_TOPIC = "courier.cancel"
DELIVER_TOPIC = "courier.deliver"
WITHDRAWN_TOPIC = "courier.withdrawn"
Effect = tuple[str, str, dict[str, Any]]


def courier_jobs(case: Case, event: CaseEvent) -> list[Effect]:
    """An issued certificate of a case whose originals travelled goes home by courier; a
    withdrawn case calls its pickup off."""
    if event.action == Action.ISSUE_CERTIFICATE.value and case.terms.originals_required:
        return [(DELIVER_TOPIC, f"courier.deliver:{case.number}", {"case": case.number})]
    if event.action == Action.WITHDRAW.value and event.from_state is State.AWAITING_PICKUP:
        return [(WITHDRAWN_TOPIC, f"courier.withdrawn:{case.number}", {"case": case.number})]
    return []


def courier_notice(case: Case, event: CaseEvent) -> dict[str, str]:
    """More words for the state's chat notice (``more``), and the page it links to."""
    n, waybill = case.number, event.detail.get("waybill", "")
    if event.action == Action.REQUEST_PICKUP.value:
        return {
            "more": "。本事项需要递交纸质原件，快递员将免费上门收取。请填写取件地址并选择上门时间",
            "path": f"/h5/cases/{n}/pickup",
            "link_label": "填写取件信息",
        }
    if event.action == Action.COLLECT_ORIGINALS.value:
        return {"more": f"。快递员已收取原件，运单号 {waybill}，交接记录可在办件页面查看"}
    if event.action == Action.RECEIVE_ORIGINALS.value:
        return {"more": "。原件已送达部门窗口并签收"}
    if event.action == Action.ISSUE_CERTIFICATE.value and case.terms.originals_required:
        return {"more": "。证照和原件将由快递寄送到您填写的取件地址，寄出后会告诉您运单号"}
    if event.action == Action.DISPATCH_DELIVERY.value:
        return {"more": f"。证照已交快递寄出，运单号 {waybill}"}
    if event.action == Action.CONFIRM_DELIVERY.value:
        return {
            "more": "。证照已送达，欢迎对本次服务作出评价",
            "path": f"/h5/cases/{n}/rate",
            "link_label": "去评价",
        }
    return {}
