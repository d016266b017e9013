"""Who you are and whom you act for, in the chat: 绑定, 企业认证, 企业授权, 代办, 我的授权.

The real-name check and the licence's pre-check run as outbox jobs; their outcome arrives
as a chat message. Deciding on a request (scope, expiry) happens on the H5 page it links to.
"""

from __future__ import annotations

from app.domain.actors import Actor
from app.domain.identity import mask_uscc
from app.domain.mandates import LABELS_ZH
from app.services.binding import PRIVACY_NOTICE, PRIVACY_VERSION, BindingService
from app.services.mandates import MandateService
from bot import texts
from bot.conversations import Conversation
from bot.links import link

AGREE = {"同意", "我同意", "同意并继续"}


class IdentityDialogue:
    def __init__(self, binding: BindingService, mandates: MandateService, base_url: str) -> None:
        self._binding = binding
        self._mandates = mandates
        self._base = base_url

    # -- binding (实名绑定) ------------------------------------------------------------------

    def start_binding(self, conv: Conversation) -> str:
        conv.step, conv.data = "binding_consent", {}
        return PRIVACY_NOTICE

    async def binding_step(self, conv: Conversation, text: str) -> str:
        if conv.step == "binding_consent":
            if text not in AGREE:
                conv.step, conv.data = "idle", {}
                return texts.NO_CONSENT
            conv.step, conv.data = "binding_name", {"consent": PRIVACY_VERSION}
            return texts.ASK_NAME
        if conv.step == "binding_name":
            conv.step, conv.data["name"] = "binding_id", text
            return texts.ASK_ID
        reply = await self._binding.request(
            conv.openid,
            name=str(conv.data.get("name", "")),
            id_number=text,
            consent=str(conv.data.get("consent", "")),
        )  # a malformed number raises here, and the user can retype it
        conv.effect = True
        conv.step, conv.data = "idle", {}
        return reply

    # -- enterprises and 代办 --------------------------------------------------------------

    def start_claim(self, conv: Conversation) -> str:
        conv.step, conv.data = "claim_licence", {}
        return texts.ASK_LICENCE

    def start_enterprise_request(self, conv: Conversation) -> str:
        conv.step, conv.data = "mandate_uscc", {}
        return texts.ASK_USCC

    def start_proxy_request(self, conv: Conversation) -> str:
        conv.step, conv.data = "proxy_name", {}
        return texts.ASK_PRINCIPAL_NAME.format(link=self.proxy_link())

    async def mandate_step(self, conv: Conversation, actor: Actor, text: str) -> str:
        if conv.step == "mandate_uscc":
            mandate = await self._mandates.request_for_enterprise(actor, text)
            conv.effect = True
            conv.step, conv.data = "idle", {}
            masked = mask_uscc(mandate.principal.partition(":")[2])
            return texts.MANDATE_ASKED.format(masked=masked)
        if conv.step == "proxy_name":
            conv.step, conv.data = "proxy_id", {"name": text}
            return texts.ASK_PRINCIPAL_ID
        await self._mandates.request_for_person(actor, str(conv.data.get("name", "")), text)
        conv.effect = True
        conv.step, conv.data = "idle", {}
        # The same words whether or not anyone was asked.
        return texts.PROXY_ASKED.format(link=self.proxy_link())

    def page(self, path: str) -> str:
        return f"{self._base}{path}"

    def proxy_link(self) -> str:
        return link(self.page("/h5/authority/proxy"), "上传委托人身份证和关系证明")

    async def names(self, principals: list[str]) -> dict[str, str]:
        return await self._mandates.names_of(principals)

    async def my_authorities(self, actor: Actor) -> str:
        lines = []
        for firm in await self._mandates.represented_by(actor):
            lines.append(f"· 法定代表人：{firm.get('name') or '企业'}（{mask_uscc(firm['_id'])}）")
        held = await self._mandates.held_by(actor)
        names = await self._mandates.names_of([m.principal for m in held])
        for m in held[:10]:
            until = f"，至 {m.expires_on}" if m.expires_on else ""
            lines.append(f"· 代{names[m.principal]}办理：{LABELS_ZH[m.status]}{until}")
        if not lines:
            return texts.NO_AUTHORITIES
        manage = link(self.page("/h5/authority"), "打开授权管理")
        return texts.MY_AUTHORITIES.format(lines="\n".join(lines), link=manage)
