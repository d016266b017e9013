"""The case lifecycle: states, actions, and which role may take which action from which state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.actors import Role


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PRECHECKED = "prechecked"
    UNDER_REVIEW = "under_review"
    RETURNED = "returned"  # correction notice issued, waiting on the applicant
    RESUBMITTED = "resubmitted"
    ACCEPTED = "accepted"  # 受理 (Art. 32): the decision clock of Art. 42 starts
    DEEMED_ACCEPTED = "deemed_accepted"  # Art. 32: no notice within 5 working days
    APPROVED = "approved"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    AWAITING_PICKUP = "awaiting_pickup"
    ORIGINALS_IN_TRANSIT = "originals_in_transit"
    ORIGINALS_RECEIVED = "originals_received"
    CERTIFICATE_ISSUED = "certificate_issued"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    CLOSED = "closed"
    REJECTED = "rejected"
    NOT_ACCEPTED = "not_accepted"  # 不予受理 (Art. 32): a decision with reasons and remedies
    WITHDRAWN = "withdrawn"


LABELS_ZH: dict[State, str] = {
    State.DRAFT: "草稿",
    State.SUBMITTED: "已提交",
    State.PRECHECKED: "已预检",
    State.UNDER_REVIEW: "预审中",
    State.RETURNED: "待补正",
    State.RESUBMITTED: "已补正",
    State.ACCEPTED: "已受理",
    State.DEEMED_ACCEPTED: "视为受理",
    State.APPROVED: "预审通过",
    State.AWAITING_PAYMENT: "待缴费",
    State.PAID: "已缴费",
    State.AWAITING_PICKUP: "待取件",
    State.ORIGINALS_IN_TRANSIT: "原件寄送中",
    State.ORIGINALS_RECEIVED: "原件已签收",
    State.CERTIFICATE_ISSUED: "已出证",
    State.DELIVERING: "证照派送中",
    State.DELIVERED: "已送达",
    State.CLOSED: "已办结",
    State.REJECTED: "不予许可",
    State.NOT_ACCEPTED: "不予受理",
    State.WITHDRAWN: "已撤回",
}

TERMINAL = frozenset({State.CLOSED, State.REJECTED, State.NOT_ACCEPTED, State.WITHDRAWN})
# Once the result is issued (or the case ended), the time limit has been met or missed: the
# clock stops on that day; delivery and rating happen after it.
FINISHED = TERMINAL | {State.CERTIFICATE_ISSUED, State.DELIVERING, State.DELIVERED}

# Before acceptance the department may still issue a correction notice (Art. 32).
BEFORE_ACCEPTANCE = frozenset(
    {State.SUBMITTED, State.PRECHECKED, State.UNDER_REVIEW, State.RESUBMITTED}
)
# Accepted, the decision still owed (Art. 42 runs); only here may the limit be extended.
DECIDING = frozenset({State.ACCEPTED, State.DEEMED_ACCEPTED})
# Approved, the certificate still owed (Art. 44: issued within ten working days of approval).
BEFORE_ISSUE = frozenset(
    {
        State.APPROVED,
        State.AWAITING_PAYMENT,
        State.PAID,
        State.AWAITING_PICKUP,
        State.ORIGINALS_IN_TRANSIT,
        State.ORIGINALS_RECEIVED,
    }
)


class Action(StrEnum):
    SUBMIT = "submit"
    PRECHECK = "precheck"
    START_REVIEW = "start_review"
    RETURN = "return_for_correction"
    RESUBMIT = "resubmit"
    DEEM_ACCEPTED = "deem_accepted"
    ACCEPT = "accept"
    REFUSE = "refuse_acceptance"  # 不予受理
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    REQUEST_PAYMENT = "request_payment"
    CONFIRM_PAYMENT = "confirm_payment"
    QUEUE_FOR_REVIEW = "queue_for_review"  # a fee paid before review: now the review starts
    REQUEST_PICKUP = "request_pickup"
    COLLECT_ORIGINALS = "collect_originals"
    RECEIVE_ORIGINALS = "receive_originals"
    ISSUE_CERTIFICATE = "issue_certificate"
    DISPATCH_DELIVERY = "dispatch_delivery"
    CONFIRM_DELIVERY = "confirm_delivery"
    CLOSE = "close"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[State]
    target: State
    roles: frozenset[Role]


def _rule(sources: set[State], target: State, *roles: Role) -> Rule:
    return Rule(frozenset(sources), target, frozenset(roles))


OWNER = (Role.APPLICANT,)
S = State
RULES: dict[Action, Rule] = {
    Action.SUBMIT: _rule({S.DRAFT}, S.SUBMITTED, *OWNER),
    Action.PRECHECK: _rule({S.SUBMITTED, S.RESUBMITTED}, S.PRECHECKED, Role.SYSTEM),
    Action.START_REVIEW: _rule(
        {S.SUBMITTED, S.PRECHECKED, S.RESUBMITTED}, S.UNDER_REVIEW, Role.REVIEWER
    ),
    Action.RETURN: _rule(set(BEFORE_ACCEPTANCE), S.RETURNED, Role.REVIEWER),
    Action.RESUBMIT: _rule({S.RETURNED}, S.RESUBMITTED, *OWNER),
    Action.DEEM_ACCEPTED: _rule(set(BEFORE_ACCEPTANCE), S.DEEMED_ACCEPTED, Role.SYSTEM),
    Action.ACCEPT: _rule(set(BEFORE_ACCEPTANCE), S.ACCEPTED, Role.REVIEWER),
    Action.REFUSE: _rule(set(BEFORE_ACCEPTANCE), S.NOT_ACCEPTED, Role.REVIEWER),
    # A decision on an application not yet accepted accepts it first (当场受理、当场决定).
    Action.APPROVE: _rule(set(DECIDING), S.APPROVED, Role.REVIEWER),
    Action.REJECT: _rule(set(DECIDING), S.REJECTED, Role.REVIEWER),
    Action.WITHDRAW: _rule(
        {
            S.DRAFT,
            S.SUBMITTED,
            S.PRECHECKED,
            S.UNDER_REVIEW,
            S.RETURNED,
            S.RESUBMITTED,
            S.ACCEPTED,
            S.DEEMED_ACCEPTED,
            S.APPROVED,
            S.AWAITING_PAYMENT,
            S.PAID,
            S.AWAITING_PICKUP,
        },
        S.WITHDRAWN,
        *OWNER,
    ),
    # After approval by default; at submission for a matter that is paid before review.
    Action.REQUEST_PAYMENT: _rule({S.APPROVED, S.SUBMITTED}, S.AWAITING_PAYMENT, Role.SYSTEM),
    Action.CONFIRM_PAYMENT: _rule({S.AWAITING_PAYMENT}, S.PAID, Role.SYSTEM),
    Action.QUEUE_FOR_REVIEW: _rule({S.PAID}, S.SUBMITTED, Role.SYSTEM),
    Action.REQUEST_PICKUP: _rule({S.APPROVED, S.PAID}, S.AWAITING_PICKUP, Role.SYSTEM),
    Action.COLLECT_ORIGINALS: _rule(
        {S.AWAITING_PICKUP}, S.ORIGINALS_IN_TRANSIT, Role.COURIER, Role.SYSTEM
    ),
    Action.RECEIVE_ORIGINALS: _rule(
        {S.ORIGINALS_IN_TRANSIT}, S.ORIGINALS_RECEIVED, Role.REVIEWER, Role.SYSTEM
    ),
    Action.ISSUE_CERTIFICATE: _rule(
        {S.APPROVED, S.PAID, S.ORIGINALS_RECEIVED}, S.CERTIFICATE_ISSUED, Role.REVIEWER
    ),
    Action.DISPATCH_DELIVERY: _rule(
        {S.CERTIFICATE_ISSUED}, S.DELIVERING, Role.COURIER, Role.SYSTEM
    ),
    Action.CONFIRM_DELIVERY: _rule({S.DELIVERING}, S.DELIVERED, Role.COURIER, Role.SYSTEM),
    Action.CLOSE: _rule({S.CERTIFICATE_ISSUED, S.DELIVERED}, S.CLOSED, Role.SYSTEM, *OWNER),
}

# A reviewer's queue: every state from which the department has a next step. Derived from
# the rules, so a new department action can never leave its cases out of the queue.
DEPARTMENT_TURN = frozenset(
    state for rule in RULES.values() if Role.REVIEWER in rule.roles for state in rule.sources
)


# A decision on an application not yet accepted accepts it in the same step (当场受理、当场决定).
ON_THE_SPOT = frozenset({Action.APPROVE, Action.REJECT})


def may_take(action: Action, state: State) -> bool:
    """Whether ``action`` can be taken on a case in ``state``, acceptance on the spot included."""
    on_the_spot = action in ON_THE_SPOT and state in RULES[Action.ACCEPT].sources
    return state in RULES[action].sources or on_the_spot


def actions_open(state: State, role: Role) -> frozenset[Action]:
    """What ``role`` may do to a case in ``state``, read off the rules: pages offer only these."""
    if state in TERMINAL:
        return frozenset()
    return frozenset(a for a, rule in RULES.items() if role in rule.roles and may_take(a, state))
