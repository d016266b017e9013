"""Real-name verification (实名核验): the port, Tencent Cloud FaceID's adapter, TC3 signing.

Like payments/ and logistics/, it imports nothing else of ours. ``app.realname.simulator`` is a
local FaceID for tests and demo mode; ``app.realname.demo`` starts one with a verifier on it.
"""
