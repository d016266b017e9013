"""Alipay's RSA2 rule (SHA256withRSA, PKCS#1 v1.5, base64) over its sorted ``k=v&...`` string.

Requests are signed over every parameter but ``sign`` (``sign_type`` included), notifications
over every parameter but ``sign`` and ``sign_type`` (AlipaySignature.getSignCheckContentV1);
both sort by name and join ``k=v`` with ``&``, values as sent before URL encoding.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def sign_content(params: Mapping[str, str], *, exclude: Iterable[str] = ("sign",)) -> str:
    """The string Alipay signs: sorted by name, ``k=v`` joined with ``&``, skipping ``exclude``."""
    skip = set(exclude)
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in skip)


def request_content(params: Mapping[str, str]) -> str:
    """What a gateway request signs: every parameter with a value, but ``sign``."""
    return sign_content({k: v for k, v in params.items() if v}, exclude=("sign",))


def notification_content(params: Mapping[str, str]) -> str:
    """What an asynchronous notification signs: every parameter but ``sign`` and ``sign_type``."""
    return sign_content(params, exclude=("sign", "sign_type"))


def rsa2_sign(key: rsa.RSAPrivateKey, content: str) -> str:
    signature = key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(key: rsa.RSAPublicKey, content: str | bytes, sign: str) -> bool:
    """True only if ``sign`` is a valid base64 RSA2 signature of ``content`` by ``key``."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        signature = base64.b64decode(sign, validate=True)
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM (PKCS#1 or PKCS#8) or Alipay's bare base64 (either DER)."""
    key = (
        serialization.load_pem_private_key(text.encode(), password=None)
        if "-----BEGIN" in text
        else serialization.load_der_private_key(_bare(text), password=None)
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(text: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM or Alipay's bare base64 SubjectPublicKeyInfo."""
    key = (
        serialization.load_pem_public_key(text.encode())
        if "-----BEGIN" in text
        else serialization.load_der_public_key(_bare(text))
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def read_private_key(path: Path) -> rsa.RSAPrivateKey:
    """The application private key kept in ``path`` (PEM or bare base64); ValueError if not."""
    return load_private_key(path.read_text(encoding="ascii"))


def read_public_key(path: Path) -> rsa.RSAPublicKey:
    """Alipay's public key kept in ``path`` (PEM or bare base64); ValueError if not."""
    return load_public_key(path.read_text(encoding="ascii"))


def private_key_pem(key: rsa.RSAPrivateKey) -> str:
    """PKCS#1 PEM, the form Alipay's key tool and the Python SDK use."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def pem_body(pem: str) -> str:
    """The base64 between the PEM markers on one line, as the SDK and Alipay's console want."""
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


def new_key_pair() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit key (Alipay's size), for demo mode and tests."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _bare(text: str) -> bytes:
    return base64.b64decode("".join(text.split()), validate=True)
