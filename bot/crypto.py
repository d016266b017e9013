"""WeChat's signatures and AES message crypto, for the account and for a platform simulator."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import string
import struct
from collections.abc import Callable

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.errors import InvalidAppId, InvalidSignature, MalformedMessage, StaleMessage
from bot.wire import cdata, parse_xml, text_element

__all__ = ["FRESH_WITHIN", "MessageCrypto", "signature", "verify_fresh", "verify_signature"]

BLOCK_SIZE = 32  # WeChat pads with PKCS#7 to 32 bytes, not to AES's 16
_RANDOM_BYTES = 16
_LENGTH = struct.Struct(">I")  # the message length, in network order
_HEADER = _RANDOM_BYTES + _LENGTH.size
_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "+/")
# A push's signature covers the time WeChat sent it, and in plain mode nothing else: whoever
# copies one signed query could send any body with it. WeChat's own retries come within
# 15 s; five minutes leaves room for drift between its clock and ours.
FRESH_WITHIN = 300  # seconds
_SECONDS = re.compile(r"[0-9]{1,12}")


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def signature(*parts: str) -> str:
    """SHA-1 hex of the parts sorted and joined: URL verification and msg_signature alike."""
    # SHA-1 is what WeChat's protocol prescribes; nothing here chooses it.
    return hashlib.sha1(_utf8("".join(sorted(parts)))).hexdigest()  # noqa: S324


def verify_signature(expected: str | None, *parts: str) -> None:
    """Raise InvalidSignature unless ``expected`` is the signature of ``parts``."""
    if not expected:
        raise InvalidSignature("signature missing")
    if not hmac.compare_digest(_utf8(expected), _utf8(signature(*parts))):
        raise InvalidSignature("signature does not match")


def verify_fresh(timestamp: str, now: float, within: float = FRESH_WITHIN) -> None:
    """Raise StaleMessage unless ``timestamp`` (whole seconds) is within ``within`` of ``now``."""
    if not _SECONDS.fullmatch(timestamp):
        raise StaleMessage("timestamp missing or not whole seconds")
    skew = int(timestamp) - now
    if abs(skew) > within:
        raise StaleMessage(f"signed {skew:+.0f} s from now")


def _aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43 or not set(encoding_aes_key) <= _KEY_CHARS:
        raise ValueError("EncodingAESKey must be 43 base64 characters (A-Z a-z 0-9 + /)")
    return base64.b64decode(encoding_aes_key + "=")


class MessageCrypto:
    """Safe-mode crypto of one official account: its Token, EncodingAESKey and AppID."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        appid: str,
        *,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        if not token:
            raise ValueError("token must not be empty")
        if not appid:
            raise ValueError("appid must not be empty")
        self._key = _aes_key(encoding_aes_key)
        self._token = token
        self._appid = _utf8(appid)
        self._random_bytes = random_bytes
        self.appid = appid

    def __repr__(self) -> str:
        return f"MessageCrypto(appid={self.appid!r})"

    # -- account side -------------------------------------------------------------------------

    def decrypt(
        self, encrypt_b64: str, *, msg_signature: str | None, timestamp: str, nonce: str
    ) -> str:
        """The inner XML of a push's <Encrypt>, after its msg_signature and AppID check out."""
        if not isinstance(encrypt_b64, str):
            raise MalformedMessage("Encrypt is not text")
        # The signature covers the ciphertext, so nothing unsigned ever reaches AES or padding.
        verify_signature(msg_signature, self._token, timestamp, nonce, encrypt_b64)
        return self._open(encrypt_b64)

    def encrypt_reply(self, reply_xml: str, *, nonce: str, timestamp: str) -> str:
        """The encrypted, signed envelope that carries a passive reply in safe mode."""
        encrypt = self._seal(reply_xml)
        msg_signature = signature(self._token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt>{cdata(encrypt)}</Encrypt>"
            f"<MsgSignature>{cdata(msg_signature)}</MsgSignature>"
            f"{text_element('TimeStamp', timestamp)}"
            f"<Nonce>{cdata(nonce)}</Nonce></xml>"
        )

    # -- platform side (the simulator) --------------------------------------------------------

    def encrypt_push(
        self, inner_xml: str, *, nonce: str, timestamp: str, compatible: bool = False
    ) -> tuple[str, str]:
        """The body WeChat would POST for ``inner_xml`` and its msg_signature.

        Safe mode sends ToUserName and Encrypt; compatible mode sends every plain field too.
        """
        to_user = parse_xml(_utf8(inner_xml)).get("ToUserName")
        if not isinstance(to_user, str) or not to_user:
            raise MalformedMessage("the message to push has no ToUserName")
        encrypt = self._seal(inner_xml)
        msg_signature = signature(self._token, timestamp, nonce, encrypt)
        element = f"<Encrypt>{cdata(encrypt)}</Encrypt>"
        if not compatible:
            return f"<xml><ToUserName>{cdata(to_user)}</ToUserName>{element}</xml>", msg_signature
        plain = inner_xml.rstrip()
        if not plain.endswith("</xml>"):
            raise MalformedMessage("the message to push does not end with </xml>")
        return plain.removesuffix("</xml>") + element + "</xml>", msg_signature

    def decrypt_reply(self, outer_xml: str) -> str:
        """The inner XML of an encrypted passive reply, after its MsgSignature checks out."""
        fields = parse_xml(_utf8(outer_xml))
        msg_signature = fields.get("MsgSignature")
        timestamp, nonce = fields.get("TimeStamp"), fields.get("Nonce")
        if not isinstance(timestamp, str) or not isinstance(nonce, str):
            raise MalformedMessage("reply lacks TimeStamp or Nonce")
        return self.decrypt(
            fields.get("Encrypt", ""),
            msg_signature=msg_signature if isinstance(msg_signature, str) else None,
            timestamp=timestamp,
            nonce=nonce,
        )

    # -- the AES layer ------------------------------------------------------------------------

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def _seal(self, text: str) -> str:
        message = _utf8(text)
        nonce = self._random_bytes(_RANDOM_BYTES)
        if len(nonce) != _RANDOM_BYTES:
            raise ValueError(f"random_bytes gave {len(nonce)} bytes, not {_RANDOM_BYTES}")
        padder = padding.PKCS7(BLOCK_SIZE * 8).padder()
        plain = padder.update(nonce + _LENGTH.pack(len(message)) + message + self._appid)
        plain += padder.finalize()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def _open(self, encrypt_b64: str) -> str:
        try:
            sealed = base64.b64decode(encrypt_b64.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error) as exc:
            raise MalformedMessage("Encrypt is not base64") from exc
        if not sealed or len(sealed) % BLOCK_SIZE:
            raise MalformedMessage(f"ciphertext is not a whole number of {BLOCK_SIZE}-byte blocks")
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(sealed) + decryptor.finalize()
        unpadder = padding.PKCS7(BLOCK_SIZE * 8).unpadder()
        try:
            plain = unpadder.update(padded) + unpadder.finalize()
        except ValueError as exc:
            raise MalformedMessage("bad PKCS#7 padding") from exc
        if len(plain) < _HEADER:
            raise MalformedMessage("decrypted message is too short")
        (length,) = _LENGTH.unpack_from(plain, _RANDOM_BYTES)
        end = _HEADER + length
        if end > len(plain):
            raise MalformedMessage("message length runs past the end")
        if not hmac.compare_digest(plain[end:], self._appid):
            raise InvalidAppId("message is for another AppID")
        try:
            return plain[_HEADER:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessage("decrypted message is not UTF-8") from exc
