"""Inbound messages and events, read from parsed fields; wechatpy reads the same XML as a check."""

from __future__ import annotations

import dataclasses

import pytest
from wechatpy import parse_message

from bot.errors import MalformedMessage
from bot.parser import Inbound, parse_inbound
from bot.wire import parse_xml

HEAD = (
    "<ToUserName><![CDATA[gh_account]]></ToUserName>"
    "<FromUserName><![CDATA[oUserOpenId]]></FromUserName>"
    "<CreateTime>1700000000</CreateTime>"
)


def push(body: str) -> str:
    return f"<xml>{HEAD}{body}</xml>"


def inbound(body: str) -> Inbound:
    return parse_inbound(parse_xml(push(body).encode()))


def test_a_text_message_reads_like_wechatpy_reads_it() -> None:
    body = (
        "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[查询 2026-0001]]></Content>"
        "<MsgId>6054768590064713728</MsgId>"
    )
    msg, theirs = inbound(body), parse_message(push(body))
    assert (msg.kind, msg.content, msg.msg_id) == ("text", theirs.content, str(theirs.id))
    assert (msg.from_user, msg.to_user, msg.create_time) == (
        theirs.source,
        theirs.target,
        1700000000,
    )
    assert msg.dedup_key == "msg:6054768590064713728"


def test_an_image_message_carries_its_media_id_and_picture_url() -> None:
    body = (
        "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl>"
        "<MediaId><![CDATA[media_123]]></MediaId><MsgId>42</MsgId>"
    )
    msg, theirs = inbound(body), parse_message(push(body))
    assert (msg.kind, msg.media_id, msg.pic_url) == ("image", theirs.media_id, theirs.image)
    assert msg.dedup_key == "msg:42"


def test_a_subscribe_event_is_keyed_by_sender_and_time() -> None:
    msg = inbound("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>")
    assert (msg.kind, msg.event, msg.msg_id) == ("event", "subscribe", None)
    assert msg.dedup_key == "evt:oUserOpenId:1700000000:subscribe:"
    assert msg.qr_scene is None


def test_subscribing_through_a_qr_code_and_scanning_it_later_give_the_same_scene() -> None:
    first = inbound(
        "<MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_case-9</EventKey>"
    )
    again = inbound("<MsgType>event</MsgType><Event>SCAN</Event><EventKey>case-9</EventKey>")
    assert (first.event, again.event) == ("subscribe", "scan")
    assert first.qr_scene == again.qr_scene == "case-9"


def test_a_click_event_is_lower_cased_and_keeps_its_key() -> None:
    body = (
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event>"
        "<EventKey><![CDATA[WO_YAO_BAN]]></EventKey>"
    )
    msg, theirs = inbound(body), parse_message(push(body))
    assert (msg.event, msg.event_key) == (theirs.event, theirs.key) == ("click", "WO_YAO_BAN")
    assert msg.dedup_key == "evt:oUserOpenId:1700000000:click:WO_YAO_BAN"


def test_a_scancode_event_keeps_its_nested_scan_info() -> None:
    body = (
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[scancode_waitmsg]]></Event>"
        "<EventKey><![CDATA[scan_receipt]]></EventKey><ScanCodeInfo>"
        "<ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[BCM-2026-0001]]></ScanResult>"
        "</ScanCodeInfo>"
    )
    msg, theirs = inbound(body), parse_message(push(body))
    assert (msg.event, msg.event_key) == ("scancode_waitmsg", "scan_receipt")
    assert msg.raw["ScanCodeInfo"] == {"ScanType": "qrcode", "ScanResult": "BCM-2026-0001"}
    assert msg.raw["ScanCodeInfo"]["ScanResult"] == theirs.scan_result


def test_a_template_report_adds_its_msgid_so_two_in_one_second_stay_distinct() -> None:
    def report(msg_id: str) -> Inbound:
        return inbound(
            "<MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event>"
            f"<MsgID>{msg_id}</MsgID><Status>success</Status>"
        )

    first, second = report("200163836"), report("200163840")
    assert first.event == "templatesendjobfinish"
    assert first.msg_id is None
    assert first.dedup_key != second.dedup_key


def test_an_unknown_message_type_is_kind_unknown_not_an_error() -> None:
    msg = inbound(
        "<MsgType><![CDATA[miniprogrampage]]></MsgType><Title><![CDATA[t]]></Title>"
        "<AppId><![CDATA[wxapp]]></AppId><PagePath><![CDATA[pages/index]]></PagePath><MsgId>7</MsgId>"
    )
    assert msg.kind == "unknown"
    assert msg.raw["MsgType"] == "miniprogrampage"
    assert msg.dedup_key == "msg:7"


@pytest.mark.parametrize(
    "kind", ["text", "image", "voice", "video", "shortvideo", "location", "link", "event"]
)
def test_every_documented_message_type_is_recognised_in_any_case(kind: str) -> None:
    assert inbound(f"<MsgType>{kind.upper()}</MsgType><MsgId>1</MsgId>").kind == kind


def test_an_event_field_on_a_plain_message_is_not_read_as_an_event() -> None:
    msg = inbound(
        "<MsgType>text</MsgType><Event>subscribe</Event><Content>x</Content><MsgId>1</MsgId>"
    )
    assert (msg.event, msg.event_key) == (None, None)


@pytest.mark.parametrize("missing", ["ToUserName", "FromUserName", "CreateTime", "MsgType"])
def test_a_missing_required_field_is_malformed(missing: str) -> None:
    fields = dict(parse_xml(push("<MsgType>text</MsgType>").encode()))
    del fields[missing]
    with pytest.raises(MalformedMessage, match=missing):
        parse_inbound(fields)


@pytest.mark.parametrize("created", ["", "soon", "-1", "1.5", "١٢٣", "9" * 16])
def test_a_create_time_that_is_not_plain_seconds_is_malformed(created: str) -> None:
    fields = {"ToUserName": "g", "FromUserName": "o", "CreateTime": created, "MsgType": "text"}
    with pytest.raises(MalformedMessage):
        parse_inbound(fields)


def test_a_required_field_given_as_nested_elements_is_malformed() -> None:
    fields = {"ToUserName": "g", "FromUserName": {"a": "b"}, "CreateTime": "1", "MsgType": "text"}
    with pytest.raises(MalformedMessage, match="FromUserName"):
        parse_inbound(fields)


def test_an_optional_field_given_as_nested_elements_is_left_in_raw() -> None:
    msg = inbound("<MsgType>text</MsgType><Content><b>bold</b></Content><MsgId>1</MsgId>")
    assert msg.content is None
    assert msg.raw["Content"] == {"b": "bold"}


def test_an_inbound_is_immutable_and_its_repr_hides_what_the_user_wrote() -> None:
    msg = inbound(
        "<MsgType>text</MsgType><Content>身份证 110101199003074514</Content><MsgId>1</MsgId>"
    )
    assert "110101199003074514" not in repr(msg)
    with pytest.raises(dataclasses.FrozenInstanceError):
        msg.kind = "event"  # type: ignore[misc]
    with pytest.raises(TypeError):
        msg.raw["Content"] = "changed"  # type: ignore[index]
    assert hash(msg) == hash(dataclasses.replace(msg))
