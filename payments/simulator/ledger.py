"""The simulated Alipay's trades and the rules it answers by (ACQ.* codes as Alipay's docs list)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from payments.alipay import BEIJING, TIME_FORMAT, beijing_time
from payments.port import TradeStatus, fen, yuan

Clock = Callable[[], datetime]
SUCCESS = {"code": "10000", "msg": "Success"}
BUYER_ID = "2088102177846880"
BUYER_LOGON_ID = "buy***@sandbox.com"
_MESSAGES = {"40001": "Missing Required Arguments", "40004": "Business Failed"}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Refusal(Exception):
    """An answer with a non-10000 code, e.g. 40004 ACQ.TRADE_NOT_EXIST."""

    def __init__(self, sub_code: str, sub_msg: str, code: str = "40004") -> None:
        super().__init__(f"{sub_code}: {sub_msg}")
        self.node = {
            "code": code,
            "msg": _MESSAGES.get(code, "Invalid Arguments"),
            "sub_code": sub_code,
            "sub_msg": sub_msg,
        }


@dataclass
class SimTrade:
    out_trade_no: str
    trade_no: str
    subject: str
    total_fen: int
    time_expire: datetime | None
    notify_url: str
    return_url: str
    created_at: datetime
    status: TradeStatus = TradeStatus.WAIT_BUYER_PAY
    paid_at: datetime | None = None
    refunds: dict[str, int] = field(default_factory=dict)  # out_request_no -> fen

    @property
    def refunded_fen(self) -> int:
        return sum(self.refunds.values())


class Ledger:
    """Every trade of one seller, by out_trade_no; unpaid trades close at their time_expire."""

    def __init__(self, *, clock: Clock = utcnow) -> None:
        self.clock = clock
        self.trades: dict[str, SimTrade] = {}
        self._numbers = itertools.count(1)

    def open_cashier(self, biz: Mapping[str, Any], notify_url: str, return_url: str) -> SimTrade:
        """alipay.trade.wap.pay: the trade the cashier shows (created on first opening)."""
        out_trade_no = _text(biz, "out_trade_no")
        subject = _text(biz, "subject")
        if biz.get("product_code", "QUICK_WAP_WAY") != "QUICK_WAP_WAY":
            raise Refusal("ACQ.INVALID_PARAMETER", "product_code 不是 QUICK_WAP_WAY")
        try:
            total = fen(str(biz.get("total_amount", "")))
            expire = biz.get("time_expire")
            time_expire = (
                datetime.strptime(str(expire), TIME_FORMAT).replace(tzinfo=BEIJING)
                if expire
                else None
            )
        except ValueError:
            raise Refusal("ACQ.INVALID_PARAMETER", "参数无效") from None
        if total <= 0:
            raise Refusal("ACQ.INVALID_PARAMETER", "total_amount 无效")
        trade = self._get(out_trade_no)
        if trade is None:
            trade = SimTrade(
                out_trade_no=out_trade_no,
                trade_no=self._trade_no(),
                subject=subject,
                total_fen=total,
                time_expire=time_expire,
                notify_url=notify_url,
                return_url=return_url,
                created_at=self.clock(),
            )
            self.trades[out_trade_no] = trade
        elif (trade.total_fen, trade.subject) != (total, subject):
            raise Refusal("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
        self._refuse_unless_payable(trade)
        return trade

    def pay(self, trade_no: str) -> SimTrade:
        """The demo buyer taps 付款."""
        trade = next((t for t in self.trades.values() if t.trade_no == trade_no), None)
        if trade is None:
            raise Refusal("ACQ.TRADE_NOT_EXIST", "交易不存在")
        self._expire(trade)
        self._refuse_unless_payable(trade)
        trade.status = TradeStatus.TRADE_SUCCESS
        trade.paid_at = self.clock()
        return trade

    def query(self, biz: Mapping[str, Any]) -> dict[str, str]:
        trade = self._require(biz)
        node = {
            **SUCCESS,
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status.value,
            "total_amount": yuan(trade.total_fen),
        }
        if trade.paid_at is not None:
            node |= {
                "buyer_logon_id": BUYER_LOGON_ID,
                "buyer_user_id": BUYER_ID,
                "buyer_pay_amount": yuan(trade.total_fen),
                "receipt_amount": yuan(trade.total_fen),
                "send_pay_date": beijing_time(trade.paid_at),
            }
        return node

    def close(self, biz: Mapping[str, Any]) -> dict[str, str]:
        trade = self._require(biz)
        if trade.status is not TradeStatus.WAIT_BUYER_PAY:
            raise Refusal("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade.status = TradeStatus.TRADE_CLOSED
        return {**SUCCESS, "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}

    def refund(self, biz: Mapping[str, Any]) -> tuple[dict[str, str], SimTrade, bool]:
        """The answer, the trade, and whether money moved (a repeated request moves none)."""
        trade = self._require(biz)
        out_request_no = str(biz.get("out_request_no") or trade.out_trade_no)
        try:
            amount = fen(str(biz.get("refund_amount", "")))
        except ValueError:
            raise Refusal("ACQ.INVALID_PARAMETER", "refund_amount 无效") from None
        done = trade.refunds.get(out_request_no)
        if done is not None and done != amount:
            raise Refusal("ACQ.DISCORDANT_REPEAT_REQUEST", "相同退款请求号的退款金额不一致")
        if done is None:
            if trade.status is TradeStatus.TRADE_FINISHED:
                raise Refusal("ACQ.TRADE_HAS_FINISHED", "交易已完结")
            if trade.paid_at is None or trade.status is not TradeStatus.TRADE_SUCCESS:
                raise Refusal("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            if amount <= 0:
                raise Refusal("ACQ.INVALID_PARAMETER", "refund_amount 无效")
            if trade.refunded_fen + amount > trade.total_fen:
                raise Refusal("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            trade.refunds[out_request_no] = amount
            if trade.refunded_fen == trade.total_fen:
                trade.status = TradeStatus.TRADE_CLOSED
        node = {
            **SUCCESS,
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": BUYER_LOGON_ID,
            "fund_change": "N" if done is not None else "Y",
            "refund_fee": yuan(trade.refunded_fen),
            "gmt_refund_pay": beijing_time(self.clock()),
        }
        return node, trade, done is None

    def _require(self, biz: Mapping[str, Any]) -> SimTrade:
        trade = self._get(str(biz.get("out_trade_no", "")))
        if trade is None:
            raise Refusal("ACQ.TRADE_NOT_EXIST", "交易不存在")
        return trade

    def _get(self, out_trade_no: str) -> SimTrade | None:
        trade = self.trades.get(out_trade_no)
        if trade is not None:
            self._expire(trade)
        return trade

    def _expire(self, trade: SimTrade) -> None:
        expire = trade.time_expire
        if trade.status is TradeStatus.WAIT_BUYER_PAY and expire and self.clock() >= expire:
            trade.status = TradeStatus.TRADE_CLOSED

    def _refuse_unless_payable(self, trade: SimTrade) -> None:
        if trade.status.paid:
            raise Refusal("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
        if trade.status is TradeStatus.TRADE_CLOSED:
            raise Refusal("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")

    def _trade_no(self) -> str:
        day = self.clock().astimezone(BEIJING).strftime("%Y%m%d")
        return f"{day}22001400{next(self._numbers):012d}"


def biz_content(params: Mapping[str, str]) -> dict[str, Any]:
    try:
        biz = json.loads(params.get("biz_content", ""))
    except ValueError:
        raise Refusal("isv.invalid-parameter", "biz_content 不是 JSON", code="40002") from None
    if not isinstance(biz, dict):
        raise Refusal("isv.invalid-parameter", "biz_content 不是 JSON 对象", code="40002")
    return biz


def _text(biz: Mapping[str, Any], name: str) -> str:
    value = biz.get(name)
    if not isinstance(value, str) or not value:
        raise Refusal(f"isv.missing-{name.replace('_', '-')}", f"缺少 {name}", code="40001")
    return value
