"""Tencent Cloud FaceID's two-factor check (IdCardVerification, API 2018-03-01) on the wire.

Names and codes as Tencent documents them (the API page "身份信息认证" and the official SDKs'
``faceid/v20180301`` models), shared by the adapter and the local FaceID. A request is a signed
POST of ``{"IdCard": ..., "Name": ...}``; the answer is HTTP 200 with either
``{"Response": {"Result", "Description", "RequestId"}}`` or
``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``.
"""

from __future__ import annotations

from app.realname.port import Reason, Verdict

SERVICE = "faceid"
HOST = "faceid.tencentcloudapi.com"
DEFAULT_ENDPOINT = f"https://{HOST}"
DEFAULT_REGION = "ap-guangzhou"
ACTION = "IdCardVerification"
VERSION = "2018-03-01"

# Result codes. 0 and -1 are charged; the others are not.
RESULT_MATCH = "0"  # 姓名和身份证号一致
RESULT_MISMATCH = "-1"  # 姓名和身份证号不一致
RESULT_INVALID_ID = "-2"  # 非法身份证号（长度、校验位等不正确）
RESULT_INVALID_NAME = "-3"  # 非法姓名（长度、格式等不正确）
RESULT_REGISTER_ERROR = "-4"  # 证件库服务异常
RESULT_NO_RECORD = "-5"  # 证件库中无此身份证记录
RESULT_UPGRADING = "-6"  # 权威比对系统升级中，请稍后再试
RESULT_DAILY_LIMIT = "-7"  # 认证次数超过当日限制

DESCRIPTIONS = {
    RESULT_MATCH: "姓名和身份证号一致",
    RESULT_MISMATCH: "姓名和身份证号不一致",
    RESULT_INVALID_ID: "非法身份证号（长度、校验位等不正确）",
    RESULT_INVALID_NAME: "非法姓名（长度、格式等不正确）",
    RESULT_REGISTER_ERROR: "证件库服务异常",
    RESULT_NO_RECORD: "证件库中无此身份证记录",
    RESULT_UPGRADING: "权威比对系统升级中，请稍后再试",
    RESULT_DAILY_LIMIT: "认证次数超过当日限制",
}

# Definite answers: asking again with the same pair gives the same one.
VERDICTS: dict[str, tuple[Verdict, Reason]] = {
    RESULT_MATCH: (Verdict.MATCH, Reason.CONSISTENT),
    RESULT_MISMATCH: (Verdict.MISMATCH, Reason.INCONSISTENT),
    RESULT_INVALID_ID: (Verdict.MISMATCH, Reason.INVALID_ID_NUMBER),
    RESULT_INVALID_NAME: (Verdict.MISMATCH, Reason.INVALID_NAME),
    RESULT_NO_RECORD: (Verdict.MISMATCH, Reason.NO_RECORD),
}
# No verdict: the register could not answer (today). Result -> what to tell the applicant.
UNAVAILABLE_RESULTS = {
    RESULT_REGISTER_ERROR: "公安证件库暂时无法核验，请稍后再试。",
    RESULT_UPGRADING: "公安证件库系统升级中，请稍后再试。",
    RESULT_DAILY_LIMIT: "该身份信息今日核验次数已达上限，请明天再试。",
}

# Error codes (Response.Error.Code) the local FaceID answers with; Tencent has more, and every
# one of them means no verdict.
SIGNATURE_FAILURE = "AuthFailure.SignatureFailure"
SIGNATURE_EXPIRE = "AuthFailure.SignatureExpire"
SECRET_ID_NOT_FOUND = "AuthFailure.SecretIdNotFound"  # noqa: S105 - an error code
INVALID_AUTHORIZATION = "AuthFailure.InvalidAuthorization"
INTERNAL_ERROR = "InternalError"
REQUEST_LIMIT_EXCEEDED = "RequestLimitExceeded"
INVALID_ACTION = "InvalidAction"
NO_SUCH_VERSION = "NoSuchVersion"
INVALID_PARAMETER = "InvalidParameter"
MISSING_PARAMETER = "MissingParameter"

# Errors that will not go away by waiting: our keys, account, clock or request are wrong.
_OURS_TO_FIX = (
    "AuthFailure",
    "UnauthorizedOperation",
    "InvalidAction",
    "NoSuchVersion",
    "InvalidParameter",
    "MissingParameter",
    "UnknownParameter",
    "UnsupportedRegion",
    "FailedOperation.StsUnAuthErrError",
    "FailedOperation.DecryptSystemError",
)


def needs_operator(error_code: str) -> bool:
    """Whether an error code means our configuration is wrong (alert someone) rather than a
    passing fault of Tencent's."""
    return error_code.startswith(_OURS_TO_FIX)
