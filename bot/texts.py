"""Everything the official account says, in one place, in Simplified Chinese."""

from __future__ import annotations

WELCOME = (
    "您好，欢迎关注“不出门办”！\n"
    "在这里，您可以足不出户办理政务服务事项：\n"
    "· 回复“我要办”：选择事项，查看办事指南，拍照提交材料\n"
    "· 回复“查询进度”：查看办件进度，或回复办件号查询\n"
    "· 回复“我的材料”：查看已提交的材料\n"
    "· 回复“绑定”：首次办理前绑定身份（企业请回复“企业绑定”）\n"
    "· 回复“帮助”：查看全部指令，或联系人工服务"
)

HELP = (
    "可用指令：\n"
    "我要办 —— 选择要办理的事项\n"
    "查询进度 —— 查看我的办件；回复办件号（BC开头）查询单个办件\n"
    "提交 —— 材料齐全后提交申请\n"
    "我的材料 —— 查看个人空间里保存的证照材料\n"
    "调用 —— 用个人空间里的材料填写当前这一项，无需重新拍照\n"
    "换证 —— 为即将到期的证照在线办理换证，个人空间的材料自动带入\n"
    "我要预约 —— 预约到大厅办理的时间\n"
    "评价 —— 对已办结的办件进行“好差评”\n"
    "绑定 / 企业绑定 —— 绑定个人身份或企业\n"
    "取消 —— 退出当前操作\n"
    "如需人工帮助，请拨打政务服务热线 12345（工作日 8:30—17:30）。"
)

UNSUPPORTED = "抱歉，暂不支持这类消息。您可以发送文字或照片；回复“帮助”查看可用指令。"
NOT_UNDERSTOOD = "抱歉，没有理解您的意思。回复“我要办”开始办理，回复“帮助”查看全部指令。"
CANCELLED = "已退出当前操作。回复“我要办”重新开始。"
BUSY = "系统正在处理，结果稍后通过消息告诉您。"

BIND_FIRST = "办理前需要先绑定身份。请回复“绑定”（个人）或“企业绑定”（企业经办人）。"
ASK_NAME = "请回复您的真实姓名（与身份证一致）。回复“取消”可退出。"
ASK_ID = "请回复您的18位居民身份证号码。号码仅用于核验身份，将加密保存。"
ASK_USCC = "请回复企业的18位统一社会信用代码。"
ASK_AGENT_NAME = "请回复经办人姓名。"
BOUND_PERSON = "绑定成功：{name}（身份证 {masked}）。回复“我要办”开始办理。"
BOUND_AGENT = "绑定成功：您已作为企业（统一社会信用代码 {masked}）的经办人。回复“我要办”开始办理。"
ALREADY_BOUND = "您已绑定身份：{who}。如需更换，请联系人工服务 12345。"

PICK_MATTER = "请回复序号选择要办理的事项：\n{items}\n\n回复序号查看办事指南。"
NO_MATTERS = "暂时没有可以在线办理的事项，请稍后再试。"
BAD_PICK = "请回复列表中的序号（1—{n}），或回复“取消”。"
GUIDE_FOOTER = "\n\n回复“办理”开始申请，回复“我要办”重新选择。"
CASE_OPENED = (
    "已为您创建办件 {number}（{matter}）。\n请按顺序拍照发送以下材料：\n{checklist}\n\n"
    "请先发送：{next}"
)
NO_OPEN_CASE = "您当前没有正在填写的办件。回复“我要办”开始办理。"
PHOTO_RECEIVED = "已收到照片，正在保存，请稍候……"
PHOTO_ATTACHED = "已收到“{slot}”，正在自动预审，几秒后告诉您结果。{rest}"
STILL_MISSING = "还需要：{missing}。请继续拍照发送：{next}"
ALL_PRESENT = "材料已齐全，回复“提交”即可提交申请。"
NOTHING_TO_FILL = "该办件当前无需补充材料。回复“查询进度”查看办件状态。"
SUBMITTED = "办件 {number} 已提交，我们会在承诺时限内完成预审，结果将通过消息通知您。"
SUBMITTED_WITH_FINDINGS = (
    "\n提示：{names}的预审结果为需要重新拍摄，工作人员审核时可能要求补正，如需补正会一次性告知您。"
)
PHOTO_FAILED = "抱歉，照片保存失败：{reason}"

NO_CASES = "您还没有办件。回复“我要办”开始办理。"
CASE_LINE = "{number} {matter}：{state}"
MY_CASES = "您的办件：\n{lines}\n\n回复办件号查看详情。"
CASE_DETAIL = "办件 {number}\n事项：{matter}\n状态：{state}{clock}{missing}{notice}"
NO_MATERIALS = (
    "您的个人空间还是空的。办理事项时通过预审的身份证、营业执照等材料会自动保存在这里，"
    "下次办理可直接调用。"
)
MY_MATERIALS = "您的个人空间（{count} 份）：\n{lines}\n\n办理时回复“调用”即可使用，无需重新拍照。"
REUSE_OFFER = (
    "\n您的个人空间里有“{title}”（{when}存入{valid}），回复“调用”直接使用，或拍照发送新的。"
)
REUSED = "已从个人空间调用“{title}”作为“{slot}”，正在自动预审。{rest}"
BOOK_PICK_MATTER = "请回复序号选择要到大厅办理的事项：\n{items}"
BOOK_PICK_SLOT = (
    "以下是最近可预约的时段（每段半小时）：\n{items}\n\n回复序号即可预约；回复“取消”退出。"
)
BOOK_NONE_FREE = "近期该事项的大厅时段已约满，请过几天再试，或先在线办理。"
BOOKED = (
    "预约成功：{when}。预约二维码和需带的材料稍后发给您，到大厅后出示二维码签到取号。"
    "如需取消，请在预约时间 2 小时前操作。"
)
NOTHING_TO_RENEW = "您个人空间中暂无 30 天内到期、可以在线换证的证照。"
RENEWAL_OPENED = (
    "已为您创建办件 {number}（{matter}），用于换领“{title}”。\n已从个人空间带入：{taken}。\n{rest}"
)
NOTHING_TO_REUSE = "个人空间里没有可用于“{slot}”的有效材料，请拍照发送。"

NOTHING_TO_RATE = "您暂时没有可以评价的办件。办件办结后，回复“评价”即可评价。"
RATE_PICK = (
    "请为以下办件评价：\n{items}\n\n回复“办件序号 等级序号”，例如“1 2”。\n"
    "等级：1 非常满意　2 满意　3 基本满意　4 不满意　5 非常不满意"
)
RATE_BAD_INPUT = "请按“办件序号 等级序号”回复，例如“1 2”；回复“取消”退出。"
RATE_THANKS = "感谢您对办件 {number} 的评价（{level}）！"
RATE_SORRY = (
    "很抱歉给您带来不便，您的意见（{level}）已记录，我们将认真改进。如需投诉，请拨打 12345。"
)
