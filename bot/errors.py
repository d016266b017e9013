"""What can go wrong with a WeChat push; the callback edge maps each class to one HTTP status."""

from __future__ import annotations

__all__ = [
    "InvalidAppId",
    "InvalidSignature",
    "MalformedMessage",
    "MessageTooLarge",
    "StaleMessage",
    "WeChatError",
]


class WeChatError(Exception):
    """Base of everything the bot package raises about WeChat's protocol."""


class InvalidSignature(WeChatError):
    """A signature or msg_signature is missing or does not match: nothing may be processed."""


class StaleMessage(InvalidSignature):
    """A correctly signed push whose signed time is too far from ours: a replayed copy."""


class InvalidAppId(WeChatError):
    """The decrypted message names another account's AppID."""


class MalformedMessage(WeChatError):
    """Bad XML, a DTD or entity, a control character, a missing field, bad base64 or padding."""


class MessageTooLarge(WeChatError):
    """The body is larger than any genuine WeChat push."""
