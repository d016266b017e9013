"""WeChat's XML on the wire: hardened parsing of pushes and rendering of passive replies."""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from bot.errors import MalformedMessage, MessageTooLarge

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_TEXT_BYTES",
    "SUCCESS",
    "XmlFields",
    "cdata",
    "fit_text",
    "parse_xml",
    "render_news_reply",
    "render_text_reply",
    "text_element",
]

MAX_BODY_BYTES = 64 * 1024
MAX_TEXT_BYTES = 2048  # WeChat's limit on a text reply's Content
MAX_DEPTH = 4  # SendPicsInfo > PicList > item > PicMd5Sum is the deepest push WeChat sends
SUCCESS = "success"  # the body that tells WeChat "no reply", so it neither retries nor warns
ELLIPSIS = "…"

# Characters XML 1.0 cannot carry: C0 controls but tab, LF and CR; surrogates; U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

XmlFields = dict[str, Any]
"""Children of ``<xml>`` by tag: text for a leaf, a dict for nested children, a list for repeats."""


def parse_xml(body: bytes) -> XmlFields:
    """Parse one push; raise MessageTooLarge or MalformedMessage, never expand an entity."""
    if len(body) > MAX_BODY_BYTES:
        raise MessageTooLarge(f"{len(body)} bytes, limit {MAX_BODY_BYTES}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessage("body is not UTF-8") from exc
    if _NOT_XML.search(text):
        raise MalformedMessage("body holds a control character")
    try:
        # A str makes expat read UTF-8 whatever the declaration says; any DTD is refused
        # at its first token, so nothing is fetched and nothing expands.
        root = SafeElementTree.fromstring(
            text.removeprefix("\ufeff"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
    except (ParseError, DefusedXmlException) as exc:
        raise MalformedMessage(f"not acceptable XML ({type(exc).__name__})") from exc
    if root.tag != "xml":
        raise MalformedMessage("root element is not <xml>")
    fields: XmlFields = {}
    for child in root:
        # Two <Encrypt> or <MsgType> would leave readers disagreeing on which one counts.
        if child.tag in fields:
            raise MalformedMessage(f"<{child.tag}> appears twice")
        fields[child.tag] = _value(child, depth=1)
    return fields


def _value(element: Element, depth: int) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    if depth >= MAX_DEPTH:
        raise MalformedMessage("XML nested too deeply")
    grouped: dict[str, list[Any]] = {}
    for child in children:
        grouped.setdefault(child.tag, []).append(_value(child, depth + 1))
    return {tag: values[0] if len(values) == 1 else values for tag, values in grouped.items()}


def cdata(text: str) -> str:
    """Wrap text in CDATA, dropping characters XML cannot carry and splitting any ``]]>``."""
    return "<![CDATA[" + _NOT_XML.sub("", text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def fit_text(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """Text as is when its UTF-8 fits ``limit`` bytes, else cut at a character and end in "…"."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    # "ignore" drops only the one partial character a byte cut can leave at the end.
    return data[:room].decode("utf-8", "ignore") + ELLIPSIS


def _head(to_user: str, from_user: str, create_time: int, msg_type: str) -> str:
    return (
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
        f"<MsgType>{cdata(msg_type)}</MsgType>"
    )


def render_text_reply(*, to_user: str, from_user: str, content: str, create_time: int) -> str:
    """A passive text reply; content is cut to WeChat's 2048 bytes."""
    body = fit_text(_NOT_XML.sub("", content))
    return (
        f"<xml>{_head(to_user, from_user, create_time, 'text')}"
        f"<Content>{cdata(body)}</Content></xml>"
    )


def render_news_reply(
    *,
    to_user: str,
    from_user: str,
    create_time: int,
    title: str,
    description: str,
    url: str,
    pic_url: str = "",
) -> str:
    """A passive news reply with one article: a card that opens ``url``."""
    return (
        f"<xml>{_head(to_user, from_user, create_time, 'news')}"
        "<ArticleCount>1</ArticleCount><Articles><item>"
        f"<Title>{cdata(title)}</Title>"
        f"<Description>{cdata(description)}</Description>"
        f"<PicUrl>{cdata(pic_url)}</PicUrl>"
        f"<Url>{cdata(url)}</Url>"
        "</item></Articles></xml>"
    )


def text_element(tag: str, value: str) -> str:
    """A plain-text element for values WeChat writes without CDATA (TimeStamp)."""
    return f"<{tag}>{escape(_NOT_XML.sub('', value))}</{tag}>"
