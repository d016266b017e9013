"""Chain of custody: each hand-over of the originals or the certificate, and who may scan it.

Whoever hands a parcel over shows a signed hand-over code; the other side scans it. The step a
case awaits follows from its state, so a code for any other step (or a second scan of the same
step) changes nothing:

========  ==================  =============  ==============  ==============================
step      case state          code shown by  scanned by      the case moves by
========  ==================  =============  ==============  ==============================
pickup    awaiting_pickup     applicant      courier         collect_originals (the courier)
arrival   originals_in_tr.    courier        counter clerk   receive_originals (the clerk)
dispatch  certificate_issued  courier        counter clerk   dispatch_delivery (the courier)
========  ==================  =============  ==============  ==============================

At dispatch the counter scans the code on the courier's phone, so the case records the courier
taking the certificate, as the rules table has it, and the clerk as the one who scanned.
"""

from __future__ import annotations

from enum import StrEnum

from app.domain.actors import SYSTEM, Actor, Role
from app.domain.case_states import Action, State
from app.domain.cases import Case
from app.domain.errors import InvalidTransition, NotPermitted


class Step(StrEnum):
    """The values of ``logistics.pickup_codes.HandOver`` this service uses."""

    PICKUP = "pickup"
    ARRIVAL = "arrival"
    DISPATCH = "dispatch"


DUE = {
    State.AWAITING_PICKUP: Step.PICKUP,
    State.ORIGINALS_IN_TRANSIT: Step.ARRIVAL,
    State.CERTIFICATE_ISSUED: Step.DISPATCH,
}
ACTION = {
    Step.PICKUP: Action.COLLECT_ORIGINALS,
    Step.ARRIVAL: Action.RECEIVE_ORIGINALS,
    Step.DISPATCH: Action.DISPATCH_DELIVERY,
}
SHOWN_BY = {Step.PICKUP: Role.APPLICANT, Step.ARRIVAL: Role.COURIER, Step.DISPATCH: Role.COURIER}
SCANNED_BY = {Step.PICKUP: Role.COURIER, Step.ARRIVAL: Role.REVIEWER, Step.DISPATCH: Role.REVIEWER}
LABELS_ZH = {
    Step.PICKUP: "快递员上门收取原件",
    Step.ARRIVAL: "部门窗口签收原件",
    Step.DISPATCH: "窗口将证照交快递员寄出",
}
ROLE_ZH = {
    Role.APPLICANT: "申请人",
    Role.COURIER: "快递员",
    Role.REVIEWER: "窗口工作人员",
    Role.SYSTEM: "系统",
}
NOT_DUE = "该交接码不适用于办件当前环节（可能已扫描过），请核对。"


def due_step(case: Case) -> Step | None:
    """The hand-over the case waits for, if any (a delivery only when the certificate travels)."""
    step = DUE.get(case.state)
    if step is Step.DISPATCH and not case.terms.originals_required:
        return None
    return step


def may_show(step: Step, actor: Actor, case: Case) -> bool:
    """Whether ``actor`` is the side that hands over at ``step`` (and so may show its code)."""
    if SHOWN_BY[step] is Role.APPLICANT:
        return case.is_owner(actor)
    return actor.role is SHOWN_BY[step]


def check_scan(case: Case, step: Step, scanner: Actor) -> Action:
    """The action a scan of ``step`` takes on ``case`` by ``scanner``, or why it must not."""
    if due_step(case) is not step:
        raise InvalidTransition(NOT_DUE)
    if scanner.role is not SCANNED_BY[step]:
        raise NotPermitted("您的账号不能扫描这一环节的交接码。")
    if scanner.role is Role.REVIEWER and scanner.department != case.terms.department:
        raise NotPermitted("该办件不属于您所在部门，请核对。")
    return ACTION[step]


def mover(step: Step, scanner: Actor, shown_by: Actor | None) -> Actor:
    """Who takes custody, and so moves the case: the scanner, or at dispatch the courier.

    A dispatch code whose courier is not on record (never in practice) is moved by the system
    on the clerk's scan; the scan itself still names the clerk.
    """
    if step is Step.DISPATCH:
        return shown_by if shown_by is not None and shown_by.role is Role.COURIER else SYSTEM
    return scanner
