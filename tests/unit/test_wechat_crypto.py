"""WeChat signatures and safe-mode AES, against Tencent's published sample vectors."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto

from bot.crypto import MessageCrypto, signature, verify_signature
from bot.errors import InvalidAppId, InvalidSignature, MalformedMessage, WeChatError
from bot.wire import parse_xml

# Tencent's sample code for the official account (cryptoDemo: Java WXBizMsgCryptTest,
# Python Sample.py, C++ Sample.cpp), copied byte for byte by many public projects.
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
JAVA_TOKEN, JAVA_APPID, JAVA_RANDOM = "pamtest", "wxb11529c136998cb6", b"aaaabbbbccccdddd"
JAVA_REPLY = "我是中文abcd123"
JAVA_CIPHER = (
    "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
)
JAVA_REPLY2 = (
    "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName>"
    "<FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime>"
    "<MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71"
    "s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title>"
    "<Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>"
)
JAVA_CIPHER2 = (
    "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupq"
    "cEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3"
    "tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZ"
    "I27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC"
    "50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d"
    "8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMa"
    "BropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb"
)

PY_TOKEN, PY_APPID = "spamtest", "wx2c2769f8efd9abc2"
PY_TIMESTAMP, PY_NONCE = "1409735669", "1320562132"
PY_MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
# A compatible-mode push: every plain field and <Encrypt> side by side.
PY_BODY = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2g"
    "fYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]>"
    "</MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt>"
    "<![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmB"
    "M4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332j"
    "isa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8"
    "tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvn"
    "hvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>"
)
PY_PLAIN = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n"
    "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n"
    "<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n"
    "<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>"
)


def account() -> MessageCrypto:
    return MessageCrypto(PY_TOKEN, KEY, PY_APPID)


def sample_encrypt() -> str:
    value = parse_xml(PY_BODY.encode())["Encrypt"]
    assert isinstance(value, str)
    return value


def decrypt_sample(crypto: MessageCrypto, encrypt: str, msg_signature: str | None) -> str:
    return crypto.decrypt(
        encrypt, msg_signature=msg_signature, timestamp=PY_TIMESTAMP, nonce=PY_NONCE
    )


def signed(encrypt: str) -> str:
    return signature(PY_TOKEN, PY_TIMESTAMP, PY_NONCE, encrypt)


# -- Tencent's published vectors ----------------------------------------------------------------


def test_the_official_python_sample_decrypts_to_its_published_plaintext() -> None:
    assert decrypt_sample(account(), sample_encrypt(), PY_MSG_SIGNATURE) == PY_PLAIN


def test_the_official_msg_signature_is_sha1_over_the_sorted_four_parts() -> None:
    assert signed(sample_encrypt()) == PY_MSG_SIGNATURE


@pytest.mark.parametrize(
    ("reply", "cipher"), [(JAVA_REPLY, JAVA_CIPHER), (JAVA_REPLY2, JAVA_CIPHER2)]
)
def test_a_reply_sealed_with_the_java_samples_random_matches_its_ciphertext(
    reply: str, cipher: str
) -> None:
    crypto = MessageCrypto(JAVA_TOKEN, KEY, JAVA_APPID, random_bytes=lambda n: JAVA_RANDOM)
    envelope = parse_xml(
        crypto.encrypt_reply(reply, nonce="xxxxxx", timestamp="1409304348").encode()
    )
    assert envelope["Encrypt"] == cipher
    assert crypto.decrypt_reply(crypto.encrypt_reply(reply, nonce="n", timestamp="1")) == reply


def test_the_cpp_sample_decrypts_with_its_published_signature() -> None:
    cipher = (
        "mfBCs65c67CeJw22u4VT2TD73q5H06+ocrAIxswCaeZ/d/Lw0msSZFHY0teqgSYiI1zR2gD2DKrB3TIrmX/liNSDrG"
        "qS8jSI/WPeKB5VPr7Ezr7gomZAyGCwJSgT1TRFWPfONGJMxuj2nk4faTuspAuVIFQ6SHwZuJBZC7mcJp7Cgr9cUhAT"
        "QWDbOPaE7ukZBTV2YqyzH+UI2AK+J1S47cE79k1RX8t0hcTz/O0hlK8DGXKnvYv88qKQcI7z4iaajqHfRVZKBNyOOD"
        "abs+It+ZfM3dWTeFcPgDbGtIEnpt/EDtuuA/zMvtkaKdHdswPnVZQ+xdwbYr3ldGvfT8HlEYEgkgKaThxTFobVlwz"
        "u2ZkXCjicbP3xdr15Iq48ObgzPpqYuZ3IEoyggZDKClquk0u0orMck4GTF/XyE8yGzc4="
    )
    inner = account().decrypt(
        cipher,
        msg_signature="003fee52ecc56afb46c00b5c7721be87860ce785",
        timestamp="1410349438",
        nonce="298025754",
    )
    assert parse_xml(inner.encode())["MsgId"] == "6057404712141979648"


def test_wechatpys_own_vectors_decrypt_and_seal_identically() -> None:
    # wechatpy tests/test_crypto.py (a WeChat Work corp id in the AppID's place; same scheme).
    crypto = MessageCrypto(
        "123456",
        "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
        "wx49f0ab532d5d035a",
        random_bytes=lambda n: b"1234567890123456",
    )
    reply = (
        "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
        "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n"
        "<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n"
        "<CreateTime>1411525903</CreateTime>\n</xml>"
    )
    envelope = parse_xml(
        crypto.encrypt_reply(reply, nonce="461056294", timestamp="1411525903").encode()
    )
    assert envelope["MsgSignature"] == "407518b7649e86ef23978113f92d27afa9296533"
    assert str(envelope["Encrypt"]).startswith("9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsG")


def test_the_wechat_work_url_verification_sample_decrypts_to_its_echostr() -> None:
    # Official accounts echo echostr in plain; WeChat Work encrypts it with this same scheme.
    crypto = MessageCrypto(
        "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
    )
    echostr = crypto.decrypt(
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
        msg_signature="5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
        timestamp="1409659589",
        nonce="263014780",
    )
    assert echostr == "1616140317555161061"


# -- both directions, and wechatpy as an independent implementation -----------------------------


def test_a_push_sealed_by_the_platform_opens_on_the_account() -> None:
    crypto = account()
    body, msg_signature = crypto.encrypt_push(PY_PLAIN, nonce="n1", timestamp="1700000000")
    fields = parse_xml(body.encode())
    assert set(fields) == {"ToUserName", "Encrypt"}
    assert (
        crypto.decrypt(
            fields["Encrypt"], msg_signature=msg_signature, timestamp="1700000000", nonce="n1"
        )
        == PY_PLAIN
    )


def test_a_compatible_mode_push_carries_the_plain_fields_and_the_ciphertext() -> None:
    body, sig = account().encrypt_push(PY_PLAIN, nonce="n1", timestamp="1", compatible=True)
    fields = parse_xml(body.encode())
    assert fields["Content"] == "abcdteT"
    opened = account().decrypt(fields["Encrypt"], msg_signature=sig, timestamp="1", nonce="n1")
    assert opened == PY_PLAIN


def test_wechatpy_opens_our_reply_and_we_open_its_reply() -> None:
    ours, theirs = account(), WeChatCrypto(PY_TOKEN, KEY, PY_APPID)
    envelope = ours.encrypt_reply("回复 ok", nonce="n", timestamp="5")
    fields = parse_xml(envelope.encode())
    assert theirs.decrypt_message(envelope, fields["MsgSignature"], "5", "n") == "回复 ok"
    assert ours.decrypt_reply(theirs.encrypt_message("它的回复", "n2", "6")) == "它的回复"


# -- bad input: rejected, and only ever as a WeChatError ----------------------------------------


def test_a_missing_msg_signature_is_rejected_before_decryption() -> None:
    with pytest.raises(InvalidSignature):
        decrypt_sample(account(), sample_encrypt(), None)
    # Garbage that would fail in base64 or padding fails on the signature first.
    with pytest.raises(InvalidSignature):
        decrypt_sample(account(), "not base64!", None)


def test_an_empty_msg_signature_is_rejected() -> None:
    with pytest.raises(InvalidSignature):
        decrypt_sample(account(), sample_encrypt(), "")


def test_a_wrong_msg_signature_is_rejected() -> None:
    with pytest.raises(InvalidSignature):
        decrypt_sample(account(), sample_encrypt(), "0" * 40)


def test_a_non_ascii_signature_is_rejected_not_crashed_on() -> None:
    with pytest.raises(InvalidSignature):
        verify_signature("签名", "token", "1", "n")


def test_url_verification_accepts_the_signature_over_token_timestamp_and_nonce() -> None:
    good = signature("pamtest", "1409304348", "xxxxxx")
    verify_signature(good, "pamtest", "1409304348", "xxxxxx")
    with pytest.raises(InvalidSignature):
        verify_signature(good, "pamtest", "1409304348", "yyyyyy")


def test_tampered_ciphertext_without_a_new_signature_is_rejected() -> None:
    encrypt = sample_encrypt()
    tampered = ("B" if encrypt[0] != "B" else "C") + encrypt[1:]
    with pytest.raises(InvalidSignature):
        decrypt_sample(account(), tampered, PY_MSG_SIGNATURE)


def _flip(encrypt: str, index: int, mask: int) -> str:
    raw = bytearray(base64.b64decode(encrypt))
    raw[index] ^= mask
    return base64.b64encode(bytes(raw)).decode()


def test_tampered_ciphertext_that_garbles_the_length_field_is_malformed() -> None:
    # In CBC a flip in block 1 flips the same bit of block 2's plaintext: the length field.
    tampered = _flip(sample_encrypt(), 16, 0x80)
    with pytest.raises(MalformedMessage):
        decrypt_sample(account(), tampered, signed(tampered))


def test_bad_padding_is_malformed() -> None:
    crypto = account()
    encrypt = sample_encrypt()
    # AES blocks are 16 bytes: a flip in the previous block lands on the last padding byte.
    last_pad_byte = len(base64.b64decode(encrypt)) - 1 - 16
    tampered = _flip(encrypt, last_pad_byte, 0x40)
    with pytest.raises(MalformedMessage, match="padding"):
        decrypt_sample(crypto, tampered, signed(tampered))


def test_a_message_for_another_appid_is_refused() -> None:
    sealed_for_other = MessageCrypto(PY_TOKEN, KEY, "wx0000000000000000")
    body, msg_signature = sealed_for_other.encrypt_push(
        PY_PLAIN, nonce=PY_NONCE, timestamp=PY_TIMESTAMP
    )
    encrypt = parse_xml(body.encode())["Encrypt"]
    with pytest.raises(InvalidAppId):
        decrypt_sample(account(), encrypt, msg_signature)


@pytest.mark.parametrize(
    "encrypt",
    ["not base64!", "中文", "", "YWJj", base64.b64encode(b"x" * 16).decode(), "QUJD\nREVG"],
)
def test_ciphertext_that_is_not_whole_base64_blocks_is_malformed(encrypt: str) -> None:
    with pytest.raises(MalformedMessage):
        decrypt_sample(account(), encrypt, signed(encrypt))


def test_a_nested_encrypt_element_is_malformed_not_a_type_error() -> None:
    with pytest.raises(MalformedMessage):
        account().decrypt({"a": "b"}, msg_signature="x", timestamp="1", nonce="n")  # type: ignore[arg-type]


def test_a_reply_without_its_msg_signature_is_rejected_by_the_simulator() -> None:
    crypto = account()
    envelope = crypto.encrypt_reply("hi", nonce="n", timestamp="1")
    stripped = envelope.replace(
        envelope[envelope.index("<MsgSignature>") : envelope.index("<TimeStamp>")], ""
    )
    with pytest.raises(InvalidSignature):
        crypto.decrypt_reply(stripped)


@given(st.text(max_size=400))
def test_any_signed_text_decrypts_or_fails_with_a_wechat_error(encrypt: str) -> None:
    with contextlib.suppress(WeChatError):
        decrypt_sample(account(), encrypt, signed(encrypt))


@given(st.binary(min_size=32, max_size=256).filter(lambda b: len(b) % 32 == 0))
def test_any_signed_ciphertext_decrypts_or_fails_with_a_wechat_error(sealed: bytes) -> None:
    encrypt = base64.b64encode(sealed).decode()
    with contextlib.suppress(WeChatError):
        decrypt_sample(account(), encrypt, signed(encrypt))


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["short", KEY + "H", KEY[:-1] + "=", KEY[:-1] + "-"])
def test_an_encoding_aes_key_that_is_not_43_base64_characters_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="EncodingAESKey"):
        MessageCrypto(PY_TOKEN, key, PY_APPID)


def test_the_repr_shows_no_secret() -> None:
    assert KEY not in repr(account()) and PY_TOKEN not in repr(account())


def test_each_reply_uses_fresh_randomness() -> None:
    crypto = account()
    first = crypto.encrypt_reply("same", nonce="n", timestamp="1")
    assert first != crypto.encrypt_reply("same", nonce="n", timestamp="1")
