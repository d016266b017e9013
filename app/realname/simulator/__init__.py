"""A local Tencent Cloud FaceID speaking its wire protocol: TC3 signatures, IdCardVerification."""

from app.realname.simulator.app import (
    RunningFaceId,
    create_faceid_simulator,
    new_credentials,
    running_faceid_simulator,
    start_faceid_simulator,
)
from app.realname.simulator.faceid import FACEID_SIMULATOR, FaceIdSimulator, Fault
from app.realname.simulator.register import (
    DEMO_REGISTER,
    number_of,
    valid_id_number,
    valid_name,
)

__all__ = [
    "DEMO_REGISTER",
    "FACEID_SIMULATOR",
    "FaceIdSimulator",
    "Fault",
    "RunningFaceId",
    "create_faceid_simulator",
    "new_credentials",
    "number_of",
    "running_faceid_simulator",
    "start_faceid_simulator",
    "valid_id_number",
    "valid_name",
]
