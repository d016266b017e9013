"""Parsing WeChat's XML without trusting it, and rendering passive replies WeChat accepts."""

from __future__ import annotations

import time

import pytest

from bot.errors import MalformedMessage, MessageTooLarge, WeChatError
from bot.wire import MAX_BODY_BYTES, MAX_TEXT_BYTES, fit_text, parse_xml, render_news_reply
from bot.wire import render_text_reply as text_reply

TEXT = (
    b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>"
    b"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    b"<Content><![CDATA[%s]]></Content><MsgId>1234567890123456</MsgId></xml>"
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><Content>&lol9;</Content></xml>"""


def test_a_text_push_parses_to_its_fields() -> None:
    fields = parse_xml(TEXT % "办理 营业执照".encode())
    assert fields == {
        "ToUserName": "gh_1",
        "FromUserName": "oUser",
        "CreateTime": "1700000000",
        "MsgType": "text",
        "Content": "办理 营业执照",
        "MsgId": "1234567890123456",
    }


def test_leaf_whitespace_is_kept_and_empty_elements_are_empty_text() -> None:
    fields = parse_xml(b"<xml><Content>  two  spaces </Content><EventKey/></xml>")
    assert fields == {"Content": "  two  spaces ", "EventKey": ""}


def test_nested_children_become_a_dict_and_repeats_a_list() -> None:
    fields = parse_xml(
        b"<xml><SendPicsInfo><Count>2</Count><PicList>"
        b"<item><PicMd5Sum>a</PicMd5Sum></item><item><PicMd5Sum>b</PicMd5Sum></item>"
        b"</PicList></SendPicsInfo></xml>"
    )
    assert fields["SendPicsInfo"] == {
        "Count": "2",
        "PicList": {"item": [{"PicMd5Sum": "a"}, {"PicMd5Sum": "b"}]},
    }


def test_an_xml_declaration_naming_another_encoding_is_still_read_as_utf8() -> None:
    body = '<?xml version="1.0" encoding="GBK"?><xml><Content>中文</Content></xml>'.encode()
    assert parse_xml(body) == {"Content": "中文"}


# -- bad input: one test per class, each a MalformedMessage or MessageTooLarge -------------------


def test_an_external_entity_is_refused_and_nothing_is_read() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<xml><Content>&xxe;</Content></xml>"
    )
    with pytest.raises(MalformedMessage):
        parse_xml(body)


def test_billion_laughs_is_refused_at_once_without_expansion() -> None:
    started = time.perf_counter()
    with pytest.raises(MalformedMessage):
        parse_xml(BILLION_LAUGHS)
    assert time.perf_counter() - started < 0.5


def test_an_internal_dtd_without_entities_is_refused_too() -> None:
    with pytest.raises(MalformedMessage):
        parse_xml(b"<!DOCTYPE xml><xml><Content>x</Content></xml>")


def test_a_body_over_the_limit_is_too_large_before_any_parsing() -> None:
    body = b"<xml><Content>" + b"a" * MAX_BODY_BYTES + b"</Content></xml>"
    with pytest.raises(MessageTooLarge):
        parse_xml(body)


def test_a_body_exactly_at_the_limit_is_parsed() -> None:
    head, tail = b"<xml><Content>", b"</Content></xml>"
    body = head + b"a" * (MAX_BODY_BYTES - len(head) - len(tail)) + tail
    assert len(parse_xml(body)["Content"]) == MAX_BODY_BYTES - len(head) - len(tail)


@pytest.mark.parametrize("char", ["\x01", "\x00", "\x08", "\x0b", "\x1f"])
def test_a_control_character_in_content_is_refused(char: str) -> None:
    with pytest.raises(MalformedMessage, match="control character"):
        parse_xml(TEXT % f"hi{char}there".encode())


@pytest.mark.parametrize("ref", [b"&#1;", b"&#x1F;", b"&#xFFFE;", b"&#xD800;"])
def test_a_control_character_as_a_character_reference_is_refused(ref: bytes) -> None:
    with pytest.raises(MalformedMessage):
        parse_xml(b"<xml><Content>hi" + ref + b"there</Content></xml>")


def test_tab_newline_and_carriage_return_are_allowed() -> None:
    assert parse_xml(TEXT % b"a\tb\nc")["Content"] == "a\tb\nc"


def test_bytes_that_are_not_utf8_are_refused() -> None:
    with pytest.raises(MalformedMessage, match="UTF-8"):
        parse_xml(TEXT % "营业执照".encode("gbk"))


def test_a_root_other_than_xml_is_refused() -> None:
    with pytest.raises(MalformedMessage, match="root"):
        parse_xml(b"<message><Content>x</Content></message>")


@pytest.mark.parametrize(
    "body",
    [TEXT[: len(TEXT) // 2], b"", b"   ", b"not xml", b"<xml><a></b></xml>", b"<xml/><xml/>"],
)
def test_truncated_or_broken_xml_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedMessage):
        parse_xml(body)


def test_a_field_given_twice_is_refused() -> None:
    with pytest.raises(MalformedMessage, match="twice"):
        parse_xml(b"<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>")


def test_nesting_deeper_than_any_wechat_push_is_refused() -> None:
    with pytest.raises(MalformedMessage, match="deep"):
        parse_xml(b"<xml>" + b"<a>" * 5 + b"x" + b"</a>" * 5 + b"</xml>")


def test_thousands_of_nested_elements_are_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(MalformedMessage):
        parse_xml(b"<xml>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</xml>")
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "body", [b"\xff\xfe<\x00x\x00", b"<xml>\xc3</xml>", b"<xml><a>&amp</a></xml>", b"<?xml?>"]
)
def test_odd_bytes_fail_only_with_a_wechat_error(body: bytes) -> None:
    with pytest.raises(WeChatError):
        parse_xml(body)


# -- replies ------------------------------------------------------------------------------------


def test_a_text_reply_round_trips_through_the_parser() -> None:
    xml = text_reply(to_user="oUser", from_user="gh_1", content="已收到", create_time=1700000001)
    assert parse_xml(xml.encode()) == {
        "ToUserName": "oUser",
        "FromUserName": "gh_1",
        "CreateTime": "1700000001",
        "MsgType": "text",
        "Content": "已收到",
    }


def test_cdata_terminators_in_content_are_split_safely() -> None:
    content = "a]]>b<xml>&amp;]]>"
    xml = text_reply(to_user="o", from_user="g", content=content, create_time=1)
    assert xml.count("<Content>") == 1
    assert parse_xml(xml.encode())["Content"] == content


def test_control_characters_are_dropped_from_a_reply() -> None:
    xml = text_reply(to_user="o", from_user="g", content="a\x01b\x0bc\nd", create_time=1)
    assert parse_xml(xml.encode())["Content"] == "abc\nd"


def test_a_long_reply_is_cut_at_a_character_to_2048_bytes_and_ends_with_an_ellipsis() -> None:
    content = "办" * 1000  # 3000 bytes
    xml = text_reply(to_user="o", from_user="g", content=content, create_time=1)
    cut = parse_xml(xml.encode())["Content"]
    assert cut.endswith("…")
    assert len(cut.encode()) <= MAX_TEXT_BYTES
    assert set(cut[:-1]) == {"办"}


def test_a_reply_of_exactly_2048_bytes_is_not_cut() -> None:
    assert fit_text("a" * MAX_TEXT_BYTES) == "a" * MAX_TEXT_BYTES
    assert fit_text("a" * (MAX_TEXT_BYTES + 1)) == "a" * (MAX_TEXT_BYTES - 3) + "…"


def test_a_news_reply_carries_one_article() -> None:
    xml = render_news_reply(
        to_user="oUser",
        from_user="gh_1",
        create_time=5,
        title="案件 2026-0001",
        description="材料已齐，等待预审",
        url="https://example.org/cases/1?a=1&b=2",
        pic_url="https://example.org/p.png",
    )
    fields = parse_xml(xml.encode())
    assert fields["MsgType"] == "news"
    assert fields["ArticleCount"] == "1"
    assert fields["Articles"] == {
        "item": {
            "Title": "案件 2026-0001",
            "Description": "材料已齐，等待预审",
            "PicUrl": "https://example.org/p.png",
            "Url": "https://example.org/cases/1?a=1&b=2",
        }
    }
