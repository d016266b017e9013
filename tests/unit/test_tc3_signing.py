"""TC3-HMAC-SHA256 against the worked example Tencent publishes on its "签名方法 v3" page.

Source: https://www.tencentcloud.com/zh/document/product/1021/34193 (the same example stands on
every product's "签名方法 v3" page, e.g. CVM's https://cloud.tencent.com/document/api/213/30654;
the English ones give the SecretKey in full in step 3). The newer pages star out part of the
keys; this is the example from before, whose SecretKey the final signature can be checked with.
"""

from __future__ import annotations

import pytest

from app.realname import tc3

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
TIMESTAMP = 1551113065  # 2019-02-26 00:44:25 in UTC+8, still 2019-02-25 in UTC
SERVICE = "cvm"
HOST = "cvm.tencentcloudapi.com"
PAYLOAD = (
    b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
)
HASHED_PAYLOAD = "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
CANONICAL_REQUEST = (
    "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
    f"content-type;host\n{HASHED_PAYLOAD}"
)
HASHED_CANONICAL_REQUEST = "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
STRING_TO_SIGN = (
    f"TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n{HASHED_CANONICAL_REQUEST}"
)
SIGNATURE = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
AUTHORIZATION = (
    "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
    f"SignedHeaders=content-type;host, Signature={SIGNATURE}"
)


def example_canonical_request() -> str:
    headers = {"Content-Type": tc3.JSON_CONTENT_TYPE, "Host": HOST}
    return tc3.canonical_request(
        method="POST", headers=headers, signed_headers=tc3.SIGNED_HEADERS, payload=PAYLOAD
    )


def test_the_payload_hash_is_the_published_one() -> None:
    assert tc3.sha256_hex(PAYLOAD) == HASHED_PAYLOAD


def test_the_canonical_request_is_the_published_one_byte_for_byte() -> None:
    assert example_canonical_request() == CANONICAL_REQUEST
    assert tc3.sha256_hex(CANONICAL_REQUEST.encode()) == HASHED_CANONICAL_REQUEST


def test_the_string_to_sign_is_the_published_one() -> None:
    assert tc3.string_to_sign(TIMESTAMP, SERVICE, CANONICAL_REQUEST) == STRING_TO_SIGN


def test_the_credential_date_is_the_utc_date_not_beijing_time() -> None:
    assert tc3.utc_date(TIMESTAMP) == "2019-02-25"
    assert tc3.credential_scope(TIMESTAMP, SERVICE) == "2019-02-25/cvm/tc3_request"


def test_the_signature_and_authorization_are_the_published_ones() -> None:
    sig = tc3.signature(SECRET_KEY, TIMESTAMP, SERVICE, CANONICAL_REQUEST)
    assert sig == SIGNATURE
    assert tc3.authorization(SECRET_ID, TIMESTAMP, SERVICE, tc3.SIGNED_HEADERS, sig) == (
        AUTHORIZATION
    )


def test_signed_json_headers_reproduce_the_published_request() -> None:
    headers = tc3.signed_json_headers(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service=SERVICE,
        host=HOST,
        action="DescribeInstances",
        version="2017-03-12",
        region="ap-guangzhou",
        payload=PAYLOAD,
        timestamp=TIMESTAMP,
    )
    assert headers == {
        "Authorization": AUTHORIZATION,
        "Content-Type": "application/json; charset=utf-8",
        "Host": HOST,
        "X-TC-Action": "DescribeInstances",
        "X-TC-Timestamp": "1551113065",
        "X-TC-Version": "2017-03-12",
        "X-TC-Region": "ap-guangzhou",
    }


def test_header_names_are_sorted_and_names_and_values_lowercased_and_trimmed() -> None:
    headers = {"X-TC-Action": " IdCardVerification ", "HOST": HOST, "content-type": "A/B"}
    canonical = tc3.canonical_request(
        method="post",
        headers=headers,
        signed_headers=("X-TC-Action", "host", "Content-Type"),
        payload=b"",
    )
    lines = canonical.split("\n")
    assert lines[:7] == [
        "POST",
        "/",
        "",
        "content-type:a/b",
        f"host:{HOST}",
        "x-tc-action:idcardverification",
        "",
    ]
    assert lines[7] == "content-type;host;x-tc-action"


def test_a_wrong_secret_key_gives_another_signature() -> None:
    other = tc3.signature(SECRET_KEY + "x", TIMESTAMP, SERVICE, CANONICAL_REQUEST)
    assert other != SIGNATURE


def test_an_authorization_header_parses_back_into_its_parts() -> None:
    parsed = tc3.parse_authorization(AUTHORIZATION)
    assert parsed == tc3.ParsedAuthorization(
        secret_id=SECRET_ID,
        date="2019-02-25",
        service="cvm",
        signed_headers=("content-type", "host"),
        signature=SIGNATURE,
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Bearer abc",
        AUTHORIZATION.replace("TC3-HMAC-SHA256", "TC3-HMAC-SHA1"),
        AUTHORIZATION.replace("tc3_request", "aws4_request"),
        AUTHORIZATION[:-1],  # a signature one hex digit short
        AUTHORIZATION.replace("2019-02-25", "20190225"),
    ],
)
def test_what_is_not_a_tc3_authorization_header_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="TC3"):
        tc3.parse_authorization(value)
